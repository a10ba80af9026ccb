"""The user's cache folder: what audio-edition derives once per machine from installed packages
(the text stage's dictionaries store, the offline voice's rewritten model, the script memo, the
default cover).

It is $AUDIO_EDITION_CACHE, else $XDG_CACHE_HOME/audio-edition, else ~/.cache/audio-edition.
Everything in it can be deleted at any time: it is made again when needed. Files are written
into a temp file and renamed into place, so a reader never sees half of one and two processes
making the same file at once both succeed; the temp files of a killed process are removed by
the next one that makes a file there, once they are an hour old. A file that depends on this
package's code is named by code_fingerprint, as are the backfill's records of what each edition
was made by.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import logging
import os
from collections.abc import Callable
from pathlib import Path

from audio_edition.fsutil import atomic_write_bytes, remove_stale_temp_files

FOLDER_VARIABLE = "AUDIO_EDITION_CACHE"  # the folder to keep the cache in instead
STALE_TEMP_S = 3600.0  # s: a temp file this old was left by a killed process, not being written
CODE_SUFFIXES = (".py", ".toml", ".html", ".css", ".js")  # the package's files that shape output

log = logging.getLogger(__name__)


def cache_folder() -> Path | None:
    """Where derived files are kept: $AUDIO_EDITION_CACHE, else the user's cache folder (None
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


def code_fingerprint(*packages: str) -> str:
    """SHA-256 of this package's code and assets (CODE_SUFFIXES) and of the versions of the
    installed distributions `packages`: what a derived file or record was made by."""
    digest = hashlib.sha256(_package_digest())
    for name in packages:
        digest.update(f"\0{name}={importlib.metadata.version(name)}".encode())
    return digest.hexdigest()


@functools.cache
def _package_digest() -> bytes:
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in CODE_SUFFIXES):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.digest()


def cached_bytes(name: str, make: Callable[[], bytes]) -> bytes:
    """The file `name` of the cache folder, made and kept there first when it is missing (made
    each time, with a warning, when the folder cannot be written)."""
    folder = cache_folder()
    path = folder / name if folder is not None else None
    if path is not None:
        try:
            return path.read_bytes()
        except OSError:  # missing, or the folder is not one
            pass
    data = make()
    if path is not None:
        try:
            remove_stale_temp_files(path.parent, STALE_TEMP_S)
            atomic_write_bytes(path, data)
        except OSError as e:
            log.warning("cannot keep %s in %s (%s): making it each time", name, folder, e)
    return data
