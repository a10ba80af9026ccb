"""The WebVTT transcript: one cue per spoken segment, at the time it is heard.

Captions must be short enough to read: a line holds at most LINE_WIDTH full-width characters
(Latin letters and digits count half), a cue at most CUE_LINES lines. A longer sentence becomes
consecutive cues sharing its time span in proportion to their length; cues and lines are made
as even as the breaks allow, so no lone word trails on a line or a cue of its own. Lines break after
punctuation where one is near, never inside a Latin word or number, and never put closing
punctuation at the start of a line or opening punctuation at its end.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from audio_edition.fsutil import atomic_write_text
from audio_edition.model import MasteredAudio, SegmentTiming

LINE_WIDTH = 22.0  # full-width characters per caption line
CUE_LINES = 2  # lines per cue
BREAK_AFTER = set("，、；：。！？…—,;:!?")  # a line may well end after these
NO_LINE_START = set("，、；：。！？）】」』”’》〉…,;:.!?)]%")
NO_LINE_END = set("（【「『“‘《〈([")
PREFER_BREAK_FROM = 0.6  # look for punctuation to break after in the last 40 % of a line
_ATOM = re.compile(r"[A-Za-z0-9][A-Za-z0-9.,:%'’\-/]*|\s+|.", re.S)  # a word, spaces, or a char


def write_vtt(audio: MasteredAudio, path: Path) -> None:
    """Write the transcript of `audio` as WebVTT to `path` (atomically)."""
    atomic_write_text(path, vtt_text(audio.segments))


def vtt_text(segments: tuple[SegmentTiming, ...]) -> str:
    """The WebVTT document for `segments`."""
    blocks = ["WEBVTT\n"]
    for segment in segments:
        for start, end, lines in segment_cues(segment):
            text = "\n".join(escape(line) for line in lines)
            blocks.append(f"{timestamp(start)} --> {timestamp(end)}\n{text}\n")
    return "\n".join(blocks)


def segment_cues(segment: SegmentTiming) -> Iterator[tuple[int, int, list[str]]]:
    """(start ms, end ms, lines) of the cues that show `segment`."""
    cues = cue_lines(segment.text)
    widths = [sum(width(line) for line in cue) for cue in cues]
    total = sum(widths) or 1.0
    span = segment.end_ms - segment.start_ms
    done = 0.0
    for cue, cue_width in zip(cues, widths, strict=True):
        start = segment.start_ms + round(span * done / total)
        done += cue_width
        end = segment.start_ms + round(span * done / total)
        yield start, end, cue


def cue_lines(text: str) -> list[list[str]]:
    """The lines of each cue that shows `text`: as few cues as fit, their lengths and the lines
    within them as even as the breaks allow (no short line or cue left dangling)."""
    cue_width = CUE_LINES * LINE_WIDTH
    fewest = math.ceil(width(text) / cue_width)
    for count in range(fewest, fewest + 3):
        for pieces in _wrappings(text, count, cue_width):
            cues = [_balanced(piece, CUE_LINES, LINE_WIDTH) for piece in pieces]
            if all(len(lines) <= CUE_LINES for lines in cues):
                return cues
    lines = wrap(text)
    return [lines[i : i + CUE_LINES] for i in range(0, len(lines), CUE_LINES)]


@lru_cache(maxsize=1024)
def _balanced(text: str, parts: int, limit: float) -> list[str]:
    """`text` in at most `parts` lines no wider than `limit` if it can be (see _wrappings)."""
    return next(iter(_wrappings(text, parts, limit)), None) or wrap(text, limit)


def _wrappings(text: str, parts: int, limit: float) -> list[list[str]]:
    """The ways to wrap `text` into at most `parts` lines no wider than `limit`, best first:
    breaking most often after punctuation, then the most even."""
    found = []
    tried = set()
    for widest in range(max(1, math.ceil(width(text) / max(parts, 1))), math.ceil(limit) + 1):
        lines = wrap(text, min(widest, limit))
        if len(lines) <= max(parts, 1) and tuple(lines) not in tried:
            tried.add(tuple(lines))
            breaks_in_words = sum(line[-1] not in BREAK_AFTER for line in lines[:-1])
            found.append((breaks_in_words, max(width(line) for line in lines), lines))
    return [lines for *_, lines in sorted(found, key=lambda f: f[:2])]


def wrap(text: str, limit: float = LINE_WIDTH) -> list[str]:
    """`text` cut into caption lines no wider than `limit` (a word wider than that stands alone)."""
    atoms = _ATOM.findall(" ".join(text.split()))
    lines: list[list[str]] = []
    line: list[str] = []
    used = 0.0  # the width of `line`
    for atom in atoms:
        if line and used + _atom_width(atom) > limit and atom not in NO_LINE_START:
            line, carried = _cut(line, used, limit)
            lines.append(line)
            line, used = carried, sum(map(_atom_width, carried))
        if line or not atom.isspace():
            line.append(atom)
            used += _atom_width(atom)
    if line:
        lines.append(line)
    return [text for text in ("".join(atoms).strip() for atoms in lines) if text]


def _cut(line: list[str], used: float, limit: float) -> tuple[list[str], list[str]]:
    """Where a full line (`used` wide) ends: after the last punctuation near its end, or at its
    end; opening punctuation moves on to the next line. Returns (the line, what carries over)."""
    cut = len(line)
    before = used  # the width of line[:i]
    for i in range(len(line) - 1, 0, -1):
        before -= _atom_width(line[i])
        if before < PREFER_BREAK_FROM * limit:
            break
        if line[i - 1] in BREAK_AFTER:
            cut = i
            break
    while cut > 1 and line[cut - 1] in NO_LINE_END:
        cut -= 1
    carried = line[cut:]
    while carried and carried[0].isspace():
        carried = carried[1:]
    return line[:cut], carried


def width(text: str) -> float:
    """Display width in full-width characters: CJK and full-width forms count 1, others 1/2."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in text)


@lru_cache(maxsize=8192)
def _atom_width(atom: str) -> float:
    return width(atom)


def escape(text: str) -> str:
    """Escape the characters WebVTT cue text reserves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def timestamp(ms: int) -> str:
    """WebVTT's hh:mm:ss.ttt."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"
