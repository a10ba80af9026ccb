"""Recover the articles of a raw e-paper page: the text extracted from one printed page.

The page is read in three passes:
1. lines -> pieces: runs of non-blank lines split at bylines (`□`), authors (`◎`), photo credits
   (`… 摄`) and banners (lines with private-use junk glyphs); each remaining piece is a *title*
   (headline, subheading, column label or photo title: short, no sentence punctuation, after a
   finished paragraph) or *body* text.
2. pieces -> items: consecutive body pieces become one block (blank lines inside mean nothing);
   a credit at the end of, or on the line after, a block makes it a photo caption; banners and
   page furniture (editors, dates, page numbers) are dropped.
3. items -> articles, under both layouts this newspaper uses: headlines printed after their
   article's body, or before its byline. The layout whose headlines share more words with
   their bodies, with fewer made-up headlines and fewer headline-like titles left over, wins.
   Titles no article claims are column labels (they head the articles after them) or, before
   the first article, the page label, column and page title (the last of them).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from audio_edition.errors import InputError
from audio_edition.ingest.layout import (
    FIRST_LINE_SPAN,
    PageLine,
    column_width,
    display_width,
    ends_sentence,
    has_junk,
    join_lines,
    split_paragraphs,
    strip_junk,
)
from audio_edition.model import Article, Edition, Section

BYLINE_MARK = "□"
AUTHOR_MARK = "◎"
REPORTER = r"(?:(?:本报|新华社|见习|实习|特约)?(?:记者|通讯员)|本报)"
NAMES = r"[\u4e00-\u9fff·]{2,5}(?:[ \u3000、]+[\u4e00-\u9fff·]{2,5})*"
CREDIT = rf"(?:{REPORTER}[ \u3000]*)?{NAMES}[ \u3000]+摄"  # `本报记者 陈春艳 摄`, `马志军 摄`
CREDIT_LINE = re.compile(rf"^(?:{REPORTER}[ \u3000]*{NAMES}[ \u3000]*)?{CREDIT}$")
INLINE_CREDIT = re.compile(rf"[ \u3000]+({CREDIT})$")
BYLINE_LINE = re.compile(rf"^(?:{REPORTER}|文|图|文/图|图/文)[/／]?[ \u3000]*{NAMES}$")
FURNITURE = re.compile(  # page furniture, not article text: editors, dates, page numbers
    r"^(?:(?:责任|美术)?编辑|版式(?:策划|设计)?|(?:责任)?校对|制图|策划)[:：]"
    r"|^\d{4}年\d{1,2}月\d{1,2}日(?:[ \u3000]*星期[一二三四五六日天])?$"
    r"|^第?\d{1,3}版$"
)
INDENT_START = re.compile(r"^(?:\u3000{1,2}|[ \t]{2,4})(?=\S)")  # not a centred title
CONTINUES = "，、；：,;:（(“‘《〈—"  # a line ending in one of these runs on
SENTENCE_MARKS = "，。、；：,;"  # a title never holds one (unless a byline follows it)
BULLETS = "■●○◆◇▲△★☆▶►"  # marks that open a subheading
ENUMERATOR = re.compile(
    r"^(?:[一二三四五六七八九十]+、|\d{1,2}[、.．]|[（(][一二三四五六七八九十\d]{1,3}[）)])"
)
TITLE_MAX_LINES = 3
TITLE_MAX_RATIO = 0.6  # a spaceless title is at most this fraction of the column width
OPEN_SLACK = FIRST_LINE_SPAN[1]  # characters: a line this close to full width runs on
RECENT_LINES = 40  # lines: the column width of a block's end is measured over this many
HEADLINE_STOP = "，。？！：；,.?!:;"
FALLBACK_HEADLINE_CHARS = 16  # characters: a headline made from the text when none is printed
PAIRING_EXHAUSTIVE_MAX = 6  # photos: try every title-caption pairing up to this many, else greedy
UNMATCHED_PENALTY = 1.0  # score lost per made-up headline, and per headline left unused
LABEL_MAX_CHARS = 6  # characters: a page or column label is no longer
CHAR_WEIGHT = 0.1  # similarity: weight of shared characters beside shared character pairs
QUOTES = "“”‘’《》「」"


@dataclass
class Item:
    """One element of the page: T title, R body block, B byline, A author, C credit, X banner."""

    kind: str
    lines: list[PageLine] = field(default_factory=list)
    text: str = ""  # the title, byline, author or credit as printed (markers dropped)
    credit: str | None = None  # an R block's photo credit: it is a caption
    photo_title: bool = False  # a T printed among photo captions
    tail: int = 0  # an R block: where its last run after finished text begins (0: none)

    @property
    def caption(self) -> bool:
        return self.kind == "R" and self.credit is not None


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
    items = _items(_pieces(text))
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


# pass 1: lines -> pieces ----------------------------------------------------------------------


def _pieces(text: str) -> list[Item]:
    """Split the page into special lines (B, A, C, X) and runs of other lines (kind '?')."""
    pieces: list[Item] = []
    run: list[PageLine] = []

    def flush() -> None:
        if run:
            pieces.append(Item("?", list(run)))
            run.clear()

    for raw in text.split("\n"):
        clean = strip_junk(raw).rstrip()
        if not clean.strip():
            if run:
                run[-1] = _with_blank(run[-1])
            flush()
            continue
        line = clean.strip()
        special = _special(line, junk=has_junk(raw))
        if special:
            flush()
            pieces.append(special)
        else:
            indented = bool(INDENT_START.match(clean))
            run.append(PageLine(line, display_width(line), indented=indented))
    flush()
    return pieces


def _with_blank(line: PageLine) -> PageLine:
    return PageLine(line.text, line.width, line.indented, blank_after=True)


def _special(line: str, junk: bool) -> Item | None:
    if line.startswith(BYLINE_MARK):
        return Item("B", text=_spaced(line[1:]))
    if line.startswith(AUTHOR_MARK):
        return Item("A", text=_spaced(line[1:]))
    if CREDIT_LINE.match(line):
        return Item("C", text=_spaced(line))
    if BYLINE_LINE.match(line):
        return Item("B", text=_spaced(line))
    if junk and not any(mark in line for mark in SENTENCE_MARKS) or FURNITURE.match(line):
        return Item("X", text=line)
    return None


def _joined(lines: list[PageLine]) -> str:
    """A title's lines joined with a space, as a two-line headline reads."""
    return _spaced(" ".join(line.text for line in lines))


