"""The podcast feed (OUT/feed.xml): RSS 2.0 with Apple's itunes: tags, Podcasting 2.0's podcast:
tags and Podlove Simple Chapters, rebuilt from the episode records: the newest `feed_limit`
of them, newest first (the index page lists them all)."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import logging
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

from feedgen.feed import FeedGenerator

from audio_edition import __version__
from audio_edition.config import PublicationConfig
from audio_edition.errors import PublishError
from audio_edition.fsutil import atomic_write_bytes
from audio_edition.master.cover import cover_image
from audio_edition.model import Episode
from audio_edition.publish.podcast_ns import (
    AppleExtension,
    PodcastEntryExtension,
    PodcastNamespaceEntryExtension,
    PodcastNamespaceExtension,
    PodloveChapter,
    PodloveEntryExtension,
    PodloveExtension,
)
from audio_edition.publish.store import sort_newest_first

__all__ = ["build_feed", "publish_artwork", "write_feed"]

FEED_NAME = "feed.xml"
AUDIO_TYPE = "audio/mpeg"
TRANSCRIPT_TYPE = "text/vtt"
CHAPTERS_TYPE = "application/json+chapters"
# An edition is dated, not timed: every item is published at 06:00 Beijing time of its date.
PUBLISH_TIME = dt.time(6, 0, tzinfo=dt.timezone(dt.timedelta(hours=8), "CST"))
# Characters XML 1.0 forbids (C0 controls other than tab/newline/CR, surrogates, U+FFFE/FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

log = logging.getLogger(__name__)


def printable(text: str) -> str:
    """`text` without the characters that XML and HTML cannot carry."""
    return _NOT_XML.sub("", text)


def publication_time(date: dt.date) -> dt.datetime:
    """The pubDate of an edition: its date at PUBLISH_TIME, whatever day it was built."""
    return dt.datetime.combine(date, PUBLISH_TIME)


def format_duration(duration_ms: int) -> str:
    """itunes:duration in whole seconds, the form Apple recommends."""
    return str(max(0, round(duration_ms / 1000)))


def episode_counts(episode: Episode) -> str:
    """What an edition holds, articles and photos told apart: `5 篇文章、3 幅新闻图片`."""
    counts = [f"{len(episode.articles)} 篇文章"]
    if episode.photos:
        counts.append(f"{episode.photos} 幅新闻图片")
    return "、".join(counts)


def episode_description(episode: Episode) -> str:
    """The item description: the counts, an HTML list of the edition's articles and the
    editor's note, every piece of user text escaped."""
    parts = [
        f"<p>{html.escape(printable(episode.title))}</p>",
        f"<p>本期 {episode_counts(episode)}</p>",
    ]
    if episode.articles:
        items = "".join(f"<li>{html.escape(printable(a))}</li>" for a in episode.articles)
        parts.append(f"<p>本期文章：</p><ol>{items}</ol>")
    if episode.note:
        parts.append(f"<p>更正说明：{html.escape(printable(episode.note))}</p>")
    return "".join(parts)


def publish_artwork(out_dir: Path, config: PublicationConfig) -> str:
    """Copy the cover into OUT under a content-hashed name (Apple re-reads a cover only when its
    URL changes) and return its path relative to OUT."""
    data, mime = cover_image(config.artwork, config.publication)  # the same cover as the MP3's
    suffix = ".png" if mime == "image/png" else ".jpg"
    name = f"artwork-{hashlib.sha256(data).hexdigest()[:10]}{suffix}"
    target = Path(out_dir) / name
    if not target.is_file():
        atomic_write_bytes(target, data)
    return name


def write_feed(out_dir: Path, config: PublicationConfig, episodes: Sequence[Episode]) -> Path:
    """Write OUT/feed.xml atomically from `episodes` (any order; written newest first).
    Episodes whose audio file is missing are left out with a warning."""
    out_dir = Path(out_dir)
    path = out_dir / FEED_NAME
    atomic_write_bytes(path, build_feed(out_dir, config, episodes))
    return path


