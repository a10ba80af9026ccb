"""The podcast feed: what Apple and the podcast namespace require, stable identities across
rebuilds, accumulation across builds, and escaping of user text."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
from pathlib import Path

import feedparser
import lxml.etree as ET
import lxml.html
import podcastparser
import pytest
from conftest import (
    FIXTURE_CHAPTERS,
    assert_served_file,
    build_fixture_edition,
    check_podcast_feed,
    ffmpeg_image,
)

from audio_edition.config import PublicationConfig, podcast_guid
from audio_edition.errors import PublishError
from audio_edition.master.cover import default_cover
from audio_edition.publish.feed import format_duration, printable, write_feed
from audio_edition.publish.page import write_index_page
from audio_edition.publish.podcast_ns import ITUNES_NS, PODCAST_NS
from audio_edition.publish.store import load_episodes, save_episode

NS = {
    "itunes": ITUNES_NS,
    "podcast": PODCAST_NS,
    "atom": "http://www.w3.org/2005/Atom",
    "psc": "http://podlove.org/simple-chapters",
}
DAY = dt.date(2026, 11, 29)
NASTY = 'R&D <script>alert("x")</script> ]]> 标题'  # the third chapter's headline


@pytest.fixture
def config() -> PublicationConfig:
    return PublicationConfig(
        title="赤峰日报有声版 <&>",
        owner_email="audio@chifeng.example.org",
        base_url="https://pod.example.org/chifeng",
        website="https://news.example.org",
    )


@pytest.fixture
def out(tmp_path, config, fixture_mp3) -> Path:
    """An output directory with two built editions, the newer one with a correction note."""
    out = tmp_path / "out"
    build_fixture_edition(out, config, DAY - dt.timedelta(days=1), fixture_mp3)
    build_fixture_edition(out, config, DAY, fixture_mp3, note="第二篇标题有误 <已更正> & 致歉")
    return out


def feed_of(out: Path, config: PublicationConfig) -> ET._Element:
    path = write_feed(out, config, load_episodes(out))
    assert path == out / "feed.xml"
    return ET.fromstring(path.read_bytes())


def test_feed_meets_apple_and_podcast_namespace_rules(out, config):
    """The rules conftest.check_podcast_feed lists (Apple and the podcast namespace), plus what
    this fixture's two editions must show."""
    write_feed(out, config, load_episodes(out))
    root = check_podcast_feed(out, config)
    channel = root.find("channel")
    assert channel.findtext("title") == "赤峰日报有声版 <&>"
    assert channel.findtext("link") == "https://news.example.org"
    assert channel.findtext("itunes:explicit", namespaces=NS) == "false"
    assert channel.findtext("podcast:guid", namespaces=NS) == podcast_guid(
        "https://pod.example.org/chifeng/feed.xml"
    )
    items = channel.findall("item")
    assert len(items) == 2
    newest = email.utils.parsedate_to_datetime(items[0].findtext("pubDate"))
    assert newest.date() == DAY and (newest.hour, newest.minute) == (6, 0)
    assert channel.findtext("pubDate") == items[0].findtext("pubDate")  # the newest edition's
    locked = channel.find("podcast:locked", NS)
    assert (locked.text, locked.get("owner")) == ("yes", "audio@chifeng.example.org")  # default
    for item in items:
        url = item.find("podcast:chapters", NS).get("url")
        chapters = json.loads(assert_served_file(url, out, config).read_text())["chapters"]
        assert len(chapters) == len(FIXTURE_CHAPTERS)


