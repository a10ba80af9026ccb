"""Backfill with the local process pool: dated folders become episodes of one feed, a rerun
changes nothing, a corrected day is republished alone, a stopped backfill resumes, and a day
that cannot be synthesised costs only that day."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import check_podcast_feed

from audio_edition.build import pipeline
from audio_edition.build.backfill import NOT_A_DAY, find_days
from audio_edition.cli import cli
from audio_edition.config import load_config
from audio_edition.errors import SynthesisError
from audio_edition.model import Voice
from audio_edition.synth import SAMPLE_RATE
from audio_edition.synth.cache import write_wav
from audio_edition.synth.progress import Progress

BASE_URL = "https://news.example.org/audio"
DAYS = {  # date folder -> its pages, in file-name order
    "2024-03-15": {"01.md": "# 网红村\n\n马鞍山村现在是小有名气的网红村。\n"},
    "2024-03-16": {"01.md": "# 山葡萄\n\n村党组织动员村民种植山葡萄。\n"},
    "2024-03-17": {
        "02.md": "# 田间\n\n前来取经的农民们不由得发出感叹。\n",
        "10.md": "# 扫帚苗\n\n巴林左旗是全国最大的扫帚苗交易市场。\n",
    },
}
BROKEN = "故障"  # FailingEngine fails on every text with this word


def write_archive(folder: Path, days: dict[str, dict[str, str]] = DAYS) -> Path:
    for day, pages in days.items():
        (folder / day).mkdir(parents=True, exist_ok=True)
        for name, text in pages.items():
            (folder / day / name).write_text(text, encoding="utf-8")
    return folder


def run(*args: str, code: int = 0) -> dict | str:
    result = CliRunner().invoke(cli, ["backfill", *map(str, args)])
    assert result.exit_code == code, result.output
    return json.loads(result.output) if code == 0 and "--json" in args else result.output


def backfill(archive: Path, out: Path) -> dict:
    return run(archive, "-o", out, "--base-url", BASE_URL, "--json")


def files(out: Path) -> dict[Path, tuple[int, bytes]]:
    """Every published file (the cache aside): its modification time and its bytes."""
    return {
        p.relative_to(out): (p.stat().st_mtime_ns, p.read_bytes())
        for p in (out / "episodes").rglob("*")
        if p.is_file()
    }


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Three days backfilled with the real offline voice in the local pool."""
    folder = tmp_path_factory.mktemp("backfill")
    archive, out = write_archive(folder / "archive"), folder / "out"
    return archive, out, backfill(archive, out)


@pytest.fixture
def copy(published, tmp_path):
    """A copy of the published archive and output, to change."""
    archive, out, summary = published
    shutil.copytree(archive, tmp_path / "archive")
    shutil.copytree(out, tmp_path / "out")
    return tmp_path / "archive", tmp_path / "out", summary


def test_the_days_are_found_by_their_folders_names(tmp_path):
    archive = write_archive(tmp_path)
    (tmp_path / "2024-03-15" / ".DS_Store").write_bytes(b"\0")
    (tmp_path / ".git").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "2024-02-30").mkdir()
    (tmp_path / "2024-03-19").mkdir()
    days, skipped = find_days(archive)
    assert [d.date for d in days] == [
        dt.date(2024, 3, 15),
        dt.date(2024, 3, 16),
        dt.date(2024, 3, 17),
    ]
    assert [p.name for p in days[2].pages] == ["02.md", "10.md"]
    assert [p.name for p in days[0].pages] == ["01.md"]
    assert skipped == [
        ("2024-02-30", "not a date"),
        ("2024-03-19", "no pages in it"),
        ("notes.txt", NOT_A_DAY),
    ]


def test_each_day_becomes_an_episode_of_one_feed(published):
    archive, out, summary = published
    assert [e["date"] for e in summary["episodes"]] == list(DAYS)
    assert [e["articles"] for e in summary["episodes"]] == [
        ["网红村"],
        ["山葡萄"],
        ["田间", "扫帚苗"],
    ]
    assert summary["skipped"] == [] and summary["unchanged"] == []
    assert summary["synthesized"] > 0 and summary["reused"] == 0
    root = check_podcast_feed(out, load_config(None, base_url=BASE_URL))
    enclosures = {i.find("enclosure").get("url") for i in root.iter("item")}
    assert enclosures == {f"{BASE_URL}/{e['audio']}" for e in summary["episodes"]}
    for episode in summary["episodes"]:
        record = json.loads((out / episode["audio"]).with_name("episode.json").read_text("utf-8"))
        assert record["extra"]["fingerprint"]


def test_a_rerun_changes_nothing(copy):
    archive, out, first = copy
    before = files(out)
    again = backfill(archive, out)
    assert again["episodes"] == [] and again["synthesized"] == 0
    assert again["unchanged"] == list(DAYS)
    assert files(out) == before, "nothing was mastered or written again"


def test_a_corrected_day_is_republished_alone(copy):
    archive, out, first = copy
    page = archive / "2024-03-16" / "01.md"
    page.write_text("# 山葡萄\n\n村党组织动员村民种植山葡萄和枸杞。\n", encoding="utf-8")
    again = backfill(archive, out)
    (episode,) = again["episodes"]
    assert episode["date"] == "2024-03-16" and again["synthesized"] == 1
    assert episode["guid"] == first["episodes"][1]["guid"]
    assert episode["audio"] != first["episodes"][1]["audio"]
    assert not (out / first["episodes"][1]["audio"]).exists(), "the superseded audio is gone"
    assert again["unchanged"] == ["2024-03-15", "2024-03-17"]


