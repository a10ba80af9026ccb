"""Read an edition exported as JSON (a CMS export): the structure `parse --json` prints.

{"title": str|null, "articles": [{"kind", "headline", "byline", "column", "url", "page",
  "sections": [{"heading": str|null, "paragraphs": [str, ...]}]}]}
("page" names the printed page an article is on, e.g. "A03": talking books list the pages.)
"""

from __future__ import annotations

import json
from typing import Any

from audio_edition.errors import InputError
from audio_edition.model import ARTICLE_KINDS, Article, Edition, Section


def parse_json(text: str) -> Edition:
    """Parse and validate an edition's JSON; InputError naming the first bad field."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON at line {e.lineno} column {e.colno}: {e.msg}") from e
    _require(isinstance(data, dict), "the top level", "must be an object with 'articles'")
    title = data.get("title")
    _require(title is None or _text(title), "title", "must be a non-empty string or null")
    articles = data.get("articles")
    _require(isinstance(articles, list) and articles, "articles", "must be a non-empty list")
    return Edition(
        title=title, articles=tuple(_article(a, f"articles[{i}]") for i, a in enumerate(articles))
    )


def _article(data: Any, where: str) -> Article:
    _require(isinstance(data, dict), where, "must be an object")
    kind = data.get("kind", "article")
    _require(kind in ARTICLE_KINDS, f"{where}.kind", f"must be one of {', '.join(ARTICLE_KINDS)}")
    _require(_text(data.get("headline")), f"{where}.headline", "must be a non-empty string")
    for name in ("byline", "column", "url", "page"):
        value = data.get(name)
        _require(
            value is None or _text(value), f"{where}.{name}", "must be a non-empty string or null"
        )
    sections = data.get("sections")
    _require(
        isinstance(sections, list) and sections, f"{where}.sections", "must be a non-empty list"
    )
    return Article(
        kind=kind,
        headline=data["headline"].strip(),
        byline=data.get("byline"),
        column=data.get("column"),
        sections=tuple(_section(s, f"{where}.sections[{i}]") for i, s in enumerate(sections)),
        url=data.get("url"),
        page=data.get("page"),
    )


def _section(data: Any, where: str) -> Section:
    _require(isinstance(data, dict), where, "must be an object")
    heading = data.get("heading")
    _require(
        heading is None or _text(heading), f"{where}.heading", "must be a non-empty string or null"
    )
    paragraphs = data.get("paragraphs")
    _require(
        isinstance(paragraphs, list) and paragraphs,
        f"{where}.paragraphs",
        "must be a non-empty list",
    )
    for i, paragraph in enumerate(paragraphs):
        _require(_text(paragraph), f"{where}.paragraphs[{i}]", "must be a non-empty string")
    return Section(heading=heading, paragraphs=tuple(paragraphs))


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _require(condition: bool, field: str, problem: str) -> None:
    if not condition:
        raise InputError(f"{field} {problem}")
