"""Recover the articles of a raw e-paper page: the text extracted from one printed page.

`page_items` reads the page into titles (T), body blocks (R), photo captions, bylines (B),
authors (A), stray credits (C) and banners (X). Here they become articles: of every way to
read the items as a sequence of units, the one that scores best is chosen (dynamic programming
over the items in printed order; `reading.py` scores the units). Each decision is made per
article:

- an article is `[headline] byline body [headline]` or `[headline] body [headline]` (no byline),
  with its headline before or after it, whatever its neighbours do; a commentary is
  `headline ◎author body` or `body headline ◎author`. A body is blocks in a row, some with a
  subheading between them; a headline is one title or two in a row (a two-line headline split
  by a blank line).
- photos: captions with the titles printed among them, paired by shared wording.
- a title in no article is a column label: it heads the articles after it; before the first
  article, the page label, column and page title (the last of them).

What the parser was unsure of, or could not place, is kept and reported as a ParseWarning.
"""

from __future__ import annotations

import re

from audio_edition.errors import InputError
from audio_edition.ingest.layout import (
    PageLine,
    ends_sentence,
    join_lines,
    paragraph_starts,
    same_column,
)
from audio_edition.ingest.page_items import Item, page_items
from audio_edition.ingest.reading import Reader, Unit, label_like, similarity
from audio_edition.model import Article, Edition, ParseWarning, Section

HEADLINE_STOP = "，。？！：；,.?!:;"
FALLBACK_HEADLINE_CHARS = 16  # characters: a headline made from the text when none is printed
QUOTE_CHARS = 12  # characters of text quoted in a warning
LOW_FIT = 0.2  # a headline sharing less of its wording with its article is reported
LABEL_FIT = 0.3  # a label sharing this much wording with the article it heads is reported
ARTICLES = ("article", "commentary")


def parse_page(text: str) -> Edition:
    """Parse one raw e-paper page into an Edition; InputError if it holds no article."""
    items, inside = _lift_inner_captions(page_items(text))
    units = Reader(items).best()
    warnings: list[ParseWarning] = []
    title, articles = _assemble(items, units, inside, warnings)
    warnings += _close_calls(items, units)
    if not articles:
        raise InputError(
            "no article found: no byline, paragraph text or photo caption was recognised; "
            "check this is a newspaper page's text"
        )
    warnings.sort(key=lambda warning: warning.line)
    return Edition(title=title, articles=tuple(articles), warnings=tuple(warnings))


def _lift_inner_captions(items: list[Item]) -> tuple[list[Item], dict[int, list[Item]]]:
    """Take out photo captions printed inside an article's text (a lone caption between two
    body blocks): the text on both sides becomes one block, the photos are kept by the index
    of that block."""
    out: list[Item] = []
    inside: dict[int, list[Item]] = {}
    i = 0
    while i < len(items):
        item = items[i]
        lone = (
            item.caption
            and out
            and out[-1].kind == "R"
            and not out[-1].caption
            and i + 1 < len(items)
            and items[i + 1].kind == "R"
            and not items[i + 1].caption
        )
        if lone:
            inside.setdefault(len(out) - 1, []).append(item)
            out[-1] = Item("R", out[-1].lines + items[i + 1].lines)
            i += 2
            continue
        out.append(item)
        i += 1
    return out, inside


def _assemble(
    items: list[Item],
    units: list[Unit],
    inside: dict[int, list[Item]],
    warnings: list[ParseWarning],
) -> tuple[str | None, list[Article]]:
    """Articles in printed order with their column labels; the page title; warnings."""
    header: list[str] = []
    column: str | None = None
    started = False
    articles: list[Article] = []

    def label(k: int) -> None:
        nonlocal column
        text = items[k].text
        if not started:
            header.append(text)
            return
        column = text
        if not label_like(text):
            warnings.append(
                ParseWarning(
                    items[k].line, f"title “{text}” fits no article; kept as a column label"
                )
            )

    for unit in units:
        if unit.kind == "banner":
            continue
        if unit.kind == "label":
            label(unit.start)
            continue
        if unit.kind == "stray":
            warnings.append(_stray_warning(items[unit.start]))
            continue
        if not started:
            started = True
            page_title = header[-1] if header else None
            column = header[-2] if len(header) >= 3 else None  # page label, column(s), title
        if unit.kind == "photos":
            paired = dict(unit.pairs)
            for k in range(unit.start, unit.end):
                if items[k].kind == "T" and k not in paired.values():
                    label(k)
                elif items[k].caption:
                    title = items[paired[k]].text if k in paired else None
                    articles.append(_photo(items[k], title, column, warnings))
            continue
        articles.append(_article(items, unit, column, warnings))
        photos = [p for k in unit.body_items for p in inside.get(k, ())]
        photos += [items[k] for k in unit.captions]
        articles += [_photo(photo, None, column, warnings) for photo in photos]
    if not started:
        return (header[-1] if header else None), []
    return page_title, articles


