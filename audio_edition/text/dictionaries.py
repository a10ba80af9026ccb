"""The dictionaries the text stage looks words up in: one SQLite file, built once per machine.

jieba's prefix dictionary (its FREQ: every word's frequency, 0 for a prefix of a word, and their
total), jieba's part-of-speech tag of each of its words, the phrase readings of the g2p stage
(pypinyin's curated dictionary first, CC-CEDICT's from pypinyin-dict for the words it lacks) and
pypinyin's readings of each character take about 2 s to load as Python objects, while a page
looks up only a few thousand words. So they are read once into a store in the user's cache
folder (usercache.py), under a name that carries the versions of the three packages and of
this store's format (an upgrade builds a new one), with pypinyin's tone marks already in the
voice's form (`zhǎng` -> `zhang3`). A build opens it read-only and reads each word it meets once.

The store is built into a temp file and renamed into place, so a reader never sees half of one
and two processes building at once both succeed. Where the folder cannot be written (or Python
was built without sqlite3) the dictionaries are loaded whole into memory for the process:
slower to start, the same answers.
"""

from __future__ import annotations

import functools
import importlib.metadata
import io
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from audio_edition.fsutil import remove_stale_temp_files, temp_sibling
from audio_edition.usercache import STALE_TEMP_S, cache_folder

try:
    import sqlite3
except ImportError:  # a Python built without it: the dictionaries are loaded in memory
    sqlite3 = None  # type: ignore[assignment]

STORE_FORMAT = 1  # bump when what the store holds, or how, changes: the name changes with it
PACKAGES = ("jieba", "pypinyin", "pypinyin-dict")  # their versions are part of the store's name
JSON_TABLES = ("phrases", "characters", "meta")  # values stored as JSON (the rest as they are)

log = logging.getLogger(__name__)

Value = TypeVar("Value")
PhraseEntry = tuple[tuple[tuple[str, ...], ...], bool]  # (readings per character, curated)


class Table(Mapping[str, Value]):
    """One table of a store file as a read-only mapping; each key is read once, then remembered
    (absent keys too: jieba asks for many fragments that are no word)."""

    def __init__(
        self, connection: sqlite3.Connection, table: str, decode: Callable[[object], Value]
    ) -> None:
        self._connection = connection
        self._table = table
        self._select = f"SELECT value FROM {table} WHERE key = ?"
        self._decode = decode
        self._memo: dict[str, Value | None] = {}

    def get(self, key: str, default=None):  # type: ignore[override]
        try:
            found = self._memo[key]
        except KeyError:
            row = self._connection.execute(self._select, (key,)).fetchone()
            found = self._memo[key] = None if row is None else self._decode(row[0])
        return default if found is None else found

    def __getitem__(self, key: str) -> Value:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return (key for (key,) in self._connection.execute(f"SELECT key FROM {self._table}"))

    def __len__(self) -> int:
        return self._connection.execute(f"SELECT count(*) FROM {self._table}").fetchone()[0]


@dataclass(frozen=True)
class Dictionaries:
    """What the text stage looks up, from a store file or loaded whole in memory."""

    frequencies: Mapping[str, int]  # jieba's FREQ
    tags: Mapping[str, str]  # jieba's part-of-speech tags
    phrases: Mapping[str, PhraseEntry]
    readings: Mapping[str, tuple[str, ...]]  # each character's, most common first
    total: int  # jieba's total of the frequencies
    syllables: frozenset[str]  # every toneless syllable pypinyin gives some character
    path: Path | None = None  # the store file; None: loaded in memory


@functools.cache
def dictionaries() -> Dictionaries:
    """The store in the user's cache folder, opened once per process (built first if missing)."""
    return open_dictionaries(cache_folder())


def open_dictionaries(folder: Path | None) -> Dictionaries:
    """The store in `folder`, built there first if it is not; loaded in memory when `folder` is
    None or cannot be written (or this Python has no sqlite3)."""
    if folder is not None and sqlite3 is None:
        log.warning("this Python has no sqlite3 module: loading the dictionaries in memory")
    elif folder is not None:
        path = folder / store_name()
        try:
            if not path.exists():
                _build_file(path)
            try:
                return _open_file(path)
            except sqlite3.DatabaseError:  # damaged on disk, or not a store: build it again
                _build_file(path)
                return _open_file(path)
        except (OSError, sqlite3.Error) as e:
            log.warning(
                "cannot keep the dictionaries in %s (%s): loading them in memory", folder, e
            )
    contents = _contents()
    meta = dict(contents["meta"])
    return Dictionaries(
        frequencies=dict(contents["frequencies"]),
        tags=dict(contents["tags"]),
        phrases=dict(contents["phrases"]),
        readings=dict(contents["characters"]),
        total=meta["total"],
        syllables=frozenset(meta["syllables"]),
    )


