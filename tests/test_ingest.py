"""Ingest: the sample page recovered exactly, other layouts, Markdown, JSON and bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from audio_edition.cli import cli
from audio_edition.errors import InputError
from audio_edition.ingest import MAX_INPUT_BYTES, parse_page, read_edition, read_text
from audio_edition.ingest.layout import PageLine, display_width, split_paragraphs, tidy
from audio_edition.model import Article

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_PAGES = sorted(FIXTURES.glob("page_*.txt"))
PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010fffd]")

# The sample page, read line by line: (kind, column, headline, byline, sections), each section
# (heading, paragraphs) and each paragraph given by its first and last eight characters.
SAMPLE_STRUCTURE = [
    ("article", "观潮", "“联合体”吹响集结号 产业兴旺助增收", "本报记者 白丹", [
        (None, [
            ("在快手短视频平台", "实现了稳定脱贫。"),
            ("像这样的“党建引", "农牧民脱贫致富。"),
        ]),
        ("强化引领 凝聚脱贫攻坚新动能", [
            ("喀喇沁旗河南街道", "售上的各类难题。"),
            ("目前，全市各嘎查", "参与的发展模式。"),
        ]),
        ("发挥优势 集聚产业发展活力", [
            ("在“党建引领产业", "突出的主导产业。"),
            ("翁牛特旗创建了党", "增收8000元。"),
            ("“共同体”还发挥", "增收2000元。"),
        ]),
        ("健全机制 汇聚增收致富力量", [
            ("赤峰市林西县十二", "的村民脱贫致富。"),  # ends on a full line, before 2017年…
            ("2017年成立之", "增收3000元。"),
            ("除此之外，党建引", "吃上“定心丸”。"),
        ]),
    ]),
    ("article", "观潮", "做在田间 让农民甜在心头", "本报记者 及庆玲", [
        (None, [
            ("在巴彦淖尔市的田", "面旗帜”的作用。"),
            ("灌区自然地理条件", "写在河套大地上？"),
            ("党支部坚持问题导", "训1500余人次"),  # the page prints no full stop here
            ("“地里的蚯蚓太多", "不由得发出感叹。"),
            ("2019年，水利", "让农民甜在心头。"),
        ]),
    ]),
    ("article", "观潮", "七彩直播间 提升居民幸福感", "见习记者 郝佳丽", [
        (None, [
            ("“今天的党组织生", "、内容通俗易懂。"),
            ("为打造党建引领社", "间”其中的一个。"),
            ("红色直播间着力打", "升社区服务能力。"),
            ("“七彩直播间”推", "己的医疗问题⋯⋯"),
            ("艺术厅南街社区党", "升居民幸福感。”"),
        ]),
    ]),
    ("article", "观潮", "党建引领有为 “硬核”举措有力", "本报记者 宋爽", [
        (None, [
            ("“在自治区直属机", "大干警倍感振奋。"),
            ("为推动党建与法院", "工表和责任清单。"),
            ("欲筑室者，先治其", "良好的思想基础。"),
            ("审判工作推进到哪", "体责任落到实处。"),
            ("跨域跨界，搭建党", "村脱贫攻坚能力？"),  # a full line ending in ？
            ("经过多次讨论，最", "部书记王彩艳说。"),
            ("求木之长者，必固", "创业的磅礴力量。"),
        ]),
    ]),
    ("commentary", "知行合一", "从“有形覆盖”到“有效覆盖”的嬗变", "郭俊楼", [
        (None, [
            ("党建强则各业兴，", "收致富的新路子。"),  # a full line
            ("当前，一些地区基", "村牧区发展活力。"),
            ("然而，发挥好“共", "领推动产业发展。"),
            ("要强化思想政治引", "群众的自觉行动。"),
            ("要发挥组织发动优", "发展的良好局面。"),  # a full line
            ("要抓住人才这个关", "才、聚才、留才。"),
        ]),
    ]),
    ("photo", "阵地", "“宝音讲堂”开讲", "本报记者 陈春艳 摄", [
        (None, [("近日，巴彦淖尔市", "届五中全会精神。")]),
    ]),
    ("photo", "阵地", "加强政治修养", "见习记者 郝佳丽 摄", [
        (None, [("近日，呼和浩特市", "工作，开拓进取。")]),
    ]),
    ("photo", "阵地", "线上宣讲", "马志军 摄", [
        (None, [("近日，通辽市扎鲁", "展全会精神学习。")]),
    ]),
]  # fmt: skip

# Everything on the sample page that is not body text, as printed.
SAMPLE_NOT_BODY = {
    "视点", "观潮", "红船初心", "□本报记者 白丹", "强化引领 凝聚脱贫攻坚新动能",
    "发挥优势 集聚产业发展活力", "健全机制 汇聚增收致富力量", "“联合体”吹响集结号 产业兴旺助增收",
    "□本报记者 及庆玲", "做在田间 让农民甜在心头", "□见习记者 郝佳丽", "七彩直播间",
    "提升居民幸福感", "□本报记者 宋爽", "党建引领有为", "“硬核”举措有力", "知行合一",
    "从“有形覆盖”到“有效覆盖”的嬗变", "◎郭俊楼", "阵地", "见习记者 郝佳丽 摄",
    "加强政治修养", "“宝音讲堂”开讲", "线上宣讲",
}  # fmt: skip
SAMPLE_INLINE_CREDITS = (" 本报记者 陈春艳 摄", " 马志军 摄")


def _structure(edition):
    return [
        (
            a.kind,
            a.column,
            a.headline,
            a.byline,
            [(s.heading, [(p[:8], p[-8:]) for p in s.paragraphs]) for s in a.sections],
        )
        for a in edition.articles
    ]


def _no_space(text: str) -> str:
    return re.sub(r"\s", "", text)


# --- the sample page ---------------------------------------------------------------------------


def test_sample_page_structure_is_recovered_exactly(sample_page):
    edition = read_edition([sample_page])
    assert edition.title == "红船初心"
    assert _structure(edition) == SAMPLE_STRUCTURE


def test_sample_body_is_every_character_of_the_page_in_order_and_nothing_else(sample_page):
    lines = sample_page.read_text(encoding="utf-8").splitlines()
    body_lines = [
        line
        for line in lines
        if line.strip() and line.strip() not in SAMPLE_NOT_BODY and not PRIVATE_USE.search(line)
    ]
    page_body = "".join(body_lines)
    for credit in SAMPLE_INLINE_CREDITS:
        assert credit in page_body
        page_body = page_body.replace(credit, "")
    edition = read_edition([sample_page])
    parsed = "".join(p for a in edition.articles for p in a.paragraphs)
    assert _no_space(parsed) == _no_space(page_body)


def test_the_sample_reads_the_same_in_gb18030_with_crlf(sample_page, tmp_path):
    text = sample_page.read_text(encoding="utf-8")
    copy = tmp_path / "page.txt"
    copy.write_bytes(text.replace("\n", "\r\n").encode("gb18030"))
    assert read_edition([copy]) == read_edition([sample_page])


def test_sample_bodies_hold_no_labels_credits_junk_or_headlines(sample_page):
    edition = read_edition([sample_page])
    for article in edition.articles:
        for paragraph in article.paragraphs:
            assert not PRIVATE_USE.search(paragraph)
            assert not paragraph.endswith("摄")
            assert "□" not in paragraph and "◎" not in paragraph
            assert paragraph not in SAMPLE_NOT_BODY
            assert "\n" not in paragraph and "  " not in paragraph
    banner = "五化协同 大抓基层"
    assert all(
        banner not in a.headline and banner not in p for a in edition.articles for p in a.paragraphs
    )


def test_spaces_around_numbers_are_layout_and_dropped(sample_page):
    paragraph = read_edition([sample_page]).articles[0].paragraphs[0]
    assert "达到1500余件，累计收益3万余元。" in paragraph
    assert " " not in paragraph


def test_a_latin_word_split_by_a_line_break_keeps_its_space():
    text = "SCI论文12篇，EI论文18篇，其中 APP\nstore 推广。"
    assert tidy("其中 APP") == "其中APP"
    lines = [PageLine(t, display_width(t)) for t in text.split("\n")]
    assert split_paragraphs(lines) == ["SCI论文12篇，EI论文18篇，其中APP store推广。"]


# --- other layouts -----------------------------------------------------------------------------


@pytest.mark.parametrize("page", FIXTURE_PAGES, ids=lambda p: p.stem)
def test_other_layouts_are_recovered_exactly(page):
    expected = json.loads(page.with_suffix(".expected.json").read_text(encoding="utf-8"))
    assert read_edition([page]).to_dict() == expected


def test_the_fixture_pages_are_in_the_encodings_and_layouts_they_claim():
    crlf = (FIXTURES / "page_headline_first_crlf.txt").read_bytes()
    assert b"\r\n" in crlf and b"\n\n" not in crlf
    gb = (FIXTURES / "page_indented_gb18030.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gb.decode("utf-8")
    assert "\u3000\u3000" in gb.decode("gb18030")
    assert (FIXTURES / "page_narrow_bom.txt").read_bytes().startswith(b"\xef\xbb\xbf")


def test_headline_first_layout_pairs_each_headline_with_the_article_below_it():
    edition = read_edition([FIXTURES / "page_headline_first_crlf.txt"])
    assert [(a.headline, a.byline) for a in edition.articles[:3]] == [
        ("党建引领有为 “硬核”举措有力", "本报记者 宋爽"),
        ("“联合体”吹响集结号 产业兴旺助增收", "本报记者 白丹"),
        ("从“有形覆盖”到“有效覆盖”的嬗变", "郭俊楼"),
    ]


def test_pages_in_order_make_one_edition_titled_after_the_first(sample_page):
    edition = read_edition([FIXTURES / "page_indented_gb18030.txt", sample_page])
    assert edition.title == "红船初心"
    assert len(edition.articles) == 2 + 8
    assert edition.articles[0].byline == "见习记者 郝佳丽"
    assert edition.articles[2].byline == "本报记者 白丹"
    # each file is a printed page: its articles carry its number (for the talking books)
    assert [a.page for a in edition.articles] == ["1"] * 2 + ["2"] * 8
    assert {a.page for a in read_edition([sample_page]).articles} == {None}


def test_a_json_article_names_its_page_and_keeps_it(tmp_path):
    data = {
        "articles": [{"headline": "标题", "page": "A03", "sections": [{"paragraphs": ["一句。"]}]}]
    }
    path = tmp_path / "e.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (article,) = read_edition([path, path]).articles[:1]
    assert article.page == "A03"
    assert read_edition([path]).to_dict()["articles"][0]["page"] == "A03"
    assert "page" not in Article(kind="article", headline="t").to_dict()


def test_indented_paragraphs_split_at_the_indent_not_by_width():
    lines = [
        "\u3000\u3000短的一段。",
        "\u3000\u3000第二段很长很长很长很长",
        "很长很长。",
        "还是第二段。",
    ]
    page_lines = [
        PageLine(t.strip(), display_width(t), indented=t.startswith("\u3000")) for t in lines
    ]
    assert split_paragraphs(page_lines) == [
        "短的一段。",
        "第二段很长很长很长很长很长很长。还是第二段。",
    ]


def test_a_headline_before_its_byline_on_a_page_of_one_article():
    text = "今日要闻\n\n草原上的新课堂\n\n□本报记者 张三\n\n" + (
        "近日，记者走进乌兰察布市的一所乡村\n学校，看到孩子们正在上一堂特别的课\n程。"
        "\n老师说，这样的课每周都有。\n"
    )
    edition = parse_page(text)
    assert edition.title == "今日要闻"
    (article,) = edition.articles
    assert (article.headline, article.byline) == ("草原上的新课堂", "本报记者 张三")
    assert article.paragraphs == (
        "近日，记者走进乌兰察布市的一所乡村学校，看到孩子们正在上一堂特别的课程。",
        "老师说，这样的课每周都有。",
    )


def test_a_two_line_byline_and_a_headline_printed_without_blank_lines():
    text = (
        "□本报记者 张三\n通讯员 李四\n\n"
        "近日，记者走进乌兰察布市的一所乡\n村学校，看到孩子们正在上一堂特别\n"
        "的课程。老师说，这样的课每周都有。\n草原上的\n新课堂\n"
        "□本报记者 王五\n\n第二篇文章的第一段写在这里，一共\n有两行字。\n"
        "农牧民增收有了新路子\n"
    )
    first, second = parse_page(text).articles
    assert (first.headline, first.byline) == ("草原上的 新课堂", "本报记者 张三 通讯员 李四")
    assert first.paragraphs == (
        "近日，记者走进乌兰察布市的一所乡村学校，看到孩子们正在上一堂特别的课程。"
        "老师说，这样的课每周都有。",
    )
    assert (second.headline, second.byline) == ("农牧民增收有了新路子", "本报记者 王五")


def test_page_furniture_and_junk_banners_are_not_articles():
    text = (
        " 要闻\n\n2020年11月20日 星期五\n\n责任编辑：王五\n\n□本报记者 张三\n\n"
        "近日，记者走进乌兰察布市的一所乡\n村学校，看到孩子们正在上一堂特别\n"
        "的课程。\n\n草原上的新课堂\n\n第5版\n\n全民阅读\ue0b1\U00100056\n"
    )
    edition = parse_page(text)
    assert edition.title == "要闻"
    assert [(a.headline, a.byline, a.paragraphs) for a in edition.articles] == [
        (
            "草原上的新课堂",
            "本报记者 张三",
            ("近日，记者走进乌兰察布市的一所乡村学校，看到孩子们正在上一堂特别的课程。",),
        )
    ]


def test_photos_printed_inside_an_article_do_not_cut_its_text():
    text = (
        "□本报记者 张三\n\n近日，记者走进乌兰察布市的一所乡\n村学校，看到孩子们正在上一堂特别\n\n"
        "图为孩子们在课堂上。 本报记者 李四 摄\n\n"
        "的课程。老师说，这样的课每周都有，\n孩子们最喜欢这堂课。\n"
        "校长告诉记者，学校今年新建了一座\n图书馆，藏书一万余册。\n\n"
        "学生在图书馆里读书。\n\n王五 摄\n\n草原上的新课堂\n"
    )
    article, first_photo, second_photo = parse_page(text).articles
    assert (article.headline, article.byline) == ("草原上的新课堂", "本报记者 张三")
    assert article.paragraphs == (
        "近日，记者走进乌兰察布市的一所乡村学校，看到孩子们正在上一堂特别的课程。"
        "老师说，这样的课每周都有，孩子们最喜欢这堂课。",
        "校长告诉记者，学校今年新建了一座图书馆，藏书一万余册。",
    )
    assert (first_photo.kind, first_photo.byline, first_photo.paragraphs) == (
        "photo",
        "本报记者 李四 摄",
        ("图为孩子们在课堂上。",),
    )
    assert (second_photo.byline, second_photo.paragraphs) == ("王五 摄", ("学生在图书馆里读书。",))


def test_numbered_subheadings():
    text = (
        "□本报记者 张三\n\n近日，记者走进乌兰察布市的一所乡\n村学校，看到孩子们正在上一堂特别\n"
        "的课程。\n\n一、课堂搬进草原\n\n老师说，这样的课每周都有，孩子们\n最喜欢这堂课。\n\n"
        "（二）图书馆里书声琅琅\n\n校长告诉记者，学校今年新建了一座\n图书馆，藏书一万余册。\n\n"
        "草原上的新课堂\n"
    )
    (article,) = parse_page(text).articles
    assert article.headline == "草原上的新课堂"
    assert [(s.heading, len(s.paragraphs)) for s in article.sections] == [
        (None, 1),
        ("一、课堂搬进草原", 1),
        ("（二）图书馆里书声琅琅", 1),
    ]


# --- Markdown and JSON -------------------------------------------------------------------------

MARKDOWN = """% 周末版

