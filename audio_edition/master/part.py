"""Mastering one part on its own: loudness, true-peak limit, LAME frames, cached by content.

A part is a chapter, or 15 s to a minute or so of a long one (assemble.py). master_part runs in a
worker process (episode.py masters parts side by side):
1. read the part's clips into one buffer and hash them (assemble.py);
2. if the cache holds this part (same clips, pauses, sting and settings), that is the result;
3. write its sting in (a chapter's first part opens with it), as loud as the speech after it;
4. measure its integrated loudness (BS.1770 in numpy) and set the gain that reaches the target,
   adding back what the limiter will take from the loudest syllables;
5. stream gain + true-peak limiting into LAME (limiter.py, encode.py), decode the frames and
   measure them; if they miss the target or the ceiling, correct and encode again (in practice
   the first encode lands within ~0.2 LU);
6. store the part's MP3 and measurements in the cache.
A part is held to half the episode's loudness tolerance, so that the episode, a blend of parts
all near the target, measures within the whole tolerance. Parts of one voice at one target
differ in level by a fraction of a dB, which the pauses between them hide.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio_edition.errors import AudioError
from audio_edition.master.assemble import SAMPLE_RATE, Part, read_part
from audio_edition.master.cache import MasteredPart, PartCache, part_key
from audio_edition.master.encode import ENCODER_LEVEL_DB, MeasuredMp3, encode_frames, measure_mp3
from audio_edition.master.limiter import Limiter
from audio_edition.master.loudness import gated_loudness
from audio_edition.master.mp3 import stream_from_frames, write_stream
from audio_edition.master.settings import MasterSettings
from audio_edition.master.sting import place_stings

LIMITER_MARGIN_DB = 1.5  # dB: limiter ceiling below the target true peak (LAME overshoots <= 1.4)
PEAK_READING_DB = 0.15  # dB: our 4x true peak of speech reads up to ~this below ebur128's 8x
MAX_ENCODES = 3  # the first encode, then up to two corrections
CORRECTION_MARGIN_DB = 0.2  # dB: extra headroom taken when a correction lowers the ceiling
PART_TOLERANCE_SHARE = 0.5  # of the episode's tolerance, allowed to one part


@dataclass(frozen=True)
class PartJob:
    """Everything a worker needs to master one part."""

    name: str  # how messages name the part
    layout: Part
    sting: np.ndarray | None  # the opening sting's samples (full scale 1.0), if it has one
    sting_id: str  # what identifies the sting's sound (a cache key part)
    settings: MasterSettings
    cache_root: Path


def master_part(job: PartJob) -> MasteredPart:
    """The part's MP3 in the cache, mastered now unless the cache holds it."""
    samples, clips_sha256 = read_part(job.layout)
    cache = PartCache(job.cache_root)
    key = part_key(job.layout, clips_sha256, job.sting_id, job.settings)
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        data, measured, encodes = _master(job, samples)
    except AudioError as e:
        raise AudioError(f"{job.name}: {e}") from e
    try:
        return cache.put(key, data, len(samples), measured, encodes)
    except OSError as e:
        raise AudioError(f"cannot write the parts cache in {job.cache_root}: {e}") from e


def _master(job: PartJob, samples: np.ndarray) -> tuple[bytes, MeasuredMp3, int]:
    settings = job.settings
    spans = (job.layout.sting,) if job.layout.sting else ()
    stings = {job.layout.sting.kind: job.sting} if job.layout.sting else {}
    loudness = gated_loudness(place_stings(samples, spans, stings, SAMPLE_RATE))
    gain_db = settings.target_lufs - loudness - ENCODER_LEVEL_DB
    ceiling_db = settings.true_peak_db - LIMITER_MARGIN_DB
    limiter = Limiter(samples, SAMPLE_RATE)
    gain_db -= limiter.loss_db(gain_db, ceiling_db)
    tolerance = settings.tolerance_lu * PART_TOLERANCE_SHARE
    for encodes in range(1, MAX_ENCODES + 1):
        pcm = limiter.pcm16(gain_db, ceiling_db)
        frames = encode_frames(pcm, SAMPLE_RATE, settings.bitrate_kbps)
        out = io.BytesIO()
        write_stream([stream_from_frames(frames, len(samples), "the MP3")], out)
        data = out.getvalue()
        measured = measure_mp3(data, len(samples), "the MP3")
        miss_lu = settings.target_lufs - measured.integrated_lufs
        over_db = measured.true_peak_db + PEAK_READING_DB - settings.true_peak_db
        if abs(miss_lu) <= tolerance and over_db <= 0:
            return data, measured, encodes
        gain_db += miss_lu
        if over_db > 0:
            ceiling_db -= over_db + CORRECTION_MARGIN_DB
    raise AudioError(
        f"after {MAX_ENCODES} encodes the MP3 measures {measured.integrated_lufs:.1f} LUFS, "
        f"true peak {measured.true_peak_db:.1f} dBTP (target {settings.target_lufs:.1f} "
        f"±{tolerance} LUFS, peak <= {settings.true_peak_db:.1f} dBTP)"
    )
