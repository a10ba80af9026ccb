"""The g2p stage: readings of news polyphones in context, 一/不 sandhi, lexicon precedence,
pinyin lexicon entries (offline syllables, edge respellings), `pinyin --lines` alignment, and
the reading review. Expected readings are the standard ones (现代汉语词典), checked by hand."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from news_polyphones import news_check_set

from audio_edition.cli import cli
from audio_edition.errors import ConfigError
from audio_edition.text.g2p import Reader, choices, read_lines
from audio_edition.text.lexicon import Lexicon, load_lexicon
from audio_edition.text.syllables import parse, readings

NONE = Lexicon()


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader(NONE)


def said(reader: Reader, text: str, char: str, nth: int = 0) -> str:
    """The syllable said for the nth occurrence of `char` in `text`."""
    index = [i for i, c in enumerate(text) if c == char][nth]
    found = reader.read(text)[index]
    assert found is not None
    return found.syllable


# (sentence, character, which occurrence, reading)
POLYPHONES = [
    ("银行行长在发布会上表示", "行", 1, "hang2"),
    ("这家银行的行长和副行长", "长", 1, "zhang3"),
    ("车辆在行驶过程中突然起火", "行", 0, "xing2"),
    ("这条高速公路全长一百二十公里", "长", 0, "chang2"),
    ("组织村民重拾老本行", "重", 0, "chong2"),
    ("党员法官主动带头办理重大疑难复杂案件", "重", 0, "zhong4"),
    ("为了保障群众用水安全", "为", 0, "wei4"),
    ("以市场需求为导向，企业不断调整产品结构", "为", 0, "wei2"),
    ("他被任命为区委副书记", "为", 0, "wei2"),
    ("学校为每名学生提供免费午餐", "为", 0, "wei4"),
    ("他们认真地听取了居民代表的意见", "地", 0, "de5"),
    ("在五原开展盐碱地改良", "地", 0, "di4"),
    ("比赛进行得非常激烈", "得", 0, "de5"),
    ("这个问题得到了有关部门的高度重视", "得", 0, "de2"),
    ("共同体还发挥统筹协调的优势", "还", 0, "hai2"),
    ("这笔贷款必须在年底前还清", "还", 0, "huan2"),
    ("我们和周边国家的经贸往来日益密切", "和", 0, "he2"),
    ("记者看着眼前的废墟", "着", 0, "zhe5"),
    ("党组织着力推动更多政策项目", "着", 0, "zhuo2"),
    ("这个村的年轻人大都外出务工了", "都", 0, "dou1"),
    ("首都北京迎来了今冬的第一场雪", "都", 0, "du1"),
    ("法院依法判处被告人有期徒刑五年", "处", 0, "chu3"),
    ("这家公司在全国设有三十多个办事处", "处", 0, "chu4"),
    ("两国人民相互学习", "相", 0, "xiang1"),
    ("他在照相馆拍了一张全家福", "相", 0, "xiang4"),
    ("这位应届毕业生顺利通过了考试", "应", 0, "ying1"),
    ("新政策出台后，相应的配套措施也将陆续推出", "应", 0, "ying4"),
    ("这家药店出售的人参全部来自长白山", "参", 0, "shen1"),
    ("两千多名运动员参加了本届运动会", "参", 0, "can1"),
    ("市场监管部门加大了对食品价格的调控力度", "调", 0, "tiao2"),
    ("他被调到省里工作", "调", 0, "diao4"),
    ("正月十五元宵节", "正", 0, "zheng1"),
    ("目前，各项工作正在有条不紊地推进", "正", 0, "zheng4"),
    ("充分发挥地域优势，村民种植山葡萄", "分", 0, "fen4"),
    ("充分发挥地域优势，村民种植山葡萄", "种", 0, "zhong4"),
    ("党建资源供给与支部建设需求紧密衔接", "给", 0, "ji3"),
    ("各地银行的利润率正在回升", "率", 0, "lv4"),
    ("让内蒙古农业大学基层党组织扎根农村", "蒙", 0, "meng3"),
    ("找到了解决问题的金钥匙", "匙", 0, "shi5"),
]


@pytest.mark.parametrize(("text", "char", "nth", "reading"), POLYPHONES)
def test_news_polyphones_in_context(reader, text, char, nth, reading):
    assert said(reader, text, char, nth) == reading


@pytest.mark.parametrize(
    ("text", "char", "nth", "reading"),
    [
        ("他一个人住在山上", "一", 0, "yi2"),  # before a fourth tone
        ("他们在一起工作了十几年", "一", 0, "yi4"),  # before a third tone
        ("房间里空无一人", "一", 0, "yi4"),  # before a second tone
        ("全长一百二十公里", "一", 0, "yi4"),  # 一百: a place value, sandhi applies
        ("赤峰市有一百四十一个共同体", "一", 1, "yi1"),  # the last digit of 四十一
        ("这是他第一次当选人大代表", "一", 0, "yi1"),  # an ordinal
        ("她得了全国青年歌手大赛的一等奖", "一", 0, "yi1"),  # a rank
        ("帮助农牧民统一认识", "一", 0, "yi1"),  # the end of a word
        ("老师让我们读一读课文", "一", 0, "yi5"),  # between a doubled verb
        ("二零一八年", "一", 0, "yi1"),  # digit by digit
        ("这个问题不大，很快就能解决", "不", 0, "bu2"),  # before a fourth tone
        ("我们不能强求每个人都做到完美", "不", 0, "bu4"),  # before a second tone
        ("这是不是真的", "不", 0, "bu5"),  # A-not-A question
    ],
)
def test_sandhi_of_yi_and_bu(reader, text, char, nth, reading):
    assert said(reader, text, char, nth) == reading


def test_neutral_tones_come_from_words_and_the_model(reader):
    assert reader.syllables("钥匙") == ("yao4", "shi5")
    assert reader.syllables("我们的路子") == ("wo3", "men5", "de5", "lu4", "zi5")


def test_every_syllable_is_one_the_voice_can_say(reader, baker):
    # a sentence full of polyphones and rare readings: each syllable is in the voice's table
    text = "银行行长重拾老本行，为了大家还要着力调查长处和短处，嗯，一二三。"
    for reading in reader.read(text):
        if reading is not None:
            base = reading.syllable[:-1]
            assert base in baker.processor.pinyin_dict or base == "n", reading


def test_a_pinyin_entry_wins_over_every_other_reading():
    lexicon = Lexicon({"行长": "xing2 chang2", "扎鲁特": "za1 lu3 te4"})
    found = Reader(lexicon).read("银行的行长到扎鲁特调研")
    assert [r.syllable for r in found[3:5]] == ["xing2", "chang2"]
    assert [r.source for r in found[3:5]] == ["lexicon", "lexicon"]
    assert [r.syllable for r in found[6:9]] == ["za1", "lu3", "te4"]
    # only whole words: 长 in 长期 is not the term 行长
    assert Reader(lexicon).syllables("银行长期") == ("yin2", "hang2", "chang2", "qi1")


def test_a_respelling_entry_still_replaces_the_term_and_is_read():
    lexicon = Lexicon({"呼铁中院": "呼和浩特铁路运输中级法院"})
    assert lexicon.apply("呼铁中院党组") == "呼和浩特铁路运输中级法院党组"
    assert not lexicon.pinyin and lexicon.respellings


@pytest.mark.parametrize(
    ("written", "syllable"),
    [("hang2", "hang2"), ("lü4", "lv4"), ("lu:4", "lv4"), ("NV3", "nv3"), ("lue4", "lve4"),
     ("hang", None), ("hang6", None), ("xyz2", None), ("m2", None)],
)  # fmt: skip
def test_syllables_are_checked(written, syllable):
    assert parse(written) == syllable


def test_malformed_pinyin_entries_are_one_line_errors_naming_the_line(tmp_path):
    path = tmp_path / "lexicon.toml"
    cases = {
        '"行长" = "hang2 zhang"': "line 2: .*'zhang' is not a pinyin syllable",
        '"行长" = "hang2"': "line 2: .*2 characters need 2 syllables, not 1",
        '"SCI" = "sai1"': "line 2: .*Chinese characters only",
    }
    for entry, message in cases.items():
        path.write_text(f"# comment\n{entry}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=message) as caught:
            load_lexicon(path)
        assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_a_pinyin_entry_becomes_an_edge_respelling_that_reads_back():
    # 不对 spelled with its own characters would read bu2 dui4 (不 before a fourth tone): the
    # read-back must reject it and try the next characters
    entries = {"行长": "hang2 zhang3", "重拾": "chong2 shi2", "不对": "bu4 dui4"}
    lexicon = Lexicon(entries).spelled()
    assert not lexicon.pinyin
    reader = Reader(NONE)
    for term, value in entries.items():
        syllables = tuple(value.split())
        respelling = lexicon.respellings[term]
        assert len(respelling) == 2 and respelling != term
        for char, syllable in zip(respelling, syllables, strict=True):
            assert choices(char) == (syllable,)  # characters with that reading only
        assert reader.syllables(respelling) == syllables


def test_the_edge_script_says_the_respelling_and_the_offline_script_the_syllables(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# 行长调研\n\n银行的行长到村里调研。\n", encoding="utf-8")
    lexicon = tmp_path / "lexicon.toml"
    lexicon.write_text('"行长" = "xing2 chang2"\n', encoding="utf-8")
    runner = CliRunner()
    offline = runner.invoke(cli, ["script", str(page), "--lexicon", str(lexicon), "--json"])
    segments = [s for c in json.loads(offline.output)["chapters"] for s in c["segments"]]
    body = next(s for s in segments if s["text"].startswith("银行"))
    assert body["pinyin"].split()[3:5] == ["xing2", "chang2"]
    assert body["spoken"].startswith("银行的行长")
    edge = runner.invoke(
        cli, ["script", str(page), "--engine", "edge", "--lexicon", str(lexicon), "--json"]
    )
    body = next(
        s for c in json.loads(edge.output)["chapters"] for s in c["segments"]
        if s["text"].startswith("银行")
    )  # fmt: skip
    assert "行长" not in body["spoken"] and "pinyin" not in body
    assert Reader(NONE).syllables(body["spoken"][3:5]) == ("xing2", "chang2")


def test_lines_align_with_digits_latin_letters_and_punctuation(reader):
    line = "2020年SCI论文增长了5%，银行行长说。"
    (found,) = read_lines([line], reader)
    assert len(found) == len(line)
    expected = {
        "年": "nian2", "论": "lun4", "文": "wen2", "增": "zeng1", "长": "zhang3",
        "了": "le5", "银": "yin2", "说": "shuo1",
    }  # fmt: skip
    for k, char in enumerate(line):
        if char in "2025SCI%，。":
            assert found[k] is None, char
        elif char in expected:
            assert found[k] == expected[char], char
    assert found[line.index("行") + 1] == "hang2"  # 行长: the second 行


def test_lines_with_a_respelling_of_another_length_are_null_there():
    reader = Reader(Lexicon({"呼铁中院": "呼和浩特铁路运输中级法院", "扎鲁特": "匝鲁特"}))
    (found,) = read_lines(["呼铁中院到扎鲁特"], reader)
    assert found[:4] == [None] * 4  # said as a longer text: not read as themselves
    assert found[4] == "dao4"
    assert found[5:] == ["za1", "lu3", "te4"]  # a same-length respelling maps char by char


def test_pinyin_lines_command_prints_json_lines(tmp_path):
    lines = tmp_path / "lines.txt"
    lines.write_text("银行行长\n\n第1名\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["pinyin", "--lines", str(lines), "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in result.output.splitlines()]
    assert rows == [
        {"text": "银行行长", "pinyin": ["yin2", "hang2", "hang2", "zhang3"]},
        {"text": "", "pinyin": []},
        {"text": "第1名", "pinyin": ["di4", None, "ming2"]},
    ]
    stdin = CliRunner().invoke(cli, ["pinyin", "--lines", "-"], input="行长\n")
    assert stdin.output == "hang2 zhang3\n"


def test_pinyin_review_lists_least_sure_first_with_lexicon_lines(sample_page):
    result = CliRunner().invoke(cli, ["pinyin", str(sample_page), "--date", "2026-11-29"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "least sure first" in lines[0]
    listed = [line for line in lines[1:] if line.startswith("  ") and "fix: " in line]
    sure = [float(line.split()[0]) for line in listed]
    assert listed and sure == sorted(sure)
    assert any(line.startswith("== a01 ") for line in lines)
    # the page's segments, each polyphone with its reading in brackets: 扫[sao4]帚
    assert any("扫[sao4]帚" in line for line in lines)
    first = listed[0].split("fix: ")[1]
    term, _, value = first.partition(" = ")
    fixed = Lexicon({json.loads(term): json.loads(value)})  # a valid lexicon line
    char, chosen, other = listed[0].split()[1], listed[0].split()[2], listed[0].split()[4]
    assert chosen not in fixed.pinyin[json.loads(term)]
    assert other.rstrip(")").split("/")[0] in fixed.pinyin[json.loads(term)], char


def test_pinyin_needs_pages_or_lines():
    result = CliRunner().invoke(cli, ["pinyin"])
    assert result.exit_code == 2 and "--lines" in result.output


def test_the_news_check_set_is_well_formed():
    rows = news_check_set()
    points = [(text[k], reading) for text, marks in rows for k, reading in marks]
    assert len(points) >= 250 and len(rows) >= 200
    for char, reading in points:
        # a reading of the character, or its neutral tone (这个 ge5); 一 and 不 in sandhi forms
        sandhi = {"一": ("yi2", "yi4", "yi5"), "不": ("bu2", "bu5")}.get(char, ())
        neutral = tuple(r[:-1] + "5" for r in readings(char))
        assert reading in readings(char) + neutral + sandhi, (char, reading)


def test_the_news_check_set_is_read_right_at_least_95_percent():
    rows = news_check_set()
    found = read_lines([text for text, _ in rows], Reader(load_lexicon()))
    points = [
        (said[k], want) for (_, marks), said in zip(rows, found, strict=True) for k, want in marks
    ]
    right = sum(got == want for got, want in points)
    assert right / len(points) >= 0.95, f"{right}/{len(points)}"


def test_the_review_and_the_script_say_the_same_syllables(sample_page):
    import datetime as dt

    from audio_edition.build import BuildOptions, prepare
    from audio_edition.review import review

    options = BuildOptions(inputs=(sample_page,), date=dt.date(2026, 11, 29))
    ((_, script),) = prepare(options).parts
    result = review(script, load_lexicon())
    assert len(result.segments) == len(script.segments)
    for segment, read in zip(script.segments, result.segments, strict=True):
        assert segment.pinyin == tuple(r.syllable for r in read.readings if r is not None)
        assert len(segment.pinyin) == sum(1 for c in segment.spoken if "\u4e00" <= c <= "\u9fa5")


def test_pinyin_json_gives_the_choices_and_every_segments_syllables(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# 行长调研\n\n他为群众办实事，还要重新调查。\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["pinyin", str(page), "--json", "--date", "2026-11-29"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    sure = [c["sure"] for c in data["choices"]]
    assert sure == sorted(sure)
    body = next(s for s in data["segments"] if s["spoken"].startswith("他为"))
    assert len(body["pinyin"]) == len(body["spoken"])
    assert body["pinyin"][:2] == ["ta1", "wei4"] and body["pinyin"][7] is None  # ，
    assert {"index": 1, "char": "为", "pinyin": "wei4", "source": "rule"} in body["polyphones"]
    choice = next(c for c in data["choices"] if c["char"] == "为")
    assert choice["fix"] == '"为群众" = "wei2 qun2 zhong4"'
