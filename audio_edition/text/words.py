"""Chinese word segmentation (jieba): one shared base dictionary, cheap copies with extra words."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable

import jieba

jieba.setLogLevel(logging.WARNING)  # jieba logs its dictionary loading at INFO on every first use


@functools.cache
def base_tokenizer() -> jieba.Tokenizer:
    """jieba's default dictionary, loaded once (about a second) and never changed."""
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def tokenizer_with(words: Iterable[str]) -> jieba.Tokenizer:
    """A private copy of the base tokenizer where each of `words` segments as one word.

    Each word gets just the frequency that keeps it whole (jieba's suggest_freq), so it does not
    swallow its neighbours' words; the shared base dictionary is left untouched.
    """
    base = base_tokenizer()
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = dict(base.FREQ)
    tokenizer.total = base.total
    tokenizer.initialized = True
    for word in words:
        tokenizer.suggest_freq(word, tune=True)
    return tokenizer


def cut(text: str, tokenizer: jieba.Tokenizer | None = None) -> list[str]:
    """Segment `text` into words (the pieces concatenate back to `text`)."""
    return (tokenizer or base_tokenizer()).lcut(text, HMM=True)
