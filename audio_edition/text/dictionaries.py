"""The dictionaries the text stage looks words up in: one SQLite file, built once per machine.

jieba's prefix dictionary (its FREQ: every word's frequency, 0 for a prefix of a word, and their
total), jieba's part-of-speech tag of each of its words, the phrase readings of the g2p stage
(pypinyin's curated dictionary first, CC-CEDICT's from pypinyin-dict for the words it lacks) and
pypinyin's readings of each character take about 2 s to load as Python objects, while a page
looks up only a few thousand words. So they are read once into a store in the user's cache
folder (AUDIO_EDITION_DICTIONARIES, else $XDG_CACHE_HOME/audio-edition, else
~/.cache/audio-edition), under a name that carries the versions of the three packages and of
this store's format (an upgrade builds a new one), with pypinyin's tone marks already in the
voice's form (`zhǎng` -> `zhang3`). A build opens it read-only and reads each word it meets once.

The store is built into a temp file and renamed into place, so a reader never sees half of one
and two processes building at once both succeed. Where the folder cannot be written the store
is built in memory for the process: slower to start, the same answers.
"""

from __future__ import annotations

import functools
import importlib.metadata
import io
import json
import logging
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

STORE_FORMAT = 1  # bump when what the store holds, or how, changes: the name changes with it
FOLDER_VARIABLE = "AUDIO_EDITION_DICTIONARIES"  # the folder to keep the store in instead
PACKAGES = ("jieba", "pypinyin", "pypinyin-dict")  # their versions are part of the store's name
TABLES = ("frequencies", "tags", "phrases", "characters")  # each: key TEXT -> value

log = logging.getLogger(__name__)

Value = TypeVar("Value")
PhraseEntry = tuple[tuple[tuple[str, ...], ...], bool]  # (readings per character, curated)


class Table(Mapping[str, Value]):
    """One table of the store as a read-only mapping; each key is read once, then remembered
    (absent keys too: jieba asks for many fragments that are no word)."""

    def __init__(self, store: Dictionaries, table: str, decode: Callable[[object], Value]) -> None:
        self._store = store
        self._table = table
        self._select = f"SELECT value FROM {table} WHERE key = ?"
        self._decode = decode
        self._memo: dict[str, Value | None] = {}

    def get(self, key: str, default=None):  # type: ignore[override]
        try:
            found = self._memo[key]
        except KeyError:
            row = self._store.query(self._select, key)
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
        return (key for (key,) in self._store.query_all(f"SELECT key FROM {self._table}"))

    def __len__(self) -> int:
        return self._store.query(f"SELECT count(*) FROM {self._table}")[0]


class Dictionaries:
    """The opened store."""

    def __init__(self, connection: sqlite3.Connection, path: Path | None) -> None:
        self.path = path  # None: built in memory
        self._connection = connection
        self.frequencies: Table[int] = Table(self, "frequencies", int)  # jieba's FREQ
        self.tags: Table[str] = Table(self, "tags", str)  # jieba's part-of-speech tags
        self.phrases: Table[PhraseEntry] = Table(self, "phrases", _phrase_entry)
        self.readings: Table[tuple[str, ...]] = Table(self, "characters", _syllables)
        self.total: int = self._meta("total")  # jieba's total of the frequencies
        # every toneless syllable pypinyin gives some character
        self.syllables = frozenset(self._meta("syllables"))

    def query(self, sql: str, *parameters: object) -> tuple | None:
        """The first row `sql` selects."""
        return self._connection.execute(sql, parameters).fetchone()

    def query_all(self, sql: str, *parameters: object) -> sqlite3.Cursor:
        """Every row `sql` selects."""
        return self._connection.execute(sql, parameters)

    def _meta(self, key: str):
        return json.loads(self.query("SELECT value FROM meta WHERE key = ?", key)[0])


@functools.cache
def dictionaries() -> Dictionaries:
    """The store in the user's cache folder, opened once per process (built first if missing)."""
    return open_dictionaries(store_folder())


def open_dictionaries(folder: Path | None) -> Dictionaries:
    """The store in `folder`, built there first if it is not; in memory when `folder` is None or
    cannot be written."""
    if folder is not None:
        path = folder / store_name()
        try:
            if not path.exists():
                _build_file(path)
            try:
                return Dictionaries(_connect(path), path)
            except sqlite3.DatabaseError:  # damaged on disk, or not a store: build it again
                _build_file(path)
                return Dictionaries(_connect(path), path)
        except (OSError, sqlite3.Error) as e:
            log.warning(
                "cannot keep the dictionaries in %s (%s): loading them in memory", folder, e
            )
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    _fill(connection)
    return Dictionaries(connection, None)


def store_folder() -> Path | None:
    """Where the store is kept: $AUDIO_EDITION_DICTIONARIES, else the user's cache folder (None
    when there is no home folder)."""
    if os.environ.get(FOLDER_VARIABLE):
        return Path(os.environ[FOLDER_VARIABLE])
    cache = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(cache):
        return Path(cache) / "audio-edition"
    try:
        return Path.home() / ".cache" / "audio-edition"
    except RuntimeError:
        return None


def store_name(versions: Mapping[str, str] | None = None) -> str:
    """The store's file name: the format and the version of each package it is read from."""
    versions = versions or {p: importlib.metadata.version(p) for p in PACKAGES}
    key = "-".join(f"{package}{versions[package]}" for package in PACKAGES)
    return re.sub(r"[^\w.+-]", "_", f"dictionaries-v{STORE_FORMAT}-{key}.sqlite3")


def _connect(path: Path) -> sqlite3.Connection:
    # immutable: the file is never changed in place (a new store is renamed over it), so SQLite
    # need not lock it for each lookup
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


def _build_file(path: Path) -> None:
    """Build the store into a temp file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
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
    """Read the dictionaries into the store's tables."""
    import jieba

    for table in (*TABLES, "meta"):
        connection.execute(f"CREATE TABLE {table} (key TEXT PRIMARY KEY, value) WITHOUT ROWID")
    frequencies, total = jieba.Tokenizer.gen_pfdict(jieba.Tokenizer().get_dict_file())
    readings = _character_readings()
    syllables = sorted({s[:-1] for said in readings.values() for s in said if s[-1:].isdigit()})
    rows = {
        "frequencies": frequencies.items(),
        "tags": _jieba_tags().items(),
        "phrases": ((w, json.dumps(entry)) for w, entry in _phrase_entries().items()),
        "characters": ((c, json.dumps(said)) for c, said in readings.items()),
        "meta": [("total", json.dumps(total)), ("syllables", json.dumps(syllables))],
    }
    for table, values in rows.items():
        connection.executemany(f"INSERT INTO {table} VALUES (?, ?)", values)
    connection.commit()


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
