"""The publication config (`audio-edition.toml`): what the feed and the pages say about the podcast,
and the identity of its editions."""

from __future__ import annotations

import re
import tomllib
import uuid
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from audio_edition.errors import ConfigError
from audio_edition.model import EditionInfo
from audio_edition.titles import DEFAULT_TEMPLATE, check_template

DEFAULT_CONFIG_NAME = "audio-edition.toml"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
# The podcast namespace's UUID for podcast:guid (podcastindex.org, tags/guid): a feed's guid is
# UUIDv5(this, feed URL without its scheme and trailing slashes).
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
ARTWORK_SIZES = (1400, 3000)  # Apple: square, 1400..3000 pixels a side
ARTWORK_MAX_BYTES = 10 * 1024 * 1024  # a sanity bound for a cover image
# Apple Podcasts categories (podcasters.apple.com/support/1691): category -> its subcategories.
APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": (
        "Careers",
        "Entrepreneurship",
        "Investing",
        "Management",
        "Marketing",
        "Non-Profit",
    ),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": (
        "Alternative Health",
        "Fitness",
        "Medicine",
        "Mental Health",
        "Nutrition",
        "Sexuality",
    ),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": (
        "Animation & Manga",
        "Automotive",
        "Aviation",
        "Crafts",
        "Games",
        "Hobbies",
        "Home & Garden",
        "Video Games",
    ),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": (
        "Business News",
        "Daily News",
        "Entertainment News",
        "News Commentary",
        "Politics",
        "Sports News",
        "Tech News",
    ),
    "Religion & Spirituality": (
        "Buddhism",
        "Christianity",
        "Hinduism",
        "Islam",
        "Judaism",
        "Religion",
        "Spirituality",
    ),
    "Science": (
        "Astronomy",
        "Chemistry",
        "Earth Sciences",
        "Life Sciences",
        "Mathematics",
        "Natural Sciences",
        "Nature",
        "Physics",
        "Social Sciences",
    ),
    "Society & Culture": (
        "Documentary",
        "Personal Journals",
        "Philosophy",
        "Places & Travel",
        "Relationships",
    ),
    "Sports": (
        "Baseball",
        "Basketball",
        "Cricket",
        "Fantasy Sports",
        "Football",
        "Golf",
        "Hockey",
        "Rugby",
        "Running",
        "Soccer",
        "Swimming",
        "Tennis",
        "Volleyball",
        "Wilderness",
        "Wrestling",
    ),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}
PATH_KEYS = ("artwork", "profile", "lexicon")  # file paths, relative to the config file
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")  # RSS/ISO 639 codes: zh-cn, en, en-us
_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SAFE_KEY = re.compile(r"[^a-z0-9]+")
_ASCII_PAGES = re.compile(r"[A-Za-z0-9 +_.-]+")


def podcast_guid(feed_url: str) -> str:
    """The podcast namespace's guid for a feed URL: UUIDv5 of the URL without scheme and
    trailing slashes."""
    bare = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", feed_url).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


