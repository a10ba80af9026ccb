"""The text memo: a correction re-reads only what it changed, and a memo never changes a script."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from audio_edition import script as script_module
from audio_edition.ingest import read_edition
from audio_edition.model import EditionInfo
from audio_edition.profile import load_profile
from audio_edition.script import build_script
from audio_edition.text import memo as memo_module
from audio_edition.text.lexicon import Lexicon
from audio_edition.text.memo import TextMemo, text_memo
from audio_edition.usercache import FOLDER_VARIABLE

INFO = EditionInfo(publication="赤峰日报", date=dt.date(2020, 11, 29), title="视点")
ORIGINAL, CORRECTED = "累计收益 3万余元。", "累计收益 4万余元。"


@pytest.fixture
def counted(monkeypatch):
    """How many chapters were read by the g2p stage and paragraphs cut, by build_script."""
    calls = {"read": 0, "cut": 0}
    read_all, pieces = script_module.Reader.read_all, script_module._Speaker._pieces

    def counting_read(self, texts):
        calls["read"] += 1
        return read_all(self, texts)

    def counting_pieces(self, paragraph):
        calls["cut"] += 1
        return pieces(self, paragraph)

    monkeypatch.setattr(script_module.Reader, "read_all", counting_read)
    monkeypatch.setattr(script_module._Speaker, "_pieces", counting_pieces)
    return calls


def script_of(page, memo=None, lexicon=None, engine="offline"):
    lexicon = Lexicon() if lexicon is None else lexicon
    return build_script(read_edition([page]), INFO, load_profile(), engine, lexicon, memo)


def corrected_page(sample_page, tmp_path):
    text = sample_page.read_text(encoding="utf-8")
    assert ORIGINAL in text
    page = tmp_path / "corrected.txt"
    page.write_text(text.replace(ORIGINAL, CORRECTED), encoding="utf-8")
    return page


def test_a_correction_rereads_one_paragraph_and_one_chapter(sample_page, tmp_path, counted):
    path = tmp_path / "memo.sqlite3"
    first = TextMemo(path)
    script_of(sample_page, first)
    first.save()
    made = dict(counted)
    assert made["read"] == 8 and made["cut"] > 8  # 5 articles, photos, intro, outro

    again = TextMemo(path)  # another build: reads the file
    assert script_of(sample_page, again) == script_of(sample_page)
    counted["read"] = counted["cut"] = 0
    script_of(sample_page, again)
    assert counted == {"read": 0, "cut": 0}

    page = corrected_page(sample_page, tmp_path)
    corrected = script_of(page, TextMemo(path))
    assert counted == {"read": 1, "cut": 1}  # the corrected paragraph and its chapter
    assert corrected == script_of(page)  # exactly what a build without the memo says


def test_the_lexicon_and_the_engine_are_part_of_every_key(sample_page, tmp_path):
    memo = TextMemo(tmp_path / "memo.sqlite3")
    script_of(sample_page, memo)
    for entries in (
        {"老本行": "lao3 ben3 xing2"},
        {"合作社": "农民专业合作经济组织"},
    ):  # a reading, a respelling
        lexicon = Lexicon(entries)
        assert script_of(sample_page, memo, lexicon) == script_of(sample_page, lexicon=lexicon)
        assert script_of(sample_page, lexicon=lexicon) != script_of(sample_page)
    assert script_of(sample_page, memo, engine="edge") == script_of(sample_page, engine="edge")


def test_the_memo_file_is_made_again_when_damaged_or_made_by_other_code(tmp_path, monkeypatch):
    monkeypatch.setenv(FOLDER_VARIABLE, str(tmp_path))
    (tmp_path / "text-memo-v1-0123456789abcdef.sqlite3").write_bytes(b"an older code's memo")
    with text_memo() as memo:
        assert memo.get("kind", ["made", "from"], lambda: [1, 2]) == [1, 2]
    (current,) = tmp_path.glob("text-memo-*.sqlite3")  # the older one is gone
    with text_memo() as memo:
        assert memo.get("kind", ["made", "from"], lambda: pytest.fail("made again")) == [1, 2]
    for suffix in ("-wal", "-shm"):
        current.with_name(current.name + suffix).unlink(missing_ok=True)
    current.write_bytes(b"not a database" * 100)
    with text_memo() as memo:
        assert memo.get("kind", ["made", "from"], lambda: [3]) == [3]
    with sqlite3.connect(current) as connection:
        assert connection.execute("SELECT count(*) FROM memo").fetchone() == (1,)


def test_an_unwritable_cache_folder_keeps_the_memo_in_memory(tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("where the folder should be")
    monkeypatch.setenv(FOLDER_VARIABLE, str(blocked))
    made = []
    with text_memo() as memo:
        for _ in range(2):
            assert memo.get("kind", "x", lambda: made.append(1) or "y") == "y"
    assert made == [1]


def test_the_memo_keeps_the_entries_last_made_or_used(tmp_path, monkeypatch):
    monkeypatch.setattr(memo_module, "MAX_ENTRIES", 3)
    path = tmp_path / "memo.sqlite3"

    def build(*names):
        """A build asking the memo for these results: the ones it had to make."""
        made = []
        memo = TextMemo(path)
        for name in names:
            assert memo.get("test", name, lambda name=name: made.append(name) or [name]) == [name]
        memo.save()
        memo.close()
        return made

    assert build("a", "b", "c") == ["a", "b", "c"]
    assert build("a") == []  # a is used again: now the newest
    assert build("d") == ["d"]  # four entries: b, the one least recently made or used, goes
    assert build("a", "c", "d") == []
    assert build("b") == ["b"]
    assert build("a") == ["a"]  # b's return pushed a out
    assert build("b", "c", "d") == ["c"]  # and a's return pushed c out
