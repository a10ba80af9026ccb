"""Cleaning what a page gives us: invisible and private-use glyphs, stray spaces, odd ellipses.

`clean` keeps every visible character of the article (the transcript shows exactly what was
printed); `for_speech` prepares a cleaned text for an engine (ellipses, spaces that are pauses).
"""

from __future__ import annotations

import re

CJK_IDEOGRAPH = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_PUNCTUATION = (
    "\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u2014-\u2027\u22ef"
)
CJK = CJK_IDEOGRAPH + CJK_PUNCTUATION

# Glyphs a PDF extractor leaves for symbols it could not map (the sample banner's U+1000xx),
# zero-width characters and control characters: none of them is part of the text.
_INVISIBLE = re.compile(
    "[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad"
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
)
_SPACE = r"[^\S\n]|\n"  # any whitespace, line breaks included
_SPACES = re.compile(rf"(?:{_SPACE})+")
_IDEOGRAPH_GAP = re.compile(rf"(?<=[{CJK_IDEOGRAPH}]) (?=[{CJK_IDEOGRAPH}])")
_CJK_GAP = re.compile(rf"(?<=[{CJK}]) (?=[{CJK}])")
_STRAY_GAP = re.compile(rf"(?<=[{CJK}]) | (?=[{CJK}])")
_ELLIPSIS = re.compile("[\u22ef\u2026]+|\\.{3,}")  # ⋯⋯, ……, ...


def strip_invisible(text: str) -> str:
    """Remove private-use glyphs, zero-width and control characters."""
    return _INVISIBLE.sub("", text)


def clean(text: str, title: bool = False) -> str:
    """The text a reader sees: invisible glyphs gone, whitespace tidied.

    A space between two ideographs is kept (one space: a printed gap); in a title (headline,
    heading) so is a gap or line break between any two Chinese characters, punctuation included
    (`党建引领有为 “硬核”举措有力`). Other spaces next to Chinese are PDF column artefacts
    (`达到 1500余件`) and are removed; remaining runs of whitespace become one space.
    """
    text = _SPACES.sub(" ", strip_invisible(text)).strip()
    kept = (_CJK_GAP if title else _IDEOGRAPH_GAP).sub("\0", text)
    return _STRAY_GAP.sub("", kept).replace("\0", " ")


def for_speech(text: str, title: bool = False) -> str:
    """A text as an engine should get it: cleaned, a gap between Chinese characters said as a
    pause, and every form of ellipsis (`⋯⋯`, `...`) the Chinese `……`."""
    text = _CJK_GAP.sub("，", clean(text, title))
    return _ELLIPSIS.sub("……", text)


def has_words(text: str) -> bool:
    """True when `text` has something to say: an ideograph, a Latin letter or a digit."""
    return (
        re.search(rf"[{CJK_IDEOGRAPH}A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]", text)
        is not None
    )
