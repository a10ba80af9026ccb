"""Fault injection: bad input, bad config, broken tools, concurrent and killed builds.

Every failure must be one clear line with a non-zero exit, and must leave the previous good
output intact; the next build must complete. The commit sequence of a build is broken at each
of its steps in turn: a step raising in this process, and a real SIGKILL of a build process
stopped at a chosen point (tests/crashpoint.py), synchronised by a marker file it writes there.
"""

from __future__ import annotations

import errno
import fcntl
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import BUILD_BASE_URL, BUILD_DATE, feed_files, tone_build, write_build_page

from audio_edition.cli import cli
from audio_edition.synth.cache import write_wav

ROOT = Path(__file__).resolve().parent.parent

DATE = "2026-11-29"
BASE_URL = "http://127.0.0.1:8000"
PAGE = """# 小小扫帚苗 致富大产业

□本报记者 白丹

巴林左旗是全国最大的扫帚苗交易市场。{extra}
"""
BUILD_TIMEOUT_S = 120


def write_page(folder: Path, extra: str = "", encoding: str = "utf-8") -> Path:
    page = folder / "page.md"
    page.write_bytes(PAGE.format(extra=extra).encode(encoding))
    return page


def invoke(*args: str):
    return CliRunner().invoke(cli, [*args])


def build_args(page: Path, out: Path, *extra: str) -> list[str]:
    return ["build", str(page), "-o", str(out), "--date", DATE, "--base-url", BASE_URL, *extra]


def assert_one_line_error(result, code: int, *words: str) -> None:
    lines = result.output.strip().splitlines()
    assert result.exit_code == code, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for word in words:
        assert word in lines[0], lines[0]


def assert_feed_intact(out: Path) -> list[Path]:
    """The feed parses and every enclosure exists with its stated length."""
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo, feed.bozo_exception
    files = []
    for entry in feed.entries:
        for enclosure in entry.enclosures:
            path = out / enclosure.href.removeprefix(BASE_URL + "/")
            assert path.is_file() and path.stat().st_size == int(enclosure.length)
            files.append(path)
    assert files
    return files


def run_build(
    page: Path, out: Path, env: dict | None = None, extra: tuple[str, ...] = ()
) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "audio_edition", *build_args(page, out, "--json", *extra)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def good_build(tmp_path):
    """An output directory holding one good build."""
    out = tmp_path / "out"
    result = invoke(*build_args(write_page(tmp_path), out))
    assert result.exit_code == 0, result.output
    return tmp_path, out


@pytest.mark.subprocess
@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", ("empty",)),
        (b"\x00\x01\x02PK\x03\x04" * 100, ("binary",)),
        ("视点\n\n知行合一\n".encode(), ("no article",)),
    ],
    ids=["empty", "binary", "no-article"],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, content, words):
    page = tmp_path / "page.txt"
    page.write_bytes(content)
    out = tmp_path / "out"
    result = invoke(*build_args(page, out))
    assert_one_line_error(result, 2, "page.txt", *words)
    assert not out.exists()


def test_a_huge_input_is_refused(tmp_path):
    page = tmp_path / "page.txt"
    with open(page, "wb") as f:
        f.truncate(64 * 1024 * 1024)  # sparse: 64 MiB of nothing
    result = invoke(*build_args(page, tmp_path / "out"))
    assert_one_line_error(result, 2, "page.txt")
    assert not (tmp_path / "out").exists()


