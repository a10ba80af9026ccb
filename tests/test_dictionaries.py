"""The dictionaries store: jieba's dictionary, its tags and the phrase and character readings,
looked up word by word from SQLite, must give exactly what the packages' own Python objects give
(the references here are the packages read directly, the way the text stage read them before the
store); and the store is built atomically, once per version, in memory when it cannot be kept."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import jieba
import pytest
from conftest import ROOT
from news_polyphones import news_check_set

from audio_edition.text import dictionaries as store_module
from audio_edition.text.dictionaries import dictionaries, open_dictionaries, store_name
from audio_edition.text.g2p import MAX_WORD, _dictionary_entry
from audio_edition.text.lexicon import load_lexicon
from audio_edition.text.syllables import NOT_SAID, inventory, readings
from audio_edition.text.words import base_tokenizer, cut, tokenizer_with
from audio_edition.usercache import FOLDER_VARIABLE


@functools.cache
def to_voice(marked: str) -> str:
    from pypinyin.contrib.tone_convert import to_tone3

    return to_tone3(marked, neutral_tone_with_five=True, v_to_u=False)


@pytest.fixture(scope="module")
def jieba_own() -> jieba.Tokenizer:
    """jieba initialised from its own dictionary."""
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@pytest.fixture(scope="module")
def jieba_tags() -> dict[str, str]:
    """The tag column of jieba's dict.txt ("word freq tag" lines), read another way than the
    store reads it."""
    with jieba.get_dict_file() as raw:
        text = raw.read().decode("utf-8")
    return dict(re.findall(r"^(\S+) \d+ (\S+)\r?$", text, flags=re.MULTILINE))


@pytest.fixture(scope="module")
def phrase_entry():
    """A word's readings per character and whether pypinyin's curated dictionary gave them:
    pypinyin's PHRASES_DICT first, CC-CEDICT's (pypinyin-dict) for what it lacks."""
    from pypinyin.constants import PHRASES_DICT
    from pypinyin_dict.phrase_pinyin_data import cc_cedict

    def entry(word: str):
        for curated, dictionary in ((True, PHRASES_DICT), (False, cc_cedict.phrases_dict)):
            marked = dictionary.get(word)
            if marked and len(marked) == len(word):
                return tuple(tuple(dict.fromkeys(map(to_voice, rs))) for rs in marked), curated
        return None

    entry.words = set(PHRASES_DICT) | set(cc_cedict.phrases_dict)
    return entry


def character_readings(char: str) -> tuple[str, ...]:
    from pypinyin.constants import PINYIN_DICT

    marked = PINYIN_DICT.get(ord(char), "")
    return tuple(dict.fromkeys(to_voice(r) for r in marked.split(",") if r))


def texts_met() -> list[str]:
    """The sample page's lines and the news check set's sentences."""
    page = (ROOT / "samples" / "000_aa4cbc5942cc5dc6.txt").read_text(encoding="utf-8")
    return [line for line in page.splitlines() if line.strip()] + [
        text for text, _ in news_check_set()
    ]


def rows(store, query: str) -> list[tuple]:
    """What `query` selects from the store's file, read with SQLite directly."""
    with contextlib.closing(sqlite3.connect(store.path)) as connection:
        return connection.execute(query).fetchall()


def test_the_store_holds_jiebas_prefix_dictionary_and_total(jieba_own) -> None:
    store = dictionaries()
    assert dict(rows(store, "SELECT key, value FROM frequencies")) == jieba_own.FREQ
    assert store.total == jieba_own.total
    assert len(store.frequencies) == len(jieba_own.FREQ)
    assert store.frequencies["中华人民共"] == 0  # a prefix of 中华人民共和国, no word itself
    assert "中华人民共" in store.frequencies and "嘎查" not in store.frequencies
    assert store.frequencies.get("嘎查", 7) == 7