def test_a_stopped_backfill_resumes_without_synthesising_again(copy):
    archive, out, first = copy
    lost = first["episodes"][2]
    mp3 = (out / lost["audio"]).read_bytes()
    shutil.rmtree((out / lost["audio"]).parent)  # as if stopped before publishing that day
    again = backfill(archive, out)
    assert [e["date"] for e in again["episodes"]] == [lost["date"]]
    assert again["synthesized"] == 0 and again["reused"] > 0
    assert (out / lost["audio"]).read_bytes() == mp3


def test_a_day_whose_record_stands_but_a_file_is_lost_is_published_again(copy):
    archive, out, first = copy
    lost = first["episodes"][0]
    mp3 = (out / lost["audio"]).read_bytes()
    (out / lost["audio"]).unlink()  # its episode.json still names it
    again = backfill(archive, out)
    assert [e["date"] for e in again["episodes"]] == [lost["date"]]
    assert again["unchanged"] == ["2024-03-16", "2024-03-17"] and again["synthesized"] == 0
    assert (out / lost["audio"]).read_bytes() == mp3


class FailingEngine:
    """Writes a tone as long as the text takes to say; fails on every text with BROKEN."""

    name = "offline"
    default_concurrency = 4

    def identity(self, voice: Voice) -> str:
        return f"tone/{voice.name}"

    def check_voices(self, voices: Iterable[Voice]) -> None:
        pass

    def warm_up(self) -> None:
        pass

    async def synthesize(self, text: str, voice: Voice, dest: Path) -> None:
        await asyncio.sleep(0)
        if BROKEN in text:
            raise SynthesisError(f"the tone voice failed on {text!r}")
        frames = int(0.22 * SAMPLE_RATE * len(text))
        write_wav(dest, 0.2 * np.sin(np.arange(frames) * 0.05), SAMPLE_RATE)

    def close(self) -> None:
        pass


def test_a_day_that_cannot_be_synthesised_costs_only_that_day(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "create_engine", lambda name, cluster=None: FailingEngine())
    days = {**DAYS, "2024-03-16": {"01.md": f"# 山葡萄\n\n村党组织{BROKEN}动员村民。\n"}}
    archive, out = write_archive(tmp_path / "archive", days), tmp_path / "out"
    output = run(archive, "-o", out, "--base-url", BASE_URL, code=1)
    (line,) = output.strip().splitlines()
    assert f"村党组织{BROKEN}动员村民" in line and "running the build again resumes" in line
    feed = check_podcast_feed(out, load_config(None, base_url=BASE_URL))
    dates = sorted(i.findtext("link").split("/")[-2] for i in feed.iter("item"))
    assert dates == ["2024-03-15", "2024-03-17"]

    write_archive(archive, DAYS)  # the day is fixed
    again = backfill(archive, out)
    assert [e["date"] for e in again["episodes"]] == ["2024-03-16"]
    assert again["unchanged"] == ["2024-03-15", "2024-03-17"]


def test_a_day_whose_pages_cannot_be_read_is_reported_and_the_rest_published(tmp_path):
    archive = write_archive(tmp_path / "archive", {"2024-03-15": DAYS["2024-03-15"]})
    (archive / "2024-03-14").mkdir()
    (archive / "2024-03-14" / "01.txt").write_bytes(b"\x00\x01 scanned image")
    output = run(archive, "-o", tmp_path / "out")
    lines = output.splitlines()
    assert lines[0].startswith("skipped 2024-03-14: ") and "01.txt" in lines[0]
    assert any("2024-03-15" in line and ".mp3" in line for line in lines[1:])


@pytest.mark.parametrize("make", ["missing", "no days", "a file"])
def test_an_archive_without_days_is_one_line_and_exit_code_2(make, tmp_path):
    archive = tmp_path / "archive"
    if make == "no days":
        archive.mkdir()
        (archive / "notes").mkdir()
    elif make == "a file":
        archive.write_text("x")
    output = run(archive, "-o", tmp_path / "out", code=2)
    (line,) = output.strip().splitlines()
    assert str(archive) in line and "Traceback" not in output
    assert not (tmp_path / "out").exists()


def test_a_backfill_draws_one_line_of_editions_and_clips(tmp_path, monkeypatch, capsys):
    from audio_edition.build.backfill import BackfillOptions
    from audio_edition.build.backfill import backfill as run_backfill

    monkeypatch.setattr(pipeline, "create_engine", lambda name, cluster=None: FailingEngine())
    archive = write_archive(tmp_path / "archive")
    summary = run_backfill(BackfillOptions(archive, out_dir=tmp_path / "out", progress=True))
    clips = summary.build.synthesized
    final = capsys.readouterr().err.splitlines()[-1].split("\r")[-1]
    assert final.startswith("editions [") and "3/3 published" in final
    assert f"] {clips}/{clips} clips (0 cached, {clips} new)" in final and clips > 6


def test_the_progress_line_counts_editions_and_clips():
    bar = Progress(enabled=False, editions=3)
    bar.start(total=10, cached=4)
    bar.advance()
    bar.edition_published()
    line = bar.line()
    assert line.startswith("editions [####--------] 1/3 published, clips [")
    assert "5/10 clips (4 cached, 1 new)" in line
