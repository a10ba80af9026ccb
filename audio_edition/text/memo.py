"""What the text stage worked out before, kept by content, so that a correction re-reads only
the chapter it changed.

Cutting a page's paragraphs into pieces (jieba) and reading each chapter's syllables (the g2p
stage and its polyphone model) are most of the script stage: 0.4 s for the sample page, while
an editor's correction changes one sentence. Each result is kept in one SQLite file in the
user's cache folder (usercache.py) under the SHA-256 of what it is made from (the text, the
lexicon's entries, the engine's settings). The file's name carries a fingerprint of this
package's source code and of the versions of the packages the text stage reads (jieba,
pypinyin, pypinyin-dict, g2pM): any change to either starts a new memo and removes the old.

The memo is a cache: a damaged file is made again, a folder that cannot be written (or a Python
without sqlite3) leaves it in memory for the build, and a write that finds the file busy with
another build is skipped. It keeps the MAX_ENTRIES results last made or used: each save writes
again the ones the build read from it, so that what is still in use is the newest, and drops
the older ones (a daily paper's pages would otherwise add ~0.1 MB a day, for good).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

try:
    import sqlite3
except ImportError:  # a Python built without it: the memo lives in memory for the build
    sqlite3 = None  # type: ignore[assignment]

from audio_edition.usercache import cache_folder, code_fingerprint

MEMO_FORMAT = 1  # bump when what is kept, or how, changes
PACKAGES = ("jieba", "pypinyin", "pypinyin-dict", "g2pM")  # what the text stage reads
BUSY_TIMEOUT_S = 2.0  # how long a write waits for another build's before it is skipped
MAX_ENTRIES = 20_000  # results kept: ~1.7 KB each, a page makes ~50 (about 50 MB, 400 pages)
PREFIX = "text-memo-"

log = logging.getLogger(__name__)


class TextMemo:
    """Results of the text stage by content, read from and added to one file (or memory)."""

    def __init__(self, path: Path | None = None) -> None:
        self._known: dict[str, str] = {}  # key -> result as JSON
        self._to_save: dict[str, str] = {}  # made, or read from the file, since the last save
        self._connection = _connect(path) if path is not None else None

    def get(self, kind: str, made_from: object, make: Callable[[], Any]) -> Any:
        """The result `make` gives for `made_from` (JSON-able, all it depends on), kept as JSON:
        lists come back as lists."""
        text = json.dumps([kind, made_from], ensure_ascii=False, separators=(",", ":"))
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        found = self._known.get(key)
        if found is None:
            found = self._read(key) or json.dumps(make(), ensure_ascii=False)
            self._to_save[key] = found
        self._known[key] = found
        return json.loads(found)  # a fresh copy each time: the caller may change it

    def save(self) -> None:
        """Write what was made or used since the last save as the newest entries and drop the
        oldest beyond MAX_ENTRIES (skipped when another build holds the file)."""
        if self._connection is None or not self._to_save:
            return
        try:
            with self._connection:
                self._connection.executemany(  # REPLACE gives a used entry a new, higher rowid
                    "INSERT OR REPLACE INTO memo (key, value) VALUES (?, ?)", self._to_save.items()
                )
                self._connection.execute(
                    "DELETE FROM memo WHERE rowid <= (SELECT max(rowid) FROM memo) - ?",
                    (MAX_ENTRIES,),
                )
        except sqlite3.Error as e:
            log.debug("text memo not saved: %s", e)
        self._to_save.clear()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _read(self, key: str) -> str | None:
        if self._connection is None:
            return None
        try:
            row = self._connection.execute("SELECT value FROM memo WHERE key = ?", (key,))
            found = row.fetchone()
        except sqlite3.Error as e:
            log.debug("text memo not read: %s", e)
            return None
        return None if found is None else found[0]


@contextlib.contextmanager
def text_memo() -> Iterator[TextMemo]:
    """The memo of this code and these dictionaries in the user's cache folder, saved on the
    way out of the block (in memory only where it cannot be kept)."""
    memo = TextMemo(_memo_path())
    try:
        yield memo
        memo.save()
    finally:
        memo.close()


def _memo_path() -> Path | None:
    folder = cache_folder()
    if folder is None or sqlite3 is None:
        return None
    path = folder / f"{PREFIX}v{MEMO_FORMAT}-{code_fingerprint(*PACKAGES)[:16]}.sqlite3"
    if not path.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob(f"{PREFIX}*"):  # made by other code: never read again
                old.unlink(missing_ok=True)
        except OSError:
            return None
    return path


def _connect(path: Path) -> sqlite3.Connection | None:
    for attempt in range(2):
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
        try:
            connection.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
            connection.execute("CREATE TABLE IF NOT EXISTS memo (key TEXT PRIMARY KEY, value TEXT)")
            return connection
        except sqlite3.DatabaseError as e:
            connection.close()
            if attempt or isinstance(e, sqlite3.OperationalError):  # busy, read-only, ...
                log.debug("text memo not used: %s", e)
                return None
            with contextlib.suppress(OSError):  # not a database (damaged): made again, once
                path.unlink()
    return None
