"""The editors' pronunciation lexicon (voices/lexicon.toml): a term and how to say it.

An entry is either pinyin for the term's characters (`"行长" = "hang2 zhang3"`: ASCII, a tone
digit per syllable, 5 = neutral), or a text to say instead: a homophone respelling or the
expansion of an abbreviation (`呼铁中院` -> `呼和浩特铁路运输中级法院`). Terms are matched at
jieba word boundaries, longest first, so a term is never replaced inside another word.
The offline voice says a pinyin entry's syllables as given (the g2p stage pins them); for the
edge voice it becomes a respelling in characters whose only reading is each syllable.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jieba

from audio_edition.errors import ConfigError
from audio_edition.profile import packaged_voices_file
from audio_edition.text.syllables import parse
from audio_edition.text.words import base_tokenizer, cut, tokenizer_with

MAX_TERM_LENGTH = 40  # characters; longer "terms" are sentences, not words
_ALNUM = re.compile(r"[0-9A-Za-z]")
_PINYIN_VALUE = re.compile(r"[\sA-Za-z0-9:üÜ]+")  # a value written in pinyin, not characters
_IDEOGRAPHS = re.compile("[\u4e00-\u9fa5]+")


@dataclass(frozen=True)
class Lexicon:
    """Terms and their replacements, applied to what an engine is given (never to `text`)."""

    entries: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for term, replacement in self.entries.items():
            problem = entry_problem(term, replacement)
            if problem:
                raise ConfigError(f"lexicon entry {term!r}: {problem}")
        object.__setattr__(self, "entries", MappingProxyType(dict(self.entries)))

    def __hash__(self) -> int:
        return hash(frozenset(self.entries.items()))

    @functools.cached_property
    def digest(self) -> str:
        """SHA-256 of the entries: what the text memo keys this lexicon's results by."""
        listed = json.dumps(sorted(self.entries.items()), ensure_ascii=False)
        return hashlib.sha256(listed.encode("utf-8")).hexdigest()

    @functools.cached_property
    def pinyin(self) -> Mapping[str, tuple[str, ...]]:
        """The pinyin entries: term -> one syllable per character (`hang2`, `lv4`)."""
        return MappingProxyType(
            {t: _syllables(r) for t, r in self.entries.items() if _is_pinyin(r)}
        )

    @functools.cached_property
    def respellings(self) -> Mapping[str, str]:
        """The entries that say a text instead of the term."""
        return MappingProxyType({t: r for t, r in self.entries.items() if not _is_pinyin(r)})

    def spelled(self) -> Lexicon:
        """This lexicon with every pinyin entry turned into a respelling (for the edge voice):
        each syllable written with a character whose only reading it is, checked by reading
        the respelling back."""
        if not self.pinyin:
            return self
        from audio_edition.text.respell import respell

        return Lexicon({t: respell(t, s) for t, s in self.pinyin.items()} | dict(self.respellings))

    def pinned(self, words: list[str]) -> list[tuple[int, tuple[str, ...]]]:
        """Where the pinyin entries stand in `words` (a cut of some text, with this lexicon's
        tokenizer): (character offset, syllables), longest terms first."""
        found = []
        offsets = [0]
        for word in words:
            offsets.append(offsets[-1] + len(word))
        index = 0
        while index < len(words):
            end = self._match_at(words, index, self.pinyin) if self.pinyin else None
            if end:
                found.append((offsets[index], self.pinyin["".join(words[index:end])]))
                index = end
            else:
                index += 1
        return found

    @functools.cached_property
    def tokenizer(self) -> jieba.Tokenizer:
        """jieba with every term in its dictionary, so terms segment as words."""
        return tokenizer_with(self.entries) if self.entries else base_tokenizer()

    @functools.cached_property
    def _longest(self) -> int:
        return max(map(len, self.entries), default=0)

    def apply(self, text: str) -> str:
        """`text` with every respelled term that stands as a word (or words) replaced, longest
        first (pinyin entries keep their term: the g2p stage reads it as they say)."""
        return self.apply_mapped(text)[0]

    def apply_mapped(self, text: str) -> tuple[str, list[int | None]]:
        """`apply`, and for each character of `text` its position in the result: None inside a
        term replaced by a text of another length (it is not read as itself)."""
        if not self.respellings:
            return text, list(range(len(text)))
        words = cut(text, self.tokenizer)
        out: list[str] = []
        where: list[int | None] = []
        size = 0
        index = 0
        while index < len(words):
            match = self._match_at(words, index, self.respellings)
            term = "".join(words[index:match]) if match else words[index]
            said = self.respellings[term] if match else term
            same = len(said) == len(term)
            where += [size + k if same else None for k in range(len(term))]
            out.append(said)
            size += len(said)
            index = match or index + 1
        return "".join(out), where

    def _match_at(self, words: list[str], start: int, terms: Mapping[str, Any]) -> int | None:
        """The end index of the longest run of words from `start` that is one of `terms` (and
        not part of a longer Latin word or number: SCI is not replaced in SCIENCE)."""
        before = words[start - 1][-1:] if start else ""
        best, joined = None, ""
        for end in range(start, len(words)):
            joined += words[end]
            if len(joined) > self._longest:
                break
            after = words[end + 1][:1] if end + 1 < len(words) else ""
            if joined in terms and not (_glued(before, joined[0]) or _glued(joined[-1], after)):
                best = end + 1
        return best


