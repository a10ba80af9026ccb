"""What a build is asked to do, and what it reports back."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audio_edition.model import SPLIT_MODES, Episode, ParseWarning

if TYPE_CHECKING:  # only named in annotations: importing it would load numpy and asyncio
    from audio_edition.synth.runner import SynthReport


@dataclass(frozen=True, kw_only=True)
class PublishSettings:
    """How a build, or a backfill of many days, synthesises and publishes."""

    out_dir: Path = Path("output")
    engine: str = "offline"
    base_url: str | None = None
    config_path: Path | None = None
    profile_path: Path | None = None
    lexicon_path: Path | None = None
    concurrency: int | None = None
    fallback: str | None = None
    progress: bool | None = None
    cluster: str | None = None  # a Dask scheduler's address: the offline voice runs on its workers


@dataclass(frozen=True)
class BuildOptions(PublishSettings):
    """Everything a build needs to know besides the files it reads."""

    inputs: tuple[Path, ...]
    date: dt.date = field(default_factory=dt.date.today)
    title: str | None = None
    note: str | None = None
    split: str = "edition"

    def __post_init__(self) -> None:
        if not self.inputs:
            raise ValueError("at least one input file is required")
        if self.split not in SPLIT_MODES:
            raise ValueError(f"split must be one of {SPLIT_MODES}")


@dataclass(frozen=True)
class BuildSummary:
    """What a build made, for people and for `build --json`."""

    episodes: tuple[Episode, ...]
    feed: Path
    synthesized: int
    reused: int
    retried: int
    fallbacks: tuple[str, ...]
    suspect: tuple[str, ...]
    timings: dict[str, float]
    warnings: tuple[ParseWarning, ...] = ()  # what the page parser was unsure of

    @classmethod
    def of(
        cls,
        episodes: tuple[Episode, ...],
        feed: Path,
        report: SynthReport,
        timings: dict[str, float],
        warnings: tuple[ParseWarning, ...],
    ) -> BuildSummary:
        """The summary of a run that published `episodes` from the clips of `report`."""
        return cls(
            episodes=episodes,
            feed=feed,
            synthesized=report.synthesized,
            reused=report.reused,
            retried=report.retried,
            fallbacks=report.fallbacks,
            suspect=report.suspect,
            timings=timings,
            warnings=warnings,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "episodes": [
                {
                    "guid": e.guid,
                    "title": e.title,
                    "date": e.date.isoformat(),
                    "audio": e.audio_file,
                    "bytes": e.audio_size,
                    "duration_s": round(e.duration_ms / 1000, 3),
                    "articles": list(e.articles),
                }
                for e in self.episodes
            ],
            "feed": str(self.feed),
            "synthesized": self.synthesized,
            "reused": self.reused,
            "retried": self.retried,
            "fallbacks": list(self.fallbacks),
            "suspect": list(self.suspect),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "warnings": [w.to_dict() for w in self.warnings],
        }


@dataclass(frozen=True)
class PlannedEpisode:
    """What `plan` found for one episode: what changed since the last build."""

    title: str
    is_new: bool
    changed: dict[str, list[str]]  # chapter title -> sentences added or changed
    removed: list[str]  # chapter titles no longer present


@dataclass(frozen=True)
class Plan:
    """A dry run: how many clips a build would synthesise and what changed."""

    total_clips: int
    to_synthesize: int
    episodes: tuple[PlannedEpisode, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_clips": self.total_clips,
            "to_synthesize": self.to_synthesize,
            "episodes": [
                {"title": e.title, "new": e.is_new, "changed": e.changed, "removed": e.removed}
                for e in self.episodes
            ],
        }


class Stopwatch:
    """Wall seconds spent in each named stage of a build."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start
