"""MP3 encoding with LAME in-process, and the MP3 measured as listeners will hear it.

LAME (lameenc's build of LAME 3.100) encodes CBR mono at the voices' 24 kHz: MPEG-2 Layer III
(see MasterSettings for the bitrate), at LAME's default quality, the one ffmpeg's libmp3lame
uses. It runs inside the mastering worker: no ffmpeg process per chapter, no pipe, and none of
ffmpeg's thread hand-offs per 576-sample frame, which cost ffmpeg about a third of its CPU time
on this stream. A fresh encoder per chapter starts with an empty bit reservoir, which is what
lets chapters be joined (mp3.py). Encoding is deterministic: the same PCM gives the same bytes.

measure_mp3 decodes the finished MP3 in-process with libsndfile (mpg123, gapless: it trims the
delay and padding the Info frame states) and measures what listeners get: the BS.1770
integrated loudness (loudness.py) and the 4x true peak (limiter.py), from the same samples.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import version

import lameenc
import numpy as np
import soundfile

from audio_edition.errors import AudioError
from audio_edition.master.limiter import true_peak_db
from audio_edition.master.loudness import gated_loudness, sub_block_energies

LAME_QUALITY = 3  # LAME's default algorithm quality (0 best .. 9 fastest)
# LAME's quantiser rounds magnitudes down: the decoded MP3 is this much quieter than its input
# plus what the limiter's loss estimate leaves (dB; measured on the 25 parts of the sample page,
# which decoded 0.15 dB under the target with -0.4, ffmpeg's figure). Mastering aims that higher.
ENCODER_LEVEL_DB = -0.55
ENCODER = f"lameenc-{version('lameenc')}/q{LAME_QUALITY}"  # what made the frames: a cache key part


@dataclass(frozen=True)
class MeasuredMp3:
    """What a decoded MP3 measures: integrated loudness (LUFS), true peak (dBTP) and the
    K-weighted energy of each 100 ms (which combine into the loudness of a longer whole)."""

    integrated_lufs: float
    true_peak_db: float
    energies: np.ndarray


def encode_frames(pcm: Iterable[bytes | memoryview], sample_rate: int, bitrate_kbps: int) -> bytes:
    """LAME's MP3 frames for mono 16-bit little-endian PCM chunks (no Info frame)."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate_kbps)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(LAME_QUALITY)
    encoder.silence()
    frames = bytearray()
    for chunk in pcm:
        frames += encoder.encode(bytes(chunk))
    frames += encoder.flush()
    return bytes(frames)


def measure_mp3(data: bytes, samples: int, what: str) -> MeasuredMp3:
    """Decode the MP3 file `data` and measure it; it must give back exactly `samples`."""
    try:
        decoded, rate = soundfile.read(io.BytesIO(data), dtype="float32")
    except (soundfile.LibsndfileError, RuntimeError) as e:
        raise AudioError(f"{what} does not decode: {e}") from e
    if len(decoded) != samples:
        raise AudioError(f"{what} decodes to {len(decoded)} samples, not {samples}")
    energies = sub_block_energies(decoded, rate)
    return MeasuredMp3(gated_loudness(energies), true_peak_db(decoded), energies)
