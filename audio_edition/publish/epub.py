"""The EPUB 3.3 talking book of an episode: text and audio in sync, sentence by sentence.

```
mimetype                      stored first, as EPUB requires
META-INF/container.xml        points at the package document
EPUB/package.opf              metadata (accessibility, Media Overlays durations), manifest, spine
EPUB/nav.xhtml                table of contents (article -> subheadings), landmarks, page list
EPUB/<chapter>.xhtml          one content document per chapter; every spoken segment has an id
EPUB/<chapter>.smil           its Media Overlay: one par per segment, the clip of the episode MP3
EPUB/book.css, EPUB/cover.*   the style sheet (with the active-sentence highlight) and cover
EPUB/audio/episode.mp3        the episode MP3, stored uncompressed
```
Everything is written with lxml; the zip is written atomically (book.write_zip).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lxml import etree

from audio_edition.publish.book import (
    XHTML_NS,
    XML_LANG,
    BookChapter,
    TalkingBook,
    chapter_text,
    clock,
    page_id,
    serialize,
    sub,
    write_zip,
    x,
)

OPF_NS = "http://www.idpf.org/2007/opf"
DC_NS = "http://purl.org/dc/elements/1.1/"
OPS_NS = "http://www.idpf.org/2007/ops"
SMIL_NS = "http://www.w3.org/ns/SMIL"
CONTAINER_NS = "urn:oasis:names:tc:opendocument:xmlns:container"
EPUB_TYPE = f"{{{OPS_NS}}}type"
MIMETYPE = b"application/epub+zip"
PACKAGE = "EPUB/package.opf"
AUDIO = "audio/episode.mp3"  # relative to EPUB/
STYLESHEET = "book.css"
ACTIVE_CLASS = "-epub-media-overlay-active"  # the class reading systems put on the sentence read
PLAYING_CLASS = "-epub-media-overlay-playing"  # on the document element while audio plays
CONFORMS_TO = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"
DOCTYPE = "<!DOCTYPE html>"
SECTION_TYPES = {  # chapter kind -> (epub:type, ARIA role)
    "intro": ("introduction", "doc-introduction"),
    "outro": ("conclusion", "doc-conclusion"),
    "article": ("chapter", "doc-chapter"),
    "photos": ("chapter", "doc-chapter"),
}
CSS = f"""\
body {{ font-family: serif; line-height: 1.8; margin: 0 4%; }}
h1 {{ font-size: 1.5em; line-height: 1.4; margin: 1em 0 0.5em; }}
h2 {{ font-size: 1.2em; line-height: 1.4; margin: 1.2em 0 0.4em; }}
p {{ margin: 0 0 0.8em; text-indent: 2em; }}
p.byline, p.intro, p.outro {{ text-indent: 0; }}
p.byline {{ font-style: italic; }}
.{ACTIVE_CLASS} {{ background-color: #ffe27a; color: #000; }}
"""
SUMMARY = (
    "本书是《{title}》的有声读物：全部文字与合成语音朗读逐句同步，朗读时高亮当前句子，"
    "可以只听、只读或边听边读。目录按文章和小标题导航{pages}。不含闪烁、动画等危险内容。"
)


def write_epub(book: TalkingBook, path: Path) -> Path:
    """Write `book` as an EPUB 3.3 file at `path` (atomically)."""
    files: list[tuple[str, bytes | Path]] = [
        ("mimetype", MIMETYPE),
        ("META-INF/container.xml", _container()),
        (PACKAGE, _package(book)),
        ("EPUB/nav.xhtml", _nav(book)),
        (f"EPUB/{STYLESHEET}", CSS.encode()),
    ]
    if book.meta.cover:
        image, media_type = book.meta.cover
        files.append((f"EPUB/{_cover_name(media_type)}", image))
    for chapter in book.chapters:
        files.append((f"EPUB/{chapter.id}.xhtml", _content(book, chapter)))
        files.append((f"EPUB/{chapter.id}.smil", _overlay(chapter)))
    files.append((f"EPUB/{AUDIO}", book.audio))
    write_zip(path, files)
    return path


def _container() -> bytes:
    root = etree.Element(f"{{{CONTAINER_NS}}}container", version="1.0", nsmap={None: CONTAINER_NS})
    rootfiles = sub(root, f"{{{CONTAINER_NS}}}rootfiles")
    sub(
        rootfiles,
        f"{{{CONTAINER_NS}}}rootfile",
        **{"full-path": PACKAGE, "media-type": "application/oebps-package+xml"},
    )
    return serialize(root, indent=True)


def _package(book: TalkingBook) -> bytes:
    meta = book.meta
    root = etree.Element(
        f"{{{OPF_NS}}}package",
        {"version": "3.0", "unique-identifier": "uid", XML_LANG: meta.language},
        nsmap={None: OPF_NS, "dc": DC_NS},
    )
    metadata = sub(root, f"{{{OPF_NS}}}metadata")

    def dc(name: str, text: str, **attrs: str) -> None:
        sub(metadata, f"{{{DC_NS}}}{name}", text, **attrs)

    def prop(name: str, text: str, **attrs: str) -> None:
        sub(metadata, f"{{{OPF_NS}}}meta", text, property=name, **attrs)

    dc("identifier", f"urn:uuid:{meta.guid}", id="uid")
    dc("title", meta.title)
    dc("language", meta.language)
    dc("creator", meta.publication)
    dc("publisher", meta.publisher)
    dc("date", meta.date.isoformat())
    dc("description", meta.description)
    if book.pages:  # where the page break markers come from: the printed edition
        dc("source", f"{meta.publication} {meta.date.isoformat()}")
    prop("dcterms:modified", meta.modified.strftime("%Y-%m-%dT%H:%M:%SZ"))
    prop("media:duration", clock(book.duration_ms))
    for chapter in book.chapters:
        prop(
            "media:duration", clock(chapter.end_ms - chapter.begin_ms), refines=f"#mo-{chapter.id}"
        )
    for narrator in book.narrators:
        prop("media:narrator", narrator)
    prop("media:active-class", ACTIVE_CLASS)
    prop("media:playback-active-class", PLAYING_CLASS)
    _accessibility(book, prop)

    manifest = sub(root, f"{{{OPF_NS}}}manifest")

    def item(id: str, href: str, media_type: str, **attrs: str) -> None:
        sub(manifest, f"{{{OPF_NS}}}item", id=id, href=href, **{"media-type": media_type}, **attrs)

    item("nav", "nav.xhtml", "application/xhtml+xml", properties="nav")
    item("css", STYLESHEET, "text/css")
    if meta.cover:
        item("cover", _cover_name(meta.cover[1]), meta.cover[1], properties="cover-image")
    item("audio", AUDIO, "audio/mpeg")
    for chapter in book.chapters:
        item(
            f"c-{chapter.id}",
            f"{chapter.id}.xhtml",
            "application/xhtml+xml",
            **{"media-overlay": f"mo-{chapter.id}"},
        )
        item(f"mo-{chapter.id}", f"{chapter.id}.smil", "application/smil+xml")
    spine = sub(root, f"{{{OPF_NS}}}spine")
    sub(spine, f"{{{OPF_NS}}}itemref", idref="nav", linear="no")  # the landmarks point at it
    for chapter in book.chapters:
        sub(spine, f"{{{OPF_NS}}}itemref", idref=f"c-{chapter.id}")
    return serialize(root, indent=True)


def _accessibility(book: TalkingBook, prop: Callable[..., None]) -> None:
    """EPUB Accessibility 1.1 metadata (schema.org accessibility properties)."""
    for mode in ("textual", "auditory"):
        prop("schema:accessMode", mode)
    for sufficient in ("textual", "auditory", "textual,auditory"):
        prop("schema:accessModeSufficient", sufficient)
    features = [
        "synchronizedAudioText",
        "structuralNavigation",
        "tableOfContents",
        "readingOrder",
        "displayTransformability",
    ]
    if book.pages:
        features += ["pageNavigation", "pageBreakMarkers"]
    for feature in features:
        prop("schema:accessibilityFeature", feature)
    prop("schema:accessibilityHazard", "none")
    pages = "，版面列表可跳到各版" if book.pages else ""
    prop("schema:accessibilitySummary", SUMMARY.format(title=book.meta.title, pages=pages))
    prop("dcterms:conformsTo", CONFORMS_TO)
    prop("a11y:certifiedBy", book.meta.publisher)


def _html(book: TalkingBook, title: str) -> tuple[etree._Element, etree._Element]:
    """An XHTML content document's root and its main element (everything is inside that
    landmark), with its language, title and style sheet."""
    lang = book.meta.language
    root = etree.Element(
        x("html"), {"lang": lang, XML_LANG: lang}, nsmap={None: XHTML_NS, "epub": OPS_NS}
    )
    head = sub(root, x("head"))
    sub(head, x("meta"), charset="utf-8")
    sub(head, x("title"), title)
    sub(head, x("link"), rel="stylesheet", type="text/css", href=STYLESHEET)
    return root, sub(sub(root, x("body")), x("main"))


def _content(book: TalkingBook, chapter: BookChapter) -> bytes:
    root, main = _html(book, chapter.title)
    epub_type, role = SECTION_TYPES[chapter.kind]
    section = sub(main, x("section"), id=chapter.id, role=role, **{EPUB_TYPE: epub_type})
    chapter_text(section, chapter, _page_break)
    return serialize(root, DOCTYPE)


def _page_break(parent: etree._Element, label: str, id: str) -> None:
    sub(
        parent,
        x("span"),
        id=id,
        role="doc-pagebreak",
        **{EPUB_TYPE: "pagebreak", "aria-label": f"第{label}版"},
    )


def _overlay(chapter: BookChapter) -> bytes:
    root = etree.Element(f"{{{SMIL_NS}}}smil", version="3.0", nsmap={None: SMIL_NS, "epub": OPS_NS})
    body = sub(root, f"{{{SMIL_NS}}}body")
    document = f"{chapter.id}.xhtml"
    for sentence in chapter.sentences:
        par = sub(body, f"{{{SMIL_NS}}}par", id=f"par-{sentence.id}")
        sub(par, f"{{{SMIL_NS}}}text", src=f"{document}#{sentence.id}")
        sub(
            par,
            f"{{{SMIL_NS}}}audio",
            src=AUDIO,
            clipBegin=clock(sentence.clip_begin_ms),
            clipEnd=clock(sentence.clip_end_ms),
        )
    return serialize(root, indent=True)


def _nav(book: TalkingBook) -> bytes:
    root, main = _html(book, "目录")
    toc = sub(main, x("nav"), id="toc", role="doc-toc", **{EPUB_TYPE: "toc"})
    sub(toc, x("h1"), "目录")
    entries = sub(toc, x("ol"))
    for chapter in book.chapters:
        entry = sub(entries, x("li"))
        sub(entry, x("a"), chapter.title, href=f"{chapter.id}.xhtml")
        subheadings = [b.sentences[0] for b in chapter.blocks if b.tag == "h2"]
        if subheadings:
            inner = sub(entry, x("ol"))
            for sentence in subheadings:
                link = sub(inner, x("li"))
                sub(link, x("a"), sentence.text, href=f"{chapter.id}.xhtml#{sentence.id}")

    landmarks = sub(main, x("nav"), hidden="hidden", **{EPUB_TYPE: "landmarks"})
    sub(landmarks, x("h2"), "导航")
    marks = sub(landmarks, x("ol"))
    first = next((c for c in book.chapters if c.kind in ("article", "photos")), book.chapters[0])
    for epub_type, href, label in (
        ("toc", "nav.xhtml#toc", "目录"),
        ("bodymatter", f"{first.id}.xhtml", "正文"),
    ):
        mark = sub(marks, x("li"))
        sub(mark, x("a"), label, href=href, **{EPUB_TYPE: epub_type})

    if book.pages:
        page_list = sub(main, x("nav"), hidden="hidden", **{EPUB_TYPE: "page-list"})
        sub(page_list, x("h2"), "版面")
        pages = sub(page_list, x("ol"))
        for label, chapter, sentence in book.pages:
            page = sub(pages, x("li"))
            sub(page, x("a"), label, href=f"{chapter.id}.xhtml#{page_id(sentence)}")
    return serialize(root, DOCTYPE)


def _cover_name(media_type: str) -> str:
    return "cover.png" if media_type == "image/png" else "cover.jpg"
