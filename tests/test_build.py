"""End to end: an edition built with the real offline voice, rebuilt, corrected and planned."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from pathlib import Path

import feedparser
import imageio_ffmpeg
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import (
    BUILD_BASE_URL,
    ToneEngine,
    feed_files,
    speech_pace,
    tone_build,
    write_build_page,
)

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


@pytest.mark.voice
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


@pytest.mark.voice
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


@pytest.mark.voice
def test_rebuilding_unchanged_input_synthesises_nothing(first_build, tmp_path):
    page, out, summary = first_build
    again = build(page, out)
    assert again["synthesized"] == 0 and again["reused"] == summary["synthesized"]
    assert again["episodes"][0]["audio"] == summary["episodes"][0]["audio"]


@pytest.mark.voice
def test_a_correction_resynthesises_one_sentence_and_keeps_the_identity(tmp_path):
    out = tmp_path / "out"
    before = build(write_page(tmp_path), out)
    after = build(write_page(tmp_path, CORRECTED), out, "--note", "更正：销量和收益数字有误。")
    assert after["synthesized"] == 1  # 29 syllables: one segment, under the offline cut of 50
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


@pytest.mark.voice
def test_plan_tells_what_changed_without_touching_anything(tmp_path):
    out = tmp_path / "out"
    build(write_page(tmp_path), out)
    page = write_page(tmp_path, CORRECTED)
    snapshot = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    result = CliRunner().invoke(cli, ["plan", str(page), "-o", str(out), "--date", DATE, "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["to_synthesize"] == 1
    (episode,) = plan["episodes"]
    assert not episode["new"]
    changed = [s for sentences in episode["changed"].values() for s in sentences]
    assert changed == [CORRECTED]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == snapshot
    # a record written before episodes kept their sentences: every sentence is news
    record_path = out / "episodes" / DATE / "episode.json"
    record = json.loads(record_path.read_text(encoding="utf-8"))
    before = {s for sentences in record["extra"].pop("sentences").values() for s in sentences}
    record_path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(cli, ["plan", str(page), "-o", str(out), "--date", DATE, "--json"])
    assert result.exit_code == 0, result.output
    (episode,) = json.loads(result.output)["episodes"]
    assert not episode["new"]
    changed = {s for sentences in episode["changed"].values() for s in sentences}
    assert ORIGINAL in before and changed == before - {ORIGINAL} | {CORRECTED}


@pytest.mark.voice
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


# --- contracts of a build, with the tone engine (conftest.tone_build): names, guids, suspects ---


def test_file_names_are_versioned_by_the_audio_content(tmp_path):
    """OUT/episodes/<date>/<date>-<v>.mp3, transcript-<v>.vtt, chapters-<v>.json and the talking
    books <date>-<v>.epub and <date>-<v>-daisy.zip, where v is the first 10 hex digits of the
    MP3's sha256 (apps refetch audio when its URL changes)."""
    out = tmp_path / "out"
    code, output = tone_build(write_build_page(tmp_path), out)
    assert code == 0, output
    folder = out / "episodes" / "2026-11-29"
    (mp3,) = folder.glob("*.mp3")
    version = hashlib.sha256(mp3.read_bytes()).hexdigest()[:10]
    assert mp3.name == f"2026-11-29-{version}.mp3"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [mp3.name, f"transcript-{version}.vtt", f"chapters-{version}.json"]
        + [f"2026-11-29-{version}.epub", f"2026-11-29-{version}-daisy.zip"]
        + ["episode.json", "index.html"]
    )
    record = json.loads((folder / "episode.json").read_text(encoding="utf-8"))
    assert record["audio_file"] == f"episodes/2026-11-29/2026-11-29-{version}.mp3"
    assert record["transcript_file"] == f"episodes/2026-11-29/transcript-{version}.vtt"
    assert record["chapters_file"] == f"episodes/2026-11-29/chapters-{version}.json"
    assert record["epub_file"] == f"episodes/2026-11-29/2026-11-29-{version}.epub"
    assert record["daisy_file"] == f"episodes/2026-11-29/2026-11-29-{version}-daisy.zip"
    assert json.loads(output)["episodes"][0]["audio"] == record["audio_file"]
    assert json.loads(output)["episodes"][0]["bytes"] == record["audio_size"] == mp3.stat().st_size
    assert dt.datetime.fromisoformat(record["built_at"]).tzinfo is not None
    chapters = {"本期导读", "小小扫帚苗 致富大产业", "做在田间 让农民甜在心头", "结束语"}
    assert set(record["extra"]["sentences"]) == chapters  # what `plan` compares with
    files = feed_files(out)
    assert f"{BUILD_BASE_URL}/episodes/2026-11-29/2026-11-29-{version}.mp3" in files


def test_the_guid_is_the_worked_example_and_survives_a_move(tmp_path):
    """The guid of the first build (publication 本报, 2026-11-29, feed at
    https://news.example.org/audio/feed.xml) is, by hand:
    uuid5(uuid5(ead4c236-bf58-58c6-a2c6-a6b28d128cb6, "news.example.org/audio/feed.xml"),
    "本报|2026-11-29|"). Moved to another address and corrected, the edition keeps it; a new
    output directory at the new address derives the new address's guid."""
    first = "0f5364f5-ef9f-505e-a7db-2ea6d52fcc69"
    moved = "87f328bc-cb31-5d91-b08e-914b7bab0514"  # the same from mirror.example.net/audio
    out, page = tmp_path / "out", write_build_page(tmp_path)
    code, output = tone_build(page, out)
    assert code == 0, output
    assert json.loads(output)["episodes"][0]["guid"] == first
    mirror = "https://mirror.example.net/audio"
    page = write_build_page(tmp_path, extra="新建加工厂四十家。")
    code, output = tone_build(page, out, "--base-url", mirror, "--note", "更正：加工厂数量。")
    assert code == 0, output
    assert json.loads(output)["episodes"][0]["guid"] == first
    item = feedparser.parse((out / "feed.xml").read_bytes()).entries[0]
    assert item.id == first and item.enclosures[0].href.startswith(mirror + "/episodes/")
    assert "更正说明：更正：加工厂数量。" in item.description  # the editor's note
    code, output = tone_build(page, tmp_path / "elsewhere", "--base-url", mirror)
    assert code == 0, output
    assert json.loads(output)["episodes"][0]["guid"] == moved


