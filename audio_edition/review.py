"""The reading review behind `audio-edition pinyin`: what the offline voice says, per article
and sentence, with every polyphone's chosen reading; the choices least sure first, each with the
lexicon line that would make it read the other way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from audio_edition.model import Script
from audio_edition.text.g2p import Reader, Reading
from audio_edition.text.lexicon import Lexicon
from audio_edition.text.normalize import READABLE
from audio_edition.text.words import cut

CHOSEN = ("model", "rule", "default")  # the sources of choices an editor should check


@dataclass(frozen=True)
class Choice:
    """One polyphone's reading in one segment."""

    chapter: str
    segment: int
    index: int  # position in the segment's spoken text
    reading: Reading
    fix: str  # the lexicon line that makes it read as its most likely other reading

    def to_dict(self) -> dict[str, Any]:
        r = self.reading
        return {
            "chapter": self.chapter,
            "segment": self.segment,
            "index": self.index,
            "char": r.char,
            "pinyin": r.syllable,
            "source": r.source,
            "sure": round(r.sure, 4),
            "others": list(r.others),
            "fix": self.fix,
        }


@dataclass(frozen=True)
class SegmentReading:
    chapter: str
    title: str
    spoken: str
    readings: tuple[Reading | None, ...]


@dataclass(frozen=True)
class Review:
    segments: tuple[SegmentReading, ...]
    choices: tuple[Choice, ...]  # least sure first

    def to_dict(self) -> dict[str, Any]:
        return {
            "choices": [c.to_dict() for c in self.choices],
            "segments": [
                {
                    "chapter": s.chapter,
                    "spoken": s.spoken,
                    "pinyin": [r.syllable if r else None for r in s.readings],
                    "polyphones": [
                        {"index": k, "char": r.char, "pinyin": r.syllable, "source": r.source}
                        for k, r in enumerate(s.readings)
                        if r is not None and r.others
                    ],
                }
                for s in self.segments
            ],
        }


def review(script: Script, lexicon: Lexicon) -> Review:
    """Read every segment of an offline script again and gather the polyphone choices."""
    reader = Reader(lexicon)
    listed = [(c, n, s) for c in script.chapters for n, s in enumerate(c.segments)]
    found = reader.read_all([s.spoken for _, _, s in listed])
    segments, choices = [], []
    for (chapter, number, segment), readings in zip(listed, found, strict=True):
        segments.append(SegmentReading(chapter.id, chapter.title, segment.spoken, tuple(readings)))
        words: list[str] | None = None  # the segment's words, cut once for all its choices
        for k, r in enumerate(readings):
            if r is not None and r.source in CHOSEN and r.others:
                words = words or cut(segment.spoken, lexicon.tokenizer)
                fix = fix_line(segment.spoken, words, readings, k)
                choices.append(Choice(chapter.id, number, k, r, fix))
    choices.sort(key=lambda c: c.reading.sure)
    return Review(tuple(segments), tuple(choices))


def fix_line(spoken: str, words: list[str], readings: list[Reading | None], k: int) -> str:
    """A lexicon line for the words around position `k` that reads it as its first other
    reading: the character's word, with the next (or previous) word when it stands alone, so
    that the entry changes this phrase and not every use of the character. `words` is the cut
    of `spoken` with the lexicon's tokenizer."""
    starts = [0]
    for word in words:
        starts.append(starts[-1] + len(word))
    index = next(i for i in range(len(words)) if starts[i] <= k < starts[i + 1])
    first, last = index, index + 1
    if len(words[index]) == 1:
        if index + 1 < len(words) and _sayable(words[index + 1]):
            last += 1
        elif index > 0 and _sayable(words[index - 1]):
            first -= 1
    start, end = starts[first], starts[last]
    syllables = [
        (readings[k].others[0] if i == k else readings[i].syllable)  # type: ignore[union-attr]
        for i in range(start, end)
        if readings[i] is not None
    ]
    term = spoken[start:end]
    return f'"{term}" = "{" ".join(syllables)}"'


def _sayable(word: str) -> bool:
    return all(READABLE.match(c) for c in word)


def outline(result: Review, limit: int = 40) -> list[str]:
    """The review as text: the least sure choices with their fixes, then every segment with
    its polyphones' readings in brackets."""
    lines = [f"{len(result.choices)} polyphones not settled by a word; least sure first:"]
    for choice in result.choices[:limit]:
        r = choice.reading
        lines.append(
            f"  {r.sure:5.2f}  {r.char} {r.syllable:<7} (or {'/'.join(r.others)})  "
            f"[{choice.chapter}#{choice.segment}]  fix: {choice.fix}"
        )
    if len(result.choices) > limit:
        lines.append(f"  ... {len(result.choices) - limit} more (--json lists all)")
    chapter = None
    for segment in result.segments:
        if segment.chapter != chapter:
            chapter = segment.chapter
            lines += ["", f"== {segment.chapter} {segment.title}"]
        marked = "".join(
            f"{c}[{r.syllable}]" if r is not None and r.others else c
            for c, r in zip(segment.spoken, segment.readings, strict=True)
        )
        lines.append(f"  {marked}")
    return lines
