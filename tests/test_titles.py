"""Episode titles: the date as Chinese readers write it, the edition's name, the config's template;
a label or column name the parser found is never the title."""

from __future__ import annotations

import datetime as dt

import pytest

from audio_edition.build import BuildOptions, prepare
from audio_edition.ingest import read_edition
from audio_edition.titles import (
    DEFAULT_TEMPLATE,
    check_template,
    chinese_date,
    episode_title,
    page_names,
)

WEDNESDAY = dt.date(2020, 12, 2)
SUNDAY = dt.date(2020, 11, 29)
PAGE = """第5版

测试新闻标题

□本报记者 白丹

在快手短视频平台上，一位“笤帚大妈”凭着高超的扫帚绑扎手艺吸引了两万多粉丝的关注。
"""


def test_dates_as_chinese_readers_write_them():
    assert chinese_date(WEDNESDAY) == "2020年12月2日 星期三"
    assert chinese_date(WEDNESDAY, year=False) == "12月2日 星期三"
    assert chinese_date(SUNDAY, weekday=False) == "2020年11月29日"
    assert chinese_date(dt.date(2021, 1, 10), year=False) == "1月10日 星期日"


def test_the_default_title_is_the_date_and_the_name_when_known():
    assert DEFAULT_TEMPLATE == "{date} {name}"
    assert episode_title(DEFAULT_TEMPLATE, "赤峰日报", WEDNESDAY, "") == "12月2日 星期三"
    assert episode_title(DEFAULT_TEMPLATE, "赤峰日报", WEDNESDAY, "第5版") == "12月2日 星期三 第5版"
    # where the title stands alone (the MP3's tag, the intro) the year helps
    standalone = episode_title(DEFAULT_TEMPLATE, "赤峰日报", WEDNESDAY, "第5版", standalone=True)
    assert standalone == "2020年12月2日 星期三 第5版"


def test_templates_place_fields_and_empty_ones_drop_out():
    template = "{publication} · {date} · {name}"
    assert episode_title(template, "赤峰日报", WEDNESDAY, "") == "赤峰日报 · 12月2日 星期三"
    assert episode_title("{name}：{date}", "赤峰日报", WEDNESDAY, "") == "12月2日 星期三"
    with_year = "{year}{date}"
    assert episode_title(with_year, "赤峰日报", WEDNESDAY, "") == "2020年12月2日 星期三"
    assert episode_title(with_year, "赤峰日报", WEDNESDAY, "", standalone=True) == (
        "2020年12月2日 星期三"  # the year is not said twice
    )


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{name}", "must contain {date}"),
        ("{date} {page}", "unknown field {page}"),
        ("{date.year}", "unknown field {date.year}"),
        ("{date", "not a valid template"),
    ],
)
def test_bad_templates_say_what_is_wrong(template, problem):
    assert problem in check_template(template)


def test_page_names():
    assert page_names(["第5版"]) == "第5版"
    assert page_names(["第5版", "第6版", "第5版"]) == "第5版、第6版"
    assert page_names([f"第{n}版" for n in range(1, 9)]) == "第1版至第8版"
    assert page_names([]) == ""


def test_the_page_number_printed_on_a_page_names_the_edition(tmp_path):
    first = tmp_path / "a.txt"
    first.write_text(PAGE, encoding="utf-8")
    second = tmp_path / "b.txt"
    second.write_text(PAGE.replace("第5版", "06版"), encoding="utf-8")
    assert read_edition([first, second]).pages == ("第5版", "第6版")
    options = BuildOptions(inputs=(first, second), date=WEDNESDAY, out_dir=tmp_path / "out")
    ((info, script),) = prepare(options).parts
    assert info.title == "12月2日 星期三 第5版、第6版"
    assert info.full_title == "2020年12月2日 星期三 第5版、第6版"
    assert script.chapters[0].segments[1].text == "2020年12月2日，星期三，第5版、第6版。"


def test_a_column_label_is_never_the_title_and_title_wins(sample_page, tmp_path):
    options = BuildOptions(inputs=(sample_page,), date=SUNDAY, out_dir=tmp_path / "out")
    assert read_edition([sample_page]).title == "红船初心"  # what the parser found: a label
    ((info, script),) = prepare(options).parts
    assert info.title == "11月29日 星期日"
    intro = " ".join(s.text for s in script.chapters[0].segments)
    assert "红船初心" not in intro
    named = BuildOptions(inputs=(sample_page,), date=SUNDAY, title="视点", out_dir=tmp_path)
    ((info, _),) = prepare(named).parts
    assert info.title == "11月29日 星期日 视点"


def test_the_configs_template_titles_the_episode(sample_page, tmp_path):
    config = tmp_path / "audio-edition.toml"
    config.write_text(
        'publication = "赤峰日报"\nepisode_title = "{publication}有声版 {year}{date}"\n',
        encoding="utf-8",
    )
    options = BuildOptions(inputs=(sample_page,), date=SUNDAY, config_path=config)
    ((info, script),) = prepare(options).parts
    assert info.title == info.full_title == "赤峰日报有声版 2020年11月29日 星期日"
    assert script.chapters[0].segments[1].text == "赤峰日报有声版，2020年11月29日，星期日。"


def test_split_articles_are_titled_by_their_headlines(sample_page):
    options = BuildOptions(inputs=(sample_page,), date=SUNDAY, split="articles")
    titles = [info.title for info, _ in prepare(options).parts]
    assert titles[0] == "11月29日 星期日 “联合体”吹响集结号 产业兴旺助增收"
    assert len(set(titles)) == len(titles)