@pytest.mark.voice
def test_gb18030_input_builds(tmp_path):
    page = write_page(tmp_path, extra="贾殿荣老人凭着高超的手艺致富。", encoding="gb18030")
    result = invoke(*build_args(page, tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert_feed_intact(tmp_path / "out")


@pytest.mark.voice
def test_an_invalid_config_is_one_line(good_build):
    folder, out = good_build
    config = folder / "audio-edition.toml"
    config.write_text('title = "本报"\nexplicit = "maybe"\n', encoding="utf-8")
    before = (out / "feed.xml").read_bytes()
    result = invoke(*build_args(write_page(folder), out, "--config", str(config)))
    assert_one_line_error(result, 2, "explicit")
    config.write_text("title = [unclosed\n", encoding="utf-8")
    result = invoke(*build_args(write_page(folder), out, "--config", str(config)))
    assert_one_line_error(result, 2, "audio-edition.toml")
    assert (out / "feed.xml").read_bytes() == before


def test_an_unknown_voice_fails_before_any_synthesis(tmp_path):
    profile = tmp_path / "profile.toml"
    profile.write_text('[offline]\nvoice = "xiaoyan"\n', encoding="utf-8")
    out = tmp_path / "out"
    result = invoke(*build_args(write_page(tmp_path), out, "--profile", str(profile)))
    assert_one_line_error(result, 2, "xiaoyan")
    assert not list(out.rglob("*.wav"))


def test_an_unwritable_output_directory_is_one_line(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the output directory should be")
    result = invoke(*build_args(write_page(tmp_path), blocker / "out"))
    assert_one_line_error(result, 1, "output directory")


@pytest.mark.voice
def test_a_failing_ffmpeg_keeps_the_previous_episode(good_build):
    """Mastering needs ffmpeg to read a user's sting file: when ffmpeg fails there, the error
    is one line with ffmpeg's own words, and the previous episode stays."""
    folder, out = good_build
    before = assert_feed_intact(out)
    feed = (out / "feed.xml").read_bytes()
    broken = folder / "ffmpeg"
    broken.write_text("#!/bin/sh\necho 'simulated encoder failure' >&2\nexit 1\n")
    broken.chmod(0o755)
    profile = folder / "profile.toml"
    default = (ROOT / "voices" / "default.toml").read_text("utf-8")
    profile.write_text(default.replace('article = ""', 'article = "sting.wav"'), "utf-8")
    write_wav(folder / "sting.wav", np.full(12_000, 0.1, np.float32), 24_000)
    page = write_page(folder, extra="新建加工厂四十家。")
    process = run_build(
        page, out, env={"IMAGEIO_FFMPEG_EXE": str(broken)}, extra=("--profile", str(profile))
    )
    stdout, stderr = process.communicate(timeout=BUILD_TIMEOUT_S)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 1 and len(lines) == 1, stderr.decode()
    assert "ffmpeg" in lines[0] and "simulated encoder failure" in lines[0]
    assert (out / "feed.xml").read_bytes() == feed
    assert assert_feed_intact(out) == before
    assert not list(out.rglob("*.tmp"))


@pytest.mark.voice
def test_a_second_build_at_the_same_time_exits_clearly(good_build):
    folder, out = good_build
    with open(out / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = invoke(*build_args(write_page(folder), out))
    assert_one_line_error(result, 1, "another build")


@pytest.mark.voice
def test_a_truncated_clip_in_the_cache_is_made_again(good_build):
    folder, out = good_build
    clip = next((out / ".cache" / "clips").rglob("*.wav"))
    clip.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    result = invoke(*build_args(write_page(folder), out, "--json"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["synthesized"] == 1
    assert_feed_intact(out)


# --- the commit sequence, broken at each step ------------------------------------------------

CRASHPOINT = Path(__file__).parent / "crashpoint.py"
MARKER_TIMEOUT_S = 120  # for a killed build to reach its point on a loaded machine
CORRECTION = "新建加工厂四十家。"  # what the broken build adds to the page: new audio, new version


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """An output directory holding one good build (made with the tone engine); copy it."""
    folder = tmp_path_factory.mktemp("published")
    code, output = tone_build(write_build_page(folder), folder / "out")
    assert code == 0, output
    return folder / "out"


def snapshot(out: Path) -> dict[Path, bytes]:
    """The feed, and every file it names other than the (unversioned) episode page."""
    files = feed_files(out)
    pages = {p for url, p in files.items() if url.endswith("/index.html")}
    return {p: p.read_bytes() for p in {out / "feed.xml", *files.values()} - pages}


def assert_survived(out: Path, before: dict[Path, bytes], feed_replaced: bool) -> None:
    """After a broken build: every URL in the feed exists; if the feed was not replaced yet, it
    and every file it names are unchanged, else it names the new episode; the next build
    succeeds and leaves exactly one version of the episode and no temporary file."""
    files = feed_files(out)
    if feed_replaced:
        record = json.loads((out / "episodes" / DATE / "episode.json").read_text("utf-8"))
        assert f"{BUILD_BASE_URL}/{record['audio_file']}" in files
        assert out / record["audio_file"] not in before
    else:
        assert {p: p.read_bytes() for p in before} == before
    code, output = tone_build(write_build_page(out.parent, extra=CORRECTION), out)
    assert code == 0, output
    files = feed_files(out)
    record = json.loads((out / "episodes" / DATE / "episode.json").read_text("utf-8"))
    assert f"{BUILD_BASE_URL}/{record['audio_file']}" in files
    folder = out / "episodes" / DATE
    versioned = ("audio_file", "transcript_file", "chapters_file", "epub_file", "daisy_file")
    named = {Path(record[k]).name for k in versioned}
    assert {p.name for p in folder.iterdir()} == named | {"episode.json", "index.html"}
    assert not list(out.rglob("*.tmp"))


FAIL_POINTS = [  # (when, the step as the build package looks it up, feed replaced?)
    ("after", "audio_edition.synth.runner.synthesize_all", False),  # clips cached
    ("before", "audio_edition.build.episode.commit_audio", False),  # MP3 in its temp file
    ("after", "audio_edition.build.episode.commit_audio", False),  # new MP3, nothing names it
    ("after", "audio_edition.build.episode.write_vtt", False),
    ("after", "audio_edition.build.episode.write_chapters_json", False),
    ("after", "audio_edition.build.episode.save_episode", False),  # the record names the new
    ("after", "audio_edition.build.episode.write_episode_page", False),
    ("before", "audio_edition.build.outdir.write_feed", False),
    ("after", "audio_edition.build.outdir.write_feed", True),
    ("after", "audio_edition.build.outdir.write_index_page", True),
]


@pytest.mark.parametrize(
    ("when", "step", "feed_replaced"),
    FAIL_POINTS,
    ids=[f"{when}-{step.rsplit('.', 1)[1]}" for when, step, _ in FAIL_POINTS],
)
def test_a_step_that_fails_leaves_a_good_feed(
    published, tmp_path, monkeypatch, when, step, feed_replaced
):
    out = tmp_path / "out"
    shutil.copytree(published, out)
    before = snapshot(out)
    module, name = step.rsplit(".", 1)
    original = getattr(importlib.import_module(module), name)
    calls = []

    def failing(*args, **kwargs):
        calls.append(name)
        if when == "after":
            original(*args, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device", "out/simulated.tmp")

    monkeypatch.setattr(step, failing)
    code, output = tone_build(write_build_page(tmp_path, extra=CORRECTION), out)
    assert (code, calls) == (1, [name])
    assert output == (
        "Error: could not write the output: No space left on device (out/simulated.tmp); "
        "free space or fix permissions and build again (what was published stands)\n"
    )
    monkeypatch.setattr(step, original)
    assert_survived(out, before, feed_replaced)


KILL_POINTS = [  # (what the build is doing, when, target, match, feed replaced?)
    ("synthesising", "after", "audio_edition.synth.cache:ClipCache.put", "", False),
    ("mastered", "before", "audio_edition.build.episode:commit_audio", "", False),
    ("recorded", "after", "audio_edition.build.episode:save_episode", "", False),
    ("writing-the-feed", "before", "os:replace", "feed.xml", False),
    ("feed-replaced", "after", "audio_edition.build.outdir:write_feed", "", True),
    ("removing-superseded", "after", "pathlib:Path.unlink", ".mp3", True),
]


@pytest.mark.parametrize(
    ("when", "target", "match", "feed_replaced"),
    [point[1:] for point in KILL_POINTS],
    ids=[point[0] for point in KILL_POINTS],
)
def test_a_build_killed_at_a_chosen_point_leaves_a_good_feed(
    published, tmp_path, when, target, match, feed_replaced
):
    out = tmp_path / "out"
    shutil.copytree(published, out)
    before = snapshot(out)
    page = write_build_page(tmp_path, extra=CORRECTION)
    marker = tmp_path / "reached"
    args = ["build", str(page), "-o", str(out), "--date", BUILD_DATE, "--base-url", BUILD_BASE_URL]
    command = [sys.executable, str(CRASHPOINT), when, target, match, str(marker), "--", *args]
    victim = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + MARKER_TIMEOUT_S
        while not marker.exists():
            assert victim.poll() is None, victim.communicate()[1].decode()
            assert time.monotonic() < deadline, f"the build never reached {target}"
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=BUILD_TIMEOUT_S) == -signal.SIGKILL
    finally:
        if victim.poll() is None:
            victim.kill()
        victim.communicate()
    assert_survived(out, before, feed_replaced)


@pytest.mark.voice
def test_a_build_killed_while_chapters_are_mastered_leaves_no_worker_and_the_episode(good_build):
    """Other pauses re-master every chapter from the cached clips, in worker processes: the
    build is killed as soon as they exist. They die with it (PR_SET_PDEATHSIG), nothing they
    would have written appears, the previous episode stays whole, and the next build works."""
    folder, out = good_build
    feed = (out / "feed.xml").read_bytes()
    before = assert_feed_intact(out)
    profile = folder / "slower.toml"
    default = (ROOT / "voices" / "default.toml").read_text("utf-8")
    profile.write_text(default.replace("sentence = 350", "sentence = 500"), "utf-8")
    page = write_page(folder)
    victim = run_build(page, out, extra=("--profile", str(profile)))
    children = Path(f"/proc/{victim.pid}/task/{victim.pid}/children")
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    workers: list[int] = []
    while not workers and victim.poll() is None and time.monotonic() < deadline:
        workers = [int(pid) for pid in children.read_text().split()]
    assert workers, "the build never started mastering workers"
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=BUILD_TIMEOUT_S)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers), "a mastering worker outlived its build"
    assert (out / "feed.xml").read_bytes() == feed
    assert assert_feed_intact(out) == before
    follower = run_build(page, out, extra=("--profile", str(profile)))
    _, stderr = follower.communicate(timeout=BUILD_TIMEOUT_S)
    assert follower.returncode == 0, stderr.decode()
    assert assert_feed_intact(out) != before  # the slower reading replaced it
    assert not list(out.rglob("*.tmp"))


def _alive(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie waiting to be reaped has stopped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
