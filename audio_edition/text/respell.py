"""Pinyin lexicon entries for voices that read characters, not syllables (the edge voice).

`respell("行长", ("hang2", "zhang3"))` writes each syllable with the term's own character when
that is its only reading in use, else with the most common character whose only reading in use
it is (杭掌), then reads the respelling back with the g2p stage and keeps it only if it says
exactly those syllables; otherwise the next candidates are tried.
"""

from __future__ import annotations

import functools
import itertools

from audio_edition.errors import ConfigError
from audio_edition.text.syllables import NEUTRAL
from audio_edition.text.words import base_tokenizer

CANDIDATES = 4  # characters tried per syllable, most common first


@functools.cache
def _sole_readers() -> dict[str, list[str]]:
    """syllable -> the characters U+4E00..U+9FA5 whose only reading in use it is (the g2p
    stage's `choices`: 温 wēn, though pypinyin also keeps an archaic yùn), most common first."""
    from audio_edition.text.g2p import choices

    freq = base_tokenizer().FREQ
    by_syllable: dict[str, list[str]] = {}
    for code in range(0x4E00, 0x9FA6):
        char = chr(code)
        said = choices(char)
        if len(said) == 1 and freq.get(char, 0) > 0:
            by_syllable.setdefault(said[0], []).append(char)
    for chars in by_syllable.values():
        chars.sort(key=lambda c: -freq.get(c, 0))
    return by_syllable


def _candidates(own: str, syllable: str) -> list[str]:
    found = _sole_readers().get(syllable, [])
    if not found and syllable.endswith(NEUTRAL):
        # few characters are only ever neutral: take one of the syllable in any single tone
        found = [c for t in "1234" for c in _sole_readers().get(syllable[:-1] + t, [])[:1]]
    mine = [own] if own in found else []
    return (mine + [c for c in found if c != own])[:CANDIDATES]


def respell(term: str, syllables: tuple[str, ...]) -> str:
    """Characters that read as `syllables` (neutral tones: the right syllable in any tone)."""
    from audio_edition.text.g2p import Reader

    options = [_candidates(c, s) for c, s in zip(term, syllables, strict=True)]
    missing = next((s for s, o in zip(syllables, options, strict=True) if not o), None)
    if missing:
        raise ConfigError(f"lexicon entry {term!r}: no character reads {missing!r} alone")
    reader = Reader()
    for spelling in itertools.islice(itertools.product(*options), 64):
        said = reader.syllables("".join(spelling))
        if len(said) == len(syllables) and all(
            got == want or (want.endswith(NEUTRAL) and got[:-1] == want[:-1])
            for got, want in zip(said, syllables, strict=True)
        ):
            return "".join(spelling)
    raise ConfigError(
        f"lexicon entry {term!r}: found no respelling that reads back as {' '.join(syllables)}; "
        "write the respelling in characters instead"
    )
