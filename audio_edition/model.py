"""Frozen dataclasses that flow between the pipeline stages.

ingest -> Edition -> script -> Script -> synth -> Clip per Segment -> master -> MasteredAudio
-> publish -> Episode (the feed's record of one built edition).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ENGINES = ("offline", "edge")  # the speech engines every stage knows by name
UTTERANCE_SEPARATOR = "\t"  # between a segment's spoken text and its syllables in an utterance
ARTICLE_KINDS = ("article", "commentary", "photo", "brief")
ROLES = (
    "intro",  # edition intro and outro announcements
    "headline",
    "byline",
    "heading",  # a subheading inside an article
    "body",
    "caption",  # a photo caption, with its title and credit
    "outro",
)
STING_KINDS = ("edition", "article")
# What separates a segment from the next one, weakest first: a cut between words or after a clause
# mark (one sentence cut for the engine), a sentence, a paragraph, a section, the chapter's end.
BOUNDARIES = ("word", "clause", "sentence", "paragraph", "section", "chapter")
SPLIT_MODES = ("edition", "articles")  # one episode per edition, or one per article


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True)
class Section:
    """A run of paragraphs under an optional subheading."""

    heading: str | None
    paragraphs: tuple[str, ...]

    def __post_init__(self) -> None:
        _require(isinstance(self.paragraphs, tuple), "Section.paragraphs must be a tuple")
        _require(all(p.strip() for p in self.paragraphs), "a paragraph cannot be empty")


@dataclass(frozen=True)
class Article:
    """One article, commentary or photo caption of an edition."""

    kind: str
    headline: str
    byline: str | None = None
    column: str | None = None
    sections: tuple[Section, ...] = ()
    url: str | None = None
    page: str | None = None  # the printed page it is on, when an edition has several

    def __post_init__(self) -> None:
        _require(self.kind in ARTICLE_KINDS, f"unknown article kind {self.kind!r}")
        _require(bool(self.headline.strip()), "an article needs a headline")
        _require(isinstance(self.sections, tuple), "Article.sections must be a tuple")

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(p for s in self.sections for p in s.paragraphs)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sections"] = [
            {"heading": s.heading, "paragraphs": list(s.paragraphs)} for s in self.sections
        ]
        for key in ("url", "page"):
            if data[key] is None:
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        sections = tuple(
            Section(heading=s.get("heading"), paragraphs=tuple(s.get("paragraphs", ())))
            for s in data.get("sections", ())
        )
        return cls(
            kind=data.get("kind", "article"),
            headline=data["headline"],
            byline=data.get("byline"),
            column=data.get("column"),
            sections=sections,
            url=data.get("url"),
            page=data.get("page"),
        )


@dataclass(frozen=True)
class ParseWarning:
    """Something the page parser was unsure of, for an editor to check at that spot."""

    line: int  # 1-based line number in the input
    message: str
    source: str | None = None  # the input file, when known

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.source else f"line {self.line}"
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "message": self.message}


@dataclass(frozen=True)
class Edition:
    """What ingest returns: the articles of one or more pages, in reading order.

    `title` is what heads the first page (often a column label: never the episode's title);
    `pages` the page numbers printed on the pages (`第5版`), when they carry them; `warnings`
    what the page parser was unsure of (not part of the edition's identity: equal editions may
    differ in them).
    """

    title: str | None
    articles: tuple[Article, ...]
    pages: tuple[str, ...] = ()
    warnings: tuple[ParseWarning, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        _require(isinstance(self.articles, tuple), "Edition.articles must be a tuple")
        _require(isinstance(self.pages, tuple), "Edition.pages must be a tuple")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"title": self.title}
        if self.pages:
            data["pages"] = list(self.pages)
        data["articles"] = [a.to_dict() for a in self.articles]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Edition:
        return cls(
            title=data.get("title"),
            articles=tuple(Article.from_dict(a) for a in data.get("articles", ())),
            pages=tuple(data.get("pages", ())),
        )


@dataclass(frozen=True)
class EditionInfo:
    """What identifies an edition and is announced in its intro.

    `title` is the episode's title where its date is shown beside it (feed, pages);
    `full_title` the same with the year, where the title stands alone (the MP3's tag, the intro).
    """

    publication: str
    date: dt.date
    title: str
    pages: tuple[str, ...] = ()  # set only when pages are published as separate episodes
    full_title: str = ""  # "" = the same as title

    def __post_init__(self) -> None:
        _require(bool(self.publication.strip()), "a publication name is required")
        _require(bool(self.title.strip()), "an edition title is required")


@dataclass(frozen=True)
class Voice:
    """One engine voice with its prosody: rate in percent, pitch in Hz (0 = the voice's own)."""

    engine: str
    name: str
    rate: int = 0
    pitch: int = 0

    def __post_init__(self) -> None:
        _require(-50 <= self.rate <= 100, f"rate {self.rate}% is outside -50..100")
        _require(-50 <= self.pitch <= 50, f"pitch {self.pitch}Hz is outside -50..50")


@dataclass(frozen=True)
class Segment:
    """One utterance: `text` is what a reader sees, `spoken` what the engine is given, and for
    an engine that reads syllables (offline), `pinyin`: the syllable of each ideograph of
    `spoken`, in order (`chong2`, tone 5 = neutral), decided by the g2p stage."""

    role: str
    text: str
    spoken: str
    pause_ms: int
    voice: Voice
    boundary: str = "sentence"  # what separates it from the next segment: one of BOUNDARIES
    pinyin: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _require(self.role in ROLES, f"unknown voice role {self.role!r}")
        _require(self.boundary in BOUNDARIES, f"unknown boundary {self.boundary!r}")
        _require(bool(self.spoken.strip()), f"nothing to say for {self.text!r}")
        _require(self.pause_ms >= 0, "a pause cannot be negative")
        _require(isinstance(self.pinyin, tuple), "Segment.pinyin must be a tuple")
        _require(
            all(p[:-1].isascii() and p[:-1].isalpha() and p[-1] in "12345" for p in self.pinyin),
            f"bad syllables {self.pinyin!r}",
        )

    @property
    def utterance(self) -> str:
        """What the engine is given and the clip cache key covers: `spoken`, followed by a tab
        and its syllables when they were decided (a changed reading is a new clip)."""
        return (
            f"{self.spoken}{UTTERANCE_SEPARATOR}{' '.join(self.pinyin)}"
            if self.pinyin
            else self.spoken
        )


@dataclass(frozen=True)
class Chapter:
    """One navigable part of the episode: the intro, an article, the photos, the outro."""

    id: str
    title: str
    segments: tuple[Segment, ...]
    sting: str | None = None  # which sting opens it: one of STING_KINDS
    url: str | None = None
    # (segment index, printed page): where the text of each printed page it reads begins
    page_starts: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        _require(bool(self.segments), f"chapter {self.id!r} has nothing to say")
        _require(self.sting is None or self.sting in STING_KINDS, f"unknown sting {self.sting!r}")


@dataclass(frozen=True)
class Script:
    """The running order of an episode."""

    chapters: tuple[Chapter, ...]
    engine: str
    photos: int = 0  # news photos, all read in one chapter

    @property
    def segments(self) -> tuple[Segment, ...]:
        return tuple(s for c in self.chapters for s in c.segments)

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "photos": self.photos,
            "chapters": [
                {
                    "id": c.id,
                    "title": c.title,
                    "segments": [
                        {"role": s.role, "text": s.text, "spoken": s.spoken, "pause_ms": s.pause_ms}
                        | ({"pinyin": " ".join(s.pinyin)} if s.pinyin else {})
                        for s in c.segments
                    ],
                }
                for c in self.chapters
            ],
        }


@dataclass(frozen=True)
class Clip:
    """A synthesised utterance in the clip cache: mono 16-bit PCM WAV."""

    path: Path
    frames: int
    sample_rate: int

    @property
    def duration_ms(self) -> float:
        return self.frames * 1000.0 / self.sample_rate


@dataclass(frozen=True)
class SegmentTiming:
    """Where one segment is heard in the episode (milliseconds from its start)."""

    chapter_index: int
    segment_index: int
    start_ms: int
    end_ms: int
    role: str
    text: str


@dataclass(frozen=True)
class ChapterTiming:
    """Where one chapter starts and ends in the episode (milliseconds)."""

    id: str
    title: str
    start_ms: int
    end_ms: int
    url: str | None = None


@dataclass(frozen=True)
class MasteredAudio:
    """The finished episode audio and the timing of everything in it."""

    path: Path
    size_bytes: int
    duration_ms: int
    chapters: tuple[ChapterTiming, ...]
    segments: tuple[SegmentTiming, ...]


@dataclass(frozen=True)
class Episode:
    """The feed's record of one built edition (stored as episode.json beside its files)."""

    guid: str
    edition_key: str  # stable folder name: publication slug + date (+ pages)
    date: dt.date
    title: str
    audio_file: str  # paths relative to the output directory
    audio_size: int
    duration_ms: int
    transcript_file: str
    chapters_file: str
    page_file: str
    articles: tuple[str, ...]  # the headlines, in order (not the photos)
    note: str | None = None
    built_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    photos: int = 0  # news photos in the edition (read in one chapter)
    epub_file: str | None = None  # the talking books, unless the config turns them off
    daisy_file: str | None = None

    @property
    def files(self) -> tuple[str, ...]:
        """Every file of this episode that the feed and pages link to."""
        books = tuple(f for f in (self.epub_file, self.daisy_file) if f)
        return (self.audio_file, self.transcript_file, self.chapters_file, self.page_file, *books)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["date"] = self.date.isoformat()
        data["articles"] = list(self.articles)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Episode:
        values = dict(data)
        values["date"] = dt.date.fromisoformat(values["date"])
        values["articles"] = tuple(values.get("articles", ()))
        return cls(**values)
