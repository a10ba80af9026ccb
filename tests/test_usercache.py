"""The user's cache folder: derived files made once per machine, or each time when it can't be."""

from __future__ import annotations

import logging

from audio_edition.usercache import FOLDER_VARIABLE, cache_folder, cached_bytes


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
