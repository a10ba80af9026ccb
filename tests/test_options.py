"""What a build is asked and what it reports: `build --json` and `plan --json` are read by
scripts, so every field's name and form is pinned here, written out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from audio_edition.build.options import BuildOptions, BuildSummary, Plan, PlannedEpisode
from audio_edition.model import Episode, ParseWarning
from audio_edition.synth.runner import SynthReport

EPISODE = Episode(
    guid="urn:uuid:0f5b1c9e-3d4a-5b6c-8d7e-9f0a1b2c3d4e",
    edition_key="chifeng-ribao-2026-12-02",
    date=dt.date(2026, 12, 2),
    title="12月2日 星期三",
    audio_file="episodes/2026-12-02/2026-12-02-f99ae2e1b0.mp3",
    audio_size=8_541_317,
    duration_ms=1_419_227,
    transcript_file="episodes/2026-12-02/2026-12-02.vtt",
    chapters_file="episodes/2026-12-02/2026-12-02.chapters.json",
    page_file="episodes/2026-12-02/index.html",
    articles=("第一篇", "第二篇"),
)
WARNING = ParseWarning(213, "paragraph break decided by line length alone", "page.txt")


def test_build_json_names_every_field():
    report = SynthReport(
        clips=(), synthesized=3, reused=204, retried=1, fallbacks=("嗯。",), suspect=("啊。",)
    )
    timings = {"ingest": 0.01234, "master": 12.3456}
    summary = BuildSummary.of((EPISODE,), Path("output/feed.xml"), report, timings, (WARNING,))
    assert summary.to_dict() == {
        "episodes": [
            {
                "guid": "urn:uuid:0f5b1c9e-3d4a-5b6c-8d7e-9f0a1b2c3d4e",
                "title": "12月2日 星期三",
                "date": "2026-12-02",
                "audio": "episodes/2026-12-02/2026-12-02-f99ae2e1b0.mp3",
                "bytes": 8_541_317,
                "duration_s": 1419.227,
                "articles": ["第一篇", "第二篇"],
            }
        ],
        "feed": "output/feed.xml",
        "synthesized": 3,
        "reused": 204,
        "retried": 1,
        "fallbacks": ["嗯。"],
        "suspect": ["啊。"],
        "timings": {"ingest": 0.012, "master": 12.346},
        "warnings": [
            {
                "source": "page.txt",
                "line": 213,
                "message": "paragraph break decided by line length alone",
            }
        ],
    }


def test_plan_json_names_every_field():
    plan = Plan(
        total_clips=207,
        to_synthesize=2,
        episodes=(
            PlannedEpisode(
                title="12月2日 星期三",
                is_new=False,
                changed={"第一篇": ["累计收益 4万余元。"]},
                removed=["第三篇"],
            ),
        ),
    )
    assert plan.to_dict() == {
        "total_clips": 207,
        "to_synthesize": 2,
        "episodes": [
            {
                "title": "12月2日 星期三",
                "new": False,
                "changed": {"第一篇": ["累计收益 4万余元。"]},
                "removed": ["第三篇"],
            }
        ],
    }


def test_build_options_refuse_what_no_build_can_do():
    with pytest.raises(ValueError, match="^at least one input file is required$"):
        BuildOptions(inputs=())
    with pytest.raises(ValueError, match=r"^split must be one of \('edition', 'articles'\)$"):
        BuildOptions(inputs=(Path("page.txt"),), split="pages")
    assert BuildOptions(inputs=(Path("page.txt"),), split="articles").split == "articles"
