"""The WebVTT transcript and the chapters JSON, from hand-made timings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audio_edition.model import ChapterTiming, MasteredAudio, SegmentTiming
from audio_edition.publish.chapters import write_chapters_json
from audio_edition.publish.transcript import (
    LINE_WIDTH,
    _atom_width,
    _balanced,
    cue_lines,
    segment_cues,
    timestamp,
    vtt_text,
    width,
    wrap,
    write_vtt,
)

LONG = (
    "在快手短视频平台上，一位“笤帚大妈”凭着高超的扫帚绑扎手艺吸引了两万多粉丝的关注，"
    "她就是来自赤峰市巴林左旗的贾殿荣老人。半年来，她制作的工艺扫帚在快手上销量达到1500余件，"
    "累计收益3万余元。"
)


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test computes its widths and wrappings itself, not from an earlier test's cache."""
    _atom_width.cache_clear()
    _balanced.cache_clear()


def audio(segments=(), chapters=()) -> MasteredAudio:
    return MasteredAudio(Path("x.mp3"), 1, 10_000, tuple(chapters), tuple(segments))


def test_lines_fit_captions_and_keep_every_character():
    lines = wrap(LONG)
    assert "".join(lines) == LONG
    assert all(width(line) <= LINE_WIDTH + 1 for line in lines)  # + a closing mark kept on
    assert len(lines) >= 4


def test_lines_break_after_punctuation_and_never_start_with_it():
    lines = wrap(LONG)
    assert lines[1].endswith("，")  # "…两万多粉丝的关注，" breaks at its comma
    for line in lines[1:]:
        assert line[0] not in "，。、；：！？”」）"
    for line in lines[:-1]:
        assert line[-1] not in "“「（"


def test_no_short_cue_or_line_is_left_dangling():
    text = "作为巴林左旗的传统产业，为了让小小的扫帚苗变成致富的有力抓手，巴林左旗旗委组织村民重拾“老本行”，"  # noqa: E501
    cues = cue_lines(text)
    assert [len(lines) for lines in cues] == [2, 1]  # not 2 + 2 + a lone "“老本行”，"
    assert all(line.endswith("，") for lines in cues for line in lines)
    assert "".join(line for lines in cues for line in lines) == text


def test_latin_words_and_numbers_are_not_cut():
    lines = wrap(
        "据统计，全市共有2059个嘎查村党组织参与了APP推广和SCI论文发表工作，覆盖率达到98.5%以上"
    )
    joined = " ".join(lines)
    for word in ("2059", "APP", "SCI", "98.5%"):
        assert word in joined


def test_a_long_sentence_becomes_consecutive_cues_over_its_time():
    segment = SegmentTiming(0, 0, 2_000, 14_000, "body", LONG)
    cues = list(segment_cues(segment))
    assert len(cues) >= 2
    assert cues[0][0] == 2_000 and cues[-1][1] == 14_000
    for (_, end, _), (start, _, _) in zip(cues, cues[1:], strict=False):
        assert end == start  # consecutive, no gap or overlap
    assert all(len(lines) <= 2 for _, _, lines in cues)
    durations = [end - start for start, end, _ in cues]
    widths = [sum(width(line) for line in lines) for _, _, lines in cues]
    for duration, cue_width in zip(durations, widths, strict=True):  # time follows length
        assert abs(duration / 12_000 - cue_width / sum(widths)) < 0.01


def test_vtt_document_escapes_and_times_each_segment(tmp_path):
    segments = [
        SegmentTiming(0, 0, 0, 1_500, "headline", "R&D <b>标题</b> -->"),
        SegmentTiming(0, 1, 3_600_250, 3_601_999, "body", "第二句。"),
    ]
    write_vtt(audio(segments), tmp_path / "t.vtt")
    text = (tmp_path / "t.vtt").read_text("utf-8")
    assert text == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:01.500\nR&amp;D &lt;b&gt;标题&lt;/b&gt; --&gt;\n\n"
        "01:00:00.250 --> 01:00:01.999\n第二句。\n"
    )
    assert vtt_text(()) == "WEBVTT\n"