@dataclass(frozen=True)
class PublicationConfig:
    """What the feed and the pages say about the podcast. Validated on creation."""

    publication: str = "本报"  # the newspaper's name, announced in every episode's intro
    title: str = "本报有声版"
    description: str = "本报每日新闻的有声版：每篇文章由普通话朗读，按文章分章，附完整文字稿。"
    author: str = "本报编辑部"
    owner_name: str = "本报编辑部"
    owner_email: str = "podcast@example.com"
    language: str = "zh-cn"
    category: str = "News"
    subcategory: str | None = "Daily News"
    explicit: bool = False
    artwork: Path | None = None  # square PNG or JPEG, 1400..3000 px; None = the built-in cover
    website: str = DEFAULT_BASE_URL
    base_url: str = DEFAULT_BASE_URL  # where OUT/ is served: enclosures and pages hang off it
    locked: bool = True  # podcast:locked: other platforms may not import the feed
    guid: str | None = None  # podcast:guid; None = derived from feed_url (fix it once published)
    profile: Path | None = None  # a voice profile TOML; None = the built-in voices/default.toml
    lexicon: Path | None = None  # a pronunciation lexicon TOML; None = voices/lexicon.toml
    episode_title: str = DEFAULT_TEMPLATE  # fields {date} {year} {name} {publication}: titles.py
    feed_limit: int = 100  # episodes: the feed lists the newest this many; the index lists all
    talking_books: bool = True  # an EPUB 3 and a DAISY 2.02 book beside every episode's MP3

    def __post_init__(self) -> None:
        for name in ("publication", "title", "description", "author", "owner_name"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"config key {name!r} must be a non-empty string")
        if not isinstance(self.owner_email, str) or not _EMAIL.fullmatch(self.owner_email):
            raise ConfigError(
                f"config key 'owner_email' must be an e-mail address, not {self.owner_email!r}"
            )
        if not isinstance(self.language, str) or not _LANGUAGE.fullmatch(self.language):
            raise ConfigError(
                f"config key 'language' must be a language code like 'zh-cn', not {self.language!r}"
            )
        if self.category not in APPLE_CATEGORIES:
            raise ConfigError(
                f"config key 'category' must be an Apple Podcasts category such as 'News', "
                f"not {self.category!r}"
            )
        subs = APPLE_CATEGORIES[self.category]
        if self.subcategory is not None and self.subcategory not in subs:
            allowed = ", ".join(subs) or "none"
            raise ConfigError(
                f"config key 'subcategory' {self.subcategory!r} is not under {self.category!r} "
                f"(allowed: {allowed})"
            )
        for name in ("explicit", "locked", "talking_books"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"config key {name!r} must be true or false")
        for name in ("base_url", "website"):
            _check_url(name, getattr(self, name))
        if self.guid is not None and not (
            isinstance(self.guid, str) and _UUID.fullmatch(self.guid)
        ):
            raise ConfigError(f"config key 'guid' must be a lower-case UUID, not {self.guid!r}")
        if self.artwork is not None:
            check_artwork(Path(self.artwork))
        problem = (
            check_template(self.episode_title)
            if isinstance(self.episode_title, str)
            else "must be a string"
        )
        if problem:
            raise ConfigError(f"config key 'episode_title' {problem}: {self.episode_title!r}")
        if (
            not isinstance(self.feed_limit, int)
            or isinstance(self.feed_limit, bool)
            or self.feed_limit < 1
        ):
            raise ConfigError(
                f"config key 'feed_limit' must be a whole number of episodes, 1 or more, "
                f"not {self.feed_limit!r}"
            )

    @property
    def feed_url(self) -> str:
        return self.base_url + "/feed.xml"

    @property
    def feed_guid(self) -> str:
        """podcast:guid: the configured one, else the namespace's UUIDv5 of the feed URL."""
        return self.guid or podcast_guid(self.feed_url)

    @property
    def html_lang(self) -> str:
        """The language as HTML spells it: zh-cn -> zh-CN."""
        head, *rest = self.language.split("-")
        return "-".join([head] + [part.upper() if len(part) == 2 else part for part in rest])

    def url(self, relative: str) -> str:
        """The absolute URL of a file given by its path relative to the output directory."""
        return f"{self.base_url}/{quote(relative.lstrip('/'), safe='/')}"


def _check_url(name: str, value: Any) -> None:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"config key {name!r} must be an absolute http(s) URL, not {value!r}")
    if value.endswith("/"):
        raise ConfigError(f"config key {name!r} must not end with '/': {value!r}")
    if parts.query or parts.fragment:
        raise ConfigError(f"config key {name!r} must not have a query or fragment: {value!r}")


