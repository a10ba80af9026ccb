"""Joining clips, pauses and stings into one episode buffer, with the exact timing of each part.

Linear in time and memory whatever the number of clips: the WAV headers are read first to lay
the whole episode out, one float32 buffer of that length is allocated (silence is its zeros),
and each clip's samples are copied once into their place. No audio is concatenated in a loop.
Every time comes from the clips' real frame counts; milliseconds are rounded once, from frames.
"""

from __future__ import annotations

import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio_edition.errors import AudioError
from audio_edition.model import ChapterTiming, Clip, Script, SegmentTiming

SAMPLE_RATE = 24_000  # Hz: what every clip must be (both engines synthesise at 24 kHz)
PCM_SCALE = 1.0 / 32768.0  # 16-bit sample -> float, full scale 1.0


@dataclass(frozen=True)
class StingSpan:
    """Where a sting goes in the episode, in frames: [start, start + frames)."""

    kind: str
    start: int
    frames: int


@dataclass(frozen=True)
class Assembly:
    """The episode's speech and pauses (stings' places left silent) and the timing of all."""

    samples: np.ndarray  # float32, full scale 1.0
    sample_rate: int
    chapters: tuple[ChapterTiming, ...]
    segments: tuple[SegmentTiming, ...]
    stings: tuple[StingSpan, ...]

    @property
    def duration_ms(self) -> int:
        return frames_to_ms(len(self.samples), self.sample_rate)


def frames_to_ms(frames: int, sample_rate: int) -> int:
    return round(frames * 1000 / sample_rate)


def assemble(
    script: Script,
    clips: Sequence[Clip],
    sting_frames: Mapping[str, int],
    sting_gap_ms: int,
) -> Assembly:
    """Lay out `script` (with `clips[i]` for `script.segments[i]`) and read the clips into place.

    `sting_frames` gives the length of each sting kind the script uses; a sting is followed by
    `sting_gap_ms` of silence, every segment by its own `pause_ms`.
    """
    segments = script.segments
    if len(clips) != len(segments):
        raise AudioError(
            f"{len(clips)} clips for {len(segments)} segments: the synthesis is incomplete"
        )
    if not segments:
        raise AudioError("the script has nothing to say: there is no episode to master")
    labels = _labels(script)
    frames = [_clip_frames(clip, label) for clip, label in zip(clips, labels, strict=True)]
    gap = _ms_to_frames(sting_gap_ms)

    chapter_starts, stings, spans = [], [], []
    position = 0
    index = 0
    for chapter in script.chapters:
        chapter_starts.append(position)
        if chapter.sting:
            stings.append(StingSpan(chapter.sting, position, sting_frames[chapter.sting]))
            position += sting_frames[chapter.sting] + gap
        for segment in chapter.segments:
            spans.append((position, position + frames[index]))
            position += frames[index] + _ms_to_frames(segment.pause_ms)
            index += 1
    total = position

    samples = np.zeros(total, dtype=np.float32)
    for clip, (start, end), label in zip(clips, spans, labels, strict=True):
        _read_into(clip.path, samples[start:end], label)
    return Assembly(
        samples=samples,
        sample_rate=SAMPLE_RATE,
        chapters=_chapter_timings(script, chapter_starts, total),
        segments=_segment_timings(script, spans),
        stings=tuple(stings),
    )


def _labels(script: Script) -> list[str]:
    """How an error names each segment: its chapter, its place there and its first words."""
    labels = []
    for chapter in script.chapters:
        for index, segment in enumerate(chapter.segments):
            words = segment.text if len(segment.text) <= 16 else segment.text[:15] + "…"
            labels.append(f"segment {index + 1} of chapter {chapter.id!r} ({words!r})")
    return labels


def _clip_frames(clip: Clip, label: str) -> int:
    """The real frame count of a clip's WAV file, refusing anything but 24 kHz mono 16-bit."""
    try:
        with wave.open(str(clip.path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.getnframes()
    except FileNotFoundError:
        raise AudioError(f"the clip of {label} is missing: {clip.path}") from None
    except (OSError, EOFError, wave.Error) as e:
        raise AudioError(f"the clip of {label} is not a PCM WAV file ({e}): {clip.path}") from e
    if (channels, width, rate) != (1, 2, SAMPLE_RATE):
        raise AudioError(
            f"the clip of {label} is {rate} Hz, {channels} channel(s), {8 * width}-bit; "
            f"mastering needs {SAMPLE_RATE} Hz mono 16-bit: {clip.path}"
        )
    if frames == 0:
        raise AudioError(f"the clip of {label} is empty: {clip.path}")
    if frames != clip.frames:
        raise AudioError(
            f"the clip of {label} has {frames} frames, not the {clip.frames} the cache recorded: "
            f"{clip.path}"
        )
    return frames


def _read_into(path: Path, target: np.ndarray, label: str) -> None:
    with wave.open(str(path), "rb") as wav:
        data = wav.readframes(len(target))
    if len(data) != 2 * len(target):
        raise AudioError(f"the clip of {label} is truncated: {path}")
    np.multiply(np.frombuffer(data, dtype="<i2"), PCM_SCALE, out=target, casting="unsafe")


def _ms_to_frames(ms: int) -> int:
    return round(ms * SAMPLE_RATE / 1000)


def _chapter_timings(script: Script, starts: list[int], total: int) -> tuple[ChapterTiming, ...]:
    ends = [*starts[1:], total]
    return tuple(
        ChapterTiming(
            id=chapter.id,
            title=chapter.title,
            start_ms=frames_to_ms(start, SAMPLE_RATE),
            end_ms=frames_to_ms(end, SAMPLE_RATE),
            url=chapter.url,
        )
        for chapter, start, end in zip(script.chapters, starts, ends, strict=True)
    )


def _segment_timings(script: Script, spans: list[tuple[int, int]]) -> tuple[SegmentTiming, ...]:
    timings = []
    index = 0
    for chapter_index, chapter in enumerate(script.chapters):
        for segment_index, segment in enumerate(chapter.segments):
            start, end = spans[index]
            index += 1
            timings.append(
                SegmentTiming(
                    chapter_index=chapter_index,
                    segment_index=segment_index,
                    start_ms=frames_to_ms(start, SAMPLE_RATE),
                    end_ms=frames_to_ms(end, SAMPLE_RATE),
                    role=segment.role,
                    text=segment.text,
                )
            )
    return tuple(timings)
