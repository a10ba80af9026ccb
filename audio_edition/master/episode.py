"""master_episode: clips in, one tagged, loudness-normalised MP3 with its timings out.

Steps, each one linear in the episode's length:
1. lay the episode out and read the clips into one buffer (assemble.py);
2. write the stings in, each as loud as the speech around it (sting.py);
3. measure the integrated loudness (BS.1770 in numpy) and set the gain that reaches the target,
   adding back what the limiter will take from the loudest syllables;
4. stream gain + true-peak limiting into LAME, while ebur128 measures the MP3 being written
   (limiter.py, encode.py); if the MP3 misses the target or the ceiling, correct and encode again
   (in practice the first encode lands within ~0.2 LU);
5. write the ID3 tag with cover and chapters (tags.py), then move the file into place.
The MP3 is built in a temporary file beside `out_path` and renamed over it only when complete.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from audio_edition.errors import AudioError
from audio_edition.fsutil import temp_sibling
from audio_edition.master.assemble import SAMPLE_RATE, assemble
from audio_edition.master.cover import cover_image
from audio_edition.master.encode import ENCODER_LEVEL_DB, encode_mp3
from audio_edition.master.limiter import limited_pcm16, limiting_loss_db
from audio_edition.master.loudness import Measurement, gated_loudness
from audio_edition.master.settings import EpisodeTags, MasterSettings
from audio_edition.master.sting import place_stings, stings_for
from audio_edition.master.tags import write_tags
from audio_edition.model import Clip, MasteredAudio, Script
from audio_edition.profile import VoiceProfile

LIMITER_MARGIN_DB = 1.5  # dB: limiter ceiling below the target true peak (LAME overshoots <= 1.4)
PEAK_READING_DB = 0.15  # dB: our 4x true peak of speech reads up to ~this below ebur128's 8x
MAX_ENCODES = 3  # the first encode, then up to two corrections
CORRECTION_MARGIN_DB = 0.2  # dB: extra headroom taken when a correction lowers the ceiling


def master_episode(
    script: Script,
    clips: Sequence[Clip],
    profile: VoiceProfile,
    out_path: Path,
    tags: EpisodeTags,
    settings: MasterSettings = MasterSettings(),  # noqa: B008 - frozen, so sharing it is safe
) -> MasteredAudio:
    """Master `script`'s clips (`clips[i]` speaks `script.segments[i]`) into the MP3 `out_path`."""
    cover = cover_image(tags.cover, tags.publication)  # a bad cover fails before any work
    kinds = {chapter.sting for chapter in script.chapters if chapter.sting}
    stings = stings_for(kinds, profile.stings, SAMPLE_RATE)
    episode = assemble(
        script, clips, {kind: len(s) for kind, s in stings.items()}, settings.sting_gap_ms
    )
    loudness = gated_loudness(place_stings(episode.samples, episode.stings, stings, SAMPLE_RATE))
    gain_db = settings.target_lufs - loudness - ENCODER_LEVEL_DB
    ceiling_db = settings.true_peak_db - LIMITER_MARGIN_DB
    gain_db -= limiting_loss_db(episode.samples, gain_db, ceiling_db, SAMPLE_RATE)

    try:
        # a plain name for ffmpeg's tee syntax; the .tmp ending lets a later build clean it up
        temp = temp_sibling(out_path, stem="master")
        os.chmod(temp, 0o644)  # mkstemp's 0600 would hide the episode from a web server
    except OSError as e:
        raise AudioError(f"cannot write in {out_path.parent}: {e.strerror}") from e
    try:
        for _ in range(MAX_ENCODES):
            pcm = limited_pcm16(episode.samples, gain_db, ceiling_db, SAMPLE_RATE)
            measured = encode_mp3(pcm, temp, SAMPLE_RATE, settings.bitrate_kbps)
            miss_lu = settings.target_lufs - measured.integrated_lufs
            over_db = measured.true_peak_db + PEAK_READING_DB - settings.true_peak_db
            if abs(miss_lu) <= settings.tolerance_lu and over_db <= 0:
                break
            gain_db += miss_lu
            if over_db > 0:
                ceiling_db -= over_db + CORRECTION_MARGIN_DB
        else:
            raise AudioError(_missed(measured, settings, out_path))
        write_tags(temp, tags, episode.chapters, cover)
        with open(temp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(temp, out_path)
    finally:
        temp.unlink(missing_ok=True)
    return MasteredAudio(
        path=out_path,
        size_bytes=out_path.stat().st_size,
        duration_ms=episode.duration_ms,
        chapters=episode.chapters,
        segments=episode.segments,
    )


def _missed(measured: Measurement, settings: MasterSettings, out_path: Path) -> str:
    return (
        f"{out_path.name}: after {MAX_ENCODES} encodes the MP3 measures "
        f"{measured.integrated_lufs:.1f} LUFS, true peak {measured.true_peak_db:.1f} dBTP "
        f"(target {settings.target_lufs:.1f} ±{settings.tolerance_lu} LUFS, "
        f"peak <= {settings.true_peak_db:.1f} dBTP)"
    )
