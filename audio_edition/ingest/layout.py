"""Line geometry of an e-paper page: display widths, junk glyphs, and paragraph boundaries.

A page's text comes out of its PDF one printed line per text line. Each article is set in a
column of fixed width; a paragraph's first line lost its two-character indent, its last line
usually runs short, and blank lines appear after a paragraph's first line or at column breaks,
where they mean nothing. Some exports keep the indent as full-width spaces instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

INDENT = 2.0  # characters: the paragraph indent the export dropped
CLEARLY_SHORT = 3.0  # characters short of the column width: the line ends its paragraph
SOMEWHAT_SHORT = 2.0  # characters short: ends it if it also ends a sentence or a first line follows
FIRST_LINE_SPAN = (1.5, 5.0)  # characters short of the width a paragraph's first line runs
WIDTH_QUANTILE = 0.7  # which line width, in ascending order, is taken as the column width
QUANTILE_LINES = 8  # a block this long is measured by the quantile, a shorter one by its widest
SAME_COLUMN = 1.0  # characters: full widths this close can be one column
FULL_SLACK = 1.0  # characters: a full line is set at most this much short of its column
FIRST_LINE_SHORTEST = 3.5  # characters: a first line is set at most this much short of it
HALF_CELL = frozenset("，。、：；“”‘’（）《》！？")  # punctuation set in half a cell
HALF = 0.5  # characters: the width of a half-cell character
PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")
SENTENCE_END = "。？！?!…⋯"
CLOSERS = "”’」』）)》】"
OPENERS = "“‘「『（(《【"
NO_LINE_START = CLOSERS + "，。、：；！？…⋯,.;:!?"  # marks a typesetter never starts a line with
LATIN_WORD = re.compile(r"[0-9A-Za-z.%]+")

SPACES = re.compile(r"[ \t\u3000\u00a0]+")
ASCII_WORD = re.compile(r"[0-9A-Za-z]")
LATIN = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class PageLine:
    """One non-blank printed line of a body: its text, width, whether a blank line follows,
    and where it is in the input (1-based line number; 0 when unknown)."""

    text: str
    width: float
    indented: bool = False  # starts with a full-width-space (or multi-space) paragraph indent
    blank_after: bool = False
    number: int = 0


def display_width(text: str) -> float:
    """Width in CJK character cells as the paper sets it: ASCII, half-width forms and the
    CJK punctuation the typesetter compresses take half a cell (on the sample page this
    halves the spread of full line widths compared with counting punctuation as full)."""
    width = 0.0
    for char in text:
        if char < "\x80" or char in HALF_CELL or unicodedata.east_asian_width(char) in ("Na", "H"):
            width += 0.5
        else:
            width += 1.0
    return width


def strip_junk(text: str) -> str:
    """Remove private-use glyphs (font symbols the PDF extractor could not map)."""
    return PRIVATE_USE.sub("", text)


def has_junk(text: str) -> bool:
    return PRIVATE_USE.search(text) is not None


def ends_sentence(text: str) -> bool:
    """Whether a line ends a sentence: 。？！… optionally followed by closing quotes/brackets."""
    body = text.rstrip().rstrip(CLOSERS)
    return bool(body) and body[-1] in SENTENCE_END


def tidy(text: str) -> str:
    """Body text of one line: spaces dropped except between two ASCII letters or digits.

    The page puts spaces around numbers set in Latin type (`达到 1500余件`); these are layout,
    not text, so they go. A space between two Latin words (`COVID 19`) stays.
    """
    return _joined(SPACES.split(text.strip()), ASCII_WORD)


def join_lines(lines: Sequence[str]) -> str:
    """Join wrapped lines into one paragraph (a space only between two Latin words)."""
    return _joined([tidy(line) for line in lines], LATIN)


def _joined(parts: Sequence[str], word: re.Pattern[str]) -> str:
    """`parts` joined, with a space only where a `word` character meets another across a seam."""
    out: list[str] = []
    last = ""  # the last character written so far
    for part in parts:
        if last and part and word.match(last) and word.match(part[0]):
            out.append(" ")
        out.append(part)
        last = part[-1:] or last
    return "".join(out)


def set_width(line: PageLine) -> float:
    """A line's width without a final half-cell mark, which may hang past the column."""
    return line.width - HALF * (line.text[-1] in HALF_CELL)


def column_width(lines: Sequence[PageLine]) -> float:
    """The column width a block's paragraphs are split by: a high quantile of its line widths
    (last line excluded), or for a short block its `full_width`."""
    widest = full_width(lines)
    if len(lines) < QUANTILE_LINES:
        return widest
    widths = sorted(line.width for line in lines[:-1])
    return max(widths[int(len(widths) * WIDTH_QUANTILE)], widest)


def full_width(lines: Sequence[PageLine]) -> float:
    """The width of a block's widest lines by `set_width`, but the first (maybe a paragraph's
    first line) and the last."""
    inner = lines[1:-1] or lines
    return max(set_width(line) for line in inner)


