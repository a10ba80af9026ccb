"""Read a raw e-paper page into items: titles, body blocks, bylines, authors and captions.

1. lines -> pieces: runs of non-blank lines split at bylines (`□`), authors (`◎`), photo credits
   (`… 摄`), banners (lines with private-use junk glyphs) and page furniture; each remaining
   run is a *title* (headline, subheading, column label or photo title) or *body* text. A
   title is short, holds no sentence punctuation, closes the quotations it opens and follows
   finished text; a run of a line or two without punctuation is body text where it can be a
   paragraph's first line cut off by a blank line (about the indent short of the column, full
   text after it).
2. pieces -> items: consecutive body runs become one block (blank lines inside mean nothing),
   except where a blank line after a finished sentence parts text not measured to be in one
   column: two articles may meet there, which `reading.py` decides with the titles around
   them. A credit at the end of, or on the line after, a run makes it a photo caption.
   Banners and page furniture (editors, dates, page numbers) stay as separators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from audio_edition.ingest.layout import (
    FIRST_LINE_SHORTEST,
    FIRST_LINE_SPAN,
    FULL_SLACK,
    HALF,
    OPENERS,
    PageLine,
    display_width,
    ends_sentence,
    full_width,
    has_junk,
    measured_width,
    moved_down,
    same_column,
    set_width,
    strip_junk,
)

BYLINE_MARK = "□"
AUTHOR_MARK = "◎"
REPORTER = r"(?:(?:本报|新华社|见习|实习|特约)?(?:记者|通讯员)|本报)"
NAMES = r"[\u4e00-\u9fff·]{2,5}(?:[ \u3000、]+[\u4e00-\u9fff·]{2,5})*"
CREDIT = rf"(?:{REPORTER}[ \u3000]*)?{NAMES}[ \u3000]+摄"  # `本报记者 陈春艳 摄`, `马志军 摄`
CREDIT_LINE = re.compile(rf"^(?:{REPORTER}[ \u3000]*{NAMES}[ \u3000]*)?{CREDIT}$")
INLINE_CREDIT = re.compile(rf"[ \u3000]+({CREDIT})$")
BYLINE_LINE = re.compile(  # `本报记者 白丹`, `文/图 张三`; not `图片新闻`
    rf"^(?:{REPORTER}[/／]?[ \u3000]*|(?:文|图|文/图|图/文)(?:[/／][ \u3000]*|[ \u3000]+)){NAMES}$"
)
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
PAIRED = ("“”", "‘’", "（）", "《》", "()")  # marks a title opens and closes
OPEN_SLACK = FIRST_LINE_SPAN[1]  # characters: a line this close to full width runs on
RECENT_LINES = 40  # lines: the column width of a block's end is measured over this many


@dataclass
class Item:
    """One element of the page: T title, R body block, B byline, A author, C credit, X banner."""

    kind: str
    lines: list[PageLine] = field(default_factory=list)
    text: str = ""  # the title, byline, author or credit as printed (markers dropped)
    credit: str | None = None  # an R block's photo credit: it is a caption
    seams: list[int] = field(default_factory=list)  # an R block: where runs after finished
    # text begin (a blank line before, the line before them not running on)
    number: int = 0  # input line number of a T, B, A, C or X (an R's is its first line's)

    @property
    def caption(self) -> bool:
        return self.kind == "R" and self.credit is not None

    @property
    def line(self) -> int:
        """Where the item starts in the input (1-based line number)."""
        return self.lines[0].number if self.lines else self.number


def page_items(text: str) -> list[Item]:
    """The items of a page, in printed order."""
    return _items(_pieces(text))


# pass 1: lines -> pieces ----------------------------------------------------------------------


def _pieces(text: str) -> list[Item]:
    """Split the page into special lines (B, A, C, X) and runs of other lines (kind '?')."""
    pieces: list[Item] = []
    run: list[PageLine] = []

    def flush() -> None:
        if run:
            pieces.append(Item("?", list(run)))
            run.clear()

    for number, raw in enumerate(text.split("\n"), start=1):
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
            special.number = number
            pieces.append(special)
        else:
            indented = bool(INDENT_START.match(clean))
            run.append(PageLine(line, display_width(line), indented, number=number))
    flush()
    return pieces


def _with_blank(line: PageLine) -> PageLine:
    return replace(line, blank_after=True)


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
            if piece.kind == "C" and items and items[-1].kind == "R" and not items[-1].credit:
                items[-1:] = _credit_block(items[-1], piece.text)
            elif piece.kind == "B" and items and items[-1].kind == "B":  # a two-line byline
                items[-1].text += " " + piece.text
            else:  # banners and page furniture stay as separators between articles
                items.append(piece)
            continue
        following = pieces[i + 1] if i + 1 < len(pieces) else None
        previous = items[-1] if items else None
        if _is_title(piece.lines, widths[i], previous, following):
            title = _joined(piece.lines)
            number = piece.lines[0].number
            items.append(Item("T", text=title, number=number))
            continue
        for part in _split_at_credits(piece.lines):
            if previous is not None and _joins(previous, part):
                if not _runs_on(previous):
                    previous.seams.append(len(previous.lines))
                previous.lines.extend(part.lines)
                previous.credit = part.credit
            else:
                items.append(part)
            previous = items[-1]
    return [part for item in items for part in _by_column(item)]


def _by_column(block: Item) -> list[Item]:
    """A body block cut at each seam where the text on both sides is not measured to be in
    one column: there two articles may meet, printed one after the other with only a blank
    line between. Whether they do is decided with the titles around them (`reading.py`)."""
    if block.kind != "R" or not block.seams:
        return [block]
    bounds = [0, *block.seams, len(block.lines)]
    runs: list[list[PageLine]] = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        if runs and not ends_sentence(runs[-1][-1].text):
            runs[-1] += block.lines[a:b]  # a paragraph's first line, cut off by a blank line
        else:
            runs.append(block.lines[a:b])
    parts = [Item("R", runs[0])]
    for run in runs[1:]:
        if same_column(parts[-1].lines, run):
            parts[-1].seams.append(len(parts[-1].lines))
            parts[-1].lines.extend(run)
        else:
            parts.append(Item("R", run))
    parts[-1].credit = block.credit
    return parts


def _joins(previous: Item, part: Item) -> bool:
    """Whether body text continues the block before it (blank lines mean nothing); a caption
    stands apart, even in the middle of an article's text."""
    return previous.kind == "R" and not previous.credit and not part.credit


