"""Ingest: read a day's input files (raw e-paper pages, Markdown, JSON) into one Edition."""

from __future__ import annotations

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


def read_edition(paths: Sequence[Path]) -> Edition:
    """Read one or more files, in order, into one Edition titled after the first file, with
    the page parser's warnings, each naming its file."""
    if not paths:
        raise InputError("no input files given; name at least one page")
    editions = [read_file(Path(path)) for path in paths]
    return Edition(
        title=editions[0].title,
        articles=tuple(article for edition in editions for article in edition.articles),
        warnings=tuple(warning for edition in editions for warning in edition.warnings),
    )


def read_file(path: Path) -> Edition:
    """Read one file with the reader its suffix selects; errors and warnings name the file."""
    reader = READERS.get(path.suffix.lower(), parse_page)
    text = read_text(path)
    try:
        edition = reader(text)
    except InputError as e:
        raise InputError(f"{path}: {e}") from None
    warnings = tuple(replace(warning, source=str(path)) for warning in edition.warnings)
    return replace(edition, warnings=warnings)
