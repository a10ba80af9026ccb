"""The editors' pronunciation lexicon (voices/lexicon.toml): a term and what to say instead.

A replacement is a homophone respelling for a word the voices get wrong (`重拾` -> `崇拾`) or the
expansion of an abbreviation (`呼铁中院` -> `呼和浩特铁路运输中级法院`). Terms are matched at
jieba word boundaries, longest first, so a term is never replaced inside another word.
"""

from __future__ import annotations

import functools
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
from audio_edition.text.words import base_tokenizer, cut, tokenizer_with

MAX_TERM_LENGTH = 40  # characters; longer "terms" are sentences, not words
_ALNUM = re.compile(r"[0-9A-Za-z]")


@dataclass(frozen=True)
class Lexicon:
    """Terms and their replacements, applied to what an engine is given (never to `text`)."""

    entries: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for term, replacement in self.entries.items():
            if not isinstance(replacement, str) or not replacement.strip():
                raise ConfigError(f"lexicon term {term!r} needs a replacement text")
            if not term.strip() or term != term.strip() or len(term) > MAX_TERM_LENGTH:
                raise ConfigError(
                    f"lexicon term {term!r} must be a word of 1-{MAX_TERM_LENGTH} characters "
                    "without surrounding spaces"
                )
        object.__setattr__(self, "entries", MappingProxyType(dict(self.entries)))

    def __hash__(self) -> int:
        return hash(frozenset(self.entries.items()))

    @functools.cached_property
    def tokenizer(self) -> jieba.Tokenizer:
        """jieba with every term in its dictionary, so terms segment as words."""
        return tokenizer_with(self.entries) if self.entries else base_tokenizer()

    @functools.cached_property
    def _longest(self) -> int:
        return max(map(len, self.entries), default=0)

    def apply(self, text: str) -> str:
        """`text` with every term that stands as a word (or words) replaced, longest first."""
        if not self.entries:
            return text
        words = cut(text, self.tokenizer)
        out: list[str] = []
        index = 0
        while index < len(words):
            match = self._match_at(words, index)
            if match:
                out.append(self.entries["".join(words[index:match])])
                index = match
            else:
                out.append(words[index])
                index += 1
        return "".join(out)

    def _match_at(self, words: list[str], start: int) -> int | None:
        """The end index of the longest run of words from `start` that is a term (and not part
        of a longer Latin word or number: SCI is not replaced in SCIENCE)."""
        before = words[start - 1][-1:] if start else ""
        best, joined = None, ""
        for end in range(start, len(words)):
            joined += words[end]
            if len(joined) > self._longest:
                break
            after = words[end + 1][:1] if end + 1 < len(words) else ""
            if joined in self.entries and not (
                _glued(before, joined[0]) or _glued(joined[-1], after)
            ):
                best = end + 1
        return best


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
        data = tomllib.loads(path.read_text(encoding="utf-8"))
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
    return Lexicon(_entries(data, path))


def _entries(data: Mapping[str, Any], path: Path) -> dict[str, str]:
    entries = {}
    for term, replacement in data.items():
        if not isinstance(replacement, str):
            raise ConfigError(
                f'lexicon {path}: {term!r} must be "term" = "replacement" (a quoted text), '
                f"not a {type(replacement).__name__}"
            )
        entries[term] = replacement
    return entries