def store_name(versions: Mapping[str, str] | None = None) -> str:
    """The store's file name: the format and the version of each package it is read from."""
    versions = versions or {p: importlib.metadata.version(p) for p in PACKAGES}
    key = "-".join(f"{package}{versions[package]}" for package in PACKAGES)
    return re.sub(r"[^\w.+-]", "_", f"dictionaries-v{STORE_FORMAT}-{key}.sqlite3")


def _open_file(path: Path) -> Dictionaries:
    # immutable: the file is never changed in place (a new store is renamed over it), so SQLite
    # need not lock it for each lookup
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False)

    def meta(key: str) -> Any:
        (value,) = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(value)

    return Dictionaries(
        frequencies=Table(connection, "frequencies", int),
        tags=Table(connection, "tags", str),
        phrases=Table(connection, "phrases", _phrase_entry),
        readings=Table(connection, "characters", _syllables),
        total=meta("total"),
        syllables=frozenset(meta("syllables")),
        path=path,
    )


def _build_file(path: Path) -> None:
    """Build the store into a temp file beside `path`, then rename it into place."""
    temp = temp_sibling(path)  # (the folder made first)
    remove_stale_temp_files(path.parent, STALE_TEMP_S)
    try:
        connection = sqlite3.connect(temp)
        try:
            connection.execute("PRAGMA journal_mode = OFF")  # a failed build is thrown away
            _fill(connection)
        finally:
            connection.close()
        with open(temp, "rb") as written:
            os.fsync(written.fileno())  # on disk before it has its name: never a torn store
        os.chmod(temp, 0o644)  # mkstemp's 0600 would hide it from others sharing the folder
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def _fill(connection: sqlite3.Connection) -> None:
    """Read the dictionaries into the store's tables (values as JSON, frequencies as integers)."""
    for table, rows in _contents().items():
        connection.execute(f"CREATE TABLE {table} (key TEXT PRIMARY KEY, value) WITHOUT ROWID")
        encode = json.dumps if table in JSON_TABLES else (lambda value: value)
        connection.executemany(
            f"INSERT INTO {table} VALUES (?, ?)", ((k, encode(v)) for k, v in rows)
        )
    connection.commit()


def _contents() -> dict[str, Iterable[tuple[str, Any]]]:
    """Each table's (key, value) rows, read from the packages."""
    import jieba

    frequencies, total = jieba.Tokenizer.gen_pfdict(jieba.Tokenizer().get_dict_file())
    readings = _character_readings()
    syllables = sorted({s[:-1] for said in readings.values() for s in said if s[-1:].isdigit()})
    return {
        "frequencies": frequencies.items(),
        "tags": _jieba_tags().items(),
        "phrases": _phrase_entries().items(),
        "characters": readings.items(),
        "meta": [("total", total), ("syllables", syllables)],
    }


def _jieba_tags() -> dict[str, str]:
    """jieba's part-of-speech tag of every word in its dictionary (v, n, vn, ...)."""
    import jieba

    tags = {}
    # "word freq tag" lines; get_dict_file opens the file (binary): read and closed here
    with jieba.get_dict_file() as raw, io.TextIOWrapper(raw, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                tags[parts[0]] = parts[2]
    return tags


def _phrase_entries() -> dict[str, PhraseEntry]:
    """Each word's readings per character: pypinyin's curated phrases (47k) first, CC-CEDICT's
    (106k) for what they lack (or give with a reading per character missing)."""
    from pypinyin.constants import PHRASES_DICT
    from pypinyin_dict.phrase_pinyin_data import cc_cedict

    entries: dict[str, PhraseEntry] = {}
    for curated, dictionary in ((True, PHRASES_DICT), (False, cc_cedict.phrases_dict)):
        for word, marked in dictionary.items():
            if word not in entries and marked and len(marked) == len(word):
                said = tuple(tuple(dict.fromkeys(_from_marks(r) for r in rs)) for rs in marked)
                entries[word] = (said, curated)
    return entries


def _character_readings() -> dict[str, tuple[str, ...]]:
    """Every reading pypinyin gives each character, most common first (those it gives some)."""
    from pypinyin.constants import PINYIN_DICT

    found = {}
    for code, marked in PINYIN_DICT.items():
        said = tuple(dict.fromkeys(_from_marks(r) for r in marked.split(",") if r))
        if said:
            found[chr(code)] = said
    return found


@functools.cache
def _from_marks(marked: str) -> str:
    """`zhǎng` -> `zhang3`, `lǜ` -> `lv4`, `zi` -> `zi5`: the form the offline voice takes."""
    from pypinyin.contrib.tone_convert import to_tone3

    return to_tone3(marked, neutral_tone_with_five=True, v_to_u=False)


def _phrase_entry(stored: object) -> PhraseEntry:
    said, curated = json.loads(str(stored))
    return tuple(tuple(r) for r in said), curated


def _syllables(stored: object) -> tuple[str, ...]:
    return tuple(json.loads(str(stored)))
