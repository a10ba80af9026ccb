"""The Podcasting 2.0 chapters file (JSON chapters, version 1.2.0) of an episode.

Times agree with the MP3's CHAP frames: both come from the same chapter timings, in ms.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audio_edition.fsutil import atomic_write_text
from audio_edition.model import MasteredAudio

CHAPTERS_VERSION = "1.2.0"


def chapters_document(audio: MasteredAudio) -> dict[str, Any]:
    """The chapters JSON of `audio` as a dict: startTime/endTime in seconds, title, url."""
    chapters = []
    for chapter in audio.chapters:
        entry: dict[str, Any] = {
            "startTime": chapter.start_ms / 1000,
            "endTime": chapter.end_ms / 1000,
            "title": chapter.title,
        }
        if chapter.url:
            entry["url"] = chapter.url
        chapters.append(entry)
    return {"version": CHAPTERS_VERSION, "chapters": chapters}


def write_chapters_json(audio: MasteredAudio, path: Path) -> None:
    """Write the chapters JSON of `audio` to `path` (atomically)."""
    text = json.dumps(chapters_document(audio), ensure_ascii=False, indent=2)
    atomic_write_text(path, text + "\n")
