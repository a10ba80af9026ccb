"""The best reading of a page's items: which titles are headlines, subheadings, photo titles or
labels, and where each article begins and ends.

Every way to cut the items into units (an article, a group of photos, a label, a stray byline)
gets a score, and the best sequence is found by dynamic programming from the page's end, so
each article's choices (headline before or after, one title or two, where its body ends) are
made for that article, in competition with its neighbours only. Scores, in points:

- a headline earns its `similarity` to the article's text (two titles as one headline, the
  mean of theirs), and TWO_PARTS more when its two lines are balanced in length, as
  typesetters set them, TWO_PARTS less when not; a headline or subheading as short as a
  column label costs SHORT_HEADLINE (photo titles may be that short: see `pairing`);
- an article without a headline, a photo without a title, a title left over that does not
  look like a label, and a byline, author or credit with no text each cost a point;
- two blocks of one body (a subheading between them, or only a blank line after a finished
  sentence) earn ONE_COLUMN when set in one column, cost OTHER_COLUMN when they cannot be
  (articles are set in their own widths), and earn UNSURE_COLUMN when that cannot be told,
  plus up to SHARED_WORDS for words the two blocks share and few others on the page hold;
  a body opening with a paragraph's first line earns FIRST_LINE, with a line as wide as its
  column (not a first line: the body began before it) costs OTHER_COLUMN;
- a photo title earns PAIR plus its similarity to the caption it is paired with.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache

from audio_edition.ingest.layout import (
    FIRST_LINE_SPAN,
    PageLine,
    full_width,
    measured_width,
    same_column,
    set_width,
)
from audio_edition.ingest.page_items import BULLETS, ENUMERATOR, Item

MISSING = 1.0  # points lost by an article without a headline, a photo without a title
LEFTOVER = 1.0  # points lost by a non-label title left over, a byline or author with no text
ONE_COLUMN = 1.2  # points: two blocks of one body, set in one column
OTHER_COLUMN = 2.0  # points lost: two blocks of one body that cannot be in one column
UNSURE_COLUMN = 0.3  # points: two blocks of one body, where the widths cannot tell
SHARED_WORDS = 0.3  # points, at most, for the rare wording two such blocks share
SHARED_PAIRS = 3  # character pairs shared for all of SHARED_WORDS
RARE_IN = 3  # blocks: a character pair in at most this many on the page is rare
NUMBERED = 0.5  # points: a subheading that opens with 一、, 1., （二）, ■ ...
FIRST_LINE = 0.2  # points: a body that opens with a paragraph's first line (the indent short)
TWO_PARTS = 0.3  # points: bonus (balanced lines) or cost (not) of a two-title headline
SHORT_HEADLINE = 1.0  # points lost by a headline or subheading as short as a column label
BALANCE = 3  # characters: the two lines of a headline differ in length by at most this much
PAIR = 0.3  # points: a photo title paired with a caption, beside their similarity
TITLE_BEFORE_CAPTION = 0.05  # points: a photo title printed right before its caption
MAX_HEADLINE_PARTS = 2  # titles in a row that can make one headline
LABEL_MAX_CHARS = 4  # characters: a page or column label is no longer
CHAR_WEIGHT = 0.1  # similarity: weight of shared characters beside shared character pairs
QUOTES = "“”‘’《》「」"
EXHAUSTIVE_TITLES = 6  # photos: pair optimally up to this many titles, else greedily
TIE = 1e-9  # points: scores closer than this are equal


Sections = tuple[tuple[int | None, tuple[int, ...]], ...]  # (subheading item, body items)


@dataclass(frozen=True)
class Unit:
    """One unit of the best reading: items [start, end) and what they are."""

    kind: str  # article, commentary, photos, label, stray, banner
    start: int
    end: int
    score: float
    headline: tuple[int, ...] = ()  # title items making the headline
    byline: int | None = None  # the byline or author item
    blocks: Sections = ()  # (subheading item, its body items)
    pairs: tuple[tuple[int, int], ...] = ()  # photos: (caption item, title item)
    fit: float = 0.0  # the headline's similarity to the text
    captions: tuple[int, ...] = ()  # untitled photos set between the text and its headline

    @property
    def body_items(self) -> tuple[int, ...]:
        return tuple(k for _, section in self.blocks for k in section)


def label_like(text: str) -> bool:
    """Page and column labels are a few characters, without the space of a headline."""
    return len(text) <= LABEL_MAX_CHARS and " " not in text


@cache
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


class Reader:
    """Finds the best-scoring reading of a page's items."""

    def __init__(self, items: Sequence[Item]) -> None:
        self.items = items
        self.kinds = "".join(_kind(it) for it in items)
        self.texts = ["".join(ln.text for ln in it.lines) for it in items]
        self.pairs = [
            _pairs(text) if kind == "R" else set()
            for kind, text in zip(self.kinds, self.texts, strict=True)
        ]
        self.blocks_with = collections.Counter(pair for pairs in self.pairs for pair in pairs)
        self._bodies: dict[int, list[tuple[Sections, int, float]]] = {}

    def best(self) -> list[Unit]:
        """The units of the best reading, in printed order."""
        n = len(self.items)
        score = [0.0] * (n + 1)
        choice: list[Unit | None] = [None] * (n + 1)
        for i in reversed(range(n)):
            for unit in self.units(i):
                total = unit.score + score[unit.end]
                best = choice[i]
                # on a tie the longer unit: an article goes on more often than two meet
                if (
                    best is None
                    or total > score[i] + TIE
                    or (total > score[i] - TIE and unit.end > best.end)
                ):
                    score[i], choice[i] = total, unit
        units = []
        i = 0
        while i < n:
            unit = choice[i]
            assert unit is not None
            units.append(unit)
            i = unit.end
        return units

    # --- the units that can start at item i --------------------------------------------------

    def units(self, i: int) -> Iterator[Unit]:
        kind = self.kinds[i]
        if kind == "X":
            yield Unit("banner", i, i + 1, 0.0)  # banners and page furniture part articles
        if kind == "T":
            yield Unit("label", i, i + 1, self.label_score(i))
        if kind in "BAC":
            yield Unit("stray", i, i + 1, -LEFTOVER)
        if kind in "TP":
            yield from self.photo_units(i)
        yield from self.article_units(i)

    def label_score(self, k: int) -> float:
        return 0.0 if label_like(self.items[k].text) else -LEFTOVER

    def article_units(self, i: int) -> Iterator[Unit]:
        for p in range(MAX_HEADLINE_PARTS + 1):  # titles before the anchor: a headline first
            if p and self.kinds[i + p - 1 : i + p] != "T":
                return
            a = i + p
            if a >= len(self.kinds):
                return
            before = tuple(range(i, a))
            anchor = self.kinds[a]
            if anchor in "BA":
                kind = "commentary" if anchor == "A" else "article"
                for blocks, end, sub in self.bodies(a + 1):
                    yield from self._headed(kind, i, a, before, blocks, end, sub)
            elif anchor == "R":
                for blocks, end, sub in self.bodies(a):
                    yield from self._headed("article", i, None, before, blocks, end, sub)
                    if not p:
                        yield from self._signed_after(i, blocks, end, sub)

    def _headed(
        self,
        kind: str,
        start: int,
        byline: int | None,
        before: tuple[int, ...],
        blocks: Sections,
        end: int,
        sub: float,
    ) -> Iterator[Unit]:
        """Articles with the headline before them, or (with none before) after them, maybe
        after untitled photos set after the text."""
        if before or kind == "commentary":
            fit, points = self.headline_score(before, blocks, outer=0)
            yield Unit(kind, start, end, points + sub, before, byline, blocks, fit=fit)
            return
        after = end
        while self.kinds[after : after + 1] == "P":
            after += 1
        options = [(h, ()) for h in self.titles_at(end)]
        options += [(h, tuple(range(end, after))) for h in self.titles_at(after)[1:]]
        for headline, captions in options:
            fit, points = self.headline_score(headline, blocks, outer=-1)
            stop = (after if captions else end) + len(headline)
            yield Unit(
                kind,
                start,
                stop,
                points + sub,
                headline,
                byline,
                blocks,
                fit=fit,
                captions=captions,
            )

    def _signed_after(self, start: int, blocks: Sections, end: int, sub: float) -> Iterator[Unit]:
        """A commentary printed body first, then its headline and `◎author`."""
        for headline in self.titles_at(end):
            author = end + len(headline)
            if self.kinds[author : author + 1] == "A":
                fit, points = self.headline_score(headline, blocks, outer=None)
                stop = author + 1
                yield Unit(
                    "commentary", start, stop, points + sub, headline, author, blocks, fit=fit
                )

    def titles_at(self, k: int) -> list[tuple[int, ...]]:
        """No title, or the one or two titles in a row starting at item k."""
        options: list[tuple[int, ...]] = [()]
        while len(options) <= MAX_HEADLINE_PARTS and self.kinds[k : k + 1] == "T":
            options.append((*options[-1], k))
            k += 1
        return options

    def headline_score(
        self,
        headline: tuple[int, ...],
        blocks: Sections,
        outer: int | None,
    ) -> tuple[float, float]:
        """(similarity, points) of a headline for an article's body (points -inf: these two
        titles cannot be one headline); `outer` is the index in `headline` of the title
        farther from the text (0 before it, -1 after it, None: both are between the text and
        its author)."""
        if not headline:
            return 0.0, -MISSING
        text = "".join(self.texts[k] for _, section in blocks for k in section)
        parts = [self.items[k].text for k in headline]
        fit = sum(similarity(part, text) for part in parts) / len(parts)
        if len(parts) == 1:
            return fit, fit - (SHORT_HEADLINE if label_like(parts[0]) else 0.0)
        if not self.halves(parts, outer):
            return fit, -math.inf
        lengths = [len([c for c in part if c not in QUOTES]) for part in parts]
        balanced = abs(lengths[0] - lengths[1]) <= BALANCE
        return fit, fit + (TWO_PARTS if balanced else -TWO_PARTS)

    @staticmethod
    def halves(parts: list[str], outer: int | None) -> bool:
        """Whether two titles in a row can be the two lines of one headline: neither holds
        the space of a whole two-part headline, and the one farther from the text (`outer`:
        0 before it, -1 after it) is not as short as a label (a label and a one-line headline
        read the same way otherwise; the parser takes the label, and warns)."""
        if any(" " in part for part in parts):
            return False
        return outer is None or not label_like(parts[outer])

    def bodies(self, k: int) -> list[tuple[Sections, int, float]]:
        """Every body starting with block k: (sections, end, points for how its blocks join),
        shortest first. A body goes on with the next block (a seam between two blocks not
        measured to be one column) or with a subheading and the block after it."""
        if k not in self._bodies:
            found: list[tuple[Sections, int, float]] = []
            if self.kinds[k : k + 1] == "R":
                sections: list[tuple[int | None, tuple[int, ...]]] = [(None, (k,))]
                points = 0.0
                lines = self.items[k].lines
                width = measured_width(lines) or (full_width(lines) if len(lines) > 2 else None)
                j = k + 1
                found.append((tuple(sections), j, points + self.opening_score(k, width)))
                while True:
                    last = sections[-1][1][-1]
                    if self.kinds[j : j + 1] == "R":
                        points += self.column_score(last, j)
                        sections[-1] = (sections[-1][0], (*sections[-1][1], j))
                        j += 1
                    elif self.kinds[j : j + 2] == "TR":
                        points += self.column_score(last, j + 1) + self.heading_score(j)
                        sections.append((j, (j + 1,)))
                        j += 2
                    else:
                        break
                    width = width or measured_width(self.items[j - 1].lines)
                    found.append((tuple(sections), j, points + self.opening_score(k, width)))
            self._bodies[k] = found
        return self._bodies[k]

    def opening_score(self, k: int, width: float | None) -> float:
        """Points for how a body's first line is set in the body's column: short by the
        indent, a paragraph's first line (FIRST_LINE); as wide as the column, not one, so the
        body began before it (-OTHER_COLUMN)."""
        if width is None:
            return 0.0
        first = set_width(self.items[k].lines[0])
        if first >= width:
            return -OTHER_COLUMN
        return FIRST_LINE if first <= width - FIRST_LINE_SPAN[0] else 0.0

    def column_score(self, a: int, b: int) -> float:
        """Points for body blocks a and b being in one article (joined at a seam, or with a
        subheading between them): by whether they are set in one column. Where they measure a
        cell apart, each is measured again with the block it runs into, if that may be its
        column (more lines, a surer width); a block too short to measure is not: the block it
        runs into may be another article's, which is what is being decided."""
        lines = [self.items[k].lines for k in (a, b)]
        same = same_column(*lines)
        if same is None:
            near = [self.run_lines(a, -1), self.run_lines(b, 1)]
            if near != lines:
                same = same_column(*near)
        if same is None:
            return UNSURE_COLUMN + self.shared_words(a, b)
        return ONE_COLUMN if same else -OTHER_COLUMN

    def shared_words(self, a: int, b: int) -> float:
        """Points for the wording body blocks a and b share and few other blocks on the page
        hold (their own topic's words): where the widths cannot tell, the text does."""
        shared = [p for p in self.pairs[a] & self.pairs[b] if self.blocks_with[p] <= RARE_IN]
        return SHARED_WORDS * min(1.0, len(shared) / SHARED_PAIRS)

    def run_lines(self, k: int, step: int) -> list[PageLine]:
        """The lines of block k, measured, and of the block before it (step -1) or after it
        (1) when the two are printed together (a seam between them) and may be one column."""
        j = k + step
        lines = self.items[k].lines
        if not 0 <= j < len(self.items) or self.kinds[j] != "R":
            return lines
        other = self.items[j].lines
        if measured_width(lines) is None or same_column(lines, other) is False:
            return lines
        return [*other, *lines] if step < 0 else [*lines, *other]

    def heading_score(self, j: int) -> float:
        """Points for title j as a subheading, beside how the blocks around it join."""
        text = self.items[j].text
        if ENUMERATOR.match(text) or text[0] in BULLETS:
            return NUMBERED
        return -SHORT_HEADLINE if label_like(text) else 0.0

    # --- photos -----------------------------------------------------------------------------

    def photo_units(self, i: int) -> Iterator[Unit]:
        """Runs of captions and titles starting at i, with at least one caption."""
        j = i
        while j < len(self.kinds) and self.kinds[j] in "TP":
            j += 1
            if "P" in self.kinds[i:j]:
                yield self.photos(i, j)

    def photos(self, i: int, j: int) -> Unit:
        titles = [k for k in range(i, j) if self.kinds[k] == "T"]
        captions = [k for k in range(i, j) if self.kinds[k] == "P"]
        points, pairs = self.pairing(titles, captions)
        return Unit("photos", i, j, points, pairs=tuple(sorted(pairs)))

    def pairing(
        self, titles: list[int], captions: list[int]
    ) -> tuple[float, list[tuple[int, int]]]:
        """The best assignment of titles to captions, and its points."""

        def pair_points(t: int, c: int) -> float:
            points = PAIR + similarity(self.items[t].text, self.texts[c])
            return points + (TITLE_BEFORE_CAPTION if t == c - 1 else 0.0)

        left = {t: self.label_score(t) for t in titles}  # a title left unpaired is a label
        if len(titles) > EXHAUSTIVE_TITLES:
            return _greedy_pairing(titles, captions, pair_points, left)
        states: dict[int, tuple[float, list[tuple[int, int]]]] = {0: (0.0, [])}
        for c in captions:
            after: dict[int, tuple[float, list[tuple[int, int]]]] = {}
            for used, (points, pairs) in states.items():
                options = [(used, points - MISSING, pairs)]
                for n, t in enumerate(titles):
                    if not used >> n & 1:
                        options.append(
                            (used | 1 << n, points + pair_points(t, c), [*pairs, (c, t)])
                        )
                for key, value, chosen in options:
                    if key not in after or value > after[key][0] + TIE:
                        after[key] = (value, chosen)
            states = after
        best = None
        for used, (points, pairs) in states.items():
            total = points + sum(left[t] for n, t in enumerate(titles) if not used >> n & 1)
            if best is None or total > best[0] + TIE:
                best = (total, pairs)
        assert best is not None
        return best


def _greedy_pairing(
    titles: list[int],
    captions: list[int],
    pair_points: Callable[[int, int], float],
    left: dict[int, float],
) -> tuple[float, list[tuple[int, int]]]:
    """Titles paired with captions best pair first, for groups too large to try every way."""
    scored = sorted(((pair_points(t, c), t, c) for t in titles for c in captions), reverse=True)
    pairs: list[tuple[int, int]] = []
    points = 0.0
    for value, t, c in scored:
        if all(t != u and c != d for d, u in pairs):
            pairs.append((c, t))
            points += value
    points -= MISSING * (len(captions) - len(pairs))
    paired = {t for _, t in pairs}
    return points + sum(v for t, v in left.items() if t not in paired), pairs


def _pairs(text: str) -> set[str]:
    """The pairs of adjacent characters in a text, without spaces and punctuation."""
    chars = [c for c in text if c.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:], strict=False)}


def _kind(item: Item) -> str:
    """One letter per item: T, R (body), P (photo caption), B, A, C, X (banner)."""
    return "P" if item.caption else item.kind
