"""The orchestrator: `build` runs every stage and commits the output; `plan` is its dry run.

A build (1) connects its engines (to a cluster too), reads and checks all input and makes the
script while the voice loads, all before writing anything, (2) takes the output lock and removes
temporary files of killed builds, (3) synthesises every clip into the cache, (4) masters and
commits each episode (episode.py), (5) rewrites the feed and index from every episode record,
and only then (6) deletes the files of superseded versions (outdir.commit_feed). `backfill.py`
runs the same steps over many days.

The stages after the script (synthesis, mastering, publishing) are imported inside the
functions that use them: a build starts its voice loading as soon as its input is read, and
those imports, 0.2 s, then run beside it instead of before it (a correction's whole build takes
about 2 s).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from audio_edition.build.options import BuildOptions, BuildSummary, Plan, PlannedEpisode, Stopwatch
from audio_edition.build.prepare import prepare
from audio_edition.config import edition_identity
from audio_edition.fsutil import remove_stale_temp_files
from audio_edition.model import Segment
from audio_edition.synth import Engine, create_engine

if TYPE_CHECKING:
    from audio_edition.synth.progress import Progress
    from audio_edition.synth.runner import ClipReady, SynthReport

Engines = tuple[Engine, Engine | None]  # the main engine and the fallback


def build(options: BuildOptions) -> BuildSummary:
    """Build the edition read from `options.inputs` into `options.out_dir` and update its feed."""
    watch = Stopwatch()
    out_dir = options.out_dir
    with open_engines(options.engine, options.fallback, options.cluster) as engines:
        # reads only, bad input fails before anything is written; the voice loads meanwhile
        prepared = prepare(options, watch, inputs_read=engines[0].warm_up)
        from audio_edition.build.episode import publish_episode
        from audio_edition.build.outdir import commit_feed, output_lock

        segments = [s for _, script in prepared.parts for s in script.segments]
        with output_lock(out_dir):
            remove_stale_temp_files(out_dir)
            with watch.stage("synth"):
                report = synthesize(
                    segments, engines, out_dir, options.concurrency, options.progress
                )
            episodes = []
            first = 0
            for info, script in prepared.parts:
                clips = report.clips[first : first + len(script.segments)]
                first += len(script.segments)
                episodes.append(
                    publish_episode(out_dir, prepared, info, script, clips, options.note, watch)
                )
            with watch.stage("publish"):
                feed = commit_feed(out_dir, prepared.config, episodes)
    return BuildSummary.of(tuple(episodes), feed, report, watch.timings, prepared.warnings)


@contextlib.contextmanager
def open_engines(engine: str, fallback: str | None, cluster: str | None) -> Iterator[Engines]:
    """The main and fallback engines, closed on the way out. A cluster is connected here, so
    call this before writing anything: an unreachable scheduler fails in one line."""
    with contextlib.ExitStack() as stack:
        main = create_engine(engine, cluster)
        stack.callback(main.close)
        backup = create_engine(fallback, cluster) if fallback else None
        if backup is not None:
            stack.callback(backup.close)
        yield main, backup


def synthesize(
    segments: Sequence[Segment],
    engines: Engines,
    out_dir: Path,
    concurrency: int | None,
    progress: bool | Progress | None,
    on_clip: ClipReady | None = None,
) -> SynthReport:
    """Every segment's clip into OUT's cache, with the build's retries and duration check."""
    from audio_edition.build.outdir import CACHE_DIR
    from audio_edition.synth.cache import ClipCache
    from audio_edition.synth.checks import plausible_duration
    from audio_edition.synth.runner import synthesize_all

    engine, fallback = engines
    return synthesize_all(
        segments,
        engine,
        ClipCache(out_dir / CACHE_DIR),
        concurrency=concurrency,
        fallback=fallback,
        plausible=plausible_duration,
        progress=progress,
        on_clip=on_clip,
    )


def plan(options: BuildOptions) -> Plan:
    """What a build would do, touching nothing: changed articles and sentences, clips to make."""
    from audio_edition.build.episode import sentences_by_chapter
    from audio_edition.build.outdir import CACHE_DIR
    from audio_edition.publish.store import load_episode
    from audio_edition.synth.cache import ClipCache
    from audio_edition.synth.runner import plan_keys

    prepared = prepare(options)
    segments = [s for _, script in prepared.parts for s in script.segments]
    engine = create_engine(options.engine)
    cache = ClipCache(Path(options.out_dir) / CACHE_DIR)
    keys = set(plan_keys(segments, engine))
    missing = sum(1 for k in keys if not cache.has(k))
    planned = []
    for info, script in prepared.parts:
        key, _ = edition_identity(prepared.config, info)
        old = load_episode(options.out_dir, key)
        old_sentences = old.extra.get("sentences", {}) if old else {}
        new_sentences = sentences_by_chapter(script)
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