# 草原上的新课堂
□本报记者 张三

近日，记者走进乌兰察布市的一所乡村学校，
看到孩子们正在上一堂 AI 课。

## 课后

老师说，这样的课每周都有。

# 从“有形覆盖”到“有效覆盖”
◎郭俊楼
党建强则各业兴。

# 记者手记
记者从市教育局获悉，这样的学校全市已有十所。
"""


def test_markdown_articles_bylines_sections_and_title(tmp_path):
    path = tmp_path / "edition.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    edition = read_edition([path])
    assert edition.to_dict() == {
        "title": "周末版",
        "articles": [
            {
                "kind": "article",
                "headline": "草原上的新课堂",
                "byline": "本报记者 张三",
                "column": None,
                "sections": [
                    {
                        "heading": None,
                        "paragraphs": [
                            "近日，记者走进乌兰察布市的一所乡村学校，看到孩子们正在上一堂AI课。"
                        ],
                    },
                    {"heading": "课后", "paragraphs": ["老师说，这样的课每周都有。"]},
                ],
            },
            {
                "kind": "commentary",
                "headline": "从“有形覆盖”到“有效覆盖”",
                "byline": "郭俊楼",
                "column": None,
                "sections": [{"heading": None, "paragraphs": ["党建强则各业兴。"]}],
            },
            {
                "kind": "article",
                "headline": "记者手记",
                "byline": None,
                "column": None,
                "sections": [
                    {
                        "heading": None,
                        "paragraphs": ["记者从市教育局获悉，这样的学校全市已有十所。"],
                    }
                ],
            },
        ],
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "正文在标题之前。\n# 标题\n正文。\n",
            "line 1: text before the first '# headline'; add one",
        ),
        ("# 标题\n\n## 小标题\n", "line 3: subheading '小标题' has no paragraphs under it"),
        ("# 标题\n□本报记者 张三\n", "line 1: article '标题' has no paragraphs"),
        ("just some words\n", "line 1: text before the first '# headline'; add one"),
    ],
)
def test_markdown_errors_name_the_line(tmp_path, text, message):
    path = tmp_path / "bad.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_edition([path])
    assert str(error.value) == f"{path}: {message}"


def test_json_from_parse_reads_back_to_the_same_edition(sample_page, tmp_path):
    result = CliRunner().invoke(cli, ["parse", str(sample_page), "--json"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "edition.json"
    path.write_text(result.output, encoding="utf-8")
    assert read_edition([path]) == read_edition([sample_page])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["articles"][1].pop("headline"),
            "articles[1].headline must be a non-empty string",
        ),
        (lambda d: d["articles"][0].update(kind="poem"), "articles[0].kind must be one of"),
        (
            lambda d: d["articles"][2]["sections"][0]["paragraphs"].__setitem__(1, " "),
            "articles[2].sections[0].paragraphs[1] must be a non-empty string",
        ),
        (lambda d: d.update(articles=[]), "articles must be a non-empty list"),
        (lambda d: d.update(title=3), "title must be a non-empty string or null"),
        (lambda d: d["articles"][0].update(byline=["x"]), "articles[0].byline must be a"),
    ],
)
def test_json_errors_name_the_bad_field(sample_page, tmp_path, change, message):
    data = read_edition([sample_page]).to_dict()
    change(data)
    path = tmp_path / "edition.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InputError) as error:
        read_edition([path])
    assert str(error.value).startswith(f"{path}: {message}")


def test_json_syntax_errors_say_where(tmp_path):
    path = tmp_path / "edition.json"
    path.write_text('{"title": "x",\n "articles": [}', encoding="utf-8")
    with pytest.raises(InputError, match=r"edition.json: not valid JSON at line 2 column"):
        read_edition([path])


# --- encodings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "标题\r\n正文。\r\n".encode(),
        "标题\r正文。\r".encode(),
        "\ufeff标题\n正文。\n".encode(),
        "标题\n正文。\n".encode("gb18030"),
        "\ufeff标题\r\n正文。\r\n".encode("gb18030"),
    ],
    ids=["crlf", "cr", "bom", "gb18030", "gb18030-bom-crlf"],
)
def test_read_text_decodes_and_normalises_line_ends(tmp_path, data):
    path = tmp_path / "page.txt"
    path.write_bytes(data)
    assert read_text(path) == "标题\n正文。\n"


# --- the parse command -------------------------------------------------------------------------


def test_parse_prints_an_outline_an_editor_can_check(sample_page):
    result = CliRunner().invoke(cli, ["parse", str(sample_page)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "红船初心 — 8 articles"
    assert "1. [article] “联合体”吹响集结号 产业兴旺助增收" in lines
    assert "   column: 观潮   byline: 本报记者 白丹   10 paragraphs" in lines
    assert "   ## 强化引领 凝聚脱贫攻坚新动能" in lines
    assert "   ¶1 (258 chars) 在快手短视频平台上，一位“笤帚大…" in lines
    assert "8. [photo] 线上宣讲" in lines


def test_parse_json_prints_the_contract(sample_page):
    result = CliRunner().invoke(cli, ["parse", str(sample_page), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"title", "articles"}
    article = data["articles"][4]
    assert set(article) == {"kind", "headline", "byline", "column", "sections"}
    assert article["kind"] == "commentary" and article["byline"] == "郭俊楼"
    assert data == read_edition([sample_page]).to_dict()


def test_a_bad_json_field_is_one_line_with_exit_code_2(tmp_path):
    path = tmp_path / "cms.json"
    path.write_text('{"title": null, "articles": [{"headline": "标题"}]}', encoding="utf-8")
    result = CliRunner().invoke(cli, ["parse", str(path)])
    assert result.exit_code == 2
    assert result.output == f"Error: {path}: articles[0].sections must be a non-empty list\n"


def _bad_inputs(tmp_path: Path) -> list[tuple[Path, str]]:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.txt"
    blank.write_text(" \n\u3000\n\n", encoding="utf-8")
    nul = tmp_path / "image.txt"
    nul.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    undecodable = tmp_path / "latin1.txt"
    undecodable.write_bytes("Zürich \xff\xfe".encode("latin-1") + b"\x80\x81")
    big = tmp_path / "big.txt"
    big.write_bytes("正文。\n".encode() * (MAX_INPUT_BYTES // 10 + 1))
    labels = tmp_path / "labels.txt"
    labels.write_text(" 视点\n\n观潮\n\n红船初心\n", encoding="utf-8")
    folder = tmp_path / "pages"
    folder.mkdir()
    binary = "is not a text file (binary data); give the page's extracted text in UTF-8 or GB18030"
    return [
        (tmp_path / "missing.txt", "no such file; check the path"),
        (folder, "is a directory; give the text files inside it"),
        (empty, "is empty; export the page's text again"),
        (blank, "is empty; export the page's text again"),
        (nul, binary),
        (undecodable, binary),
        (big, "5.0 MB is more than the 5 MB limit for one input; split it into pages"),
        (
            labels,
            "no article found: no byline, paragraph text or photo caption was recognised; "
            "check this is a newspaper page's text",
        ),
    ]


def test_bad_inputs_fail_in_one_line_with_exit_code_2(tmp_path):
    for path, message in _bad_inputs(tmp_path):
        result = CliRunner().invoke(cli, ["parse", str(path)])
        assert result.exit_code == 2, (path, result.output)
        assert result.output == f"Error: {path}: {message}\n", path
