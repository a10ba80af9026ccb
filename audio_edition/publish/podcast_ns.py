"""feedgen extensions: the Podcasting 2.0 `podcast:` namespace, Podlove Simple Chapters
(`psc:chapters`, read by gPodder's podcastparser and others that do not read podcast:chapters),
and Apple's current spelling of `itunes:explicit` (feedgen's podcast extension only knows the
retired yes/no/clean)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import lxml.etree  # noqa: F401  (feedgen.util uses lxml.etree without importing it)
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.ext.podcast import PodcastExtension
from feedgen.ext.podcast_entry import PodcastEntryExtension
from feedgen.util import xml_elem

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PSC_NS = "http://podlove.org/simple-chapters"
PSC_VERSION = "1.2"

__all__ = [
    "AppleExtension",
    "PodcastEntryExtension",  # feedgen's itunes: item tags, used as they are
    "PodcastNamespaceEntryExtension",
    "PodcastNamespaceExtension",
    "PodloveChapter",
    "PodloveEntryExtension",
    "PodloveExtension",
]


class AppleExtension(PodcastExtension):
    """feedgen's podcast (itunes:) extension with itunes:explicit written as true/false."""

    def __init__(self) -> None:
        super().__init__()
        self._explicit: bool | None = None

    def itunes_explicit(self, itunes_explicit: bool | None = None) -> bool | None:  # type: ignore[override]
        """Get or set whether the podcast is explicit (written `true` or `false`)."""
        if itunes_explicit is not None:
            if not isinstance(itunes_explicit, bool):
                raise ValueError("itunes:explicit takes True or False")
            self._explicit = itunes_explicit
        return self._explicit

    def extend_rss(self, rss_feed: Any) -> Any:
        rss_feed = super().extend_rss(rss_feed)
        if self._explicit is not None:
            explicit = xml_elem(f"{{{ITUNES_NS}}}explicit", rss_feed[0])
            explicit.text = "true" if self._explicit else "false"
        return rss_feed


class PodcastNamespaceExtension(BaseExtension):
    """Channel tags of the podcast namespace: podcast:guid and podcast:locked."""

    def __init__(self) -> None:
        self._guid: str | None = None
        self._locked: tuple[bool, str] | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def guid(self, guid: str | None = None) -> str | None:
        """Get or set podcast:guid, the feed's permanent UUIDv5."""
        if guid is not None:
            self._guid = guid
        return self._guid

    def locked(self, locked: bool, owner: str) -> None:
        """Set podcast:locked (yes/no) with the owner's e-mail address."""
        self._locked = (locked, owner)

    def extend_rss(self, rss_feed: Any) -> Any:
        channel = rss_feed[0]
        if self._guid:
            xml_elem(f"{{{PODCAST_NS}}}guid", channel).text = self._guid
        if self._locked is not None:
            locked, owner = self._locked
            element = xml_elem(f"{{{PODCAST_NS}}}locked", channel, owner=owner)
            element.text = "yes" if locked else "no"
        return rss_feed


class PodcastNamespaceEntryExtension(BaseEntryExtension):
    """Item tags of the podcast namespace: podcast:transcript and podcast:chapters."""

    def __init__(self) -> None:
        self._transcripts: list[dict[str, str]] = []
        self._chapters: dict[str, str] | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def transcript(
        self, url: str, type: str, language: str | None = None, rel: str | None = None
    ) -> None:
        """Add a podcast:transcript (one per format)."""
        attrs = {"url": url, "type": type}
        if language:
            attrs["language"] = language
        if rel:
            attrs["rel"] = rel
        self._transcripts.append(attrs)

    def chapters(self, url: str, type: str = "application/json+chapters") -> None:
        """Set podcast:chapters."""
        self._chapters = {"url": url, "type": type}

    def extend_rss(self, entry: Any) -> Any:
        for attrs in self._transcripts:
            xml_elem(f"{{{PODCAST_NS}}}transcript", entry, **attrs)
        if self._chapters:
            xml_elem(f"{{{PODCAST_NS}}}chapters", entry, **self._chapters)
        return entry


@dataclass(frozen=True)
class PodloveChapter:
    """One Podlove Simple Chapter: where it starts (ms), its title and an optional link."""

    start_ms: int
    title: str
    href: str | None = None


def normal_play_time(ms: int) -> str:
    """A time as Podlove Simple Chapters writes it (RFC 2326 normal play time): HH:MM:SS.mmm."""
    seconds, millis = divmod(max(0, ms), 1000)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{millis:03d}"


class PodloveExtension(BaseExtension):
    """Declares the psc: namespace on the feed; the chapters are per item."""

    def extend_ns(self) -> dict[str, str]:
        return {"psc": PSC_NS}


class PodloveEntryExtension(BaseEntryExtension):
    """psc:chapters (Podlove Simple Chapters 1.2) inline in an item."""

    def __init__(self) -> None:
        self._chapters: tuple[PodloveChapter, ...] = ()

    def extend_ns(self) -> dict[str, str]:
        return {"psc": PSC_NS}

    def chapters(self, chapters: Sequence[PodloveChapter]) -> None:
        """Set the item's chapters (written in time order)."""
        self._chapters = tuple(sorted(chapters, key=lambda c: c.start_ms))

    def extend_rss(self, entry: Any) -> Any:
        if self._chapters:
            element = xml_elem(f"{{{PSC_NS}}}chapters", entry, version=PSC_VERSION)
            for chapter in self._chapters:
                attrs = {"start": normal_play_time(chapter.start_ms), "title": chapter.title}
                if chapter.href:
                    attrs["href"] = chapter.href
                xml_elem(f"{{{PSC_NS}}}chapter", element, **attrs)
        return entry
