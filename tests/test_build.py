"""End to end: an edition built with the real offline voice, rebuilt, corrected and planned."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import feedparser
import imageio_ffmpeg
import numpy as np
import pytest
from click.testing import CliRunner

from audio_edition.build import BuildOptions, prepare
from audio_edition.cli import cli
from audio_edition.estimate import estimated_ms
from audio_edition.ingest import read_edition
from audio_edition.model import EditionInfo
from audio_edition.profile import load_profile
from audio_edition.script import build_script
from audio_edition.synth.cache import ClipCache
from audio_edition.synth.offline import OfflineEngine
from audio_edition.text.lexicon import load_lexicon

BASE_URL = "https://news.example.org/audio"
DATE = "2026-11-29"
ORIGINAL = "半年来，她制作的工艺扫帚销量达到1500余件，累计收益3万余元。"
CORRECTED = "半年来，她制作的工艺扫帚销量达到1600余件，累计收益4万余元。"
PAGE = """# 小小扫帚苗 致富大产业

□本报记者 白丹

在快手短视频平台上，一位“笤帚大妈”吸引了两万多粉丝的关注。{sentence}

巴林左旗是全国最大的扫帚苗交易市场。

# 做在田间 让农民甜在心头

□见习记者 郝佳丽

“面对面地为我们农民服务，感觉特别贴心。”前来取经的农民们不由得发出感叹。
"""


def write_page(folder: Path, sentence: str = ORIGINAL) -> Path:
    page = folder / "page.md"
    page.write_text(PAGE.format(sentence=sentence), encoding="utf-8")
    return page


def build(page: Path, out: Path, *extra: str) -> dict:
    args = ["build", str(page), "-o", str(out), "--date", DATE, "--base-url", BASE_URL, "--json"]
    result = CliRunner().invoke(cli, [*args, *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def local_file(out: Path, url: str) -> Path:
    assert url.startswith(BASE_URL + "/"), url
    return out / url.removeprefix(BASE_URL + "/")


def decode(mp3: Path) -> np.ndarray:
    pcm = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(mp3),
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            "24000",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(pcm, dtype=np.int16).astype(np.float64)


def corrected_clip(page: Path, out: Path) -> Path:
    """The cached clip of the (first part of the) corrected sentence."""
    edition = read_edition([page])
    info = EditionInfo(publication="本报", date=dt.date(2026, 11, 29), title="测试")
    script = build_script(edition, info, load_profile(), "offline", load_lexicon())
    segment = next(s for s in script.segments if "1600" in s.text)
    key = ClipCache.key(OfflineEngine().identity(segment.voice), segment.utterance)
    return ClipCache(out / ".cache" / "clips").path(key)


def vtt_cues(path: Path) -> list[tuple[float, float, str]]:
    def seconds(stamp: str) -> float:
        hours, minutes, rest = (["0"] + stamp.split(":"))[-3:]
        return int(hours) * 3600 + int(minutes) * 60 + float(rest)

    cues = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = block.strip().splitlines()
        for i, line in enumerate(lines):
            if "-->" in line:
                start, end = (part.split()[0] for part in line.split("-->"))
                cues.append((seconds(start), seconds(end), "".join(lines[i + 1 :])))
    return cues


@pytest.fixture(scope="module")
def first_build(tmp_path_factory):
    folder = tmp_path_factory.mktemp("edition")
    out = folder / "out"
    page = write_page(folder)
    return page, out, build(page, out)


def test_the_feed_describes_the_episode_exactly(first_build):
    _, out, summary = first_build
    assert summary["synthesized"] > 5 and summary["reused"] == 0
    assert set(summary["timings"]) >= {"ingest", "script", "synth", "master", "publish"}
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    (entry,) = feed.entries
    (enclosure,) = entry.enclosures
    assert enclosure.type == "audio/mpeg"
    mp3 = local_file(out, enclosure.href)
    assert int(enclosure.length) == mp3.stat().st_size
    assert entry.id == summary["episodes"][0]["guid"]


def test_the_intro_announces_lengths_close_to_what_is_heard(first_build):
    """今日要目's lengths are estimated before synthesis; with the real offline voice each
    article chapter's estimate comes within 10 % (or 2 s) of its measured length."""
    page, out, _ = first_build
    options = BuildOptions(inputs=(page,), date=dt.date.fromisoformat(DATE), out_dir=out)
    ((_, script),) = prepare(options).parts
    record = json.loads((out / "episodes" / DATE / "episode.json").read_text(encoding="utf-8"))
    heard = json.loads((out / record["chapters_file"]).read_text(encoding="utf-8"))["chapters"]
    assert [c["title"] for c in heard] == [c.title for c in script.chapters]
    for chapter, measured in zip(script.chapters[1:-1], heard[1:-1], strict=True):
        measured_ms = (measured["endTime"] - measured["startTime"]) * 1000
        assert abs(estimated_ms(chapter) - measured_ms) <= max(0.1 * measured_ms, 2000)
    intro = record["extra"]["sentences"]["本期导读"]
    assert intro[-2:] == [
        "小小扫帚苗 致富大产业，不到1分钟。",
        "做在田间 让农民甜在心头，不到1分钟。",
    ]


