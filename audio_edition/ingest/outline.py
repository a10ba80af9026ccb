"""A readable outline of an Edition, for an editor to check a parse at a glance."""

from __future__ import annotations

from audio_edition.model import Edition

PREVIEW_CHARS = 16  # characters of each paragraph shown


def outline(edition: Edition) -> list[str]:
    """Lines: per article its kind, headline, column, byline and paragraph count; per section
    its heading; per paragraph its number, length and opening characters; then what the page
    parser was unsure of, each where to look (file and line)."""
    count = len(edition.articles)
    head = f"{edition.title or '(no title)'} — {count} article{'s' * (count != 1)}"
    if edition.warnings:
        head += f", {_warnings(len(edition.warnings))} (listed at the end)"
    lines = [head]
    for number, article in enumerate(edition.articles, start=1):
        lines.append("")
        lines.append(f"{number}. [{article.kind}] {article.headline}")
        count = len(article.paragraphs)
        lines.append(
            f"   column: {article.column or '-'}   byline: {article.byline or '-'}   "
            f"{count} paragraph{'s' * (count != 1)}"
        )
        paragraph = 0
        for section in article.sections:
            if section.heading:
                lines.append(f"   ## {section.heading}")
            for text in section.paragraphs:
                paragraph += 1
                more = "…" if len(text) > PREVIEW_CHARS else ""
                lines.append(f"   ¶{paragraph} ({len(text)} chars) {text[:PREVIEW_CHARS]}{more}")
    if edition.warnings:
        lines += ["", f"{_warnings(len(edition.warnings))}: check these spots before publishing"]
        lines += [f"  {warning}" for warning in edition.warnings]
    return lines


def _warnings(count: int) -> str:
    return f"{count} warning{'s' * (count != 1)}"