def entry_problem(term: str, replacement: Any) -> str | None:
    """What is wrong with a lexicon entry, or None."""
    if not isinstance(replacement, str):
        kind = type(replacement).__name__
        return f'write it as "term" = "replacement" (a quoted text), not a {kind}'
    if not replacement.strip():
        return "it needs a replacement text or pinyin"
    if not term.strip() or term != term.strip() or len(term) > MAX_TERM_LENGTH:
        return (
            f"the term must be a word of 1-{MAX_TERM_LENGTH} characters without surrounding spaces"
        )
    if not _is_pinyin(replacement):
        return None
    if not _IDEOGRAPHS.fullmatch(term):
        return "a pinyin entry's term must be Chinese characters only"
    written = replacement.split()
    if len(written) != len(term):
        return f"{len(term)} characters need {len(term)} syllables, not {len(written)}"
    bad = next((w for w in written if parse(w) is None), None)
    if bad is not None:
        return (
            f"{bad!r} is not a pinyin syllable with a tone digit 1-5 "
            '(write e.g. "hang2 zhang3"; lv4 or lü4 for ü)'
        )
    return None


def _is_pinyin(replacement: str) -> bool:
    return bool(_PINYIN_VALUE.fullmatch(replacement)) and any(c.isalpha() for c in replacement)


def _syllables(replacement: str) -> tuple[str, ...]:
    return tuple(parse(w) or w for w in replacement.split())


def _glued(left: str, right: str) -> bool:
    """True when two characters belong to one Latin word or number."""
    return bool(_ALNUM.match(left) and _ALNUM.match(right))


def default_lexicon_path() -> Path:
    """The editors' default lexicon: voices/lexicon.toml, installed with the package."""
    return packaged_voices_file("lexicon.toml")


def load_lexicon(path: Path | None = None) -> Lexicon:
    """Read a lexicon TOML file of `"term" = "replacement"` lines (the default one when None).

    The default file may be absent (an empty lexicon); a file named explicitly must exist.
    """
    explicit = path is not None
    path = Path(path) if explicit else default_lexicon_path()
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"lexicon {path} does not exist") from None
        return Lexicon()
    except UnicodeDecodeError:
        raise ConfigError(f"lexicon {path} is not UTF-8 text: save it as UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(
            f'lexicon {path} is not valid TOML ({e}); write each entry as "term" = "replacement"'
        ) from None
    return Lexicon(_entries(data, path, text))


def _entries(data: Mapping[str, Any], path: Path, text: str) -> dict[str, str]:
    for term, replacement in data.items():
        problem = entry_problem(term, replacement)
        if problem:
            raise ConfigError(f"lexicon {path} line {_line_of(term, text)}: {term!r}: {problem}")
    return dict(data)


def _line_of(term: str, text: str) -> int | str:
    """The line number of `term`'s entry in the file (TOML keys may be quoted or bare)."""
    for number, line in enumerate(text.splitlines(), start=1):
        key = line.split("=", 1)[0].strip().strip("'\"")
        if "=" in line and key == term:
            return number
    return "?"