def test_rebuilding_unchanged_input_synthesises_nothing(first_build, tmp_path):
    page, out, summary = first_build
    again = build(page, out)
    assert again["synthesized"] == 0 and again["reused"] == summary["synthesized"]
    assert again["episodes"][0]["audio"] == summary["episodes"][0]["audio"]


def test_a_correction_resynthesises_one_sentence_and_keeps_the_identity(tmp_path):
    out = tmp_path / "out"
    before = build(write_page(tmp_path), out)
    after = build(write_page(tmp_path, CORRECTED), out, "--note", "更正：销量和收益数字有误。")
    assert after["synthesized"] in (1, 2)  # two if the sentence is cut in two for the voice
    old, new = before["episodes"][0], after["episodes"][0]
    assert new["guid"] == old["guid"]
    assert new["audio"] != old["audio"]
    assert not (out / old["audio"]).exists(), "the superseded audio is removed"

    feed = feedparser.parse((out / "feed.xml").read_bytes())
    (entry,) = feed.entries
    assert entry.id == old["guid"]
    mp3 = local_file(out, entry.enclosures[0].href)
    assert mp3 == out / new["audio"] and int(entry.enclosures[0].length) == mp3.stat().st_size
    assert "更正" in entry.description

    episode = json.loads((mp3.parent / "episode.json").read_text(encoding="utf-8"))
    cues = vtt_cues(out / episode["transcript_file"])
    corrected = [c for c in cues if "1600" in c[2]]
    assert corrected and not any("1500" in c[2] for c in cues)
    start = corrected[0][0]
    # The corrected words are heard at the time the transcript gives: the new clip's
    # waveform matches the episode's audio there (allowing for the MP3 encoder delay).
    clip = decode(corrected_clip(tmp_path / "page.md", out))
    audio = decode(mp3)
    begin = int(start * 24000)
    window = audio[max(0, begin - 2400) : begin + len(clip) + 2400]
    correlation = np.correlate(window, clip, mode="valid")
    norm = np.linalg.norm(clip) * np.sqrt(np.convolve(window**2, np.ones(len(clip)), mode="valid"))
    assert (correlation / norm).max() > 0.8


def test_plan_tells_what_changed_without_touching_anything(tmp_path):
    out = tmp_path / "out"
    build(write_page(tmp_path), out)
    page = write_page(tmp_path, CORRECTED)
    snapshot = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    result = CliRunner().invoke(cli, ["plan", str(page), "-o", str(out), "--date", DATE, "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["to_synthesize"] in (1, 2)
    (episode,) = plan["episodes"]
    assert not episode["new"]
    changed = [s for sentences in episode["changed"].values() for s in sentences]
    assert any("1600" in s for s in changed) and len(changed) in (1, 2)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == snapshot


def test_split_articles_makes_one_episode_per_article(tmp_path):
    out = tmp_path / "out"
    summary = build(write_page(tmp_path), out, "--split", "articles")
    first, second = summary["episodes"]
    assert first["articles"] == ["小小扫帚苗 致富大产业"]
    assert second["articles"] == ["做在田间 让农民甜在心头"]
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo and len(feed.entries) == 2
    assert len({e.id for e in feed.entries}) == 2
    hrefs = {e.enclosures[0].href for e in feed.entries}
    assert len(hrefs) == 2
    for href in hrefs:
        assert local_file(out, href).is_file()
