"""Property test of the page parser: random pages laid out from known stories (tests/pagegen.py)
must parse back exactly: every article, headline, byline, column label and paragraph.

PAGES pages per run (seeds FIRST_SEED...), reproducible on any machine. Set the environment
variables AUDIO_EDITION_PAGES and AUDIO_EDITION_FIRST_SEED to run more or other pages, e.g.
`AUDIO_EDITION_PAGES=5000 .venv/bin/pytest tests/test_pagegen.py`.
"""

from __future__ import annotations

import collections
import difflib
import json
import os

import pytest
from pagegen import generate

from audio_edition.ingest import parse_page
from audio_edition.ingest.encoding import decode

PAGES = int(os.environ.get("AUDIO_EDITION_PAGES", "300"))
FIRST_SEED = int(os.environ.get("AUDIO_EDITION_FIRST_SEED", "0"))
SEEDS = range(FIRST_SEED, FIRST_SEED + PAGES)
# The hard cases the page parser must get right, and the least share of pages showing each.
HARD_CASES = {
    "headlines before and after on one page": 0.4,
    "two articles' texts meet with only a blank line between": 0.1,
    "label right after a headline": 0.15,
    "label right before a commentary": 0.05,
    "label right before a body": 0.05,
    "label after an article's last section": 0.03,
    "headline split by a blank line": 0.1,
    "photo titles before their captions": 0.2,
    "encoding gb18030": 0.2,
    "newline '\\r\\n'": 0.2,
    "indent kept": 0.1,
}


def _json(edition) -> list[str]:
    return json.dumps(edition.to_dict(), ensure_ascii=False, indent=1).splitlines()


@pytest.fixture(scope="module")
def pages():
    return [generate(seed) for seed in SEEDS]


def test_generated_pages_parse_back_exactly(pages):
    failed = []
    for page in pages:
        parsed = parse_page(decode(page.data))
        if (parsed.title, parsed.articles) != (page.expected.title, page.expected.articles):
            failed.append((page.seed, parsed))
    if failed:
        seed, parsed = failed[0]
        diff = difflib.unified_diff(
            _json(pages[seed - FIRST_SEED].expected),
            _json(parsed),
            "expected",
            "parsed",
            n=2,
            lineterm="",
        )
        pytest.fail(
            f"{len(failed)} of {len(pages)} pages parse wrong, seeds {[s for s, _ in failed][:20]}"
            f"; the first (print it: python tests/pagegen.py {seed}):\n" + "\n".join(diff)
        )


def test_the_generator_makes_the_hard_cases(pages):
    seen = collections.Counter(feature for page in pages for feature in page.features)
    shares = {case: seen[case] / len(pages) for case in HARD_CASES}
    assert all(shares[case] >= least for case, least in HARD_CASES.items()), shares


def test_a_seed_makes_the_same_page_every_time():
    first, again = generate(12345), generate(12345)
    assert (first.data, first.expected) == (again.data, again.expected)
    assert generate(12346).data != first.data


def test_pages_are_laid_out_from_the_stories_as_they_are(pages):
    from pagegen import PHOTOS, TEXTS

    stories = {(a.kind, a.headline, a.byline, a.sections) for a in [*TEXTS, *PHOTOS]}
    for page in pages[:50]:
        for article in page.expected.articles:
            assert (article.kind, article.headline, article.byline, article.sections) in stories
