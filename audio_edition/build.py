"""Build an edition end to end: ingest -> script -> synth -> master -> publish.

Crash safety: a build holds an exclusive lock on the output directory; every file is written to a
temporary name and renamed into place; an episode's audio, transcript and chapters carry a content
version in their names, and its episode.json (the commit point) is replaced only once they exist.
Files of superseded versions are removed only after the new feed is in place, so a build killed at
any moment leaves the previous episode and feed intact.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from audio_edition.config import PublicationConfig, load_config
from audio_edition.errors import PublishError
from audio_edition.fsutil import remove_stale_temp_files, temp_sibling
from audio_edition.ingest import read_edition
from audio_edition.master import EpisodeTags, master_episode
from audio_edition.model import SPLIT_MODES, Edition, EditionInfo, Episode, ParseWarning, Script
from audio_edition.profile import VoiceProfile, load_profile
from audio_edition.publish.chapters import write_chapters_json
from audio_edition.publish.feed import edition_identity, write_feed
from audio_edition.publish.page import write_episode_page, write_index_page
from audio_edition.publish.store import (
    EPISODES_DIR,
    episode_dir,
    load_episode,
    load_episodes,
    save_episode,
)
from audio_edition.publish.transcript import write_vtt
from audio_edition.script import build_script
from audio_edition.synth import create_engine
from audio_edition.synth.cache import ClipCache
from audio_edition.synth.checks import plausible_duration
from audio_edition.synth.runner import SynthReport, plan_keys, synthesize_all
from audio_edition.text.lexicon import load_lexicon

CACHE_DIR = Path(".cache") / "clips"
LOCK_FILE = ".lock"
VERSION_CHARS = 10  # hex digits of the audio's sha256 in versioned file names


@dataclass(frozen=True)
class BuildOptions:
    """Everything a build needs to know besides the files it reads."""

    inputs: tuple[Path, ...]
    out_dir: Path = Path("output")
    engine: str = "offline"
    date: dt.date = field(default_factory=dt.date.today)
    title: str | None = None
    base_url: str | None = None
    config_path: Path | None = None
    profile_path: Path | None = None
    lexicon_path: Path | None = None
    concurrency: int | None = None
    fallback: str | None = None
    note: str | None = None
    split: str = "edition"
    progress: bool | None = None

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


class _Stopwatch:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start


@contextlib.contextmanager
def output_lock(out_dir: Path) -> Iterator[None]:
    """Hold the output directory for one build; a second build exits with a clear message."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        handle = open(out_dir / LOCK_FILE, "a+")  # noqa: SIM115 - held for the whole build
    except OSError as e:
        raise PublishError(f"cannot write to output directory {out_dir}: {e.strerror}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PublishError(
                f"another build is writing to {out_dir}; wait for it to finish and run again"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Prepared:
    """The running order of every episode a build makes, and what it needs to publish them."""

    config: PublicationConfig
    profile: VoiceProfile
    parts: tuple[tuple[EditionInfo, Script], ...]  # one per episode
    warnings: tuple[ParseWarning, ...] = ()  # what the page parser was unsure of


def prepare(options: BuildOptions, watch: _Stopwatch | None = None) -> Prepared:
    """Read the inputs and make the running order of each episode; writes nothing."""
    watch = watch or _Stopwatch()
    config = load_config(options.config_path, base_url=options.base_url)
    profile = load_profile(options.profile_path)
    with watch.stage("ingest"):
        edition = read_edition(options.inputs)
    with watch.stage("script"):
        lexicon = load_lexicon(options.lexicon_path)
        info = EditionInfo(
            publication=config.publication,
            date=options.date,
            title=options.title or edition.title or config.title,
        )
        if options.split == "articles":
            parts = tuple(
                (
                    replace(info, title=article.headline, pages=(f"a{number:02d}",)),
                    build_script(
                        Edition(title=info.title, articles=(article,)),
                        info,
                        profile,
                        options.engine,
                        lexicon,
                    ),
                )
                for number, article in enumerate(edition.articles, start=1)
            )
        else:
            parts = ((info, build_script(edition, info, profile, options.engine, lexicon)),)
    return Prepared(config=config, profile=profile, parts=parts, warnings=edition.warnings)


def build(options: BuildOptions) -> BuildSummary:
    """Build the edition read from `options.inputs` into `options.out_dir` and update its feed."""
    watch = _Stopwatch()
    out_dir = options.out_dir
    prepared = prepare(options, watch)  # reads only: bad input fails before anything is written
    with output_lock(out_dir):
        remove_stale_temp_files(out_dir)
        segments = [s for _, script in prepared.parts for s in script.segments]
        engine = create_engine(options.engine)
        fallback = create_engine(options.fallback) if options.fallback else None
        with watch.stage("synth"):
            report = synthesize_all(
                segments,
                engine,
                ClipCache(out_dir / CACHE_DIR),
                concurrency=options.concurrency,
                fallback=fallback,
                plausible=plausible_duration,
                progress=options.progress,
            )
        episodes = []
        first = 0
        for info, script in prepared.parts:
            count = len(script.segments)
            clips = report.clips[first : first + count]
            first += count
            episodes.append(
                _publish_episode(out_dir, prepared, info, script, clips, options.note, watch)
            )
        with watch.stage("publish"):
            everything = load_episodes(out_dir)
            feed = write_feed(out_dir, prepared.config, everything)
            write_index_page(out_dir, prepared.config, everything)
            for episode in episodes:
                _remove_superseded(out_dir, episode)
    return _summary(tuple(episodes), feed, report, watch, prepared.warnings)


def _summary(
    episodes: tuple[Episode, ...],
    feed: Path,
    report: SynthReport,
    watch: _Stopwatch,
    warnings: tuple[ParseWarning, ...],
) -> BuildSummary:
    return BuildSummary(
        episodes=episodes,
        feed=feed,
        synthesized=report.synthesized,
        reused=report.reused,
        retried=report.retried,
        fallbacks=report.fallbacks,
        suspect=report.suspect,
        timings=watch.timings,
        warnings=warnings,
    )


def _publish_episode(
    out_dir: Path,
    prepared: Prepared,
    info: EditionInfo,
    script: Script,
    clips: Sequence[Any],
    note: str | None,
    watch: _Stopwatch,
) -> Episode:
    config = prepared.config
    key, guid = edition_identity(config, info)
    previous = load_episode(out_dir, key)
    if previous is not None:
        guid = previous.guid  # an edition keeps its guid even if the feed's URL changed
    folder = episode_dir(out_dir, key)
    folder.mkdir(parents=True, exist_ok=True)
    staging = temp_sibling(folder / f"{key}.mp3")
    tags = EpisodeTags(
        title=f"{info.publication} {info.title} {info.date.isoformat()}",
        publication=info.publication,
        date=info.date,
        cover=config.artwork,
    )
    try:
        with watch.stage("master"):
            audio = master_episode(script, clips, prepared.profile, staging, tags)
        version = _file_version(staging)
        mp3 = folder / f"{key}-{version}.mp3"
        os.replace(staging, mp3)
    finally:
        staging.unlink(missing_ok=True)
    audio = replace(audio, path=mp3)
    with watch.stage("publish"):
        transcript = folder / f"transcript-{version}.vtt"
        chapters = folder / f"chapters-{version}.json"
        write_vtt(audio, transcript)
        write_chapters_json(audio, chapters)
        relative = f"{EPISODES_DIR}/{key}"
        episode = Episode(
            guid=guid,
            edition_key=key,
            date=info.date,
            title=f"{info.title} {info.date.isoformat()}",
            audio_file=f"{relative}/{mp3.name}",
            audio_size=mp3.stat().st_size,
            duration_ms=audio.duration_ms,
            transcript_file=f"{relative}/{transcript.name}",
            chapters_file=f"{relative}/{chapters.name}",
            page_file=f"{relative}/index.html",
            articles=tuple(c.title for c in script.chapters if c.sting == "article"),
            note=note,
            built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            extra={"sentences": _sentences_by_chapter(script)},
        )
        save_episode(out_dir, episode)
        write_episode_page(out_dir, config, episode, audio)
    return episode


def _file_version(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:VERSION_CHARS]


def _remove_superseded(out_dir: Path, episode: Episode) -> None:
    """Delete the audio, transcript and chapters of older versions of this episode."""
    current = {episode.audio_file, episode.transcript_file, episode.chapters_file}
    folder = episode_dir(out_dir, episode.edition_key)
    for path in folder.iterdir():
        versioned = path.suffix in (".mp3", ".vtt", ".json") and path.name != "episode.json"
        if versioned and f"{EPISODES_DIR}/{episode.edition_key}/{path.name}" not in current:
            path.unlink(missing_ok=True)


def _sentences_by_chapter(script: Script) -> dict[str, list[str]]:
    return {c.title: [s.text for s in c.segments] for c in script.chapters}


def plan(options: BuildOptions) -> Plan:
    """What a build would do, touching nothing: changed articles and sentences, clips to make."""
    prepared = prepare(options)
    segments = [s for _, script in prepared.parts for s in script.segments]
    engine = create_engine(options.engine)
    cache = ClipCache(options.out_dir / CACHE_DIR)
    keys = set(plan_keys(segments, engine))
    missing = sum(1 for k in keys if not cache.has(k))
    planned = []
    for info, script in prepared.parts:
        key, _ = edition_identity(prepared.config, info)
        old = load_episode(options.out_dir, key)
        old_sentences = old.extra.get("sentences", {}) if old else {}
        new_sentences = _sentences_by_chapter(script)
        changed = {}
        for title, sentences in new_sentences.items():
            before = set(old_sentences.get(title, []))
            fresh = [s for s in sentences if s not in before]
            if fresh:
                changed[title] = fresh
        removed = [t for t in old_sentences if t not in new_sentences]
        planned.append(
            PlannedEpisode(title=info.title, is_new=old is None, changed=changed, removed=removed)
        )
    return Plan(total_clips=len(keys), to_synthesize=missing, episodes=tuple(planned))
