"""The parts cache: each mastered part's MP3 and measurements, addressed by its content.

An entry is two files under the cache folder (OUT/.cache/parts in a build):
- <key>.mp3: the part as a playable MP3 of its own (Info frame, then its LAME frames);
- <key>.json: its record, written last (an MP3 without its record is no entry): the MP3's
  SHA-256, the samples it holds, and what its decode measured (integrated loudness, true peak,
  the K-weighted energy of each 100 ms, from which the episode's loudness is combined).
The key hashes everything that changes those bytes: PART_FORMAT (bumped whenever mastering
changes how a part sounds), the encoder, the settings, the sting, the part's layout and its
clips' PCM. Both files are written atomically; an entry is verified when read (its record
complete, the MP3's hash matching) and a damaged one is removed and made again, so they are
not synced to disk: after a power loss an entry may be lost, never wrongly trusted.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from audio_edition.fsutil import atomic_write_bytes
from audio_edition.master.assemble import SAMPLE_RATE, Part
from audio_edition.master.encode import ENCODER, MeasuredMp3
from audio_edition.master.settings import MasterSettings

PART_FORMAT = "part-mp3-v4"  # bump to invalidate every entry when mastering changes


@dataclass(frozen=True)
class MasteredPart:
    """A part's MP3 in the cache and what its decode measured."""

    mp3: Path
    sha256: str
    samples: int  # what the part holds, without the encoder's delay and padding
    integrated_lufs: float
    true_peak_db: float
    energies: np.ndarray  # K-weighted mean square of each 100 ms
    encodes: int  # 0 when it came from the cache


def part_key(layout: Part, clips_sha256: str, sting_id: str, settings: MasterSettings) -> str:
    """The cache key of a part with this layout, clips, sting and settings."""
    parts = [
        PART_FORMAT,
        ENCODER,
        f"{SAMPLE_RATE}",
        json.dumps(asdict(settings), sort_keys=True),
        sting_id if layout.sting else "no sting",
        json.dumps([layout.spans, layout.frames, asdict(layout.sting) if layout.sting else None]),
        clips_sha256,
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class PartCache:
    """Mastered parts under `root`, by key."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def get(self, key: str) -> MasteredPart | None:
        """The verified entry for `key`; a damaged one is removed and reported as missing."""
        mp3, record = self._paths(key)
        try:
            meta = json.loads(record.read_text("utf-8"))
            found = MasteredPart(
                mp3=mp3,
                sha256=str(meta["sha256"]),
                samples=int(meta["samples"]),
                integrated_lufs=float(meta["integrated_lufs"]),
                true_peak_db=float(meta["true_peak_db"]),
                energies=np.array(meta["energies"], dtype=np.float64),
                encodes=0,
            )
            intact = hashlib.sha256(mp3.read_bytes()).hexdigest() == found.sha256
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            intact = False
        if intact:
            return found
        record.unlink(missing_ok=True)
        mp3.unlink(missing_ok=True)
        return None

    def put(
        self, key: str, data: bytes, samples: int, measured: MeasuredMp3, encodes: int
    ) -> MasteredPart:
        """Store the part's MP3 `data` with its measurements; return the entry."""
        mp3, record = self._paths(key)
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(mp3, data, durable=False)
        sha256 = hashlib.sha256(data).hexdigest()
        meta = {
            "format": PART_FORMAT,
            "sha256": sha256,
            "samples": samples,
            "integrated_lufs": measured.integrated_lufs,
            "true_peak_db": measured.true_peak_db,
            "energies": measured.energies.tolist(),
        }
        atomic_write_bytes(record, json.dumps(meta).encode(), durable=False)
        return MasteredPart(
            mp3=mp3,
            sha256=sha256,
            samples=samples,
            integrated_lufs=measured.integrated_lufs,
            true_peak_db=measured.true_peak_db,
            energies=measured.energies,
            encodes=encodes,
        )

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.root / f"{key}.mp3", self.root / f"{key}.json"
