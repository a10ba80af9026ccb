"""Read articles written as Markdown, for editors who have clean text.

Convention (one file may hold several articles):

    % 红船初心                      <- optional first line: the edition title
    # headline                     <- starts an article
    □本报记者 白丹                  <- optional byline right after the headline; `◎` = commentary
    first paragraph ...            <- paragraphs are separated by blank lines; wrapped lines join
    ## subheading                  <- starts a new section of the article

A byline is the line right after the headline when it is short, holds no sentence punctuation
and starts with `□`, `◎` (a commentary's author), `文/`, `记者`, `本报记者`, `本报通讯员`,
`见习记者`, `特约记者` or `通讯员`. The markers `□` and `◎` are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from audio_edition.errors import InputError
from audio_edition.ingest.layout import join_lines
from audio_edition.model import Article, Edition, Section

TITLE_PREFIX = "% "
BYLINE = re.compile(r"^(?:[□◎]|文/|(?:本报|见习|特约|实习)?(?:记者|通讯员))")
BYLINE_MAX_CHARS = 40  # characters: a longer line after the headline is a paragraph
SENTENCE_MARKS = "，。；：！？,;:!?"  # a byline holds none of these
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass
class _Draft:
    headline: str
    line: int
    byline: str | None = None
    kind: str = "article"
    sections: list[tuple[str | None, list[str], int]] = field(default_factory=list)


def parse_markdown(text: str) -> Edition:
    """Parse Markdown articles into an Edition; InputError naming the line that is wrong."""
    lines = text.split("\n")
    title = None
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    if start < len(lines) and lines[start].startswith(TITLE_PREFIX):
        title = lines[start][len(TITLE_PREFIX) :].strip() or None
        start += 1
    drafts: list[_Draft] = []
    paragraph: list[str] = []

    def end_paragraph() -> None:
        if paragraph:
            drafts[-1].sections[-1][1].append(join_lines(paragraph))
            paragraph.clear()

    for number, raw in enumerate(lines[start:], start=start + 1):
        line = raw.strip()
        heading = HEADING.match(line)
        if heading:
            end_paragraph()
            level, words = len(heading.group(1)), heading.group(2)
            if not words:
                raise InputError(f"line {number}: a heading needs text after the '#'")
            if level == 1:
                drafts.append(_Draft(words, number, sections=[(None, [], number)]))
            elif not drafts:
                raise InputError(f"line {number}: a subheading comes before the first '# headline'")
            else:
                drafts[-1].sections.append((words, [], number))
        elif not line:
            end_paragraph()
        elif not drafts:
            raise InputError(f"line {number}: text before the first '# headline'; add one")
        elif _is_byline(drafts[-1], paragraph, line):
            drafts[-1].byline = " ".join(line.lstrip("□◎").split()) or None
            drafts[-1].kind = "commentary" if line.startswith("◎") else "article"
        else:
            paragraph.append(line)
    if drafts:
        end_paragraph()
    if not drafts:
        raise InputError("no article found: start each article with a '# headline' line")
    return Edition(title=title, articles=tuple(_article(d) for d in drafts))


def _is_byline(draft: _Draft, paragraph: list[str], line: str) -> bool:
    """A byline: the first line after the headline, matching BYLINE, short, not a sentence
    (so that a paragraph opening `记者从市教育局获悉，…` stays a paragraph)."""
    at_top = (
        draft.byline is None
        and not paragraph
        and len(draft.sections) == 1
        and not draft.sections[0][1]
    )
    sentence = any(mark in line for mark in SENTENCE_MARKS)
    return at_top and len(line) <= BYLINE_MAX_CHARS and bool(BYLINE.match(line)) and not sentence


def _article(draft: _Draft) -> Article:
    for heading, paragraphs, number in draft.sections:
        if heading is not None and not paragraphs:
            raise InputError(f"line {number}: subheading {heading!r} has no paragraphs under it")
    sections = tuple(Section(h, tuple(p)) for h, p, _ in draft.sections if p)
    if not sections:
        raise InputError(f"line {draft.line}: article {draft.headline!r} has no paragraphs")
    return Article(kind=draft.kind, headline=draft.headline, byline=draft.byline, sections=sections)
