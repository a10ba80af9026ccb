"""The MP3's ID3 chapters as other players read them: libavformat (ffmpeg, and the apps built on
it) lists chapters in the order their CHAP frames are stored, so they must be stored in time
order, after the CTOC."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest
from conftest import ffmpeg_chapters
from mutagen.id3 import ID3

from audio_edition.master.cover import cover_image
from audio_edition.master.settings import EpisodeTags
from audio_edition.master.tags import read_chapters, write_tags
from audio_edition.model import ChapterTiming

# Titles of very different lengths, and URLs on some: mutagen alone stores frames by size, which
# put 结束语 (the smallest) first in the demo episode.
TITLES = (
    "本期导读",
    "党建引领产业发展共同体 凝聚脱贫攻坚新动能",
    "评论：强化引领",
    "做在田间 让农民甜在心头，一篇标题很长很长很长的文章",
    "图片新闻",
    "结束语",
)
CHAPTERS = tuple(
    ChapterTiming(
        f"c{i}",
        title,
        i * 5000,
        (i + 1) * 5000,
        url=f"https://news.example.org/{i}" if i in (1, 3) else None,
    )
    for i, title in enumerate(TITLES)
)
TAGS = EpisodeTags("12月2日 星期三", "赤峰日报", dt.date(2020, 12, 2))


@pytest.fixture
def tagged(tmp_path, fixture_mp3) -> Path:
    path = tmp_path / "episode.mp3"
    shutil.copyfile(fixture_mp3, path)
    write_tags(path, TAGS, CHAPTERS, cover_image(None, "赤峰日报"))
    return path


def stored_frames(path: Path) -> list[tuple[str, str]]:
    """(frame id, element id or '') of each frame in the ID3v2.4 tag, in stored order, read
    byte by byte as the ID3v2.4 structure document describes (no mutagen)."""
    data = path.read_bytes()
    assert data[:3] == b"ID3" and data[3] == 4

    def syncsafe(raw: bytes) -> int:
        return (raw[0] << 21) | (raw[1] << 14) | (raw[2] << 7) | raw[3]

    end = 10 + syncsafe(data[6:10])
    frames, pos = [], 10
    while pos + 10 <= end and data[pos : pos + 4] != b"\0\0\0\0":
        frame_id = data[pos : pos + 4].decode("ascii")
        size = syncsafe(data[pos + 4 : pos + 8])
        body = data[pos + 10 : pos + 10 + size]
        element = body.split(b"\0", 1)[0].decode("latin-1") if frame_id in ("CHAP", "CTOC") else ""
        frames.append((frame_id, element))
        pos += 10 + size
    return frames


def test_ffmpeg_lists_the_chapters_in_time_order(tagged):
    listed = ffmpeg_chapters(tagged)
    assert [title for _, title in listed] == list(TITLES)
    starts = [start for start, _ in listed]
    assert starts == sorted(starts)
    # ffmpeg shifts chapter times by the MP3's start padding (the encoder delay): tens of ms
    assert all(abs(s - c.start_ms) <= 100 for s, c in zip(starts, CHAPTERS, strict=True))


def test_ffmpeg_prints_the_chapters_in_time_order(tagged):
    """`ffmpeg -i` (what a user sees) prints the chapters as it holds them."""
    stderr = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(tagged)],
        capture_output=True,
        text=True,
    ).stderr
    starts = [float(s) for s in re.findall(r"Chapter #0:\d+: start (\d+\.\d+)", stderr)]
    titles = re.findall(r"Chapter #0:\d+:.*\n\s+Metadata:\n\s+title\s+: (.*)", stderr)
    assert titles == list(TITLES)
    assert starts == sorted(starts) and len(starts) == len(TITLES)


def test_the_toc_is_stored_before_the_chapters_and_they_in_time_order(tagged):
    frames = stored_frames(tagged)
    ids = [frame_id for frame_id, _ in frames]
    assert ids.count("CTOC") == 1 and ids.count("CHAP") == len(CHAPTERS)
    assert ids.index("CTOC") < ids.index("CHAP")
    chapter_ids = [element for frame_id, element in frames if frame_id == "CHAP"]
    assert chapter_ids == [f"ch{i}" for i in range(len(CHAPTERS))]
    assert ids[0] == "TIT2" and ids[-1] == "APIC"  # the title first, the big cover last


def test_mutagen_reads_the_same_chapters_and_tags(tagged):
    chapters = read_chapters(tagged)
    assert [c.title for c in chapters] == list(TITLES)
    assert [(c.start_ms, c.end_ms, c.url) for c in chapters] == [
        (c.start_ms, c.end_ms, c.url) for c in CHAPTERS
    ]
    tags = ID3(tagged)
    assert str(tags["TIT2"]) == "12月2日 星期三"
    assert tags.getall("APIC")[0].data == cover_image(None, "赤峰日报")[0]
