"""What mastering is asked for: loudness, encoding and the episode's tags."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from audio_edition.errors import ConfigError

# MP3 bitrates (kb/s) of MPEG-2 Layer III, the only MP3 flavour that carries 24 kHz audio
MPEG2_BITRATES = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)


@dataclass(frozen=True)
class MasterSettings:
    """Loudness and encoding targets of an episode.

    - target_lufs: integrated loudness (LUFS). -16 is what Apple and most podcast hosts ask for.
    - true_peak_db: ceiling for the true (inter-sample) peak of the encoded MP3 (dBTP).
    - bitrate_kbps: MP3 constant bitrate. 48 kb/s CBR mono: the voices are 24 kHz mono, so the
      MP3 is MPEG-2 Layer III at 24 kHz, where LAME keeps the whole band the voices have
      (up to ~11 kHz) at 48 kb/s; speech does not improve audibly above it, and 64 kb/s would cost
      a third more data for every listener. CBR rather than VBR so that a byte offset is an exact
      time: players seek to a chapter precisely (VBR seeking goes through a coarse 100-point table,
      off by seconds in an hour-long edition). 48 kb/s is 21.6 MB an hour.
    - tolerance_lu: how far from target_lufs the measured MP3 may be before it is encoded again.
    - sting_gap_ms: silence between a sting and the voice that follows it.
    """

    target_lufs: float = -16.0
    true_peak_db: float = -1.0
    bitrate_kbps: int = 48
    tolerance_lu: float = 0.5
    sting_gap_ms: int = 300

    def __post_init__(self) -> None:
        if not -36.0 <= self.target_lufs <= -6.0:
            raise ConfigError(f"target loudness {self.target_lufs} LUFS is outside -36..-6")
        if not -9.0 <= self.true_peak_db <= 0.0:
            raise ConfigError(f"true peak ceiling {self.true_peak_db} dBTP is outside -9..0")
        if self.bitrate_kbps not in MPEG2_BITRATES:
            raise ConfigError(
                f"bitrate {self.bitrate_kbps} kb/s is not one of the 24 kHz MP3 bitrates "
                f"{', '.join(map(str, MPEG2_BITRATES))}"
            )
        if not 0.1 <= self.tolerance_lu <= 2.0:
            raise ConfigError(f"loudness tolerance {self.tolerance_lu} LU is outside 0.1..2")
        if not 0 <= self.sting_gap_ms <= 5000:
            raise ConfigError(f"sting gap {self.sting_gap_ms} ms is outside 0..5000")


@dataclass(frozen=True)
class EpisodeTags:
    """What the MP3's ID3 tag says about the episode. cover=None: the generated default."""

    title: str
    publication: str
    date: dt.date
    cover: Path | None = None

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ConfigError("an episode needs a title")
        if not self.publication.strip():
            raise ConfigError("an episode needs a publication name")
        if not isinstance(self.date, dt.date):
            raise ConfigError(f"episode date {self.date!r} is not a date")
