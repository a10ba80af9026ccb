"""Backfill an archive: one edition per dated folder, every day's clips synthesised at once.

ARCHIVE/2024-03-15/ holds the pages of 15 March 2024, read in file-name order; each such folder
becomes that day's edition (one episode). A backfill
1. reads and scripts every day, reporting by name and skipping a day whose pages cannot be
   read, and connects its engines (an unreachable cluster fails here): nothing is written yet;
2. under the output lock, leaves as they are the days already published from the same inputs
   (the fingerprint kept in their record), so a rerun resumes where a stopped one ended;
3. hands the clips of every other day to the runner at once (one pool: the cluster's workers or
   the local processes), and masters and publishes each day in a thread of its own as soon as
   its last clip is in (episode.py), while the other days' clips are still being made;
4. rewrites the feed and index once, from every record, then deletes superseded files
   (outdir.commit_feed); also when a synthesis failure ends the run, so what was published
   stays published and a rerun synthesises only what is missing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import queue
import re
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from audio_edition.build.episode import publish_episode
from audio_edition.build.options import BuildOptions, BuildSummary, PublishSettings, Stopwatch
from audio_edition.build.outdir import commit_feed, output_lock
from audio_edition.build.pipeline import open_engines, synthesize
from audio_edition.build.prepare import Prepared, prepare
from audio_edition.config import edition_identity
from audio_edition.errors import AudioEditionError, InputError, SynthesisError
from audio_edition.fsutil import remove_stale_temp_files
from audio_edition.model import Clip, EditionInfo, Episode, Script
from audio_edition.publish.store import load_episode
from audio_edition.synth import Engine
from audio_edition.synth.progress import Progress
from audio_edition.synth.runner import plan_keys
from audio_edition.usercache import code_fingerprint

DAY_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}")  # ARCHIVE/2024-03-15/
FINGERPRINT = "fingerprint"  # the key in episode.json's extra: what the edition was made from
NOT_A_DAY = "not a folder named by its date (YYYY-MM-DD)"


@dataclass(frozen=True)
class BackfillOptions(PublishSettings):
    """What a backfill is asked to do: the build's settings, for every day of `archive`."""

    archive: Path

    def day(self, date: dt.date, pages: tuple[Path, ...]) -> BuildOptions:
        """The build of one day's edition: these settings, that day's pages and date."""
        settings = {f.name: getattr(self, f.name) for f in fields(PublishSettings)}
        return BuildOptions(inputs=pages, date=date, **settings)


@dataclass(frozen=True)
class Day:
    """One dated folder of the archive: its date and its pages, in file-name order."""

    date: dt.date
    pages: tuple[Path, ...]


@dataclass(frozen=True)
class BackfillSummary:
    """What a backfill did, for people and for `backfill --json`."""

    build: BuildSummary  # the editions published now (by date), the feed, the clips, the timings
    unchanged: tuple[dt.date, ...]  # already published from the same inputs: left as they were
    skipped: tuple[tuple[str, str], ...]  # (folder, why): pages that cannot be read, stray files

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.build.to_dict(),
            "unchanged": [d.isoformat() for d in self.unchanged],
            "skipped": [{"folder": name, "reason": why} for name, why in self.skipped],
        }


@dataclass(frozen=True)
class _Edition:
    date: dt.date
    prepared: Prepared
    info: EditionInfo
    script: Script
    keys: tuple[str, ...]  # the cache key of every segment, in order
    fingerprint: str


def find_days(archive: Path) -> tuple[list[Day], list[tuple[str, str]]]:
    """The days of `archive`, oldest first, and (name, why) of each other entry in it (hidden
    ones aside)."""
    try:
        entries = sorted(p for p in Path(archive).iterdir() if not p.name.startswith("."))
    except FileNotFoundError:
        raise InputError(f"archive {archive} does not exist") from None
    except NotADirectoryError:
        raise InputError(
            f"archive {archive} is not a folder: give the folder that holds one folder per day, "
            "named like 2024-03-15"
        ) from None
    except OSError as e:
        raise InputError(f"cannot read archive {archive}: {e.strerror}") from None
    days, skipped = [], []
    for entry in entries:
        if not DAY_FOLDER.fullmatch(entry.name) or not entry.is_dir():
            skipped.append((entry.name, NOT_A_DAY))
            continue
        try:
            date = dt.date.fromisoformat(entry.name)
        except ValueError:
            skipped.append((entry.name, "not a date"))
            continue
        pages = tuple(
            sorted(p for p in entry.iterdir() if p.is_file() and not p.name.startswith("."))
        )
        if pages:
            days.append(Day(date, pages))
        else:
            skipped.append((entry.name, "no pages in it"))
    return days, skipped


