"""The user's cache folder: derived files made once per machine, or each time when it can't be,
and what killed processes left there cleaned up."""

from __future__ import annotations

import importlib.metadata
import logging
import os
import time

from audio_edition.text import dictionaries
from audio_edition.text.dictionaries import open_dictionaries
from audio_edition.usercache import FOLDER_VARIABLE, cache_folder, cached_bytes, code_fingerprint


def test_a_cached_file_is_made_once_then_read(tmp_path, monkeypatch):
    monkeypatch.setenv(FOLDER_VARIABLE, str(tmp_path / "cache"))
    made = []

    def make() -> bytes:
        made.append(1)
        return b"derived"

    assert cached_bytes("thing.bin", make) == b"derived"
    assert cached_bytes("thing.bin", make) == b"derived"
    assert made == [1]
    assert (tmp_path / "cache" / "thing.bin").read_bytes() == b"derived"
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["thing.bin"]  # no temp left


def test_an_unwritable_cache_folder_makes_the_file_each_time(tmp_path, monkeypatch, caplog):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the folder should be")
    monkeypatch.setenv(FOLDER_VARIABLE, str(blocked))
    made = []
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            assert cached_bytes("thing.bin", lambda: made.append(1) or b"derived") == b"derived"
    assert made == [1, 1]
    assert "cannot keep thing.bin" in caplog.text


def test_the_cache_folder_follows_xdg_then_home(tmp_path, monkeypatch):
    monkeypatch.delenv(FOLDER_VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_folder() == tmp_path / "audio-edition"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_folder() == tmp_path / "home" / ".cache" / "audio-edition"


def test_temp_files_of_killed_processes_are_removed_after_an_hour(tmp_path, monkeypatch):
    """A process killed while making a file leaves `.<name>.<random>.tmp`; the next one to make
    a file there removes it once it is over an hour old (a younger one may be being written)."""
    monkeypatch.setenv(FOLDER_VARIABLE, str(tmp_path))
    old, young = tmp_path / ".model.tflite.x1y2.tmp", tmp_path / ".store.sqlite3.a1b2.tmp"
    for temp in (old, young):
        temp.write_bytes(b"half a file")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    assert cached_bytes("thing.bin", lambda: b"derived") == b"derived"
    assert not old.exists() and young.exists()
    # building the dictionaries store sweeps its folder too (here a store of one word)
    os.utime(young, (two_hours_ago, two_hours_ago))
    tiny = {"frequencies": [("词", 1)], "tags": [], "phrases": [], "characters": []}
    tiny["meta"] = [("total", 1), ("syllables", ["ci"])]
    monkeypatch.setattr(dictionaries, "_contents", lambda: tiny)
    assert open_dictionaries(tmp_path).frequencies["词"] == 1
    assert not young.exists()


def test_the_code_fingerprint_follows_the_packages_it_names(monkeypatch):
    plain, with_numpy = code_fingerprint(), code_fingerprint("numpy")
    assert plain != with_numpy and code_fingerprint("numpy") == with_numpy
    real = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata, "version", lambda name: "0.0" if name == "numpy" else real(name)
    )
    assert code_fingerprint("numpy") not in (plain, with_numpy)  # another numpy, another name
