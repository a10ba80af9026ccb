"""Master one episode and write its files, in the order crash safety needs: the versioned audio,
transcript, chapters and talking books (EPUB, DAISY) first, then the record that commits them,
then the page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from audio_edition.build.options import Stopwatch
from audio_edition.build.outdir import PARTS_CACHE_DIR, commit_audio
from audio_edition.build.prepare import Prepared
from audio_edition.config import edition_identity
from audio_edition.fsutil import temp_sibling
from audio_edition.master import EpisodeTags, master_episode
from audio_edition.master.cover import cover_image
from audio_edition.model import Clip, EditionInfo, Episode, MasteredAudio, Script
from audio_edition.publish.book import BookMeta, talking_book
from audio_edition.publish.chapters import write_chapters_json
from audio_edition.publish.daisy import write_daisy
from audio_edition.publish.epub import write_epub
from audio_edition.publish.page import write_episode_page
from audio_edition.publish.store import EPISODES_DIR, episode_dir, load_episode, save_episode
from audio_edition.publish.transcript import write_vtt
from audio_edition.script import PHOTOS_ID


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
        title=info.full_title or info.title,
        publication=info.publication,
        date=info.date,
        cover=config.artwork,
    )
    try:
        with watch.stage("master"):
            parts_cache = out_dir / PARTS_CACHE_DIR
            audio = master_episode(
                script, clips, prepared.profile, staging, tags, cache_dir=parts_cache
            )
        mp3, version = commit_audio(staging, folder, key)
    finally:
        staging.unlink(missing_ok=True)
    audio = replace(audio, path=mp3)
    books: dict[str, Path] = {}
    if config.talking_books:
        with watch.stage("books"):
            meta = _book_meta(prepared, info, script, guid, tags.title)
            books = write_talking_books(folder, f"{key}-{version}", script, audio, meta)
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
            title=info.title,
            audio_file=f"{relative}/{mp3.name}",
            audio_size=mp3.stat().st_size,
            duration_ms=audio.duration_ms,
            transcript_file=f"{relative}/{transcript.name}",
            chapters_file=f"{relative}/{chapters.name}",
            page_file=f"{relative}/index.html",
            articles=tuple(
                c.title for c in script.chapters if c.sting == "article" and c.id != PHOTOS_ID
            ),
            photos=script.photos,
            note=note,
            built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            extra={"sentences": sentences_by_chapter(script), **(extra or {})},
            **{name: f"{relative}/{path.name}" for name, path in books.items()},
        )
        save_episode(out_dir, episode)
        write_episode_page(out_dir, config, episode, audio)
    return episode


def sentences_by_chapter(script: Script) -> dict[str, list[str]]:
    """What each chapter says, as recorded in episode.json for `plan` to compare against."""
    return {c.title: [s.text for s in c.segments] for c in script.chapters}


def write_talking_books(
    folder: Path, stem: str, script: Script, audio: MasteredAudio, meta: BookMeta
) -> dict[str, Path]:
    """The EPUB 3 and DAISY 2.02 books of `audio`, named after it: {Episode field: path}."""
    book = talking_book(script, audio, meta)
    return {
        "epub_file": write_epub(book, folder / f"{stem}.epub"),
        "daisy_file": write_daisy(book, folder / f"{stem}-daisy.zip"),
    }


def _book_meta(
    prepared: Prepared, info: EditionInfo, script: Script, guid: str, title: str
) -> BookMeta:
    config = prepared.config
    return BookMeta(
        guid=guid,
        title=title,
        publication=info.publication,
        publisher=config.author,
        language=config.html_lang,
        date=info.date,
        modified=dt.datetime.now(dt.UTC),
        description="、".join(c.title for c in script.chapters if c.sting == "article"),
        cover=cover_image(config.artwork, info.publication),
    )