def test_the_store_holds_every_tag_phrase_and_character_reading(jieba_tags, phrase_entry) -> None:
    from pypinyin.constants import PINYIN_DICT

    store = dictionaries()
    assert dict(rows(store, "SELECT key, value FROM tags")) == jieba_tags
    phrases = {w: store.phrases[w] for (w,) in rows(store, "SELECT key FROM phrases")}
    assert phrases == {w: e for w in phrase_entry.words if (e := phrase_entry(w))}
    chars = {c: store.readings[c] for (c,) in rows(store, "SELECT key FROM characters")}
    expected = {chr(c): character_readings(chr(c)) for c in PINYIN_DICT}
    assert chars == {c: said for c, said in expected.items() if said}
    every = {s[:-1] for said in expected.values() for s in said if s[-1:].isdigit()}
    assert inventory() == every - NOT_SAID


@pytest.fixture(scope="module")
def lexicon_words() -> list[str]:
    """The default lexicon's terms and words the dictionary lacks (names of the region)."""
    return [*load_lexicon().entries, "嘎查村", "巴林左旗", "扫帚苗", "笤帚大妈"]


def test_cuts_are_jiebas_own_with_and_without_added_words(jieba_own, lexicon_words) -> None:
    own_with = jieba.Tokenizer()  # what tokenizer_with made before the store: a whole copy
    own_with.FREQ, own_with.total = dict(jieba_own.FREQ), jieba_own.total
    own_with.initialized = True
    for word in lexicon_words:
        own_with.suggest_freq(word, tune=True)
    added = tokenizer_with(lexicon_words)
    assert added.total == own_with.total
    texts = texts_met()
    assert [cut(t) for t in texts] == [jieba_own.lcut(t, HMM=True) for t in texts]
    assert [cut(t, added) for t in texts] == [own_with.lcut(t, HMM=True) for t in texts]
    assert [added.lcut(t, HMM=False) for t in texts] == [own_with.lcut(t, HMM=False) for t in texts]
    assert "嘎查村" in cut("全市共有2059个嘎查村党组织参与", added)
    assert base_tokenizer().FREQ.get("嘎查村") is None  # the shared dictionary is untouched
    assert "嘎查村" not in cut("全市共有2059个嘎查村党组织参与")


def test_every_word_met_has_its_own_tag_and_readings(jieba_tags, phrase_entry) -> None:
    """Every word and every piece of up to MAX_WORD characters the g2p stage may look up in the
    sample page and the news check set, and every character in them."""
    store = dictionaries()
    words, chars = set(), set()
    for text in texts_met():
        words.update(cut(text))
        chars.update(text)
        for size in range(2, MAX_WORD + 1):
            words.update(text[k : k + size] for k in range(len(text) - size + 1))
    assert len(words) > 30_000
    for word in sorted(words):
        assert store.tags.get(word) == jieba_tags.get(word), word
        assert _dictionary_entry(word) == phrase_entry(word), word
    for char in sorted(chars):
        assert readings(char) == character_readings(char), char


def test_the_tests_keep_the_store_in_their_own_folder() -> None:
    store = dictionaries()
    assert store.path == Path(os.environ[FOLDER_VARIABLE]) / store_name()
    assert store.path.is_file() and not str(store.path).startswith(str(Path.home()))


def test_another_version_is_another_store(monkeypatch) -> None:
    """The store's name changes with the version of each package read into it, and with the
    store's format; by default it names the installed versions."""
    installed = {"jieba": "0.42.1", "pypinyin": "0.55.0", "pypinyin-dict": "0.9.0"}
    names = {store_name(installed)}
    for package in installed:
        names.add(store_name(installed | {package: "1.0.1"}))
    monkeypatch.setattr(store_module, "STORE_FORMAT", store_module.STORE_FORMAT + 1)
    names.add(store_name(installed))
    assert len(names) == len(installed) + 2
    monkeypatch.undo()
    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "version", lambda p: {"jieba": "9.9"}.get(p, "1.0"))
    assert store_name() == store_name(dict.fromkeys(installed, "1.0") | {"jieba": "9.9"})
    assert store_name() != store_name(dict.fromkeys(installed, "1.0"))


