"""Recover the articles of a raw e-paper page: the text extracted from one printed page.

`page_items` reads the page into titles, body blocks, bylines, authors and photo captions.
Here they become articles, under both layouts this newspaper uses: headlines printed after
their article's body, or before its byline. The layout whose headlines share more words with
their bodies, with fewer made-up headlines and fewer headline-like titles left over, wins.
Titles no article claims are column labels (they head the articles after them) or, before the
first article, the page label, column and page title (the last of them).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from audio_edition.errors import InputError
from audio_edition.ingest.layout import PageLine, join_lines, split_paragraphs
from audio_edition.ingest.page_items import Item, page_items
from audio_edition.model import Article, Edition, Section

HEADLINE_STOP = "，。？！：；,.?!:;"
FALLBACK_HEADLINE_CHARS = 16  # characters: a headline made from the text when none is printed
PAIRING_EXHAUSTIVE_MAX = 6  # photos: try every title-caption pairing up to this many, else greedy
UNMATCHED_PENALTY = 1.0  # score lost per made-up headline, and per headline left unused
LABEL_MAX_CHARS = 6  # characters: a page or column label is no longer
CHAR_WEIGHT = 0.1  # similarity: weight of shared characters beside shared character pairs
QUOTES = "“”‘’《》「」"


@dataclass
class Draft:
    """An article being assembled from items."""

    kind: str
    start: int  # index of its first item, for page order and column labels
    blocks: list[tuple[str | None, list[PageLine]]]  # (subheading, its body lines)
    headline: str | None = None
    byline: str | None = None

    def text(self) -> str:
        return "".join(join_lines([ln.text for ln in lines]) for _, lines in self.blocks)


def parse_page(text: str) -> Edition:
    """Parse one raw e-paper page into an Edition; InputError if it holds no article."""
    items = page_items(text)
    candidates = [_assemble(items, headline_first=first) for first in (False, True)]
    best = max(candidates, key=lambda c: c[0])  # max keeps the first (trailing) on a tie
    _, drafts, claimed = best
    articles, title = _finish(items, drafts, claimed)
    if not articles:
        raise InputError(
            "no article found: no byline, paragraph text or photo caption was recognised; "
            "check this is a newspaper page's text"
        )
    return Edition(title=title, articles=tuple(articles))


def _assemble(items: list[Item], headline_first: bool) -> tuple[float, list[Draft], set[int]]:
    """Group items into article drafts under one layout; score how well headlines fit."""
    claimed: set[int] = set()
    drafts = _photos(items, claimed)
    drafts += _commentaries(items, claimed, headline_first)
    drafts += _bylined(items, claimed, headline_first)
    drafts += _unsigned(items, claimed, headline_first)
    score = 0.0
    for draft in drafts:
        if draft.headline is None:
            score -= UNMATCHED_PENALTY
        else:
            score += similarity(draft.headline, draft.text())
    for k, item in enumerate(items):  # a title left over must look like a label
        if item.kind == "T" and k not in claimed and not _label_like(item.text):
            score -= UNMATCHED_PENALTY
    return score, sorted(drafts, key=lambda d: d.start), claimed


def _label_like(text: str) -> bool:
    """Page and column labels are a few characters, without the space of a headline."""
    return len(text) <= LABEL_MAX_CHARS and " " not in text


def _free(items: list[Item], claimed: set[int], i: int, kind: str) -> bool:
    return 0 <= i < len(items) and i not in claimed and items[i].kind == kind


def _photos(items: list[Item], claimed: set[int]) -> list[Draft]:
    """Photo captions, each paired with the photo title (gathered nearby) that fits it best."""
    drafts: list[Draft] = []
    i = 0
    while i < len(items):
        if not items[i].caption:
            i += 1
            continue
        in_text = i > 0 and items[i - 1].kind == "R"  # photos set inside an article's text
        captions: list[int] = []
        titles: list[int] = []
        while i < len(items) and (items[i].caption or items[i].kind in ("T", "C")):
            if items[i].caption:
                captions.append(i)
            elif items[i].kind == "T" and not in_text:  # its titles are the article's own
                titles.append(i)
            i += 1
        texts = {c: join_lines([ln.text for ln in items[c].lines]) for c in captions}
        pairs = _best_pairing([items[t].text for t in titles], [texts[c] for c in captions])
        for k, c in enumerate(captions):
            claimed.add(c)
            draft = Draft("photo", c, [(None, items[c].lines)], byline=items[c].credit)
            if k in pairs:
                draft.headline = items[titles[pairs[k]]].text
                claimed.add(titles[pairs[k]])
            drafts.append(draft)
        claimed.update(j for j in range(captions[0], i) if items[j].kind == "C")
    return drafts


def _best_pairing(titles: Sequence[str], texts: Sequence[str]) -> dict[int, int]:
    """Assign titles to texts (text index -> title index) maximising shared words."""
    n = min(len(titles), len(texts))
    scores = {
        (t, s): similarity(titles[t], texts[s])
        for t in range(len(titles))
        for s in range(len(texts))
    }
    if max(len(titles), len(texts)) > PAIRING_EXHAUSTIVE_MAX:
        pairs: dict[int, int] = {}
        for (t, s), _ in sorted(scores.items(), key=lambda kv: -kv[1]):
            if s not in pairs and t not in pairs.values():
                pairs[s] = t
        return pairs
    best: tuple[float, dict[int, int]] = (-1.0, {})
    for chosen in itertools.permutations(range(len(titles)), n):
        for slots in itertools.combinations(range(len(texts)), n):
            score = sum(scores[t, s] for t, s in zip(chosen, slots, strict=True))
            if score > best[0]:
                best = (score, dict(zip(slots, chosen, strict=True)))
    return best[1]


def _commentaries(items: list[Item], claimed: set[int], headline_first: bool) -> list[Draft]:
    """A commentary: its headline right before the `◎` author; its body before or after."""
    drafts: list[Draft] = []
    for a, item in enumerate(items):
        if item.kind != "A" or a in claimed:
            continue
        claimed.add(a)
        h = a - 1 if _free(items, claimed, a - 1, "T") else None
        if headline_first:
            blocks, _ = _body_after(items, claimed, a + 1)
            start = a if h is None else h
        else:
            body_at = (a if h is None else h) - 1
            blocks = []
            signed = body_at > 0 and items[body_at - 1].kind == "B"  # a byline's body, not this
            if _free(items, claimed, body_at, "R") and not items[body_at].caption and not signed:
                blocks = [(None, items[body_at].lines)]
                claimed.add(body_at)
            start = body_at
        if h is not None:
            claimed.add(h)
        if blocks:
            draft = Draft("commentary", start, blocks, byline=item.text or None)
            draft.headline = items[h].text if h is not None else None
            drafts.append(draft)
    return drafts


def _bylined(items: list[Item], claimed: set[int], headline_first: bool) -> list[Draft]:
    """Articles under a `□` byline: headline before the byline, or right after the body."""
    drafts: list[Draft] = []
    for b, item in enumerate(items):
        if item.kind != "B" or b in claimed:
            continue
        claimed.add(b)
        blocks, end = _body_after(items, claimed, b + 1)
        if not blocks:
            continue
        draft = Draft("article", b, blocks, byline=item.text or None)
        h = b - 1 if headline_first else end
        if _free(items, claimed, h, "T"):
            claimed.add(h)
            draft.headline = items[h].text
            draft.start = min(b, h)
        drafts.append(draft)
    return drafts


def _unsigned(items: list[Item], claimed: set[int], headline_first: bool) -> list[Draft]:
    """Body blocks no byline, author or credit claimed: articles printed without a byline."""
    drafts: list[Draft] = []
    for r in range(len(items)):
        if not _free(items, claimed, r, "R"):
            continue
        before = r - 1 if headline_first and _free(items, claimed, r - 1, "T") else None
        blocks, end = _body_after(items, claimed, r)
        draft = Draft("article", r, blocks)
        h = before if headline_first else end
        if h is not None and _free(items, claimed, h, "T"):
            claimed.add(h)
            draft.headline = items[h].text
            draft.start = min(r, h)
        drafts.append(draft)
    return drafts


def _body_after(
    items: list[Item], claimed: set[int], i: int
) -> tuple[list[tuple[str | None, list[PageLine]]], int]:
    """The body starting at item i: a block, then (subheading, block) pairs; claims them.

    A photo caption printed inside the body (already claimed as a photo) is stepped over: the
    text on both sides of it is one block. Returns the blocks and the index after them (and
    after any captions that follow them).
    """
    blocks: list[tuple[str | None, list[PageLine]]] = []
    if not _free(items, claimed, i, "R"):  # (captions are claimed before bodies)
        return blocks, i
    blocks.append((None, list(items[i].lines)))
    claimed.add(i)
    i += 1
    while True:
        if _inside_caption(items, i) and _free(items, claimed, i + 1, "R"):
            blocks[-1][1].extend(items[i + 1].lines)
        elif _free(items, claimed, i, "T") and _free(items, claimed, i + 1, "R"):
            blocks.append((items[i].text, list(items[i + 1].lines)))
            claimed.add(i)
        else:
            while 0 <= i < len(items) and items[i].caption:  # photos set after the text
                i += 1
            return blocks, i
        claimed.add(i + 1)
        i += 2


def _inside_caption(items: list[Item], i: int) -> bool:
    """A caption between two blocks of body text (not among other photos' captions)."""
    return (
        0 <= i < len(items)
        and items[i].caption
        and not (i + 1 < len(items) and items[i + 1].caption)
    )


def _finish(
    items: list[Item], drafts: list[Draft], claimed: set[int]
) -> tuple[list[Article], str | None]:
    """Turn drafts into Articles; unclaimed titles become column labels and the page title."""
    first = drafts[0].start if drafts else len(items)
    header = [it.text for k, it in enumerate(items[:first]) if it.kind == "T" and k not in claimed]
    title = header[-1] if header else None
    column = header[-2] if len(header) >= 3 else None  # header: page label, column(s), title
    labels = {
        k: it.text
        for k, it in enumerate(items)
        if k >= first and it.kind == "T" and k not in claimed
    }
    articles: list[Article] = []
    position = first
    for draft in drafts:
        for k in range(position, draft.start):
            column = labels.get(k, column)
        position = max(position, draft.start)
        articles.append(_article(draft, column))
    return articles, title


def _article(draft: Draft, column: str | None) -> Article:
    sections: list[Section] = []
    for heading, block in draft.blocks:
        if draft.kind == "photo":  # a caption is one paragraph, whatever its line widths
            paragraphs = [p for p in [join_lines([ln.text for ln in block])] if p]
        else:
            paragraphs = split_paragraphs(block)
        if paragraphs:
            sections.append(Section(heading, tuple(paragraphs)))
    headline = draft.headline or _made_up_headline(draft.text())
    return Article(draft.kind, headline, draft.byline, column, tuple(sections))


def _made_up_headline(text: str) -> str:
    """For an article printed without a headline: its opening words."""
    clause = re.split(f"[{HEADLINE_STOP}]", text, maxsplit=1)[0]
    return clause[:FALLBACK_HEADLINE_CHARS] or text[:FALLBACK_HEADLINE_CHARS]


def similarity(title: str, text: str) -> float:
    """How much of a title's wording a text holds: the share of its character pairs found in
    the text, plus a tenth of the share of its characters (which breaks ties)."""
    chars = [c for c in title if not c.isspace() and c not in QUOTES]
    if not chars:
        return 0.0
    pairs = {a + b for a, b in zip(chars, chars[1:], strict=False)}
    char_share = sum(c in text for c in chars) / len(chars)
    pair_share = sum(p in text for p in pairs) / len(pairs) if pairs else char_share
    return pair_share + CHAR_WEIGHT * char_share