@pytest.mark.parametrize(
    "ms, stamp", [(0, "00:00:00.000"), (61_001, "00:01:01.001"), (36_000_000, "10:00:00.000")]
)
def test_timestamps(ms, stamp):
    assert timestamp(ms) == stamp


def test_chapters_json(tmp_path):
    chapters = [
        ChapterTiming("intro", "本期导读", 0, 5_338),
        ChapterTiming("a1", "党建引领", 5_338, 10_000, url="https://example.com/a1"),
    ]
    write_chapters_json(audio(chapters=chapters), tmp_path / "c.json")
    assert json.loads((tmp_path / "c.json").read_text("utf-8")) == {
        "version": "1.2.0",
        "chapters": [
            {"startTime": 0.0, "endTime": 5.338, "title": "本期导读"},
            {
                "startTime": 5.338,
                "endTime": 10.0,
                "title": "党建引领",
                "url": "https://example.com/a1",
            },
        ],
    }
    assert not [p for p in tmp_path.iterdir() if p.name != "c.json"]  # no temp file left
    assert (tmp_path / "c.json").read_text("utf-8") == (  # readable: indented, not \u-escaped
        '{\n  "version": "1.2.0",\n  "chapters": [\n    {\n      "startTime": 0.0,\n'
        '      "endTime": 5.338,\n      "title": "本期导读"\n    },\n    {\n'
        '      "startTime": 5.338,\n      "endTime": 10.0,\n      "title": "党建引领",\n'
        '      "url": "https://example.com/a1"\n    }\n  ]\n}\n'
    )


# --- exact captions, worked out by hand from the rules in transcript.py's docstring -------------


def test_widths_count_full_width_as_one_and_the_rest_as_half():
    assert width("中文") == 2.0 and width("ab") == 1.0 and width("，、") == 2.0
    assert width("１２Ａ") == 3.0  # full-width digits and letters are full width
    assert width("") == 0.0


def test_a_line_holds_exactly_line_width_characters():
    assert wrap("丙" * 27) == ["丙" * 22, "丙" * 5]
    assert wrap("丙" * 22) == ["丙" * 22]


@pytest.mark.parametrize(
    ("text", "cues"),
    [
        (
            "一二三四五六七八九十" * 3,
            [["一二三四五六七八九十一二三四五", "六七八九十一二三四五六七八九十"]],
        ),
        ("甲" * 19 + "，" + "乙" * 15, [["甲" * 19 + "，", "乙" * 15]]),  # after the comma
        # 50 > one cue (2 x 22): two cues of 25, and 25 > 22: each in two even lines
        ("戊" * 50, [["戊" * 13, "戊" * 12], ["戊" * 13, "戊" * 12]]),
    ],
    ids=["even-lines", "after-punctuation", "two-cues"],
)
def test_cues_by_hand(text, cues):
    assert cue_lines(text) == cues


def test_a_two_line_cue_in_the_document():
    segment = SegmentTiming(0, 0, 0, 3_000, "body", "丁" * 30)
    assert vtt_text((segment,)) == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:03.000\n" + "丁" * 15 + "\n" + "丁" * 15 + "\n"
    )


@pytest.mark.parametrize(
    ("text", "lines"),
    [  # worked by hand: 22 full-width characters a line, breaking after punctuation near the end
        ("甲" * 20 + "，" + "乙" * 5, ["甲" * 20 + "，", "乙" * 5]),
        ("甲" * 21 + "“乙乙”", ["甲" * 21, "“乙乙”"]),  # an opening quote never ends a line
        ("甲" * 18 + "， " + "乙" * 5, ["甲" * 18 + "，", "乙" * 5]),  # no space starts a line
    ],
    ids=["after-the-comma", "opening-quote-moves-on", "space-dropped"],
)
def test_line_breaks_by_hand(text, lines):
    assert wrap(text) == lines