def _spaced(text: str) -> str:
    return " ".join(text.split())


# pass 2: pieces -> items ----------------------------------------------------------------------


def _items(pieces: list[Item]) -> list[Item]:
    """Classify runs as titles or body, merge body runs into blocks, attach photo credits."""
    pieces = _unglue_titles(pieces)
    widths = _neighbour_widths(pieces)
    items: list[Item] = []
    for i, piece in enumerate(pieces):
        if piece.kind != "?":
            if piece.kind == "T":
                piece.photo_title = _in_photos(items[-1] if items else None)
            if piece.kind == "C" and items and items[-1].kind == "R" and not items[-1].credit:
                items[-1:] = _credit_block(items[-1], piece.text)
            elif piece.kind == "B" and items and items[-1].kind == "B":  # a two-line byline
                items[-1].text += " " + piece.text
            elif piece.kind != "X":  # banners and page furniture are dropped
                items.append(piece)
            continue
        after = pieces[i + 1].kind if i + 1 < len(pieces) else None
        previous = items[-1] if items else None
        if _is_title(piece.lines, widths[i], previous, after):
            title = _joined(piece.lines)
            items.append(Item("T", text=title, photo_title=_in_photos(previous)))
            continue
        for part in _split_at_credits(piece.lines):
            if previous is not None and _joins(previous, part):
                if not _runs_on(previous):
                    previous.tail = len(previous.lines)
                previous.lines.extend(part.lines)
                previous.credit = part.credit
            else:
                items.append(part)
            previous = items[-1]
    return items


def _joins(previous: Item, part: Item) -> bool:
    """Whether body text continues the block before it (blank lines mean nothing); a caption
    stands apart, even in the middle of an article's text."""
    return previous.kind == "R" and not previous.credit and not part.credit


def _credit_block(block: Item, credit: str) -> list[Item]:
    """Give a block the credit printed on the line after it: the block's last piece (after
    finished text) is the caption, what comes before it stays body text."""
    if not block.tail:
        block.credit = credit
        return [block]
    return [
        Item("R", block.lines[: block.tail]),
        Item("R", block.lines[block.tail :], credit=credit),
    ]


