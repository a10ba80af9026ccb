"""The output directory: where everything lives, its lock, and versioned names.

```
OUT/.lock                              flock held by the running build
OUT/.cache/clips/                      the clip cache
OUT/episodes/<key>/<key>-<v>.mp3       v: the first VERSION_CHARS hex digits of the MP3's sha256
OUT/episodes/<key>/...-<v>.*           its transcript, chapters and talking books
OUT/episodes/<key>/episode.json        the commit point of an episode
OUT/feed.xml, OUT/index.html           rebuilt from every episode.json
```
Files of a superseded version are removed only once the new feed is in place (`commit_feed`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from audio_edition.config import PublicationConfig
from audio_edition.errors import PublishError
from audio_edition.model import Episode
from audio_edition.publish.feed import write_feed
from audio_edition.publish.page import write_index_page
from audio_edition.publish.store import RECORD_NAME, episode_dir, load_episodes

CACHE_DIR = Path(".cache") / "clips"
PARTS_CACHE_DIR = Path(".cache") / "parts"  # mastered parts of episodes (master/cache.py)
LOCK_FILE = ".lock"
VERSION_CHARS = 10  # hex digits of the audio's sha256 in versioned file names


@contextlib.contextmanager
def output_lock(out_dir: Path) -> Iterator[None]:
    """Hold the output directory for one build; a second build exits with a clear message,
    and a file that cannot be written ends the build with a one-line PublishError."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        handle = open(out_dir / LOCK_FILE, "a+")  # noqa: SIM115 - held for the whole build
    except OSError as e:
        raise PublishError(f"cannot write to output directory {out_dir}: {e.strerror}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PublishError(
                f"another build is writing to {out_dir}; wait for it to finish and run again"
            ) from None
        try:
            yield
        except OSError as e:  # a full disk, a folder made read-only during the build
            raise PublishError(
                f"could not write the output: {e.strerror or e}"
                + (f" ({e.filename})" if e.filename else "")
                + "; free space or fix permissions and build again (what was published stands)"
            ) from e
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def file_version(path: Path) -> str:
    """The content version of a file: the first VERSION_CHARS hex digits of its sha256."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:VERSION_CHARS]


def commit_audio(staging: Path, folder: Path, key: str) -> tuple[Path, str]:
    """Rename the finished MP3 `staging` to `<key>-<version>.mp3` in `folder`; returns the
    final path and the version, which the files describing this audio share."""
    version = file_version(staging)
    final = folder / f"{key}-{version}.mp3"
    os.replace(staging, final)
    return final, version


def remove_superseded(out_dir: Path, episode: Episode) -> None:
    """Delete every file in the episode's folder that its record does not name (the audio,
    transcript and chapters of older versions); call only once the feed points at the new ones."""
    folder = episode_dir(out_dir, episode.edition_key)
    current = {Path(out_dir) / name for name in episode.files} | {folder / RECORD_NAME}
    for path in folder.iterdir():
        if path.is_file() and path not in current:
            path.unlink(missing_ok=True)


def commit_feed(out_dir: Path, config: PublicationConfig, published: Sequence[Episode]) -> Path:
    """Rewrite the feed and the index from every episode record, then delete the files that the
    records of the episodes just `published` no longer name; returns the feed's path."""
    everything = load_episodes(out_dir)
    feed = write_feed(out_dir, config, everything)
    write_index_page(out_dir, config, everything)
    for episode in published:
        remove_superseded(out_dir, episode)
    return feed
