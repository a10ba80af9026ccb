"""The episode records: OUT/episodes/<edition_key>/episode.json, one per built edition.

The feed is rebuilt from all of them, so one output directory accumulates editions across builds,
and a record that cannot be read is skipped with a warning instead of taking the feed down.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

from audio_edition.fsutil import atomic_write_text
from audio_edition.model import Episode

EPISODES_DIR = "episodes"
RECORD_NAME = "episode.json"
OPTIONAL_FILES = ("epub_file", "daisy_file")  # the talking books, when the config has them

log = logging.getLogger(__name__)


def episode_dir(out_dir: Path, edition_key: str) -> Path:
    """OUT/episodes/<edition_key>/"""
    return Path(out_dir) / EPISODES_DIR / edition_key


def save_episode(out_dir: Path, episode: Episode) -> None:
    """Write the episode's record atomically (replacing an earlier build of the same edition)."""
    text = json.dumps(episode.to_dict(), ensure_ascii=False, indent=2, sort_keys=True)
    atomic_write_text(episode_dir(out_dir, episode.edition_key) / RECORD_NAME, text + "\n")


def load_episodes(out_dir: Path) -> list[Episode]:
    """Every episode record under OUT/episodes/, newest edition first. Unreadable records are
    skipped with a warning naming the file."""
    records = sorted((Path(out_dir) / EPISODES_DIR).glob(f"*/{RECORD_NAME}"))
    return sort_newest_first([e for e in map(_read_record, records) if e is not None])


def load_episode(out_dir: Path, edition_key: str) -> Episode | None:
    """The record of one edition, or None when it was never built (or cannot be read)."""
    path = episode_dir(out_dir, edition_key) / RECORD_NAME
    return _read_record(path) if path.is_file() else None


def _read_record(path: Path) -> Episode | None:
    try:
        episode = Episode.from_dict(json.loads(path.read_text(encoding="utf-8")))
        _check_record(episode, path.parent.name)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        message = f"skipping unreadable episode record {path}: {e}"
        log.warning(message)
        warnings.warn(message, stacklevel=3)
        return None
    return episode


def _check_record(episode: Episode, folder: str) -> None:
    """A record names its own folder, and its files lie inside that folder."""
    if episode.edition_key != folder:
        raise ValueError(f"its edition_key {episode.edition_key!r} is not its folder's")
    prefix = f"{EPISODES_DIR}/{folder}/"
    for name in ("audio_file", "transcript_file", "chapters_file", "page_file", *OPTIONAL_FILES):
        value = getattr(episode, name)
        if name in OPTIONAL_FILES and value is None:
            continue
        if not isinstance(value, str) or not value.startswith(prefix) or ".." in value.split("/"):
            raise ValueError(f"its {name} {value!r} is not inside {prefix}")


def sort_newest_first(episodes: list[Episode] | tuple[Episode, ...]) -> list[Episode]:
    """Newest edition date first; editions of one day by their key, later pages first."""
    return sorted(episodes, key=lambda e: (e.date, e.edition_key), reverse=True)
