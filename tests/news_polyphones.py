"""The news check set of polyphone readings (fixtures/news_polyphones.tsv), read for the tests
and for bench/bench_pinyin.py.

One sentence a line: its source (`page`: the sample page, `written`: articles we wrote), a tab,
then the sentence with a checked reading after each marked character: `行[hang2]长`.
"""

from __future__ import annotations

import re
from pathlib import Path

NEWS_POLYPHONES = Path(__file__).parent / "fixtures" / "news_polyphones.tsv"
SOURCES = ("page", "written")


def news_check_set(path: Path = NEWS_POLYPHONES) -> list[tuple[str, list[tuple[int, str]]]]:
    """(sentence, [(index of a marked character, its reading), ...]) per line."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        source, marked = line.split("\t")
        if source not in SOURCES:
            raise ValueError(f"{path.name}:{number}: source {source!r} is not one of {SOURCES}")
        text, points = "", []
        for piece in re.split(r"(\[[a-z]+[1-5]\])", marked):
            if piece.startswith("["):
                points.append((len(text) - 1, piece[1:-1]))
            else:
                text += piece
        rows.append((text, points))
    return rows
