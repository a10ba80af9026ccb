"""The episode and index pages, read as HTML (the browser tests run them in Chromium)."""

from __future__ import annotations

import datetime as dt
import posixpath
from pathlib import Path

import lxml.html
import pytest
from conftest import FIXTURE_CHAPTERS, build_fixture_edition

from audio_edition.config import PublicationConfig
from audio_edition.publish.page import spoken_duration, write_index_page
from audio_edition.publish.store import load_episodes

DAY = dt.date(2026, 11, 29)
TRANSCRIPT = "//section[@class='transcript']"
NASTY = FIXTURE_CHAPTERS[2][0]  # R&D <script>alert("x")</script> ]]> 标题


@pytest.fixture
def built(tmp_path, fixture_mp3):
    out = tmp_path / "out"
    config = PublicationConfig(title="赤峰日报有声版")
    older, _ = build_fixture_edition(out, config, DAY - dt.timedelta(days=1), fixture_mp3)
    newer, audio = build_fixture_edition(
        out, config, DAY, fixture_mp3, note="标题 <更正> & 致歉", photos=2
    )
    index = write_index_page(out, config, load_episodes(out))
    return out, config, newer, older, audio, index


def parse(path: Path):
    return lxml.html.fromstring(path.read_bytes())


def resolve(page: Path, href: str, out: Path) -> Path:
    """The file a relative link on `page` points at (without query or fragment)."""
    target = posixpath.normpath(posixpath.join(page.parent.as_posix(), href.split("#")[0]))
    target = Path(target.split("?")[0])
    assert target.resolve().is_relative_to(out.resolve()), href
    return target


def test_episode_page_structure(built):
    out, config, episode, _, audio, _ = built
    page = out / episode.page_file
    doc = parse(page)
    assert doc.get("lang") == "zh-CN"
    assert [h.text_content() for h in doc.iter("h1")] == [episode.title]
    levels = [int(h.tag[1]) for h in doc.iter("h1", "h2", "h3", "h4")]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    assert {"收听", "章节", "文字稿", "订阅与下载"} <= {h.text_content() for h in doc.iter("h2")}

    (player,) = doc.iter("audio")
    assert player.get("controls") is not None and player.get("preload") == "metadata"
    assert player.get("autoplay") is None
    assert resolve(page, player.get("src"), out) == out / episode.audio_file
    controls = doc.get_element_by_id("player-controls")
    assert controls.get("hidden") is not None  # revealed by the script, absent without it
    skips = [b.get("data-skip") for b in controls.iter("button") if b.get("data-skip")]
    assert skips == ["-30", "-15", "15", "30"]
    resume = doc.get_element_by_id("resume")  # offered by the script when a position is saved
    assert resume.get("hidden") is not None and resume.find("button").get("type") == "button"
    assert player.get("data-episode") == episode.guid  # positions are remembered per episode
    rate = doc.get_element_by_id("rate")
    assert doc.xpath("//label[@for='rate']") and len(rate.findall("option")) >= 4
    assert doc.xpath("//label[@for='follow']")
    assert doc.get_element_by_id("follow").get("checked") is None  # following is opt-in


def test_chapters_are_links_that_seek_without_script(built):
    out, _, episode, _, audio, _ = built
    page = out / episode.page_file
    links = parse(page).xpath("//nav[@class='chapters']//a[@class='chapter']")
    assert len(links) == len(audio.chapters) >= 4
    for link, chapter in zip(links, audio.chapters, strict=True):
        assert link.text_content() == chapter.title
        start = float(link.get("data-start"))
        assert start == pytest.approx(chapter.start_ms / 1000, abs=0.0005)
        href, fragment = link.get("href").split("#")
        assert resolve(page, href, out) == out / episode.audio_file
        assert fragment == f"t={link.get('data-start')}"  # a media fragment the browser seeks to
    assert links[2].text_content() == NASTY


def test_transcript_has_one_element_per_sentence_with_its_time(built):
    out, _, episode, _, audio, _ = built
    doc = parse(out / episode.page_file)
    cues = doc.xpath(f"{TRANSCRIPT}//p[contains(concat(' ', @class, ' '), ' cue ')]")
    assert len(cues) == len(audio.segments)
    for cue, segment in zip(cues, audio.segments, strict=True):
        assert float(cue.get("data-start")) == pytest.approx(segment.start_ms / 1000, abs=5e-4)
        assert float(cue.get("data-end")) == pytest.approx(segment.end_ms / 1000, abs=5e-4)
        assert cue.text_content().endswith(segment.text)
        assert cue.get("aria-current") is None  # only the script marks the spoken sentence
    headings = [h.text_content() for h in doc.xpath(f"{TRANSCRIPT}//h3")]
    assert headings == [c.title for c in audio.chapters]