def backfill(options: BackfillOptions) -> BackfillSummary:
    """Publish one edition per dated folder of `options.archive` (see the module docstring)."""
    watch = Stopwatch()
    days, skipped = find_days(options.archive)
    prepared: list[tuple[dt.date, Prepared]] = []
    for day in days:
        try:
            prepared.append((day.date, prepare(options.day(day.date, day.pages), watch)))
        except InputError as e:
            skipped.append((day.date.isoformat(), str(e)))
    if not prepared:
        reason = f" (first: {skipped[0][0]}: {skipped[0][1]})" if skipped else ""
        raise InputError(
            f"no edition to publish in {options.archive}: it needs folders named by their date "
            f"(2024-03-15/) holding that day's pages{reason}"
        )
    out_dir = options.out_dir
    config = prepared[0][1].config
    with (
        open_engines(options.engine, options.fallback, options.cluster) as engines,
        output_lock(out_dir),
    ):
        remove_stale_temp_files(out_dir)
        editions = [_edition(date, p, engines[0]) for date, p in prepared]
        published = [_published(out_dir, e) for e in editions]
        unchanged = tuple(e.date for e, done in zip(editions, published, strict=True) if done)
        todo = [e for e, done in zip(editions, published, strict=True) if not done]
        bar = Progress(enabled=options.progress, editions=len(todo))
        publisher = _Publisher(out_dir, todo, watch, bar)
        failure = None
        try:
            with watch.stage("synth"):
                report = synthesize(
                    [s for e in todo for s in e.script.segments],
                    engines,
                    out_dir,
                    options.concurrency,
                    bar,
                    publisher.clip_ready,
                )
        except SynthesisError as e:
            failure = e
        except BaseException:  # interrupted: publish nothing more
            publisher.abandon()
            raise
        finally:
            publisher.finish()
            bar.close()
        with watch.stage("publish"):
            feed = commit_feed(out_dir, config, publisher.published)
        if failure is not None:
            raise failure
        publisher.raise_failure()
    summary = BuildSummary.of(
        tuple(sorted(publisher.published, key=lambda e: e.date)),
        feed,
        report,
        watch.timings,
        tuple(w for _, p in prepared for w in p.warnings),
    )
    return BackfillSummary(build=summary, unchanged=unchanged, skipped=tuple(sorted(skipped)))


def _edition(date: dt.date, prepared: Prepared, engine: Engine) -> _Edition:
    ((info, script),) = prepared.parts
    keys = tuple(plan_keys(script.segments, engine))
    return _Edition(date, prepared, info, script, keys, edition_fingerprint(prepared, script, keys))


def _published(out_dir: Path, edition: _Edition) -> bool:
    """Whether the edition is published, with all its files, from exactly these inputs."""
    key, _ = edition_identity(edition.prepared.config, edition.info)
    record = load_episode(out_dir, key)
    return (
        record is not None
        and record.extra.get(FINGERPRINT) == edition.fingerprint
        and all((out_dir / name).is_file() for name in record.files)
    )


def edition_fingerprint(prepared: Prepared, script: Script, keys: Sequence[str]) -> str:
    """A digest of everything an edition's published files are made from: the package's code
    and ffmpeg, the running order, the clips' cache keys, the config, the voice profile and
    the files they name (cover, stings). Same fingerprint, same files."""
    config, profile = prepared.config, prepared.profile
    named = [config.artwork, *profile.stings.values()]
    made_from = {
        "code": code_fingerprint("imageio-ffmpeg"),  # new code or ffmpeg: republish everything
        "script": script.to_dict(),
        "clips": list(keys),
        "config": repr(config),
        "profile": repr(profile),
        "files": {str(path): _file_digest(path) for path in named if path is not None},
    }
    text = json.dumps(made_from, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


class _Publisher:
    """Masters and publishes each edition in a thread of its own once its last clip is in."""

    def __init__(
        self, out_dir: Path, editions: Sequence[_Edition], watch: Stopwatch, bar: Progress
    ) -> None:
        self._out_dir, self._watch, self._bar = out_dir, watch, bar
        self._editions = list(editions)
        self._waiting = [set(e.keys) for e in self._editions]
        self._wanted_by: dict[str, list[int]] = defaultdict(list)
        for index, edition in enumerate(self._editions):
            for key in set(edition.keys):
                self._wanted_by[key].append(index)
        self._clips: dict[str, Clip] = {}
        self._ready: queue.SimpleQueue[_Edition | None] = queue.SimpleQueue()
        self._making = threading.Event()
        self._abandoned = threading.Event()
        self.published: list[Episode] = []
        self.failures: list[tuple[dt.date, Exception]] = []
        self._thread = threading.Thread(target=self._run, name="publish-editions", daemon=True)
        self._thread.start()

    def clip_ready(self, key: str, clip: Clip, made: bool) -> None:
        """The runner's on_clip (in the runner's thread: bookkeeping only)."""
        if made:
            self._making.set()
        self._clips[key] = clip
        for index in self._wanted_by.pop(key, ()):
            waiting = self._waiting[index]
            waiting.discard(key)
            if not waiting:
                self._ready.put(self._editions[index])

    def abandon(self) -> None:
        """Publish no edition after the one being published now (call finish() next)."""
        self._abandoned.set()

    def finish(self) -> None:
        """Publish what is ready (unless abandoned), then stop the thread."""
        self._making.set()
        self._ready.put(None)
        self._thread.join()

    def raise_failure(self) -> None:
        """Raise the first edition's failure to publish, if any, naming its date."""
        if not self.failures:
            return
        date, error = self.failures[0]
        if not isinstance(error, AudioEditionError):
            raise error
        raise type(error)(
            f"the edition of {date} could not be published ({error}); "
            f"{len(self.published)} others were, and running the backfill again retries it"
        ) from error

    def _run(self) -> None:
        # The local pool (offline.py) forks its workers when the runner asks for its first clip,
        # and a fork must not find this thread in the middle of mastering: start once a clip
        # has been made (the workers exist by then) or the synthesis is over.
        self._making.wait()
        while (edition := self._ready.get()) is not None and not self._abandoned.is_set():
            try:
                episode = publish_episode(
                    self._out_dir,
                    edition.prepared,
                    edition.info,
                    edition.script,
                    [self._clips[key] for key in edition.keys],
                    None,
                    self._watch,
                    extra={FINGERPRINT: edition.fingerprint},
                )
            except Exception as e:  # reported once synthesis is over; the other days go on
                self.failures.append((edition.date, e))
                continue
            self.published.append(episode)
            self._bar.edition_published()
