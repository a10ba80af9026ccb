"""Splitting a paragraph into sentences, and cutting a sentence too long for an engine.

Both are lossless: the pieces concatenate back to the input (whitespace between sentences aside).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import jieba

from audio_edition.text.clean import has_words
from audio_edition.text.words import cut

TERMINATORS = "。！？；!?;…⋯"
CLOSERS = "”’」』》〉）)】〕］]\"'"  # closing quotes and brackets stay with the sentence they end
OPENERS = "“‘「『《〈（(【〔［["
CLAUSE_MARKS = "，、：；,:;—"  # a long sentence is cut after one of these first ("——" counts)
# A sentence ends after a run of terminators and the closers that follow it; an ASCII full stop
# only when a space or the end follows (never inside `1.1万` or `www.gov.cn`).
_SENTENCE_END = re.compile(
    rf"(?:[{re.escape(TERMINATORS)}]+|(?<![0-9])\.(?=\s|$))[{re.escape(CLOSERS)}]*"
)
_CLAUSE_END = re.compile(
    rf"(?:[，、：；]|[,:;—](?!\d))+[{re.escape(CLOSERS)}]*|[”’」』](?=[“‘「『])"
)  # after a clause mark (not inside 1,500 / 8:30 / 2019—2020), or between two quotations
PIECE_COST = 10.0  # what cutting a sentence into one more piece costs, in the cut planner
WORD_CUT_COST = 25.0  # a cut between words (no clause mark) sounds worse than one more piece
BALANCE_COST = 5.0  # times (1 - piece length / maximum)², so even pieces win among equals
# Never cut next to a digit, Latin letter or number sign: `2个`, `1.1万户`, `SCI论文`, `65%`.
_GLUED = re.compile(r"[0-9A-Za-z%.+\-\uff10-\uff19\uff21-\uff3a\uff41-\uff5a％]")
PARTICLES = "的地得了着过们"  # said with the word before them: never the start of a piece


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph at 。！？；… (with closing quotes/brackets kept), never leaving a piece
    with nothing to say: such a piece (`”`, `……`) joins the sentence before it."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        pieces.append(paragraph[start : match.end()])
        start = match.end()
    pieces.append(paragraph[start:])
    return _merge_wordless([p.strip() for p in pieces if p.strip()])


def cut_sentence(
    sentence: str,
    max_len: int,
    measure: Callable[[str], int] = len,
    tokenizer: jieba.Tokenizer | None = None,
) -> list[str]:
    """Cut a sentence whose `measure` exceeds `max_len` into pieces that fit.

    Cuts go after clause marks (，、：；—— and between quotes `”“`) when possible, else at a
    jieba word boundary (never inside a word, never next to a number or Latin word); each piece
    has something to say. Among the cuttings into pieces that fit, the one with the fewest pieces,
    then the fewest cuts between words, then the most even lengths wins. A single word longer
    than `max_len` stays whole.
    """
    if measure(sentence) <= max_len:
        return [sentence]
    atoms, word_cut = _atoms(sentence, tokenizer)
    sizes = [measure(atom) for atom in atoms]  # lengths add up: no cut is inside a number or word
    count = len(atoms)
    best: list[tuple[float, int]] = [(0.0, 0)] + [(float("inf"), 0)] * count
    for end in range(1, count + 1):
        size = 0
        for start in range(end - 1, -1, -1):
            size += sizes[start]
            if size > max_len and start < end - 1:
                break
            cost = (
                best[start][0] + PIECE_COST + BALANCE_COST * (1 - min(size, max_len) / max_len) ** 2
            )
            if end < count and word_cut[end - 1]:
                cost += WORD_CUT_COST
            if cost < best[end][0]:
                best[end] = (cost, start)
    pieces, end = [], count
    while end:
        start = best[end][1]
        pieces.insert(0, "".join(atoms[start:end]))
        end = start
    return pieces


def _atoms(sentence: str, tokenizer: jieba.Tokenizer | None) -> tuple[list[str], list[bool]]:
    """The sentence split at every allowed cut; for each piece, whether the cut after it is
    between words (True) or after a clause mark (False)."""
    atoms: list[str] = []
    word_cut: list[bool] = []
    for clause in _split_at(sentence, [m.end() for m in _CLAUSE_END.finditer(sentence)]):
        words = _word_pieces(clause, tokenizer)
        atoms += words
        word_cut += [True] * (len(words) - 1) + [False]
    return atoms, word_cut


def _word_pieces(text: str, tokenizer: jieba.Tokenizer | None) -> list[str]:
    """`text` cut at jieba word boundaries, except where a piece would start with punctuation or
    a particle (的, 了...), or where a number, Latin word or opening quote would be parted from
    its neighbour."""
    bounds, offset = [], 0
    for word in cut(text, tokenizer):
        offset += len(word)
        bounds.append(offset)
    allowed = [
        i
        for i in bounds[:-1]
        if not (_GLUED.match(text[i - 1]) or _GLUED.match(text[i]))
        and text[i - 1] not in OPENERS
        and text[i] not in PARTICLES
        and has_words(text[i])
    ]
    return _split_at(text, allowed)


def _split_at(text: str, cuts: list[int]) -> list[str]:
    edges = [0, *(c for c in cuts if 0 < c < len(text)), len(text)]
    return _merge_wordless([text[a:b] for a, b in zip(edges, edges[1:], strict=False) if b > a])


def _merge_wordless(pieces: list[str]) -> list[str]:
    """Join each piece with nothing to say onto its neighbour (the one before, if any)."""
    merged: list[str] = []
    for piece in pieces:
        if merged and (not has_words(piece) or not has_words(merged[-1])):
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged
