"""prepare: every input read and checked, and the running order of each episode made."""

from __future__ import annotations

import datetime as dt

from audio_edition.build import BuildOptions, prepare
from audio_edition.text import g2p

SUNDAY = dt.date(2026, 11, 29)
PAGE = """# 党建引领有为 “硬核”举措有力

在快手短视频平台上，一位“笤帚大妈”吸引了两万多粉丝的关注。

# 做在田间 让农民甜在心头

前来取经的农民们不由得发出感叹：老本行有了新门道。
"""
LEXICON = '"老本行" = "lao3 ben3 xing2"  # a reading the editors chose\n'


def test_split_articles_numbers_titles_and_reads_each_article_alone(tmp_path):
    page, lexicon = tmp_path / "page.md", tmp_path / "lexicon.toml"
    page.write_text(PAGE, encoding="utf-8")
    lexicon.write_text(LEXICON, encoding="utf-8")
    options = BuildOptions(inputs=(page,), date=SUNDAY, split="articles", lexicon_path=lexicon)
    (first, first_script), (second, second_script) = prepare(options).parts
    assert (first.pages, second.pages) == (("a01",), ("a02",))  # the episodes' identities
    # a headline's gap before a quote is kept, as the page prints it
    assert "党建引领有为 “硬核”举措有力" in first.full_title
    assert "做在田间 让农民甜在心头" in second.full_title
    assert [c.id for c in first_script.chapters] == ["intro", "a01", "outro"]
    (said,) = [s.pinyin for c in second_script.chapters for s in c.segments if "老本行" in s.text]
    assert "lao3 ben3 xing2" in " ".join(said)  # the editors' lexicon (else: hang2)


def test_prepare_keeps_the_text_stages_work_for_the_next_build(tmp_path, monkeypatch):
    """Each part's script reads through the text memo: a second prepare reads nothing again."""
    page = tmp_path / "page.md"
    page.write_text(PAGE, encoding="utf-8")
    read = []
    real = g2p.Reader.read_all
    monkeypatch.setattr(g2p.Reader, "read_all", lambda self, t: read.append(1) or real(self, t))
    for split in ("edition", "articles"):
        options = BuildOptions(inputs=(page,), date=SUNDAY, split=split)
        first = prepare(options)
        read.clear()
        assert prepare(options) == first and read == []


def test_prepare_reports_what_the_page_parser_was_unsure_of(sample_page):
    (warning,) = prepare(BuildOptions(inputs=(sample_page,), date=SUNDAY)).warnings
    assert warning.line == 213 and "农牧民培训1500余人次" in warning.message
