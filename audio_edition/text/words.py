"""Chinese word segmentation (jieba): one shared base dictionary, cheap copies with extra words."""

from __future__ import annotations

import collections
import functools
from collections.abc import Iterable

import jieba

from audio_edition.text.dictionaries import dictionaries


@functools.cache
def base_tokenizer() -> jieba.Tokenizer:
    """jieba's default dictionary, never changed: its words are read from the dictionaries
    store as they are met (jieba's own loading of all of them takes about a second)."""
    store = dictionaries()
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = store.frequencies
    tokenizer.total = store.total
    tokenizer.initialized = True
    return tokenizer


def tokenizer_with(words: Iterable[str]) -> jieba.Tokenizer:
    """A private copy of the base tokenizer where each of `words` segments as one word.

    Each word gets just the frequency that keeps it whole (jieba's suggest_freq), so it does not
    swallow its neighbours' words; the shared base dictionary is left untouched (jieba writes
    the words it adds into the copy's own first layer).
    """
    base = base_tokenizer()
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = collections.ChainMap({}, base.FREQ)
    tokenizer.total = base.total
    tokenizer.initialized = True
    for word in words:
        tokenizer.suggest_freq(word, tune=True)
    return tokenizer


def cut(text: str, tokenizer: jieba.Tokenizer | None = None) -> list[str]:
    """Segment `text` into words (the pieces concatenate back to `text`)."""
    return (tokenizer or base_tokenizer()).lcut(text, HMM=True)