def _unglue_titles(pieces: list[Item]) -> list[Item]:
    """Split off titles printed right under body text, with no blank line, where an article
    ends.

    The title is a run's last line (or two) when they hold no sentence punctuation and the
    line above them ends a sentence.
    """
    out: list[Item] = []
    for piece, following in zip(pieces, [*pieces[1:], None], strict=True):
        lines = piece.lines
        if piece.kind == "?" and _ends_a_story(following):
            for n in range(1, min(TITLE_MAX_LINES, len(lines))):
                title = lines[-n:]
                if ends_sentence(lines[-n - 1].text) and all(_bare(ln) for ln in title):
                    out += [Item("?", lines[:-n]), Item("T", text=_joined(title))]
                    break
            else:
                out.append(piece)
        else:
            out.append(piece)
    return out


def _has_marks(text: str) -> bool:
    """Whether a line holds sentence punctuation, beyond a numbered subheading's `一、`."""
    text = ENUMERATOR.sub("", text)
    return any(mark in text for mark in SENTENCE_MARKS)


def _ends_a_story(following: Item | None) -> bool:
    """Whether what follows a run shows that an article ends there: the page's end, a byline,
    an author, a banner, or a short run without sentence punctuation (a label or title)."""
    if following is None or following.kind in ("B", "A", "X", "T"):
        return True
    lines = following.lines
    return following.kind == "?" and len(lines) <= TITLE_MAX_LINES and all(map(_bare, lines))


def _bare(line: PageLine) -> bool:
    """A line with no sentence punctuation: it may be (part of) a title."""
    text = line.text
    return not line.indented and text[-1] not in CONTINUES and not _has_marks(text)


def _neighbour_widths(pieces: list[Item]) -> list[float]:
    """For each piece, the column width of the nearest following (else preceding) long run."""
    own = [column_width(p.lines) if len(p.lines) >= 3 else None for p in pieces]
    before: list[float | None] = []
    last = None
    for width in own:
        last = width if width is not None else last
        before.append(last)
    widths: list[float] = []
    after = None
    for i in reversed(range(len(pieces))):
        after = own[i] if own[i] is not None else after
        widths.append(after or before[i] or 0.0)
    return widths[::-1]


def _is_title(
    lines: list[PageLine], width: float, previous: Item | None, after: str | None
) -> bool:
    """Whether a run of lines is a title rather than body text (see the module docstring)."""
    texts = [ln.text for ln in lines]
    if len(lines) > TITLE_MAX_LINES or any(ln.indented for ln in lines):
        return False
    if any(t[-1] in CONTINUES or "。" in t for t in texts):
        return False
    if previous is not None and previous.kind == "R" and _runs_on(previous):
        return False
    if after in ("B", "A"):
        return True
    if any(_has_marks(t) for t in texts):
        return False
    if len(lines) > 1 or _in_photos(previous) or any(_spaced_words(t) for t in texts):
        return True
    if ENUMERATOR.match(texts[0]) or texts[0][0] in BULLETS:
        return True
    return not width or lines[0].width < TITLE_MAX_RATIO * width  # no width: no body


def _in_photos(previous: Item | None) -> bool:
    """Whether the item before is a photo caption or a photo title (titles follow captions)."""
    return previous is not None and (previous.caption or previous.photo_title)


def _runs_on(block: Item) -> bool:
    """Whether a body block's last line runs on into the next (no sentence end, full width)."""
    last = block.lines[-1]
    full = last.width >= column_width(block.lines[-RECENT_LINES:]) - OPEN_SLACK
    return block.credit is None and not ends_sentence(last.text) and full


def _spaced_words(text: str) -> bool:
    """A space between two CJK characters: the phrase break of a headline (`做在田间 让农民…`)."""
    return re.search(r"[^\x00-\x7f] +[^\x00-\x7f]", text) is not None


def _split_at_credits(lines: list[PageLine]) -> list[Item]:
    """Body lines as blocks, cut after each line that ends with a photo credit."""
    blocks: list[Item] = []
    current: list[PageLine] = []
    for line in lines:
        match = INLINE_CREDIT.search(line.text)
        if match:
            text = line.text[: match.start()]
            current.append(PageLine(text, display_width(text), line.indented, line.blank_after))
            blocks.append(Item("R", current, credit=_spaced(match.group(1))))
            current = []
        else:
            current.append(line)
    if current:
        blocks.append(Item("R", current))
    return blocks


# pass 3: items -> articles --------------------------------------------------------------------


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