def build_feed(out_dir: Path, config: PublicationConfig, episodes: Sequence[Episode]) -> bytes:
    """The feed XML for the newest `config.feed_limit` of `episodes`, as bytes."""
    _check_unique(episodes)
    artwork_url = config.url(publish_artwork(out_dir, config))
    fg = FeedGenerator()
    fg.register_extension("podcast", AppleExtension, PodcastEntryExtension, atom=False)
    fg.register_extension(
        "podcastindex", PodcastNamespaceExtension, PodcastNamespaceEntryExtension, atom=False
    )
    fg.register_extension("psc", PodloveExtension, PodloveEntryExtension, atom=False)
    fg.title(printable(config.title))
    fg.link(href=config.feed_url, rel="self", type="application/rss+xml")
    fg.link(href=config.website, rel="alternate")  # feedgen's <link> is the last one set
    fg.description(printable(config.description))
    fg.language(config.language)
    fg.generator(f"audio-edition {__version__}")
    fg.image(url=artwork_url, title=printable(config.title), link=config.website)
    fg.podcast.itunes_author(printable(config.author))
    fg.podcast.itunes_owner(name=printable(config.owner_name), email=config.owner_email)
    fg.podcast.itunes_category(config.category, config.subcategory)
    fg.podcast.itunes_image(artwork_url)
    fg.podcast.itunes_explicit(config.explicit)
    fg.podcast.itunes_type("episodic")
    fg.podcastindex.guid(config.feed_guid)
    fg.podcastindex.locked(config.locked, config.owner_email)

    present = [e for e in sort_newest_first(list(episodes)) if _audio_present(out_dir, e)]
    published = present[: config.feed_limit]
    if published:
        fg.pubDate(publication_time(published[0].date))
    for episode in published:
        _add_item(fg, out_dir, config, episode, artwork_url)
    return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)


def _add_item(
    fg: FeedGenerator,
    out_dir: Path,
    config: PublicationConfig,
    episode: Episode,
    artwork_url: str,
) -> None:
    fe = fg.add_entry(order="append")
    fe.guid(episode.guid, permalink=False)
    fe.title(printable(episode.title))
    fe.link(href=config.url(episode.page_file))
    fe.description(episode_description(episode))
    fe.pubDate(publication_time(episode.date))
    size = (out_dir / episode.audio_file).stat().st_size
    fe.enclosure(config.url(episode.audio_file), str(size), AUDIO_TYPE)
    fe.podcast.itunes_duration(format_duration(episode.duration_ms))
    fe.podcast.itunes_episode_type("full")
    fe.podcast.itunes_image(artwork_url)
    fe.podcastindex.transcript(
        config.url(episode.transcript_file), TRANSCRIPT_TYPE, config.language, rel="captions"
    )
    fe.podcastindex.chapters(config.url(episode.chapters_file), CHAPTERS_TYPE)
    fe.psc.chapters(_podlove_chapters(out_dir, episode))


def _podlove_chapters(out_dir: Path, episode: Episode) -> list[PodloveChapter]:
    """The episode's chapters JSON as Podlove Simple Chapters; none (with a warning) when the
    file cannot be read, so one damaged file does not take the feed down."""
    path = out_dir / episode.chapters_file
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return [
            PodloveChapter(
                start_ms=round(float(c["startTime"]) * 1000),
                title=printable(str(c["title"])),
                href=c.get("url"),
            )
            for c in document["chapters"]
        ]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        message = f"no Podlove chapters for {episode.edition_key}: cannot read {path}: {e}"
        log.warning(message)
        warnings.warn(message, stacklevel=4)
        return []


def _audio_present(out_dir: Path, episode: Episode) -> bool:
    if (out_dir / episode.audio_file).is_file():
        return True
    message = f"leaving {episode.edition_key} out of the feed: {episode.audio_file} is missing"
    log.warning(message)
    warnings.warn(message, stacklevel=3)
    return False


def _check_unique(episodes: Sequence[Episode]) -> None:
    for attribute in ("guid", "edition_key", "audio_file"):
        seen: dict[str, str] = {}
        for episode in episodes:
            value = getattr(episode, attribute)
            if value in seen:
                raise PublishError(
                    f"editions {seen[value]} and {episode.edition_key} share the {attribute} "
                    f"{value!r}; remove one of their folders under episodes/"
                )
            seen[value] = episode.edition_key
