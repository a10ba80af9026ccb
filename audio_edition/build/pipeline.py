"""The orchestrator: `build` runs every stage and commits the output; `plan` is its dry run.

A build (1) reads and checks all input before writing anything, (2) takes the output lock and
removes temporary files of killed builds, (3) synthesises every clip into the cache, (4) masters
and commits each episode (episode.py), (5) rewrites the feed and index from every episode record,
and only then (6) deletes the files of superseded versions.
"""

from __future__ import annotations

from pathlib import Path

from audio_edition.build.episode import publish_episode, sentences_by_chapter
from audio_edition.build.options import BuildOptions, BuildSummary, Plan, PlannedEpisode, Stopwatch
from audio_edition.build.outdir import CACHE_DIR, output_lock, remove_superseded
from audio_edition.build.prepare import prepare
from audio_edition.config import edition_identity
from audio_edition.fsutil import remove_stale_temp_files
from audio_edition.publish.feed import write_feed
from audio_edition.publish.page import write_index_page
from audio_edition.publish.store import load_episode, load_episodes
from audio_edition.synth import create_engine
from audio_edition.synth.cache import ClipCache
from audio_edition.synth.checks import plausible_duration
from audio_edition.synth.runner import plan_keys, synthesize_all


def build(options: BuildOptions) -> BuildSummary:
    """Build the edition read from `options.inputs` into `options.out_dir` and update its feed."""
    watch = Stopwatch()
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
            clips = report.clips[first : first + len(script.segments)]
            first += len(script.segments)
            episodes.append(
                publish_episode(out_dir, prepared, info, script, clips, options.note, watch)
            )
        with watch.stage("publish"):
            everything = load_episodes(out_dir)
            feed = write_feed(out_dir, prepared.config, everything)
            write_index_page(out_dir, prepared.config, everything)
            for episode in episodes:
                remove_superseded(out_dir, episode)
    return BuildSummary(
        episodes=tuple(episodes),
        feed=feed,
        synthesized=report.synthesized,
        reused=report.reused,
        retried=report.retried,
        fallbacks=report.fallbacks,
        suspect=report.suspect,
        timings=watch.timings,
    )


def plan(options: BuildOptions) -> Plan:
    """What a build would do, touching nothing: changed articles and sentences, clips to make."""
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