def test_user_text_is_escaped(built):
    out, _, episode, _, _, index = built
    doc = parse(out / episode.page_file)
    scripts = [s.get("src") for s in doc.iter("script")]
    assert len(scripts) == 1 and "player.js" in scripts[0]  # the headline's <script> is text
    assert NASTY in doc.text_content()
    assert "标题 <更正> & 致歉" in doc.xpath("//p[@class='note']")[0].text_content()
    assert NASTY in doc.find(".//meta[@name='description']").get("content")


def test_links_to_feed_transcript_and_chapters_resolve(built):
    out, _, episode, _, _, _ = built
    page = out / episode.page_file
    hrefs = [a.get("href") for a in parse(page).xpath("//section[@class='files']//a")]
    targets = {resolve(page, h, out) for h in hrefs}
    expected = {"feed.xml", episode.audio_file, episode.transcript_file, episode.chapters_file}
    assert {out / p for p in expected} - {out / "feed.xml"} <= targets
    assert out / "feed.xml" in targets
    for link in parse(page).iter("link"):
        if link.get("rel") == "stylesheet":
            assert resolve(page, link.get("href"), out).is_file()
    (script,) = parse(page).iter("script")
    assert resolve(page, script.get("src"), out).is_file()


def test_index_lists_editions_newest_first(built):
    out, _, newer, older, _, index = built
    assert index == out / "index.html"
    doc = parse(index)
    assert doc.get("lang") == "zh-CN"
    assert [h.text_content() for h in doc.iter("h1")] == ["赤峰日报有声版"]
    titles = [a.text_content() for a in doc.xpath("//section[@class='editions']//h3/a")]
    assert titles == [newer.title, older.title]
    for a in doc.xpath("//section[@class='editions']//a"):
        assert resolve(index, a.get("href"), out).is_file()
    assert doc.xpath("//a[@href='feed.xml']")


def test_pages_count_articles_and_photos_apart(built):
    out, _, newer, older, _, index = built
    meta = parse(out / newer.page_file).xpath("//main/p[@class='meta']")[0].text_content()
    assert meta.endswith("· 3 篇文章、2 幅新闻图片")  # the fixture: 3 articles, and 2 photos
    listed = [p.text_content() for p in parse(index).xpath("//section[@class='editions']//p")]
    assert "· 3 篇文章、2 幅新闻图片 ·" in listed[0]
    assert "· 3 篇文章 ·" in listed[1]  # an edition without photos does not mention them


def test_a_long_index_is_grouped_by_month_and_lists_every_edition(tmp_path, fixture_mp3):
    out = tmp_path / "out"
    config = PublicationConfig(title="赤峰日报有声版", feed_limit=5)
    days = [dt.date(2026, 10, 20) + dt.timedelta(days=3 * n) for n in range(14)]
    episodes = [build_fixture_edition(out, config, day, fixture_mp3)[0] for day in days]
    doc = parse(write_index_page(out, config, load_episodes(out)))
    editions = doc.xpath("//section[@class='editions']")[0]
    assert [h.text_content() for h in editions.iter("h3")] == ["2026年11月", "2026年10月"]
    titles = [a.text_content() for a in editions.xpath(".//h4/a")]
    assert titles == [e.title for e in reversed(episodes)]  # all 14, newest first
    levels = [int(h.tag[1]) for h in doc.iter("h1", "h2", "h3", "h4")]
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    november = editions.xpath(".//h3[.='2026年11月']/following-sibling::ol[1]//h4")
    assert len(november) == sum(1 for d in days if d.month == 11)


def test_empty_index_says_so(tmp_path):
    page = write_index_page(tmp_path, PublicationConfig(), [])
    assert "还没有节目" in parse(page).text_content()


def test_spoken_duration():
    assert spoken_duration(8_000) == "8秒"
    assert spoken_duration(754_400) == "12分34秒"
    assert spoken_duration(3_725_000) == "1小时2分5秒"