def test_an_unwritable_folder_loads_the_dictionaries_in_memory(tmp_path, caplog) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with caplog.at_level(logging.WARNING):
        store = open_dictionaries(blocked / "cache")
    assert store.path is None
    assert "loading them in memory" in caplog.text
    reference = dictionaries()
    assert store.total == reference.total
    for word in ("中国", "中华人民共", "行长", "银行", "嘎查"):
        assert store.frequencies.get(word) == reference.frequencies.get(word)
        assert store.tags.get(word) == reference.tags.get(word)
        assert store.phrases.get(word) == reference.phrases.get(word)


def test_a_python_without_sqlite_loads_the_dictionaries_in_memory(
    tmp_path, caplog, monkeypatch
) -> None:
    monkeypatch.setattr(store_module, "sqlite3", None)
    with caplog.at_level(logging.WARNING):
        store = open_dictionaries(tmp_path)
    assert store.path is None and not any(tmp_path.iterdir())
    assert "no sqlite3 module" in caplog.text
    reference = dictionaries()
    assert (store.total, store.syllables) == (reference.total, reference.syllables)
    assert len(store.frequencies) == len(reference.frequencies)
    for word in ("中国", "中华人民共", "行长", "银行", "嘎查", "重"):
        assert store.frequencies.get(word) == reference.frequencies.get(word)
        assert store.tags.get(word) == reference.tags.get(word)
        assert store.phrases.get(word) == reference.phrases.get(word)
        assert store.readings.get(word) == reference.readings.get(word)


def test_a_damaged_store_is_built_again(tmp_path, caplog) -> None:
    damaged = tmp_path / store_name()
    damaged.write_bytes(dictionaries().path.read_bytes()[:4096])  # a copy cut short
    with caplog.at_level(logging.WARNING):
        store = open_dictionaries(tmp_path)
    assert store.path == damaged and not caplog.text
    assert store.total == dictionaries().total and store.tags["中国"] == "ns"
    assert damaged.stat().st_size == dictionaries().path.stat().st_size


CHILD = """import sys
from pathlib import Path
from audio_edition.text.dictionaries import open_dictionaries
store = open_dictionaries(Path(sys.argv[1]))
print(store.path, store.total, store.frequencies["中国"], store.tags["中国"], store.phrases["行长"])
"""


def test_racing_builds_both_work_and_a_half_written_store_is_ignored(tmp_path) -> None:
    """A build killed half-way leaves its temp file; a process that opens the store while
    another builds it builds its own: both end with the whole store, renamed into place."""
    name = store_name()
    half = tmp_path / f".{name}.killed.tmp"
    half.write_bytes(dictionaries().path.read_bytes()[:65536])
    env = os.environ | {"PYTHONPATH": str(ROOT)}

    def start() -> subprocess.Popen:
        command = [sys.executable, "-c", CHILD, str(tmp_path)]
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    first = start()
    deadline = time.monotonic() + 60
    while not [p for p in tmp_path.glob(".*.tmp") if p != half]:
        assert first.poll() is None and time.monotonic() < deadline, "no build was seen under way"
        time.sleep(0.01)
    assert not (tmp_path / name).exists()
    second = start()
    outputs = []
    for process in (first, second):
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
        assert not err, err.decode()  # no warning: neither fell back to memory
        outputs.append(out.decode())
    reference = dictionaries()
    expected = (
        f"{tmp_path / name} {reference.total} {reference.frequencies['中国']} "
        f"{reference.tags['中国']} {reference.phrases['行长']}\n"
    )
    assert outputs == [expected, expected]
    assert sorted(tmp_path.iterdir()) == sorted([tmp_path / name, half])