def _credit_block(block: Item, credit: str) -> list[Item]:
    """Give a block the credit printed on the line after it: the block's last piece (after
    finished text) is the caption, what comes before it stays body text."""
    if not block.seams:
        block.credit = credit
        return [block]
    tail = block.seams[-1]
    return [
        Item("R", block.lines[:tail], seams=block.seams[:-1]),
        Item("R", block.lines[tail:], credit=credit),
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
                    head = Item("T", text=_joined(title), number=title[0].number)
                    out += [Item("?", lines[:-n]), head]
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
    """For each piece, the column width of the nearest following (else preceding) long run:
    its widest line but the last (the first may be full: a run follows a blank line)."""
    own = [max(map(set_width, p.lines[:-1])) if len(p.lines) >= 3 else None for p in pieces]
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
    lines: list[PageLine], width: float, previous: Item | None, following: Item | None
) -> bool:
    """Whether a run of lines is a title rather than body text (see the module docstring)."""
    texts = [ln.text for ln in lines]
    if len(lines) > TITLE_MAX_LINES or any(ln.indented for ln in lines):
        return False
    if any(t[-1] in CONTINUES or "。" in t for t in texts) or _unbalanced("".join(texts)):
        return False
    if previous is not None and (
        previous.kind == "B" or previous.kind == "R" and _runs_on(previous)
    ):
        return False  # a byline's text follows it; a block running on continues
    if following is not None and following.kind in ("B", "A"):
        return True
    if any(_has_marks(t) for t in texts):
        return False
    if any(_spaced_words(t) for t in texts) or ENUMERATOR.match(texts[0]):
        return True
    return texts[0][0] in BULLETS or not _paragraph_start_alone(lines, width, following)


def _unbalanced(text: str) -> bool:
    """Whether a text opens a quotation or bracket it does not close, or closes one it did not
    open: a line cut out of running text, never a whole title."""
    return any(text.count(a) != text.count(b) for a, b in PAIRED)


def _paragraph_start_alone(lines: list[PageLine], width: float, following: Item | None) -> bool:
    """Whether a short run without punctuation can be a paragraph's first line or two (the
    indent dropped) that a blank line cut from the rest: its first line about the indent
    short of the column, any other full, and followed by text whose first line is full.
    Otherwise such a run is a title. Widths are `set_width`s: a full line is set within a
    cell of the column, a first line at least the indent short of it."""
    if following is None or following.kind != "?":
        return False
    after_lines = following.lines
    after = after_lines[0]
    # its column: of the text after it, or with a line alone after it, of the page around
    own = max(measured_width(after_lines) or 0.0, *map(set_width, after_lines))
    width = own if len(after_lines) > 1 else max(width, own)
    text = len(after_lines) > TITLE_MAX_LINES or not all(map(_bare, after_lines))  # not a title
    if not width or not text or after.indented or _spaced_words(after.text):
        return False
    run = [*lines, *after_lines, None]  # the lines after the first must be full, but for
    full = all(  # an opening mark moved to the line below (half a cell: a first line is more)
        set_width(ln) + HALF * (below is not None and below.text[0] in OPENERS)
        >= width - FULL_SLACK
        for ln, below in zip(run[1 : len(lines) + 1], run[2:], strict=False)
    )
    shortest = width - FIRST_LINE_SHORTEST - moved_down((lines[1:] or after_lines)[0].text)
    return full and shortest <= set_width(lines[0]) <= width - FIRST_LINE_SPAN[0]


def _runs_on(block: Item) -> bool:
    """Whether a body block's last line runs on into the next (no sentence end, full width)."""
    last = block.lines[-1]
    full = last.width >= full_width(block.lines[-RECENT_LINES:]) - OPEN_SLACK
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
            current.append(replace(line, text=text, width=display_width(text)))
            blocks.append(Item("R", current, credit=_spaced(match.group(1))))
            current = []
        else:
            current.append(line)
    if current:
        blocks.append(Item("R", current))
    return blocks
