"""What the two talking books (epub.py, daisy.py) share: the edition laid out as a reader sees it,
every spoken segment with its audio clip, and the pieces both write (XHTML text, clocks, zip).

A chapter is a list of blocks: the headline (h1), the byline, subheadings (h2), paragraphs of
sentences, and for the photos one h2 per photo title. Each spoken segment gets an id unique in the
book (`a03-7`: chapter a03, seventh segment) and a clip of the episode MP3. Clips tile the audio:
a segment's clip runs from its first sample to the next segment's first sample, so it holds the
pause after it, and a chapter's first clip starts at the chapter (its sting). Reading systems seek
between clips that do not touch (Readium, Thorium), which would drop every pause and sting.
"""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from audio_edition.fsutil import temp_sibling
from audio_edition.model import Chapter, ChapterTiming, MasteredAudio, Script, SegmentTiming

XHTML_NS = "http://www.w3.org/1999/xhtml"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
GENERATOR = "audio-edition"
PARAGRAPH_ENDS = ("paragraph", "section", "chapter")  # boundaries that close a paragraph
HEADING_TAGS = {"headline": "h1", "heading": "h2"}  # roles spoken as headings
STORED = (".mp3", ".png", ".jpg")  # compressed already: zipped without deflating


PageBreak = Callable[[etree._Element, str, str], None]  # (parent, page label, marker id)


@dataclass(frozen=True)
class BookMeta:
    """What a talking book says about itself."""

    guid: str  # the episode's guid: the books' identifier
    title: str
    publication: str
    publisher: str
    language: str  # as HTML spells it: zh-CN
    date: dt.date
    modified: dt.datetime
    description: str
    cover: tuple[bytes, str] | None = None  # (image, MIME type)


@dataclass(frozen=True)
class Sentence:
    """One spoken segment: its id in the book, its text, and its clip of the episode audio."""

    id: str
    text: str
    clip_begin_ms: int
    clip_end_ms: int
    page: str | None = None  # a printed page starts here (first time the book reaches it)


@dataclass(frozen=True)
class Block:
    """A heading or paragraph of a chapter: `tag` h1, h2 or p; `role` the script's voice role."""

    tag: str
    role: str
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True)
class BookChapter:
    """One chapter of the episode as a content document."""

    id: str
    title: str
    kind: str  # intro, article, photos or outro
    blocks: tuple[Block, ...]
    begin_ms: int
    end_ms: int

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        return tuple(s for b in self.blocks for s in b.sentences)

    @property
    def has_headline(self) -> bool:
        return bool(self.blocks) and self.blocks[0].tag == "h1"


@dataclass(frozen=True)
class TalkingBook:
    """An episode as a talking book: its chapters, the MP3 they play and who reads them."""

    meta: BookMeta
    chapters: tuple[BookChapter, ...]
    audio: Path
    duration_ms: int
    narrators: tuple[str, ...]

    @property
    def pages(self) -> tuple[tuple[str, BookChapter, Sentence], ...]:
        """(label, chapter, first sentence) of every printed page, in reading order."""
        return tuple((s.page, c, s) for c in self.chapters for s in c.sentences if s.page)


def talking_book(script: Script, audio: MasteredAudio, meta: BookMeta) -> TalkingBook:
    """Lay out `script` as mastered in `audio` (its timings name the script's segments)."""
    timings: dict[int, list[SegmentTiming]] = {}
    for timing in audio.segments:
        timings.setdefault(timing.chapter_index, []).append(timing)
    seen_pages: set[str] = set()
    chapters = []
    for index, (chapter, span) in enumerate(zip(script.chapters, audio.chapters, strict=True)):
        spans = sorted(timings[index], key=lambda t: t.segment_index)
        begins = [span.start_ms] + [t.start_ms for t in spans[1:]]
        ends = [t.start_ms for t in spans[1:]] + [span.end_ms]
        starts = {number: page for number, page in chapter.page_starts if page not in seen_pages}
        seen_pages.update(starts.values())
        sentences = [
            Sentence(f"{chapter.id}-{number + 1}", segment.text, begin, end, starts.get(number))
            for number, (segment, begin, end) in enumerate(
                zip(chapter.segments, begins, ends, strict=True)
            )
        ]
        chapters.append(_chapter(chapter, sentences, span))
    narrators = tuple(sorted({s.voice.name for s in script.segments}))
    return TalkingBook(meta, tuple(chapters), audio.path, audio.duration_ms, narrators)


