"""Atomic file writes: a temporary sibling renamed into place, so readers never see half a file."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

TEMP_SUFFIX = ".tmp"  # every temporary file of a build ends so, and starts with a dot


def temp_sibling(path: Path, stem: str | None = None) -> Path:
    """A new, empty temporary file in `path`'s directory (created, so the name is ours), named
    `.<stem>.<random>.tmp`; `stem` defaults to `path`'s name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{stem or path.name}."
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=path.parent)
    os.close(fd)
    return Path(name)


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Write `data` to `path` so that `path` holds either the old or the whole new content.

    durable=False skips the fsync, for caches whose entries are verified when read: after a
    power loss they may be missing or damaged, never wrongly trusted."""
    temp = temp_sibling(path)
    try:
        with open(temp, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    """atomic_write_bytes for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temp_files(root: Path, older_than_s: float = 0.0) -> int:
    """Delete temporary files left under `root` by killed processes; returns how many were
    removed. Under a lock (the build's), every one is stale; without one, only those last
    written more than `older_than_s` ago (a younger one may be another process's)."""
    now = time.time()
    removed = 0
    for path in root.rglob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):  # gone already, or not ours to delete
            if path.is_file() and now - path.stat().st_mtime >= older_than_s:
                path.unlink()
                removed += 1
    return removed
