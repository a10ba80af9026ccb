"""Fixtures shared by the test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PAGE = ROOT / "samples" / "000_aa4cbc5942cc5dc6.txt"


@pytest.fixture(scope="session")
def sample_page() -> Path:
    """The real e-paper page the project is built around."""
    return SAMPLE_PAGE


# --- publishing (issue 7): a realistic built edition, made without the rest of the pipeline ---

FIXTURE_PUBLICATION = "赤峰日报"
FIXTURE_CHAPTERS = (  # (title, [(role, sentence), ...]): 5 chapters over FIXTURE_SECONDS
    ("本期导读", [("intro", "这里是赤峰日报有声版。"), ("intro", "今天为您播报四篇文章。")]),
    (
        "党建引领产业发展共同体",
        [
            ("headline", "党建引领产业发展共同体"),
            ("byline", "本报记者 白丹"),
            ("body", "在快手短视频平台上，一位“笤帚大妈”吸引了两万多粉丝的关注。"),
            ("body", "巴林左旗是全国最大的扫帚苗交易市场。"),
        ],
    ),
    (
        'R&D <script>alert("x")</script> ]]> 标题',
        [
            ("headline", 'R&D <script>alert("x")</script> ]]> 标题'),
            ("body", "马鞍山村现在是小有名气的“网红村”。"),
            ("body", "村党组织动员村民种植山葡萄。"),
        ],
    ),
    (
        "强化引领 凝聚脱贫攻坚新动能",
        [
            ("headline", "强化引领 凝聚脱贫攻坚新动能"),
            ("body", "全市各嘎查村党组织领办股份经济合作社1082个。"),
            ("body", "让党建引领成为产业振兴的“定海神针”。"),
        ],
    ),
    ("结束语", [("outro", "感谢收听，我们明天再见。")]),
)
FIXTURE_SECONDS = 40  # length of the fixture MP3


def make_mp3(path: Path, seconds: float) -> Path:
    """A real small MP3 (a quiet tone over pink noise, 22.05 kHz mono, 32 kb/s) made by ffmpeg."""
    import subprocess

    import imageio_ffmpeg

    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=220:sample_rate=22050:duration={seconds}",
            "-f",
            "lavfi",
            "-i",
            f"anoisesrc=color=pink:amplitude=0.02:sample_rate=22050:duration={seconds}",
            "-filter_complex",
            "amix=inputs=2:duration=shortest,volume=0.3",
            "-ac",
            "1",
            "-b:a",
            "32k",
            "-y",
            str(path),
        ],
        check=True,
    )
    return path


@pytest.fixture(scope="session")
def fixture_mp3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One FIXTURE_SECONDS-long MP3, made once per session; copy it, don't change it."""
    return make_mp3(tmp_path_factory.mktemp("mp3") / "fixture.mp3", FIXTURE_SECONDS)


def build_fixture_edition(out_dir: Path, config, date, mp3: Path, *, pages=(), note=None):
    """Lay out one built edition in OUT the way the build does (MP3, transcript.vtt,
    chapters.json, episode.json, episode page) and return (Episode, MasteredAudio)."""
    import hashlib
    import json
    import shutil

    from audio_edition.config import edition_identity
    from audio_edition.model import (
        ChapterTiming,
        EditionInfo,
        Episode,
        MasteredAudio,
        SegmentTiming,
    )
    from audio_edition.publish.page import write_episode_page
    from audio_edition.publish.store import save_episode

    info = EditionInfo(
        FIXTURE_PUBLICATION, date, f"{FIXTURE_PUBLICATION} {date:%Y年%m月%d日}", pages
    )
    key, guid = edition_identity(config, info)
    folder = out_dir / "episodes" / key
    folder.mkdir(parents=True, exist_ok=True)
    version = hashlib.sha256(mp3.read_bytes()).hexdigest()[:8]
    audio_path = folder / f"{key}-{version}.mp3"
    shutil.copyfile(mp3, audio_path)

    total_ms = FIXTURE_SECONDS * 1000
    count = sum(len(s) for _, s in FIXTURE_CHAPTERS)
    step = total_ms // count
    chapters, segments, t = [], [], 0
    for ci, (title, sentences) in enumerate(FIXTURE_CHAPTERS):
        start = t
        for si, (role, text) in enumerate(sentences):
            segments.append(SegmentTiming(ci, si, t, t + step - 300, role, text))
            t += step
        end = total_ms if ci == len(FIXTURE_CHAPTERS) - 1 else t
        chapters.append(ChapterTiming(f"c{ci}", title, start, end))
    audio = MasteredAudio(
        audio_path, audio_path.stat().st_size, total_ms, tuple(chapters), tuple(segments)
    )

    def stamp(ms: int) -> str:
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"

    vtt = ["WEBVTT", ""] + [
        f"{stamp(s.start_ms)} --> {stamp(s.end_ms)}\n{s.text}\n" for s in segments
    ]
    (folder / "transcript.vtt").write_text("\n".join(vtt), encoding="utf-8")
    chapter_json = {
        "version": "1.2.0",
        "chapters": [{"startTime": c.start_ms / 1000, "title": c.title} for c in chapters],
    }
    (folder / "chapters.json").write_text(json.dumps(chapter_json, ensure_ascii=False), "utf-8")
    rel = f"episodes/{key}"
    episode = Episode(
        guid=guid,
        edition_key=key,
        date=date,
        title=info.title,
        audio_file=f"{rel}/{audio_path.name}",
        audio_size=audio.size_bytes,
        duration_ms=total_ms,
        transcript_file=f"{rel}/transcript.vtt",
        chapters_file=f"{rel}/chapters.json",
        page_file=f"{rel}/index.html",
        articles=tuple(title for title, _ in FIXTURE_CHAPTERS[1:-1]),
        note=note,
        built_at="2026-11-29T08:00:00+00:00",
    )
    save_episode(out_dir, episode)
    write_episode_page(out_dir, config, episode, audio)
    return episode, audio