def _close_calls(items: list[Item], units: list[Unit]) -> list[ParseWarning]:
    """Where the reading was decided on little: two articles whose texts meet with only a
    blank line between, in columns the widths could not tell apart; a title not read as the
    headline of the byline right after it; a title as short as a label, read as one, next to
    a one-line headline and sharing words with its article."""
    warnings = []
    for before, after in zip(units, units[1:], strict=False):
        if before.kind in ARTICLES and after.kind in ARTICLES:
            a, b = before.body_items[-1], after.body_items[0]
            if b == a + 1 and same_column(items[a].lines, items[b].lines) is None:
                text = join_lines([ln.text for ln in items[b].lines])
                warnings.append(
                    ParseWarning(
                        items[b].line,
                        f"a new article read to start at “{_quote(text)}”, after the text "
                        "above with only a blank line between (their columns measure alike); "
                        "check where it begins",
                    )
                )
        if before.kind == "label" and after.kind in ARTICLES and after.byline == after.start:
            title = items[before.start].text
            if not label_like(title):  # a headline's place, but the article took another
                headline = " ".join(items[k].text for k in after.headline) or "none"
                warnings.append(
                    ParseWarning(
                        items[before.start].line,
                        f"title “{title}” stands before a byline, yet the article's headline "
                        f"was read as “{headline}”; check which it is, and whether two "
                        "articles run together",
                    )
                )
        for label, article, where in ((before, after, "first"), (after, before, "second")):
            if label.kind != "label" or article.kind not in ARTICLES:
                continue
            beside = label.start + (1 if where == "first" else -1)
            if article.headline != (beside,):
                continue
            title, headline = items[label.start].text, items[beside].text
            text = "".join(ln.text for k in article.body_items for ln in items[k].lines)
            if " " not in headline and similarity(title, text) >= LABEL_FIT:
                warnings.append(
                    ParseWarning(
                        items[label.start].line,
                        f"“{title}” read as a page or column label; it may be the {where} "
                        f"line of the headline “{headline}”",
                    )
                )
    return warnings


def _article(
    items: list[Item], unit: Unit, column: str | None, warnings: list[ParseWarning]
) -> Article:
    sections: list[Section] = []
    for heading, section in unit.blocks:
        lines = [line for k in section for line in items[k].lines]
        paragraphs = _paragraphs(lines, warnings)
        sections.append(Section(items[heading].text if heading is not None else None, paragraphs))
    text = "".join(p for s in sections for p in s.paragraphs)
    first_line = items[unit.blocks[0][1][0]].line
    if unit.headline:
        headline = " ".join(items[k].text for k in unit.headline)
        if unit.fit < LOW_FIT:
            warnings.append(
                ParseWarning(
                    items[unit.headline[0]].line,
                    f"headline “{headline}” shares few words with the article under it "
                    f"(line {first_line}, “{_quote(text)}”); check they belong together",
                )
            )
    else:
        headline = _made_up_headline(text)
        warnings.append(
            ParseWarning(
                first_line,
                f"no headline found for the article starting “{_quote(text)}”; "
                f"its opening words “{headline}” stand in",
            )
        )
    byline = (items[unit.byline].text or None) if unit.byline is not None else None
    return Article(unit.kind, headline, byline, column, tuple(sections))


def _photo(
    caption: Item, title: str | None, column: str | None, warnings: list[ParseWarning]
) -> Article:
    text = join_lines([ln.text for ln in caption.lines])  # one paragraph, whatever its widths
    if title is not None:
        headline = title
    else:
        headline = _made_up_headline(text)
        warnings.append(
            ParseWarning(
                caption.line,
                f"no title found for the photo caption “{_quote(text)}”; "
                f"its opening words “{headline}” stand in",
            )
        )
    return Article("photo", headline, caption.credit, column, (Section(None, (text,)),))


def _paragraphs(lines: list[PageLine], warnings: list[ParseWarning]) -> tuple[str, ...]:
    """A block's paragraphs; a break after a line with no sentence end is reported."""
    starts = paragraph_starts(lines)
    bounds = [*starts, len(lines)]
    paragraphs = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        paragraph = join_lines([ln.text for ln in lines[a:b]])
        last = lines[b - 1]
        if b < len(lines) and not ends_sentence(last.text) and not lines[b].indented:
            warnings.append(
                ParseWarning(
                    last.number,
                    f"paragraph break after “…{paragraph[-QUOTE_CHARS:]}” decided by line "
                    "length alone (no full stop); check it",
                )
            )
        if paragraph:
            paragraphs.append(paragraph)
    return tuple(paragraphs)


def _stray_warning(item: Item) -> ParseWarning:
    what = {"B": "byline", "A": "author", "C": "photo credit"}[item.kind]
    return ParseWarning(
        item.line, f"{what} “{item.text}” belongs to no article text; left out of the edition"
    )


def _quote(text: str) -> str:
    return text[:QUOTE_CHARS] + ("…" if len(text) > QUOTE_CHARS else "")


def _made_up_headline(text: str) -> str:
    """For an article printed without a headline: its opening words."""
    clause = re.split(f"[{HEADLINE_STOP}]", text, maxsplit=1)[0]
    return clause[:FALLBACK_HEADLINE_CHARS] or text[:FALLBACK_HEADLINE_CHARS]
