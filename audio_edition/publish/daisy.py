"""The DAISY 2.02 talking book of an episode, for DAISY players (Victor Reader Stream, Plextalk,
EasyReader, Thorium), zipped: a full-text, full-audio book (`ncc:multimediaType` audioFullText).

```
ncc.html        the navigation centre: h1 class="title" (the edition, opening the intro), an h1
                per article, h2 per subheading, the photos (h1, a sidebar span per photo), the
                outro (h1), printed pages (page-normal spans) and the required metadata
content.html    the whole text; every spoken segment is an element with its id
<chapter>.smil  one per chapter: a par per spoken segment (its text and its clip of the MP3)
episode.mp3     the episode MP3, stored uncompressed
```
Everything is written with lxml (XHTML 1.0 and SMIL 1.0 with their doctypes).
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from audio_edition.publish.book import (
    GENERATOR,
    XHTML_NS,
    XML_LANG,
    BookChapter,
    Sentence,
    TalkingBook,
    chapter_text,
    clock,
    serialize,
    sub,
    write_zip,
    x,
)

XHTML_DOCTYPE = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">'
)
SMIL_DOCTYPE = (
    '<!DOCTYPE smil PUBLIC "-//W3C//DTD SMIL 1.0//EN" "http://www.w3.org/TR/REC-smil/SMIL10.dtd">'
)
FORMAT = "Daisy 2.02"
NCC = "ncc.html"
CONTENT = "content.html"
AUDIO = "episode.mp3"


def write_daisy(book: TalkingBook, path: Path) -> Path:
    """Write `book` as a zipped DAISY 2.02 book at `path` (atomically)."""
    smils = {f"{c.id}.smil": _smil(book, c) for c in book.chapters}
    content = _content(book)
    size = sum(map(len, smils.values())) + len(content) + book.audio.stat().st_size
    ncc = _ncc(book, files=len(smils) + 3, k_bytes=size // 1024)
    files: list[tuple[str, bytes | Path]] = [(NCC, ncc), (CONTENT, content), *smils.items()]
    write_zip(path, [*files, (AUDIO, book.audio)])
    return path


def _head(book: TalkingBook, title: str) -> tuple[etree._Element, etree._Element]:
    """An XHTML 1.0 document's root and head: language, encoding, title and the metadata every
    file of the book carries."""
    lang = book.meta.language
    root = etree.Element(x("html"), {"lang": lang, XML_LANG: lang}, nsmap={None: XHTML_NS})
    head = sub(root, x("head"))
    sub(head, x("meta"), **{"http-equiv": "Content-type", "content": "text/html; charset=utf-8"})
    sub(head, x("title"), title)
    for name, value in (
        ("dc:title", book.meta.title),
        ("dc:identifier", book.meta.guid),
        ("dc:format", FORMAT),
        ("ncc:generator", GENERATOR),
    ):
        sub(head, x("meta"), name=name, content=value)
    return root, head


def _ncc(book: TalkingBook, files: int, k_bytes: int) -> bytes:
    meta = book.meta
    root, head = _head(book, meta.title)
    body = sub(root, x("body"))
    counts = {"h2": 0, "page-normal": 0, "page-special": 0, "sidebar": 0}
    pages = {sentence.id: label for label, _, sentence in book.pages}
    max_page = 0

    def item(tag: str, text: str, smil: str, target: str, **attrs: str) -> None:
        element = sub(body, x(tag), id=f"nav-{target}", **attrs)
        sub(element, x("a"), text, href=f"{smil}#{target}")

    for chapter in book.chapters:
        smil = f"{chapter.id}.smil"
        for block in chapter.blocks:
            first = block.sentences[0]
            if first.id in pages:
                label = pages[first.id]
                kind = "page-normal" if label.isdigit() else "page-special"
                counts[kind] += 1
                max_page = max(max_page, int(label)) if label.isdigit() else max_page
                item("span", label, smil, f"txt-{first.id}", class_=kind)
            if first is chapter.sentences[0]:
                attrs = {"class_": "title"} if chapter is book.chapters[0] else {}
                title = meta.title if attrs else chapter.title
                item("h1", title, smil, f"par-{first.id}", **attrs)
            elif block.tag == "h2" and chapter.kind == "photos":
                counts["sidebar"] += 1
                item("span", first.text, smil, f"par-{first.id}", class_="sidebar")
            elif block.tag == "h2":
                counts["h2"] += 1
                item("h2", first.text, smil, f"par-{first.id}")

    values = [
        ("dc:creator", meta.publication),
        ("dc:language", meta.language),
        ("dc:publisher", meta.publisher),
        ("dc:description", meta.description),
        ("ncc:charset", "utf-8"),
        *(("ncc:narrator", narrator) for narrator in book.narrators),
        ("ncc:multimediaType", "audioFullText"),
        ("ncc:totalTime", clock(book.duration_ms)),
        ("ncc:tocItems", str(len(body))),
        ("ncc:depth", "2" if counts["h2"] else "1"),
        ("ncc:files", str(files)),
        ("ncc:kByteSize", str(k_bytes)),
        ("ncc:pageFront", "0"),
        ("ncc:pageNormal", str(counts["page-normal"])),
        ("ncc:pageSpecial", str(counts["page-special"])),
        ("ncc:producedDate", meta.modified.date().isoformat()),
        ("ncc:sourceDate", meta.date.isoformat()),
        ("ncc:sourcePublisher", meta.publication),
    ]
    if max_page:
        values.append(("ncc:maxPageNormal", str(max_page)))
    if counts["sidebar"]:
        values.append(("ncc:sidebars", str(counts["sidebar"])))
    for name, value in values:
        sub(head, x("meta"), name=name, content=value)
    sub(head, x("meta"), name="dc:date", content=meta.date.isoformat(), scheme="yyyy-mm-dd")
    return serialize(root, XHTML_DOCTYPE)


def _content(book: TalkingBook) -> bytes:
    root, _ = _head(book, book.meta.title)
    body = sub(root, x("body"))
    for chapter in book.chapters:
        chapter_text(sub(body, x("div"), id=chapter.id, class_=chapter.kind), chapter, _page)
    return serialize(root, XHTML_DOCTYPE)


def _page(parent: etree._Element, label: str, id: str) -> None:
    kind = "page-normal" if label.isdigit() else "page-special"
    sub(parent, x("span"), label, id=id, class_=kind)


def _smil(book: TalkingBook, chapter: BookChapter) -> bytes:
    root = etree.Element("smil")
    head = sub(root, "head")
    for name, value in (
        ("dc:format", FORMAT),
        ("dc:title", chapter.title),
        ("dc:identifier", book.meta.guid),
        ("ncc:generator", GENERATOR),
        ("ncc:totalElapsedTime", clock(chapter.begin_ms)),
        ("ncc:timeInThisSmil", clock(chapter.end_ms - chapter.begin_ms)),
    ):
        sub(head, "meta", name=name, content=value)
    sub(sub(head, "layout"), "region", id="txtView")
    seq = sub(sub(root, "body"), "seq", dur=_seconds(chapter.end_ms - chapter.begin_ms))
    for sentence in chapter.sentences:
        _par(seq, sentence)
    return serialize(root, SMIL_DOCTYPE, indent=True)


def _par(seq: etree._Element, sentence: Sentence) -> None:
    par = sub(seq, "par", endsync="last", id=f"par-{sentence.id}")
    sub(par, "text", src=f"{CONTENT}#{sentence.id}", id=f"txt-{sentence.id}")
    sub(
        sub(par, "seq"),
        "audio",
        src=AUDIO,
        id=f"aud-{sentence.id}",
        **{
            "clip-begin": f"npt={_seconds(sentence.clip_begin_ms)}",
            "clip-end": f"npt={_seconds(sentence.clip_end_ms)}",
        },
    )


def _seconds(ms: int) -> str:
    """A SMIL 1.0 timecount in seconds: 62.345s."""
    return f"{ms // 1000}.{ms % 1000:03d}s"