def test_split_articles_gives_each_episode_its_own_clips(tmp_path):
    """Three articles, three episodes, each laid out from its own clips: the tone engine makes
    a clip as long as its text takes to say, so a clip of another article would show."""
    sentences = [
        "短句在此。",
        "这是一个长一些的句子用来测量。",
        "这是第三篇文章里最长的一个句子，它比前两篇文章的句子都要长很多。",
    ]
    page = tmp_path / "page.md"
    page.write_text(
        "".join(f"# 第{n}篇\n\n{s}\n\n" for n, s in zip("一二三", sentences, strict=True)),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, output = tone_build(page, out, "--split", "articles")
    assert code == 0, output
    episodes = json.loads(output)["episodes"]
    assert len(episodes) == 3
    for episode, sentence in zip(episodes, sentences, strict=True):
        (transcript,) = (out / episode["audio"]).parent.glob("transcript-*.vtt")
        ((start, end),) = [(a, b) for a, b, text in vtt_cues(transcript) if text == sentence]
        assert end - start == pytest.approx(speech_pace(sentence), abs=0.3), sentence


def test_the_concurrency_asked_for_bounds_the_requests_in_flight(tmp_path):
    """--concurrency reaches the runner (the tone engine's own default is 4); the summary names
    the feed it wrote."""
    for asked, most in (("1", 1), ("3", 3), (None, 4)):
        engine = ToneEngine(seconds=speech_pace, delay_s=0.05)
        folder = tmp_path / (asked or "default")
        folder.mkdir()
        extra = ("--concurrency", asked) if asked else ()
        code, output = tone_build(write_build_page(folder), folder / "out", *extra, engine=engine)
        assert code == 0, output
        assert engine.max_in_flight == most
        assert json.loads(output)["feed"] == str(folder / "out" / "feed.xml")


def test_a_library_build_draws_its_progress_when_asked(tmp_path, monkeypatch, capsys):
    from audio_edition.build import build as run_build

    engine = ToneEngine(seconds=speech_pace)
    monkeypatch.setattr(
        "audio_edition.build.pipeline.create_engine", lambda name, cluster=None: engine
    )
    page, out = write_build_page(tmp_path), tmp_path / "out"
    summary = run_build(BuildOptions(inputs=(page,), out_dir=out, progress=True))
    final = capsys.readouterr().err.splitlines()[-1].split("\r")[-1]
    made = summary.synthesized
    assert final.startswith("synthesis [") and f"] {made}/{made} clips (0 cached" in final


def test_the_voice_warms_up_once_the_input_is_read(tmp_path):
    engine = ToneEngine()
    empty = tmp_path / "empty.md"
    empty.write_text("\n", encoding="utf-8")
    code, output = tone_build(empty, tmp_path / "out", engine=engine)
    assert code == 2 and "is empty" in output and not engine.warmed_up, output
    code, output = tone_build(write_build_page(tmp_path), tmp_path / "out", engine=engine)
    assert code == 0 and engine.warmed_up, output


def test_a_clip_that_stays_implausible_is_retried_then_reported_suspect(tmp_path, monkeypatch):
    """The first utterance's clip is always 0.05 s: it is retried, kept, and its spoken text
    named under "suspect"; every other utterance is made once."""
    from audio_edition.synth.runner import RetryPolicy

    monkeypatch.setattr(RetryPolicy, "delay", lambda self, attempt: 0.0)

    def seconds(text: str) -> float:
        return 0.05 if text == next(iter(engine.attempts)) else speech_pace(text)

    engine = ToneEngine(seconds=seconds)
    code, output = tone_build(write_build_page(tmp_path), tmp_path / "out", engine=engine)
    assert code == 0, output
    summary = json.loads(output)
    bad, *others = engine.attempts  # utterances: the spoken text, a tab, its syllables
    assert summary["suspect"] == [bad.split("\t")[0]] and summary["retried"] == 4
    assert engine.attempts[bad] == 5 and others
    assert all(engine.attempts[text] == 1 for text in others)


def test_the_configured_cover_is_in_the_mp3_and_the_stages_are_timed(tmp_path):
    from mutagen.id3 import ID3

    from audio_edition.master.cover import default_cover

    cover = tmp_path / "cover.png"
    cover.write_bytes(default_cover("另一份报纸"))  # a valid 1400 px PNG, not this paper's cover
    config = tmp_path / "audio-edition.toml"
    config.write_text('artwork = "cover.png"\n', encoding="utf-8")
    out = tmp_path / "out"
    code, output = tone_build(write_build_page(tmp_path), out, "--config", str(config))
    assert code == 0, output
    summary = json.loads(output)
    stages = {"ingest", "script", "synth", "master", "books", "publish"}
    assert set(summary["timings"]) == stages
    (apic,) = ID3(out / summary["episodes"][0]["audio"]).getall("APIC")
    assert apic.data == cover.read_bytes()