def measured_width(lines: Sequence[PageLine]) -> float | None:
    """The column width of a block, measured on the lines that must be full: inside a
    paragraph (neither they nor the line before end a sentence) and not the block's last; a
    first line whose indent was kept (`　　`) counts with its indent. None when it has no
    such line. Blocks set in one column measure within SAME_COLUMN."""
    full = []
    for k, line in enumerate(lines[:-1]):
        if ends_sentence(line.text):
            continue
        if line.indented:
            full.append(set_width(line) + INDENT)
        elif k and not ends_sentence(lines[k - 1].text):
            full.append(set_width(line))
    return max(full) if full else None


def same_column(before: Sequence[PageLine], after: Sequence[PageLine]) -> bool | None:
    """Whether two blocks are set in one column: True when both measure within half a cell,
    False when they measure more than SAME_COLUMN apart or one does not fit the other's
    column, None when that cannot be told (they measure a cell apart, or a block too short
    to measure fits the other's column)."""
    a, b = measured_width(before), measured_width(after)
    if a is not None and b is not None:
        if abs(a - b) <= SAME_COLUMN - HALF or abs(a - b) > SAME_COLUMN:
            return abs(a - b) <= SAME_COLUMN
        return None  # a cell apart: one column, or two a cell or two apart
    if a is not None or b is not None:
        fits = fits_column(after, a) if a is not None else fits_column(before, b)
        return None if fits else False
    return None


def fits_column(lines: Sequence[PageLine], width: float) -> bool:
    """Whether a block's lines can have been set in a column of `width`: none is wider, a
    line inside a paragraph (see `measured_width`) is full in it and a line after a finished
    sentence full or a first line, but for what the typesetter moved down to the next line.
    A line ending a sentence may end its paragraph, at any width."""
    for k, line in enumerate(lines):
        if set_width(line) > width + FULL_SLACK:
            return False
        if k == len(lines) - 1 or ends_sentence(line.text):
            continue
        inside = k > 0 and not ends_sentence(lines[k - 1].text)
        slack = FULL_SLACK if inside else FIRST_LINE_SHORTEST
        if set_width(line) + moved_down(lines[k + 1].text) < width - slack:
            return False
    return True


def moved_down(text: str) -> float:
    """The width at the start of a line that the typesetter may have moved down from the end
    of the line above: a Latin word or number kept whole, a character kept with the closing
    mark after it, an opening mark kept with what it opens."""
    word = LATIN_WORD.match(text)
    if word:
        return display_width(word.group())
    if len(text) > 1 and text[1] in NO_LINE_START:
        return display_width(text[0])
    return HALF if text[0] in OPENERS else 0.0


def split_paragraphs(lines: Sequence[PageLine]) -> list[str]:
    """Split a block of body lines (one article's text between headings) into paragraphs."""
    bounds = [*paragraph_starts(lines), len(lines)]
    paragraphs = [
        join_lines([ln.text for ln in lines[a:b]]) for a, b in zip(bounds, bounds[1:], strict=False)
    ]
    return [p for p in paragraphs if p]


def paragraph_starts(lines: Sequence[PageLine]) -> list[int]:
    """Indexes of the lines of a block that open a paragraph: where `　　` indents survive,
    the indented lines; else where the line widths say so (see `_ends_paragraph`)."""
    if not lines:
        return []
    if any(line.indented for line in lines[1:]):
        return [i for i, line in enumerate(lines) if i == 0 or line.indented]
    return _starts_by_width(lines)


def _starts_by_width(lines: Sequence[PageLine]) -> list[int]:
    width = column_width(lines)
    starts = [0]
    for i in range(len(lines) - 1):
        if _ends_paragraph(lines, i, starts[-1] == i, width):
            starts.append(i + 1)
    return starts


def _ends_paragraph(lines: Sequence[PageLine], i: int, is_first: bool, width: float) -> bool:
    """Whether a paragraph ends after line i, given the lines after it and the column width.

    A clearly short line ends its paragraph. Otherwise the next line must look like a first
    line, or the line must end a sentence and be somewhat short: a paragraph can end on a
    full line, and a full line can end a sentence in mid-paragraph.
    """
    line = lines[i]
    short = width - (INDENT if is_first else 0.0) - line.width
    if short >= CLEARLY_SHORT:
        return True
    after = lines[i + 2] if i + 2 < len(lines) else None
    opens = _opens_paragraph(lines[i + 1], after, width)
    if not ends_sentence(line.text):
        return opens and short >= SOMEWHAT_SHORT
    return opens or short >= SOMEWHAT_SHORT


def _opens_paragraph(line: PageLine, after: PageLine | None, width: float) -> bool:
    """Whether a line looks like a paragraph's first line: short by about the indent (by
    half a cell more when the next line starts with a Latin word or number, which may have
    been moved down whole from the end of a line inside a paragraph).

    If it ends a sentence it could instead be the short last line of the paragraph before;
    it is a first line only if a full line follows it.
    """
    low, high = FIRST_LINE_SPAN
    if after is not None and LATIN_WORD.match(after.text):
        low += HALF
    if not width - high <= set_width(line) <= width - low:
        return False
    return not ends_sentence(line.text) or (after is not None and after.width > width - low)
