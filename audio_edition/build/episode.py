"""Master one episode and write its files, in the order crash safety needs: the versioned audio,
transcript and chapters first, then the record that commits them, then the page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from audio_edition.build.options import Stopwatch
from audio_edition.build.outdir import commit_audio
from audio_edition.build.prepare import Prepared
from audio_edition.config import edition_identity
from audio_edition.fsutil import temp_sibling
from audio_edition.master import EpisodeTags, master_episode
from audio_edition.model import Clip, EditionInfo, Episode, Script
from audio_edition.publish.chapters import write_chapters_json
from audio_edition.publish.page import write_episode_page
from audio_edition.publish.store import EPISODES_DIR, episode_dir, load_episode, save_episode
from audio_edition.publish.transcript import write_vtt


def publish_episode(
    out_dir: Path,
    prepared: Prepared,
    info: EditionInfo,
    script: Script,
    clips: Sequence[Clip],
    note: str | None,
    watch: Stopwatch,
    extra: Mapping[str, Any] | None = None,
) -> Episode:
    """Master `script` from `clips` into OUT/episodes/<key>/ and commit its record (`extra`:
    more to keep in it)."""
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
        mp3, version = commit_audio(staging, folder, key)
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
            extra={"sentences": sentences_by_chapter(script), **(extra or {})},
        )
        save_episode(out_dir, episode)
        write_episode_page(out_dir, config, episode, audio)
    return episode


def sentences_by_chapter(script: Script) -> dict[str, list[str]]:
    """What each chapter says, as recorded in episode.json for `plan` to compare against."""
    return {c.title: [s.text for s in c.segments] for c in script.chapters}
