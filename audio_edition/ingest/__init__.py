"""Ingest: read a day's input files (raw e-paper pages, Markdown, JSON) into one Edition."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from audio_edition.errors import InputError
from audio_edition.ingest.encoding import MAX_INPUT_BYTES, read_text
from audio_edition.ingest.epaper import parse_page
from audio_edition.ingest.jsonfile import parse_json
from audio_edition.ingest.markdown import parse_markdown
from audio_edition.model import Edition

__all__ = [
    "MAX_INPUT_BYTES",
    "parse_json",
    "parse_markdown",
    "parse_page",
    "read_edition",
    "read_text",
]

READERS: dict[str, Callable[[str], Edition]] = {
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".json": parse_json,
}  # by file suffix (lower case); any other file is a raw e-paper page
# A page number printed on a line of its own (page furniture the parser drops): 第5版, 05版.
PAGE_NUMBER = re.compile(r"^[ \t\u3000]*第?0*(\d{1,3})版[ \t\u3000]*$", re.MULTILINE)


def read_edition(paths: Sequence[Path]) -> Edition:
    """Read one or more files, in order, into one Edition titled after the first file, with
    the page numbers printed on its pages. With several files, each is a printed page: its
    articles get that page (the number printed on it, else its place: 1, 2, ...) unless their
    input names one."""
    if not paths:
        raise InputError("no input files given; name at least one page")
    editions = [read_file(Path(path)) for path in paths]
    several = len(editions) > 1
    return Edition(
        title=editions[0].title,
        articles=tuple(
            replace(article, page=article.page or _page_label(edition, number))
            if several
            else article
            for number, edition in enumerate(editions, start=1)
            for article in edition.articles
        ),
        pages=tuple(page for edition in editions for page in edition.pages),
    )


def _page_label(edition: Edition, number: int) -> str:
    """A page's name for readers: the page number printed on it (第5版), else its place."""
    return edition.pages[0] if edition.pages else str(number)


def read_file(path: Path) -> Edition:
    """Read one file with the reader its suffix selects; errors name the file."""
    reader = READERS.get(path.suffix.lower(), parse_page)
    text = read_text(path)
    try:
        edition = reader(text)
    except InputError as e:
        raise InputError(f"{path}: {e}") from None
    if reader is parse_page and not edition.pages:
        number = PAGE_NUMBER.search(text)
        edition = replace(edition, pages=(f"第{int(number.group(1))}版",) if number else ())
    return edition
