"""The publication config, the feed's podcast:guid and the identity of editions."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ffmpeg_image

from audio_edition.cli import cli
from audio_edition.config import (
    PublicationConfig,
    edition_identity,
    image_size,
    load_config,
    podcast_guid,
    starter_config_text,
)
from audio_edition.errors import ConfigError
from audio_edition.master.cover import default_cover
from audio_edition.model import EditionInfo

DAY = dt.date(2026, 11, 29)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_when_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config(None)
    assert config.title == "本报有声版"
    assert config.base_url == "http://127.0.0.1:8000"
    assert config.feed_url == "http://127.0.0.1:8000/feed.xml"
    assert config.language == "zh-cn" and config.html_lang == "zh-CN"
    assert (config.category, config.explicit, config.artwork) == ("News", False, None)


def test_reads_the_default_file_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "audio-edition.toml", 'title = "赤峰日报有声版"\n')
    assert load_config(None).title == "赤峰日报有声版"


def test_base_url_override_and_website_default(tmp_path):
    path = write(tmp_path / "c.toml", 'base_url = "https://pod.example.org/news/"\n')
    config = load_config(path)
    assert config.base_url == "https://pod.example.org/news"
    assert config.website == "https://pod.example.org/news"
    assert config.url("episodes/a/b.mp3") == "https://pod.example.org/news/episodes/a/b.mp3"
    assert config.url("episodes/第3版/a b.mp3").endswith("/episodes/%E7%AC%AC3%E7%89%88/a%20b.mp3")
    override = load_config(path, base_url="http://127.0.0.1:9000/")
    assert override.feed_url == "http://127.0.0.1:9000/feed.xml"


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('owner_email = "not an address"', "owner_email"),
        ('base_url = "ftp://example.com"', "base_url"),
        ('base_url = "/relative/path"', "base_url"),
        ('website = "example.com"', "website"),
        ('language = "Chinese"', "language"),
        ('category = "Newspapers"', "category"),
        ('subcategory = "Tech"', "subcategory"),
        ('explicit = "no"', "explicit"),
        ('talking_books = "yes"', "talking_books"),
        ('title = "  "', "title"),
        ('guid = "not-a-uuid"', "guid"),
        ('artwork = "missing.png"', "artwork"),
        ('titel = "typo"', "titel"),
        ('episode_title = "{name}"', "episode_title"),
        ('episode_title = "{date} {edition}"', "episode_title"),
        ('episode_title = "{date"', "episode_title"),
        ("episode_title = 3", "episode_title"),
        ("feed_limit = 0", "feed_limit"),
        ('feed_limit = "100"', "feed_limit"),
        ("feed_limit = true", "feed_limit"),
        ("feed_limit = 2.5", "feed_limit"),
    ],
)
def test_bad_values_name_their_key(tmp_path, toml, key):
    path = write(tmp_path / "c.toml", toml + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert key in message and "\n" not in message


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path / "c.toml", "title = \n"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_artwork_must_be_a_square_apple_sized_image(tmp_path):
    (tmp_path / "cover.png").write_bytes(default_cover("本报"))
    config = load_config(write(tmp_path / "c.toml", 'artwork = "cover.png"\n'))
    assert config.artwork == (tmp_path / "cover.png").resolve()

    small = tmp_path / "small.png"
    header = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR"
    small.write_bytes(header + (300).to_bytes(4, "big") + (300).to_bytes(4, "big") + b"\x08\x02")
    with pytest.raises(ConfigError, match=r"300x300.*1400\.\.3000"):
        PublicationConfig(artwork=small)
    text = tmp_path / "cover.jpg"
    text.write_text("not an image")
    with pytest.raises(ConfigError, match="not a PNG or JPEG"):
        PublicationConfig(artwork=text)


def test_podcast_guid_matches_the_namespace_examples():
    # the two examples in the podcast namespace's guid tag documentation
    assert podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml") == (
        "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    )
    assert podcast_guid("http://podnews.net/rss/") == "9b024349-ccf0-5f69-a609-6b82873eab3c"


def test_configured_guid_wins_over_the_derived_one():
    guid = "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    config = PublicationConfig(base_url="https://new.example.org", guid=guid)
    assert config.feed_guid == guid
    assert PublicationConfig().feed_guid == podcast_guid("http://127.0.0.1:8000/feed.xml")


# Worked examples of edition identities, computed by hand from the documented inputs:
# an edition's guid is uuid.uuid5(uuid.UUID(<the feed's podcast:guid>),
# "<publication>|<date>|<pages joined by +>"), e.g.
# uuid.uuid5(uuid.UUID("917393e3-1b1e-5cef-ace4-edaa54e1f810"), "赤峰日报|2026-11-29|").
PINNED_FEED_GUID = "917393e3-1b1e-5cef-ace4-edaa54e1f810"  # the namespace's own example
PINNED_EDITIONS = [
    (("赤峰日报", ()), "2026-11-29", "e6427b59-9aea-5963-907b-f9858205c8a0"),
    (("赤峰日报", ("3",)), "2026-11-29-p3", "9edc8954-f35d-545a-96f3-533c266ff484"),
    (("赤峰日报", ("A3", "A4")), "2026-11-29-pa3-a4", "31d1caf8-d82f-5679-b25e-7ce8b362601a"),
    # non-ASCII pages: the first 8 hex digits of uuid.uuid5(uuid.NAMESPACE_URL, "第三版")
    (("赤峰日报", ("第三版",)), "2026-11-29-pd98a5d41", None),
]


@pytest.mark.parametrize(("edition", "key", "guid"), PINNED_EDITIONS)
def test_edition_identity_matches_the_worked_examples(edition, key, guid):
    publication, pages = edition
    config = PublicationConfig(guid=PINNED_FEED_GUID)
    info = EditionInfo(publication, DAY, "任何标题", pages=pages)
    found_key, found_guid = edition_identity(config, info)
    assert found_key == key
    if guid is not None:
        assert found_guid == guid


def test_a_derived_feed_guid_gives_the_worked_example_edition_guid():
    # podcast:guid of https://news.example.org/audio/feed.xml is
    # uuid5(ead4c236-bf58-58c6-a2c6-a6b28d128cb6, "news.example.org/audio/feed.xml")
    config = PublicationConfig(base_url="https://news.example.org/audio")
    assert config.feed_guid == "df8f7f60-d31c-53cc-b621-bf34ed488514"
    info = EditionInfo(" 本报 ", DAY, "x")  # the publication's name is taken stripped
    assert edition_identity(config, info) == ("2026-11-29", "0f5364f5-ef9f-505e-a7db-2ea6d52fcc69")


def test_edition_identity_is_stable_and_distinct():
    config = PublicationConfig(base_url="https://pod.example.org")
    info = EditionInfo("赤峰日报", DAY, "赤峰日报 11月29日")
    key, guid = edition_identity(config, info)
    assert key == "2026-11-29"
    # the edition's title is not part of its identity, its publication, date and pages are
    assert edition_identity(config, EditionInfo("赤峰日报", DAY, "另一个标题")) == (key, guid)
    seen = {guid}
    for other in (
        EditionInfo("赤峰日报", DAY + dt.timedelta(days=1), "x"),
        EditionInfo("内蒙古日报", DAY, "x"),
        EditionInfo("赤峰日报", DAY, "x", pages=("3",)),
        EditionInfo("赤峰日报", DAY, "x", pages=("3", "4")),
    ):
        other_key, other_guid = edition_identity(config, other)
        assert other_guid not in seen
        seen.add(other_guid)
        assert re.fullmatch(r"[a-z0-9-]+", other_key)
    assert edition_identity(config, EditionInfo("赤峰日报", DAY, "x", pages=("3",)))[0] == (
        "2026-11-29-p3"
    )
    assert edition_identity(config, EditionInfo("赤峰日报", DAY, "x", pages=("A3", "A4")))[0] == (
        "2026-11-29-pa3-a4"
    )
    chinese = edition_identity(config, EditionInfo("赤峰日报", DAY, "x", pages=("第三版",)))[0]
    assert re.fullmatch(r"2026-11-29-p[0-9a-f]{8}", chinese)


def test_starter_config_parses_to_a_valid_config(tmp_path):
    text = starter_config_text()
    values = tomllib.loads(text)
    assert {"title", "owner_email", "base_url", "category", "explicit"} <= values.keys()
    assert values["episode_title"] == "{date} {name}" and values["feed_limit"] == 100
    config = load_config(write(tmp_path / "audio-edition.toml", text))
    assert config == PublicationConfig(**{k: v for k, v in values.items()})
    assert text.count("#") > 15  # it explains itself


def test_init_command_writes_and_refuses_to_overwrite(tmp_path):
    runner = CliRunner()
    target = tmp_path / "audio-edition.toml"
    result = runner.invoke(cli, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == starter_config_text()

    target.write_text('title = "mine"\n', encoding="utf-8")
    result = runner.invoke(cli, ["init", str(target)])
    assert result.exit_code == 2
    assert "already exists" in result.output and "--force" in result.output
    assert target.read_text(encoding="utf-8") == 'title = "mine"\n'

    assert runner.invoke(cli, ["init", str(target), "--force"]).exit_code == 0
    assert target.read_text(encoding="utf-8") == starter_config_text()


def test_init_and_serve_have_help_with_an_example():
    for command in ("init", "serve"):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output


def spoken_headline(*args: str) -> str:
    result = CliRunner().invoke(cli, ["script", *args, "--json"])
    assert result.exit_code == 0, result.output
    chapters = __import__("json").loads(result.output)["chapters"]
    return chapters[1]["segments"][0]["spoken"]


def test_the_configs_lexicon_and_profile_are_used_and_the_options_win(tmp_path):
    page = write(tmp_path / "page.md", "# 扫帚苗丰收\n\n巴林左旗是全国最大的扫帚苗交易市场。\n")
    folder = tmp_path / "desk"
    folder.mkdir()
    write(folder / "ours.toml", '"扫帚苗" = "笤帚苗"\n')
    write(tmp_path / "theirs.toml", '"扫帚苗" = "扫帚描"\n')
    profile = (Path(__file__).parent.parent / "voices" / "default.toml").read_text("utf-8")
    write(
        folder / "slow.toml", profile.replace("headline = { rate = -8", "headline = { rate = -30")
    )
    config = write(
        folder / "audio-edition.toml", 'lexicon = "ours.toml"\nprofile = "slow.toml"\n'
    )  # paths relative to the config file, not to the working directory

    assert spoken_headline(str(page)).startswith("扫帚苗")  # the built-in lexicon has no entry
    assert spoken_headline(str(page), "--config", str(config)).startswith("笤帚苗")
    theirs = ["--config", str(config), "--lexicon", str(tmp_path / "theirs.toml")]
    assert spoken_headline(str(page), *theirs).startswith("扫帚描")

    loaded = load_config(config)
    assert loaded.profile == (folder / "slow.toml").resolve()
    assert loaded.lexicon == (folder / "ours.toml").resolve()


def test_the_configs_profile_sets_the_voices(tmp_path):
    from audio_edition.build import BuildOptions, prepare

    page = write(tmp_path / "page.md", "# 扫帚苗丰收\n\n巴林左旗是全国最大的扫帚苗交易市场。\n")
    profile = (Path(__file__).parent.parent / "voices" / "default.toml").read_text("utf-8")
    write(
        tmp_path / "slow.toml", profile.replace("headline = { rate = -8", "headline = { rate = -30")
    )
    config = write(tmp_path / "audio-edition.toml", 'profile = "slow.toml"\n')
    ((_, script),) = prepare(BuildOptions(inputs=(page,), config_path=config)).parts
    assert script.chapters[1].segments[0].voice.rate == -30
    ((_, default),) = prepare(BuildOptions(inputs=(page,))).parts
    assert default.chapters[1].segments[0].voice.rate == -8


def test_a_missing_profile_or_lexicon_in_the_config_is_one_line(tmp_path):
    page = write(tmp_path / "page.md", "# 标题\n\n正文一句。\n")
    for key in ("profile", "lexicon"):
        config = write(tmp_path / f"{key}.toml", f'{key} = "nowhere.toml"\n')
        result = CliRunner().invoke(cli, ["script", str(page), "--config", str(config)])
        assert result.exit_code == 2
        assert "nowhere.toml does not exist" in result.output
        assert len(result.output.strip().splitlines()) == 1


def png_header(width: int, height: int) -> bytes:
    """The first 24 bytes of a PNG: signature, IHDR length and type, width, height (PNG spec)."""
    signature = b"\x89PNG\r\n\x1a\n"
    return (
        signature + b"\x00\x00\x00\x0dIHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big")
    )


def test_image_sizes_of_real_files(tmp_path):
    assert image_size(ffmpeg_image(tmp_path / "a.jpg", 1400, 1400)) == (1400, 1400)
    assert image_size(ffmpeg_image(tmp_path / "b.jpg", 1600, 1200)) == (1600, 1200)
    assert image_size(ffmpeg_image(tmp_path / "c.png", 300, 200)) == (300, 200)
    jpeg = (tmp_path / "b.jpg").read_bytes()
    exif = b"\xff\xe1" + (2 + 300).to_bytes(2, "big") + b"Exif\x00\x00" + b"\x00" * 294
    (tmp_path / "camera.jpg").write_bytes(jpeg[:2] + exif + jpeg[2:])  # a segment over 255 bytes
    assert image_size(tmp_path / "camera.jpg") == (1600, 1200)
    for name, data in {
        "truncated": jpeg[:30],  # no start-of-frame yet
        "not-a-marker": jpeg[:2] + b"\x00" + jpeg[3:],
        "png-without-ihdr": b"\x89PNG\r\n\x1a\n" + b"\x00" * 16,
        "gif": b"GIF89a" + b"\x00" * 30,
    }.items():
        (tmp_path / name).write_bytes(data)
        assert image_size(tmp_path / name) is None, name


@pytest.mark.parametrize(
    ("size", "accepted"), [(1400, True), (3000, True), (1399, False), (3001, False)]
)
def test_artwork_sizes_at_apples_bounds(tmp_path, size, accepted):
    cover = tmp_path / "cover.png"
    cover.write_bytes(png_header(size, size) + b"\x08\x02")
    if accepted:
        assert PublicationConfig(artwork=cover).artwork == cover
    else:
        with pytest.raises(ConfigError, match=f"cover.png is {size}x{size}; Apple needs"):
            PublicationConfig(artwork=cover)


def test_artwork_of_exactly_ten_megabytes_is_accepted_and_larger_refused(tmp_path):
    cover = tmp_path / "cover.png"
    with open(cover, "wb") as f:
        f.write(png_header(1400, 1400))
        f.truncate(10 * 1024 * 1024)
    assert PublicationConfig(artwork=cover).artwork == cover
    with open(cover, "ab") as f:
        f.write(b"\x00")
    with pytest.raises(ConfigError, match="^config key 'artwork': cover.png is larger than 10 MB$"):
        PublicationConfig(artwork=cover)
    with pytest.raises(ConfigError, match=f"no such file '{tmp_path / 'gone.png'}'"):
        PublicationConfig(artwork=tmp_path / "gone.png")


def test_config_file_errors_name_the_file(tmp_path):
    path = write(tmp_path / "c.toml", "title = \n")
    with pytest.raises(ConfigError, match=f"^config file '{path}' is not valid TOML: "):
        load_config(path)
    with pytest.raises(ConfigError, match=f"^config file '{tmp_path / 'nope.toml'}' does not"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=f"^cannot read config file '{tmp_path}': "):
        load_config(tmp_path)  # a directory
    with pytest.raises(ConfigError, match=r"\(known: artwork, author, base_url, category, "):
        load_config(write(tmp_path / "c.toml", 'titel = "typo"\n'))
    for key in ("artwork", "profile", "lexicon"):
        message = rf"^config key '{key}' must be a file path \(relative to c.toml\)$"
        with pytest.raises(ConfigError, match=message):
            load_config(write(tmp_path / "c.toml", f"{key} = 3\n"))
