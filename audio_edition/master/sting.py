"""Stings: the short chimes that open the edition and each article.

The built-in ones are synthesised here, deterministically: bell-like tones (a few inharmonic
partials, each decaying exponentially, the higher ones faster) played as a small motif. The
edition sting is a rising major arpeggio (C6 E6 G6 C7, about 1.9 s); the article sting a soft
falling fourth (A5 E5, about 1.3 s) on a darker bell, so the two are told apart at once. A voice
profile can replace either with any audio file ffmpeg reads (`[stings]` in voices/*.toml).
Stings are returned at full scale 1.0 peak; mastering sets their loudness to the speech's.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np

from audio_edition.errors import AudioError, ConfigError
from audio_edition.master.assemble import StingSpan
from audio_edition.master.ffmpeg import run_ffmpeg
from audio_edition.master.loudness import (
    IMPULSE_TAPS,
    SUB_BLOCK_S,
    gated_loudness,
    integrated_loudness,
    sub_block_energies,
)
from audio_edition.model import STING_KINDS

NEIGHBOURHOOD_S = 15.0  # s: the speech before and after a sting that sets its loudness
# LU above the speech's loudness a sting is set to: ebur128's 3 s short-term window over a
# 1.3-1.9 s sting also spans the pause before it and reads a sting of equal loudness 2-3 LU under
# the speech; 1 LU up keeps both readings (the sting alone, and that window) within 2 LU of it
STING_LIFT_LU = 1.0
MAX_STING_S = 30.0  # s: a longer "sting" file is surely the wrong file
ATTACK_S = 0.004  # s: raised-cosine onset of each strike (no click)
FADE_S = 0.12  # s: fade to silence at the end of a built-in sting
# A bell: (frequency ratio to the note, relative amplitude, decay time constant in s)
BRIGHT_BELL = ((1.0, 1.0, 0.55), (2.0, 0.35, 0.30), (3.01, 0.18, 0.18), (4.17, 0.10, 0.12))
DARK_BELL = ((1.0, 1.0, 0.50), (2.76, 0.22, 0.20), (5.40, 0.06, 0.10), (0.5, 0.25, 0.60))
# A motif: (note frequency in Hz, onset in s, relative level)
EDITION_MOTIF = (
    (1046.50, 0.0, 0.8),
    (1318.51, 0.16, 0.75),
    (1567.98, 0.32, 0.75),
    (2093.0, 0.5, 0.7),
)
ARTICLE_MOTIF = ((880.0, 0.0, 0.9), (659.26, 0.22, 1.0))
CHIMES = {  # kind -> (bell, motif, length in s)
    "edition": (BRIGHT_BELL, EDITION_MOTIF, 1.9),
    "article": (DARK_BELL, ARTICLE_MOTIF, 1.3),
}


@lru_cache(maxsize=4)
def chime(kind: str, sample_rate: int) -> np.ndarray:
    """The built-in sting of `kind` ("edition" or "article") as float32 samples, peak 1.0
    (read-only: it is computed once)."""
    bell, motif, length_s = CHIMES[kind]
    t = np.arange(round(length_s * sample_rate)) / sample_rate
    out = np.zeros_like(t)
    for note_hz, onset_s, level in motif:
        since = t - onset_s
        sounding = since >= 0
        s = since[sounding]
        onset = np.where(s < ATTACK_S, 0.5 - 0.5 * np.cos(np.pi * s / ATTACK_S), 1.0)
        for ratio, amplitude, decay_s in bell:
            freq = note_hz * ratio
            if freq < sample_rate / 2 * 0.9:
                partial = amplitude * np.exp(-s / decay_s) * np.sin(2 * np.pi * freq * s)
                out[sounding] += level * onset * partial
    fade = round(FADE_S * sample_rate)
    out[-fade:] *= 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, fade))
    samples = (out / np.abs(out).max()).astype(np.float32)
    samples.flags.writeable = False
    return samples


def load_sting(path: Path, sample_rate: int) -> np.ndarray:
    """A user's sting file (any format ffmpeg reads) as mono float32 samples at `sample_rate`."""
    if not path.is_file():
        raise ConfigError(f"sting file {path} does not exist: fix [stings] in the voice profile")
    raw, _ = run_ffmpeg(
        ["-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "-"],
        what=f"read the sting file {path} (is it an audio file?)",
    )
    samples = np.frombuffer(raw, dtype="<f4")
    if not len(samples) or not np.any(samples):
        raise ConfigError(f"sting file {path} is silent or empty")
    if len(samples) > MAX_STING_S * sample_rate:
        raise ConfigError(f"sting file {path} lasts over {MAX_STING_S:.0f} s: use a short sting")
    return samples


def stings_for(
    kinds: set[str], user_files: Mapping[str, Path | None], sample_rate: int
) -> dict[str, np.ndarray]:
    """The sting of each kind in `kinds`: the user's file where the profile names one."""
    result = {}
    for kind in sorted(kinds):
        if kind not in STING_KINDS:
            raise ConfigError(f"unknown sting {kind!r}")
        path = user_files.get(kind)
        result[kind] = load_sting(path, sample_rate) if path else chime(kind, sample_rate)
    return result


@lru_cache(maxsize=8)
def sting_loudness(sting: bytes, sample_rate: int) -> float:
    """The integrated loudness of a sting's float32 samples, measured once per process (each
    part that opens a chapter asks for it: 3 ms a time, a part in 30 of mastering's CPU)."""
    return integrated_loudness(np.frombuffer(sting, dtype=np.float32), sample_rate)


def place_stings(
    samples: np.ndarray,
    spans: tuple[StingSpan, ...],
    stings: Mapping[str, np.ndarray],
    sample_rate: int,
) -> np.ndarray:
    """Write each sting into its (silent) span of `samples`, as loud as the speech around it
    (plus STING_LIFT_LU); return the K-weighted 100 ms energies of the result.

    "As loud" is BS.1770 gated loudness: the sting's own against that of the speech within
    NEIGHBOURHOOD_S before and after it (pauses fall under the gate), so a sting stays level
    with its neighbours even if the voice's level drifts through the episode.
    """
    energies = sub_block_energies(samples, sample_rate)  # speech only: the spans are still silent
    overall = gated_loudness(energies)
    if not np.isfinite(overall):
        raise AudioError("every clip is silent: synthesise them again")
    reach = round(NEIGHBOURHOOD_S / SUB_BLOCK_S)
    touched = []
    for span in spans:
        first = int(span.start / sample_rate / SUB_BLOCK_S)
        last = int((span.start + span.frames + IMPULSE_TAPS) / sample_rate / SUB_BLOCK_S) + 1
        around = gated_loudness(energies[max(0, first - reach) : last + reach])
        if not np.isfinite(around):
            around = overall
        sting = stings[span.kind]
        level = sting_loudness(sting.tobytes(), sample_rate)
        if not np.isfinite(level):
            raise ConfigError(f"the {span.kind} sting is too quiet to hear (under -70 LUFS)")
        gain_db = around + STING_LIFT_LU - level
        target = samples[span.start : span.start + span.frames]
        np.multiply(sting, np.float32(10.0 ** (gain_db / 20.0)), out=target)
        touched.append((first, last))
    for first, last in touched:  # the sub-blocks a sting (and the filter's memory of it) reach
        energies[first:last] = sub_block_energies(samples, sample_rate, first, last - first)
    return energies
