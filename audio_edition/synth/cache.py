"""A content-addressed clip cache: one verified mono 16-bit WAV per (engine identity, utterance).

Entries are written to a temporary file and renamed into place, and verified before use, so a
build killed at any moment never leaves a truncated clip that a later build would stitch.
"""

from __future__ import annotations

import hashlib
import io
import os
import wave
from pathlib import Path

import numpy as np

from audio_edition.fsutil import temp_sibling
from audio_edition.model import Clip

CACHE_FORMAT = "wav-s16-mono-v1"  # bump to invalidate every entry when the clip format changes
WAV_HEADER_BYTES = 44  # the canonical RIFF header written by the `wave` module


def encode_wav(samples: np.ndarray, sample_rate: int) -> bytes:
    """Mono samples (float in [-1, 1] or int16) as the bytes of a 16-bit PCM WAV file."""
    if samples.dtype != np.int16:
        samples = np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write mono samples (float in [-1, 1] or int16) as a 16-bit PCM WAV file."""
    Path(path).write_bytes(encode_wav(samples, sample_rate))


def read_clip(path: Path) -> Clip | None:
    """The Clip stored at `path`, or None when it is missing, truncated or not mono 16-bit PCM."""
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate, frames = (
                wav.getnchannels(),
                wav.getsampwidth(),
                wav.getframerate(),
                wav.getnframes(),
            )
        size = path.stat().st_size
    except (OSError, EOFError, wave.Error):
        return None
    if channels != 1 or width != 2 or frames <= 0 or size != WAV_HEADER_BYTES + 2 * frames:
        return None
    return Clip(path=path, frames=frames, sample_rate=rate)


class ClipCache:
    """Clips under `root`, addressed by the hash of everything that changes their sound."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @staticmethod
    def key(identity: str, spoken: str) -> str:
        digest = hashlib.sha256(f"{CACHE_FORMAT}\n{identity}\n{spoken}".encode())
        return digest.hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.wav"

    def get(self, key: str) -> Clip | None:
        """The verified clip for `key`; a damaged entry is removed and reported as missing."""
        path = self.path(key)
        clip = read_clip(path)
        if clip is None and path.exists():
            path.unlink(missing_ok=True)
        return clip

    def has(self, key: str) -> bool:
        """Whether a valid clip for `key` exists (changes nothing)."""
        return read_clip(self.path(key)) is not None

    def temp_path(self, key: str) -> Path:
        """A fresh temporary file beside the entry's final place, for an engine to write into."""
        return temp_sibling(self.path(key))

    def put(self, key: str, written: Path) -> Clip | None:
        """Verify a clip an engine wrote to `written` and move it into place (None if invalid)."""
        clip = read_clip(written)
        if clip is None:
            written.unlink(missing_ok=True)
            return None
        final = self.path(key)
        os.replace(written, final)
        return Clip(path=final, frames=clip.frames, sample_rate=clip.sample_rate)