def test_feedparser_reads_it_without_error(out, config):
    parsed = feedparser.parse(write_feed(out, config, load_episodes(out)).read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == "赤峰日报有声版 <&>"
    assert parsed.feed.language == "zh-cn"
    newest = parsed.entries[0]
    assert newest.id == load_episodes(out)[0].guid
    assert newest.enclosures[0].type == "audio/mpeg"
    assert newest.itunes_duration == "40"
    assert newest.published_parsed[:3] == (2026, 11, 28)  # 06:00 in Beijing is 22:00 UTC


def test_user_text_is_escaped_and_survives_intact(out, config):
    root = feed_of(out, config)
    item = root.find("channel/item")
    description = lxml.html.fromstring(item.findtext("description"))
    articles = [li.text_content() for li in description.iter("li")]
    assert articles == [title for title, _ in FIXTURE_CHAPTERS[1:-1]]
    assert NASTY in articles
    assert not list(description.iter("script"))  # stays text, never markup
    assert "第二篇标题有误 <已更正> & 致歉" in description.text_content()
    parsed = feedparser.parse((out / "feed.xml").read_bytes())
    summary = lxml.html.fromstring(parsed.entries[0].summary)
    assert NASTY in summary.text_content()  # feedparser's sanitiser keeps it as text


def test_rebuilding_an_edition_on_another_day_keeps_its_identity(tmp_path, config, fixture_mp3):
    first, second = tmp_path / "monday", tmp_path / "tuesday"
    a, _ = build_fixture_edition(first, config, DAY, fixture_mp3)
    b, _ = build_fixture_edition(second, config, DAY, fixture_mp3, note="更正")
    save_episode(second, _rebuilt(b))
    items = [feed_of(o, config).find("channel/item") for o in (first, second)]
    assert a.guid == b.guid
    assert items[0].findtext("guid") == items[1].findtext("guid") == a.guid
    assert items[0].findtext("pubDate") == items[1].findtext("pubDate")


def _rebuilt(episode):
    from dataclasses import replace

    return replace(episode, built_at="2026-12-02T09:30:00+00:00")


def test_editions_never_share_a_guid_or_an_enclosure(tmp_path, config, fixture_mp3):
    out = tmp_path / "out"
    editions = [
        build_fixture_edition(out, config, DAY, fixture_mp3)[0],
        build_fixture_edition(out, config, DAY, fixture_mp3, pages=("3",))[0],
        build_fixture_edition(out, config, DAY, fixture_mp3, pages=("4",))[0],
        build_fixture_edition(out, config, DAY - dt.timedelta(days=1), fixture_mp3)[0],
    ]
    items = feed_of(out, config).findall("channel/item")
    assert len(items) == 4
    assert len({i.findtext("guid") for i in items}) == 4
    assert len({i.find("enclosure").get("url") for i in items}) == 4
    assert {e.guid for e in editions} == {i.findtext("guid") for i in items}


def test_feed_accumulates_and_survives_a_broken_record(out, config, fixture_mp3):
    build_fixture_edition(out, config, DAY + dt.timedelta(days=1), fixture_mp3)
    broken = out / "episodes" / "2026-12-24"
    broken.mkdir()
    (broken / "episode.json").write_text("{ half written", encoding="utf-8")
    with pytest.warns(UserWarning, match="2026-12-24"):
        episodes = load_episodes(out)
    assert [e.date.day for e in episodes] == [30, 29, 28]
    with pytest.warns(UserWarning, match="2026-12-24"):
        items = feed_of(out, config).findall("channel/item")
    assert [i.findtext("guid") for i in items] == [e.guid for e in episodes]


@pytest.mark.parametrize("field", ["audio_file", "epub_file"])
def test_a_record_pointing_outside_its_folder_is_refused(out, field):
    path = out / "episodes" / "2026-11-29" / "episode.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record[field] = "episodes/2026-11-29/../../../etc/passwd"
    path.write_text(json.dumps(record), encoding="utf-8")
    with pytest.warns(UserWarning, match="not inside episodes/2026-11-29/"):
        episodes = load_episodes(out)
    assert [e.edition_key for e in episodes] == ["2026-11-28"]


def test_an_episode_without_its_audio_is_left_out(out, config):
    episodes = load_episodes(out)
    (out / episodes[0].audio_file).unlink()
    with pytest.warns(UserWarning, match="is missing"):
        path = write_feed(out, config, episodes)
    items = ET.fromstring(path.read_bytes()).findall("channel/item")
    assert [i.findtext("guid") for i in items] == [episodes[1].guid]


def test_duplicate_guids_are_refused(out, config):
    from dataclasses import replace

    newer, older = load_episodes(out)
    with pytest.raises(PublishError) as refused:
        write_feed(out, config, [newer, replace(older, guid=newer.guid)])
    assert str(refused.value).startswith(  # names both folders, so the editor can pick one
        f"editions {newer.edition_key} and {older.edition_key} share the guid {newer.guid!r}"
    )


def test_explicit_is_spelled_true_and_artwork_is_the_configured_one(out, tmp_path):
    cover = tmp_path / "Cover.PNG.jpeg"  # named oddly: the URL still ends in .png
    default = default_cover(PublicationConfig().publication)
    cover.write_bytes(default + b"\x00")  # different bytes, new URL
    config = PublicationConfig(explicit=True, artwork=cover, base_url="http://127.0.0.1:8000")
    channel = feed_of(out, config).find("channel")
    assert channel.findtext("itunes:explicit", namespaces=NS) == "true"
    href = channel.find("itunes:image", NS).get("href")
    default_hash = hashlib.sha256(default).hexdigest()[:10]
    assert href.endswith(".png") and default_hash not in href
    assert (out / href.rsplit("/", 1)[1]).read_bytes() == cover.read_bytes()


def test_writing_leaves_no_temporary_files(out, config):
    write_feed(out, config, load_episodes(out))
    write_feed(out, config, load_episodes(out))
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
    assert leftovers == []


def test_episode_records_round_trip(out, fixture_mp3, config):
    episode, _ = build_fixture_edition(
        out, config, DAY + dt.timedelta(days=3), fixture_mp3, note='更正 "引号" <b>'
    )
    stored = json.loads((out / "episodes" / episode.edition_key / "episode.json").read_text())
    assert stored["note"] == '更正 "引号" <b>' and stored["date"] == "2026-12-02"
    assert load_episodes(out)[0] == episode


def normal_play_time(seconds: float) -> str:
    """HH:MM:SS.mmm, as the Podlove Simple Chapters 1.2 spec writes a start time."""
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def test_podlove_chapters_inline_agree_with_the_chapters_json(out, config):
    """gPodder's podcastparser reads psc:chapters (not podcast:chapters): it must see each
    episode's chapters, the same as the chapters JSON the item links to."""
    path = write_feed(out, config, load_episodes(out))
    with path.open("rb") as f:
        parsed = podcastparser.parse(config.feed_url, f)
    root = ET.fromstring(path.read_bytes())
    items = root.findall("channel/item")
    assert len(parsed["episodes"]) == len(items) == 2
    for episode, item in zip(parsed["episodes"], items, strict=True):
        url = item.find("podcast:chapters", NS).get("url")  # beside the Podlove chapters
        document = json.loads(assert_served_file(url, out, config).read_text(encoding="utf-8"))
        expected = document["chapters"]
        assert [c["title"] for c in episode["chapters"]] == [c["title"] for c in expected]
        # podcastparser keeps whole seconds
        assert [c["start"] for c in episode["chapters"]] == [int(c["startTime"]) for c in expected]
        psc = item.find("psc:chapters", NS)
        assert psc.get("version") == "1.2"
        written = [
            (c.get("start"), c.get("title"), c.get("href")) for c in psc.findall("psc:chapter", NS)
        ]
        assert written == [
            (normal_play_time(c["startTime"]), c["title"], c.get("url")) for c in expected
        ]
        assert any(href for _, _, href in written)  # articles link to their web pages
    # the fixture's second chapter starts at 2 of its 13 sentences of 3076 ms: 6.152 s
    assert written[1][0] == "00:00:06.152"
    assert NASTY in [title for _, title, _ in written]  # escaped in the XML, intact when read
    assert b'title="R&amp;D &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; ]]&gt;' in (
        path.read_bytes()
    )


def test_a_missing_chapters_file_leaves_only_its_podlove_chapters_out(out, config):
    newer, older = load_episodes(out)
    (out / newer.chapters_file).unlink()
    with pytest.warns(UserWarning, match="no Podlove chapters for 2026-11-29"):
        items = feed_of(out, config).findall("channel/item")
    assert items[0].find("psc:chapters", NS) is None
    assert len(items[1].findall("psc:chapters/psc:chapter", NS)) == len(FIXTURE_CHAPTERS)


def test_the_feed_lists_the_newest_feed_limit_editions_and_the_index_all(tmp_path, fixture_mp3):
    out = tmp_path / "out"
    config = PublicationConfig(base_url="https://pod.example.org/chifeng", feed_limit=2)
    days = [DAY - dt.timedelta(days=2), DAY, DAY - dt.timedelta(days=1)]  # built out of order
    built = {day: build_fixture_edition(out, config, day, fixture_mp3)[0] for day in days}
    write_feed(out, config, load_episodes(out))
    write_index_page(out, config, load_episodes(out))
    root = check_podcast_feed(out, config)
    items = root.findall("channel/item")
    assert [i.findtext("guid") for i in items] == [built[DAY].guid, built[days[2]].guid]
    assert "11月29日 星期日" in items[0].findtext("title")  # 2026-11-29 is a Sunday
    index = lxml.html.fromstring((out / "index.html").read_bytes())
    linked = {a.get("href") for a in index.xpath("//section[@class='editions']//h3/a")}
    assert linked == {e.page_file for e in built.values()}
    for episode in built.values():  # nothing is deleted: the oldest stays on the website
        assert all((out / name).is_file() for name in episode.files)


def test_the_description_counts_articles_and_photos_apart(tmp_path, config, fixture_mp3):
    out = tmp_path / "out"
    build_fixture_edition(out, config, DAY, fixture_mp3, photos=3)
    build_fixture_edition(out, config, DAY - dt.timedelta(days=1), fixture_mp3)
    newer, older = feed_of(out, config).findall("channel/item")

    def paragraphs(item):
        return [
            p.text_content() for p in lxml.html.fromstring(item.findtext("description")).iter("p")
        ]

    assert paragraphs(newer)[1] == "本期 3 篇文章、3 幅新闻图片"
    assert paragraphs(older)[1] == "本期 3 篇文章"  # no photos: not mentioned


def test_itunes_duration_is_whole_seconds():
    # Apple: the duration in seconds; worked by hand from the milliseconds
    assert format_duration(1_395_600) == "1396"
    assert format_duration(1_418_244) == "1418"
    assert format_duration(0) == "0"


def test_the_item_description_is_the_title_counts_articles_and_note(out, config):
    newest = feed_of(out, config).find("channel/item")
    assert newest.findtext("description") == (  # the fixture edition, escaped by hand
        "<p>11月29日 星期日</p><p>本期 3 篇文章</p><p>本期文章：</p><ol>"
        "<li>党建引领产业发展共同体</li>"
        "<li>R&amp;D &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; ]]&gt; 标题</li>"
        "<li>强化引领 凝聚脱贫攻坚新动能</li></ol>"
        "<p>更正说明：第二篇标题有误 &lt;已更正&gt; &amp; 致歉</p>"
    )


def test_a_jpeg_cover_is_published_as_artwork_with_its_content_version(out, tmp_path):
    cover = ffmpeg_image(tmp_path / "cover.jpeg", 1400, 1400)
    config = PublicationConfig(artwork=cover, base_url="https://pod.example.org/chifeng")
    href = feed_of(out, config).find("channel/itunes:image", NS).get("href")
    version = hashlib.sha256(cover.read_bytes()).hexdigest()[:10]  # its content's, as the MP3's
    assert href == f"https://pod.example.org/chifeng/artwork-{version}.jpg"
    assert (out / f"artwork-{version}.jpg").read_bytes() == cover.read_bytes()


def test_the_feed_names_its_generator_and_version(out, config):
    from audio_edition import __version__

    generator = feed_of(out, config).findtext("channel/generator")
    assert generator == f"audio-edition {__version__}"


def test_the_category_and_its_subcategory_are_apple_s_nested_pair(out, tmp_path):
    config = PublicationConfig(category="Education", subcategory="Language Learning")
    category = feed_of(out, config).find("channel/itunes:category", NS)
    assert category.get("text") == "Education"
    assert [c.get("text") for c in category.findall("itunes:category", NS)] == ["Language Learning"]


def test_an_unlocked_feed_says_no(out):
    config = PublicationConfig(locked=False, owner_email="audio@chifeng.example.org")
    locked = feed_of(out, config).find("channel/podcast:locked", NS)
    assert (locked.text, locked.get("owner")) == ("no", "audio@chifeng.example.org")


def test_characters_xml_cannot_carry_are_dropped_and_the_feed_declares_utf8(out, config):
    assert printable("标\x00题\x0b\x1f\ufffe。\n\t") == "标题。\n\t"  # XML 1.0's Char
    feed = write_feed(out, config, load_episodes(out)).read_bytes()
    assert feed.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<rss ")
