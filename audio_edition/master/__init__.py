"""Mastering: stings, pauses, loudness, MP3 encoding and ID3 chapters (see episode.py)."""

from audio_edition.master.episode import master_episode
from audio_edition.master.settings import EpisodeTags, MasterSettings
from audio_edition.master.tags import read_chapters

__all__ = ["EpisodeTags", "MasterSettings", "master_episode", "read_chapters"]