def check_artwork(path: Path) -> None:
    """Raise ConfigError unless `path` is a square PNG or JPEG of a size Apple accepts."""
    if not path.is_file():
        raise ConfigError(f"config key 'artwork': no such file {str(path)!r}")
    if path.stat().st_size > ARTWORK_MAX_BYTES:
        raise ConfigError(f"config key 'artwork': {path.name} is larger than 10 MB")
    size = image_size(path)
    if size is None:
        raise ConfigError(f"config key 'artwork': {path.name} is not a PNG or JPEG image")
    width, height = size
    low, high = ARTWORK_SIZES
    if width != height or not low <= width <= high:
        raise ConfigError(
            f"config key 'artwork': {path.name} is {width}x{height}; "
            f"Apple needs a square image of {low}..{high} pixels"
        )


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of a PNG or baseline/progressive JPEG file, None for anything else."""
    data = path.read_bytes()
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame
            height = int.from_bytes(data[pos + 5 : pos + 7], "big")
            return int.from_bytes(data[pos + 7 : pos + 9], "big"), height
        pos += 2 + length
    return None


def load_config(path: Path | None = None, *, base_url: str | None = None) -> PublicationConfig:
    """Read a publication config. None reads ./audio-edition.toml when present, else the
    defaults. `base_url` overrides the file's (e.g. to preview on a local server)."""
    values: dict[str, Any] = {}
    if path is None and Path(DEFAULT_CONFIG_NAME).is_file():
        path = Path(DEFAULT_CONFIG_NAME)
    if path is not None:
        values = _read_toml(Path(path))
    if base_url is not None:
        values["base_url"] = base_url
    if "base_url" in values and "website" not in values:
        values["website"] = values["base_url"]
    for name in ("base_url", "website"):
        if isinstance(values.get(name), str):
            values[name] = values[name].rstrip("/")
    return PublicationConfig(**values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            values = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read config file {str(path)!r}: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {e}") from None
    known = {f.name for f in fields(PublicationConfig)}
    for key in values:
        if key not in known:
            raise ConfigError(
                f"unknown config key {key!r} in {path.name} (known: {', '.join(sorted(known))})"
            )
    for key in PATH_KEYS:
        if isinstance(values.get(key), str):
            values[key] = (path.parent / values[key]).resolve()
        elif key in values:
            raise ConfigError(f"config key {key!r} must be a file path (relative to {path.name})")
    return values


def edition_identity(config: PublicationConfig, info: EditionInfo) -> tuple[str, str]:
    """(edition_key, guid) of an edition: both from the publication, the date and the pages,
    never from the build time, so a rebuilt edition keeps its place in everyone's feed."""
    key = info.date.isoformat()
    pages = "+".join(info.pages)
    if info.pages:
        slug = _SAFE_KEY.sub("-", pages.lower()).strip("-")
        if not _ASCII_PAGES.fullmatch(pages) or not slug:
            # non-ASCII page names ("第三版") get a short stable digest instead of a lossy slug
            slug = uuid.uuid5(uuid.NAMESPACE_URL, pages).hex[:8]
        key += "-p" + slug
    name = f"{info.publication.strip()}|{info.date.isoformat()}|{pages}"
    guid = uuid.uuid5(uuid.UUID(config.feed_guid), name)
    return key, str(guid)


def starter_config_text() -> str:
    """The commented starter config that `audio-edition init` writes."""
    return STARTER_CONFIG


STARTER_CONFIG = """\
# audio-edition publication config: what your podcast feed and web pages say.
# Every key is optional; the values below are the defaults unless marked "example".
# Check the feed after editing:  audio-edition build ... && open OUT/feed.xml

# The newspaper's name, as the intro of every episode says it ("欢迎收听本报有声版").
publication = "本报"

# The podcast's name, summary and the person or desk behind it.
title = "本报有声版"
description = "本报每日新闻的有声版：每篇文章由普通话朗读，按文章分章，附完整文字稿。"
author = "本报编辑部"

# Apple Podcasts writes to the owner; podcast:locked names this address too. Use a real one.
owner_name = "本报编辑部"
owner_email = "podcast@example.com"

# Language of the episodes (RSS language code): zh-cn, zh-tw, en ...
language = "zh-cn"

# An Apple Podcasts category and, optionally, one of its subcategories.
category = "News"
subcategory = "Daily News"

# Apple's explicit-content flag: true or false.
explicit = false

# Cover art: a square PNG or JPEG, 1400 to 3000 pixels a side, relative to this file.
# Leave it out to use the built-in cover.
# artwork = "cover.png"                               # example

# The publication's own website (defaults to base_url).
# website = "https://news.example.com"                 # example

# Where the output directory is served from: enclosure, transcript and page URLs
# are built on it, so it must be the public address (no trailing slash).
# `audio-edition build --base-url URL` overrides it for a preview.
base_url = "http://127.0.0.1:8000"

# podcast:locked = true asks other podcast platforms not to import this feed.
locked = true

# Your own voice profile (voices, rates and pauses per role) and pronunciation lexicon,
# relative to this file. Without them the built-in ones are used; --profile and --lexicon
# on the command line win over both. Start from the built-in files: see the README.
# profile = "voices/my-profile.toml"                   # example
# lexicon = "voices/lexicon.toml"                      # example

# How episodes are titled. Fields: {date} (12月2日 星期三), {year} (2020年), {name} (the
# edition's name: build --title, else the pages printed on it, such as 第5版; empty when
# neither is known) and {publication}. Podcast apps show each episode's date with its year, so
# the default leaves the year out; the MP3's own tag and the spoken intro add it.
episode_title = "{date} {name}"

# How many of the newest episodes the feed lists (podcast apps time out on very long feeds).
# Older episodes stay on the website's index page and in the output directory.
feed_limit = 100

# Talking books for blind and low-vision readers: beside every episode's MP3, an EPUB 3 with
# Media Overlays (text and audio in sync, sentence by sentence) and a DAISY 2.02 book for
# DAISY players. Set to false if you publish only the podcast.
talking_books = true

# podcast:guid, the feed's permanent identity. It defaults to the UUIDv5 of the feed URL;
# after your first public build copy the <podcast:guid> from feed.xml here, so the podcast
# (and every episode guid, which is derived from it) survives a move to another address.
# guid = "00000000-0000-0000-0000-000000000000"     # example
"""
