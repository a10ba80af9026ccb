"""master_episode: clips in, one tagged, loudness-normalised MP3 with its timings out.

The episode is laid out in parts: each chapter, long chapters cut into parts of a minute or
more in a pause (assemble.py). Each part is mastered as its own unit (part.py: sting, loudness,
true-peak limit, LAME stream, decoded and measured), the parts side by side in a pool of worker
processes, one per core, and cached by their content, so that a correction masters again only
the part it changes. Then:
1. the parts' streams are joined frame by frame under one Info frame (mp3.py): each part starts
   where the earlier parts' frames end, a whole number of 24 ms frames, to the sample;
2. the episode's integrated loudness is combined from the parts' measured 100 ms energies and
   its true peak is the parts' highest (the joints are silence): the episode is checked against
   the target without being decoded again;
3. the ID3 tag with cover and chapters at their exact times (tags.py) is written, and the file
   moved into place. The MP3 is built in a temporary file beside `out_path` and renamed over it
   only when complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from audio_edition.config import check_artwork
from audio_edition.errors import AudioError
from audio_edition.fsutil import temp_sibling
from audio_edition.master.assemble import (
    SAMPLE_RATE,
    Part,
    episode_timings,
    frames_to_ms,
    lay_out,
)
from audio_edition.master.cache import MasteredPart
from audio_edition.master.cover import cover_image
from audio_edition.master.loudness import gated_loudness
from audio_edition.master.mp3 import FRAME_SAMPLES, Stream, read_stream, write_stream
from audio_edition.master.part import PEAK_READING_DB, PartJob, master_part
from audio_edition.master.settings import EpisodeTags, MasterSettings
from audio_edition.master.sting import stings_for
from audio_edition.master.tags import write_tags
from audio_edition.model import ChapterTiming, Clip, MasteredAudio, Script
from audio_edition.profile import VoiceProfile
from audio_edition.workers import cpu_count, worker_pool


def master_episode(
    script: Script,
    clips: Sequence[Clip],
    profile: VoiceProfile,
    out_path: Path,
    tags: EpisodeTags,
    settings: MasterSettings = MasterSettings(),  # noqa: B008 - frozen, so sharing it is safe
    cache_dir: Path | None = None,
) -> MasteredAudio:
    """Master `script`'s clips (`clips[i]` speaks `script.segments[i]`) into the MP3 `out_path`.

    Mastered parts are kept in `cache_dir` (None: a temporary folder, forgotten after)."""
    if tags.cover is not None:
        check_artwork(tags.cover)  # a bad cover fails before any work
    kinds = {chapter.sting for chapter in script.chapters if chapter.sting}
    stings = stings_for(kinds, profile.stings, SAMPLE_RATE)
    sting_ids = {kind: hashlib.sha256(s.tobytes()).hexdigest() for kind, s in stings.items()}
    parts = lay_out(
        script, clips, {kind: len(s) for kind, s in stings.items()}, settings.sting_gap_ms
    )
    with contextlib.ExitStack() as stack:
        root = cache_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        jobs = [
            PartJob(
                name=_name(script, part),
                layout=part,
                sting=stings[part.sting.kind] if part.sting else None,
                sting_id=sting_ids[part.sting.kind] if part.sting else "",
                settings=settings,
                cache_root=root,
            )
            for part in parts
        ]
        collect = _start_parts(jobs, stack)
        cover = cover_image(tags.cover, tags.publication)  # drawn while the workers master
        mastered = collect()
        streams = [_stream(part, job.name) for part, job in zip(mastered, jobs, strict=True)]
        _check_loudness(mastered, settings, out_path)
        # each part starts where the frames of the ones before it end
        starts = np.cumsum([0] + [s.frame_count * FRAME_SAMPLES for s in streams[:-1]]).tolist()
        total = starts[-1] + streams[-1].samples
        chapter_times, segment_times = episode_timings(script, parts, starts, total)
        _write(streams, out_path, tags, chapter_times, cover)
    return MasteredAudio(
        path=out_path,
        size_bytes=out_path.stat().st_size,
        duration_ms=frames_to_ms(total, SAMPLE_RATE),
        chapters=chapter_times,
        segments=segment_times,
    )


def _name(script: Script, part: Part) -> str:
    """How messages name a part: its chapter, and where it starts when it is not the first."""
    name = f"chapter {script.chapters[part.chapter].id!r}"
    return name if not part.first_segment else f"{name} (from segment {part.first_segment + 1})"


def _start_parts(
    jobs: list[PartJob], stack: contextlib.ExitStack
) -> Callable[[], list[MasteredPart]]:
    """Start mastering every job's part side by side (longest first, so that the cores finish
    together) in a pool that `stack` closes; the function returned waits for them, in job
    order. The first failure cancels what has not started."""
    workers = min(cpu_count(), len(jobs))
    if workers == 1:
        return lambda: [master_part(job) for job in jobs]
    pool = stack.enter_context(worker_pool(workers))
    longest_first = sorted(range(len(jobs)), key=lambda i: -jobs[i].layout.frames)
    futures = {i: pool.submit(master_part, jobs[i]) for i in longest_first}

    def collect() -> list[MasteredPart]:
        try:
            return [futures[i].result() for i in range(len(jobs))]
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise

    return collect


def _stream(part: MasteredPart, name: str) -> Stream:
    """The part's stream, read from the cache file the worker made or verified."""
    data = part.mp3.read_bytes()
    if hashlib.sha256(data).hexdigest() != part.sha256:
        raise AudioError(f"{name}: its MP3 changed in the cache while the episode was mastered")
    stream = read_stream(data, f"the MP3 of {name}")
    if stream.samples != part.samples:
        raise AudioError(f"{name}: its MP3 holds {stream.samples} samples, not {part.samples}")
    return stream


def _check_loudness(
    parts: Sequence[MasteredPart], settings: MasterSettings, out_path: Path
) -> None:
    """The episode's loudness and true peak, from its parts' measurements, on target."""
    loudness = gated_loudness(np.concatenate([p.energies for p in parts]))
    peak = max(p.true_peak_db for p in parts)
    if abs(loudness - settings.target_lufs) > settings.tolerance_lu or (
        peak + PEAK_READING_DB > settings.true_peak_db
    ):
        raise AudioError(
            f"{out_path.name}: the parts together measure {loudness:.1f} LUFS, true peak "
            f"{peak:.1f} dBTP (target {settings.target_lufs:.1f} ±{settings.tolerance_lu} LUFS, "
            f"peak <= {settings.true_peak_db:.1f} dBTP)"
        )


def _write(
    streams: Sequence[Stream],
    out_path: Path,
    tags: EpisodeTags,
    chapters: Sequence[ChapterTiming],
    cover: tuple[bytes, str],
) -> None:
    """Join `streams` into `out_path` with the episode's tag, atomically."""
    try:
        temp = temp_sibling(out_path)
        os.chmod(temp, 0o644)  # mkstemp's 0600 would hide the episode from a web server
    except OSError as e:
        raise AudioError(f"cannot write in {out_path.parent}: {e.strerror}") from e
    try:
        with open(temp, "wb") as f:
            write_stream(streams, f)
        write_tags(temp, tags, chapters, cover)
        with open(temp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(temp, out_path)
    finally:
        temp.unlink(missing_ok=True)