def _chapter(chapter: Chapter, sentences: list[Sentence], span: ChapterTiming) -> BookChapter:
    """Group a chapter's sentences into headings and paragraphs by role and boundary."""
    roles = {s.role for s in chapter.segments}
    kind = next((k for k in ("intro", "outro") if k in roles), "article")
    if "caption" in roles:
        kind = "photos"
    blocks: list[Block] = []
    paragraph: list[Sentence] = []  # the open paragraph's sentences
    previous = None

    def close(role: str) -> None:
        if paragraph:
            blocks.append(Block("p", role, tuple(paragraph)))
            paragraph.clear()

    for segment, sentence in zip(chapter.segments, sentences, strict=True):
        photo_title = segment.role == "caption" and (
            previous is None or previous.role == "headline" or previous.boundary == "section"
        )
        tag = "h2" if photo_title else HEADING_TAGS.get(segment.role, "p")
        if tag != "p":
            close(previous.role if previous else segment.role)
            blocks.append(Block(tag, segment.role, (sentence,)))
        else:
            paragraph.append(sentence)
            if segment.boundary in PARAGRAPH_ENDS or segment.role == "byline":
                close(segment.role)
        previous = segment
    close(chapter.segments[-1].role)  # segments made without boundaries leave one open
    return BookChapter(chapter.id, chapter.title, kind, tuple(blocks), span.start_ms, span.end_ms)


def clock(ms: int) -> str:
    """A SMIL full clock value, as EPUB Media Overlays and DAISY 2.02 read it: 00:01:02.345."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def x(tag: str) -> str:
    """An element name in the XHTML namespace."""
    return f"{{{XHTML_NS}}}{tag}"


def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    """Append a child element with attributes (a trailing _ in a name is dropped: class_)."""
    child = etree.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    child.text = text
    return child


def chapter_text(parent: etree._Element, chapter: BookChapter, page_break: PageBreak) -> None:
    """Write `chapter` into `parent` as XHTML: a heading per heading block (the chapter's
    title first when nothing spoken heads it) and a paragraph of sentence spans per paragraph;
    every spoken segment is an element with its id. Where a printed page starts, `page_break`
    adds the format's marker (id `page-<sentence id>`) before the block."""
    if not chapter.has_headline:
        sub(parent, x("h1"), chapter.title)
    for block in chapter.blocks:
        for sentence in block.sentences:
            if sentence.page:
                page_break(parent, sentence.page, page_id(sentence))
        if block.tag != "p":
            (sentence,) = block.sentences
            sub(parent, x(block.tag), sentence.text, id=sentence.id, class_=block.role)
            continue
        paragraph = sub(parent, x("p"), class_=block.role)
        for sentence in block.sentences:
            sub(paragraph, x("span"), sentence.text, id=sentence.id)


def page_id(sentence: Sentence) -> str:
    """The id of the marker of the printed page that starts with `sentence`."""
    return f"page-{sentence.id}"


def serialize(root: etree._Element, doctype: str | None = None, indent: bool = False) -> bytes:
    """An XML document as UTF-8 bytes with its declaration (and doctype). Only documents
    without running text are indented: a line break between two sentence spans would show as
    a space in Chinese text."""
    return etree.tostring(
        root, xml_declaration=True, encoding="utf-8", pretty_print=indent, doctype=doctype
    )


def write_zip(path: Path, files: Iterable[tuple[str, bytes | Path]]) -> None:
    """Write a zip atomically (a temporary sibling renamed over `path`): members in the order
    given, already-compressed media and `mimetype` stored, the rest deflated."""
    temp = temp_sibling(path)
    try:
        with zipfile.ZipFile(temp, "w") as archive:
            for name, content in files:
                stored = name == "mimetype" or name.endswith(STORED)
                method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                if isinstance(content, Path):
                    archive.write(content, name, compress_type=method)
                else:
                    archive.writestr(name, content, compress_type=method)
        with open(temp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
