"""Fault injection: bad input, bad config, broken tools, concurrent and killed builds.

Every failure must be one clear line with a non-zero exit, and must leave the previous good
output intact; the next build must complete.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import numpy as np
import pytest
from click.testing import CliRunner

from audio_edition.cli import cli
from audio_edition.synth.cache import write_wav

ROOT = Path(__file__).resolve().parent.parent

DATE = "2026-11-29"
BASE_URL = "http://127.0.0.1:8000"
PAGE = """# 小小扫帚苗 致富大产业

□本报记者 白丹

巴林左旗是全国最大的扫帚苗交易市场。{extra}
"""
KILLED_BUILDS = 10
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


def test_gb18030_input_builds(tmp_path):
    page = write_page(tmp_path, extra="贾殿荣老人凭着高超的手艺致富。", encoding="gb18030")
    result = invoke(*build_args(page, tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert_feed_intact(tmp_path / "out")


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


def test_a_second_build_at_the_same_time_exits_clearly(good_build):
    folder, out = good_build
    with open(out / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = invoke(*build_args(write_page(folder), out))
    assert_one_line_error(result, 1, "another build")


def test_a_truncated_clip_in_the_cache_is_made_again(good_build):
    folder, out = good_build
    clip = next((out / ".cache" / "clips").rglob("*.wav"))
    clip.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    result = invoke(*build_args(write_page(folder), out, "--json"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["synthesized"] == 1
    assert_feed_intact(out)


def test_builds_killed_at_random_moments_leave_the_previous_feed_intact(good_build):
    folder, out = good_build
    started = time.monotonic()
    full = run_build(write_page(folder, extra="计时用的一句话。"), out)
    assert full.wait(timeout=BUILD_TIMEOUT_S) == 0, full.stderr.read().decode()
    duration = time.monotonic() - started
    rng = random.Random(20261129)
    for round_ in range(KILLED_BUILDS):
        previous_feed = (out / "feed.xml").read_bytes()
        previous = assert_feed_intact(out)
        page = write_page(folder, extra=f"第{round_ + 1}次更正的句子，带动了{round_ + 2}个村。")
        victim = run_build(page, out)
        time.sleep(rng.uniform(0.05, 0.95) * duration)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=BUILD_TIMEOUT_S)
        # Either the killed build got as far as replacing the feed, or the previous feed
        # and every file it names are untouched.
        if (out / "feed.xml").read_bytes() == previous_feed:
            assert assert_feed_intact(out) == previous
        else:
            assert_feed_intact(out)
        follower = run_build(page, out)
        stdout, stderr = follower.communicate(timeout=BUILD_TIMEOUT_S)
        assert follower.returncode == 0, stderr.decode()
        assert_feed_intact(out)
    assert not list(out.rglob("*.tmp")), "temporary files of killed builds are cleaned up"


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
