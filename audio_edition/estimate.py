"""How long a chapter will take to hear, estimated from its text before anything is synthesised.

今日要目 announces each article's length in the intro, which is synthesised with the rest, so
the length must be known from the script alone, and be the same for the same script (clips are
cached by their text: an intro that changed with the weather would be synthesised again).
A segment's speech is its syllables (the text as the offline voice reads it: numbers, dates and
Latin written out) at the voice's pace, plus a little for each pause mark inside it and for the
clip's own edges, scaled by the role's rate; then its pause, and the chapter's sting.

The offline pace was measured on the sample page's 300 clips (see docs/architecture.md for how
close the chapters come). Microsoft's service is out of reach here, so the edge pace is a
newsreader's typical 4.5 syllables a second, not a measurement.
"""

from __future__ import annotations

from audio_edition.model import Chapter, Segment
from audio_edition.text.normalize import READABLE, normalize

# ms per clip, per syllable, per pause mark inside the clip, at rate 0 (fitted by least squares)
PACE_MS = {"offline": (323.0, 185.0, 226.0), "edge": (300.0, 222.0, 200.0)}
INNER_MARKS = "，、"  # pause marks inside a clip (the voice pauses at them)
STING_MS = 1600  # a built-in sting (1.3-1.9 s) and the gap after it
SECONDS_FOR_ONE_MINUTE = 45  # shorter than this is "不到1分钟"


def estimated_ms(chapter: Chapter) -> int:
    """The estimated length of `chapter` in ms: its sting, speech and pauses."""
    total = sum(speech_ms(s) + s.pause_ms for s in chapter.segments)
    return round(total + (STING_MS if chapter.sting else 0))


def speech_ms(segment: Segment) -> float:
    """The estimated length of one segment's clip in ms."""
    base, per_syllable, per_mark = PACE_MS[segment.voice.engine]
    said = normalize(segment.spoken)
    syllables = len(READABLE.findall(said))
    marks = sum(said.count(mark) for mark in INNER_MARKS)
    return (base + per_syllable * syllables + per_mark * marks) * 100 / (100 + segment.voice.rate)


def say_length(ms: int) -> str:
    """A length as the intro says it: 不到1分钟, 约1分钟, 约4分钟 (whole minutes, rounded)."""
    seconds = ms / 1000
    if seconds < SECONDS_FOR_ONE_MINUTE:
        return "不到1分钟"
    return f"约{max(1, int(seconds / 60 + 0.5))}分钟"
