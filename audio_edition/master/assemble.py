"""Laying the episode out in parts from clips, pauses and stings, and the exact timing of all.

The episode is mastered in parts, each on its own time line: a chapter is one part, or, when
it is long, several, cut after a segment followed by a pause of at least JOINT_PAUSE_MS (so a
correction masters a minute or so again, not a whole long article, and the parts' joints fall in
silence). Where a chapter is cut depends mostly on its text: once a part is PART_MIN_S long, a
segment whose opening's hash picks it (one in CUT_ONE_IN) ends it, or the first one past
PART_MAX_S does. A correction of a sentence's words past its opening so changes one part, and
one that makes it longer or shorter seldom moves a cut, found again within a part or two (a
cut every minute of time moved every later cut of the chapter, and each of those parts was
mastered again). The WAV headers are read first to place every clip, then a part's clips are
read into one float32 buffer of its length (silence is its zeros), each clip's samples copied
once into place. No audio is concatenated in a loop. Times in the episode
come from the clips' real frame counts and from where each part starts once encoded;
milliseconds are rounded once, from frames.
"""

from __future__ import annotations

import hashlib
import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio_edition.errors import AudioError
from audio_edition.model import ChapterTiming, Clip, Script, Segment, SegmentTiming

SAMPLE_RATE = 24_000  # Hz: what every clip must be (both engines synthesise at 24 kHz)
PCM_SCALE = 1.0 / 32768.0  # 16-bit sample -> float, full scale 1.0
PART_MIN_S = 15.0  # s: the shortest part, and the least of a chapter left after a cut
PART_MAX_S = 60.0  # s: a part ends at the first pause that can hold a joint after this
CUT_ONE_IN = 3  # a segment that can end a part does so when its opening's hash is 0 modulo this
OPENING_CHARS = 4  # characters of a segment's text that decide whether it ends a part
JOINT_PAUSE_MS = 300  # ms: the shortest pause a part may end in


@dataclass(frozen=True)
class StingSpan:
    """Where a sting goes in its chapter, in frames: [start, start + frames)."""

    kind: str
    start: int
    frames: int


@dataclass(frozen=True)
class Part:
    """A chapter, or a part of one, on its own time line: its sting (a chapter's first part
    has it), each clip's place, and its length (up to the end of the pause after its last
    segment), all in frames."""

    chapter: int  # which chapter of the script it belongs to
    first_segment: int  # the chapter's segment it starts with
    clips: tuple[Path, ...]
    spans: tuple[tuple[int, int], ...]  # [start, end) of each clip
    labels: tuple[str, ...]  # how an error names each clip's segment
    sting: StingSpan | None
    frames: int


def frames_to_ms(frames: int, sample_rate: int) -> int:
    return round(frames * 1000 / sample_rate)


def lay_out(
    script: Script,
    clips: Sequence[Clip],
    sting_frames: Mapping[str, int],
    sting_gap_ms: int,
) -> tuple[Part, ...]:
    """Lay out `script`'s chapters in parts (with `clips[i]` for `script.segments[i]`), checking
    every clip's WAV header. `sting_frames` gives the length of each sting kind the script uses;
    a sting is followed by `sting_gap_ms` of silence, every segment by its own `pause_ms`."""
    segments = script.segments
    if len(clips) != len(segments):
        raise AudioError(
            f"{len(clips)} clips for {len(segments)} segments: the synthesis is incomplete"
        )
    if not segments:
        raise AudioError("the script has nothing to say: there is no episode to master")
    gap = _ms_to_frames(sting_gap_ms)
    parts: list[Part] = []
    remaining = iter(clips)
    for index, chapter in enumerate(script.chapters):
        sting = StingSpan(chapter.sting, 0, sting_frames[chapter.sting]) if chapter.sting else None
        position = sting.frames + gap if sting else 0
        spans, labels, paths = [], [], []
        for number, segment in enumerate(chapter.segments):
            labels.append(_label(chapter.id, number, segment.text))
            clip = next(remaining)
            frames = _clip_frames(clip, labels[-1])
            paths.append(clip.path)
            spans.append((position, position + frames))
            position += frames + _ms_to_frames(segment.pause_ms)
        # where each segment's pause ends: the next one's start, the chapter's end for the last
        ends = [start for start, _ in spans[1:]] + [position]
        first = 0
        for number in _cuts(chapter.segments, ends):
            offset = spans[first][0] if first else 0
            parts.append(
                Part(
                    index,
                    first,
                    tuple(paths[first : number + 1]),
                    tuple((a - offset, b - offset) for a, b in spans[first : number + 1]),
                    tuple(labels[first : number + 1]),
                    sting if not first else None,
                    ends[number] - offset,
                )
            )
            first = number + 1
    return tuple(parts)


def _cuts(segments: Sequence[Segment], ends: Sequence[int]) -> list[int]:
    """The segments after which a chapter's parts end (its last one included), given where each
    segment's pause ends (frames from the chapter's start)."""
    shortest, longest = round(PART_MIN_S * SAMPLE_RATE), round(PART_MAX_S * SAMPLE_RATE)
    cuts, start = [], 0
    for number in range(len(segments) - 1):
        segment, end = segments[number], ends[number]
        length, rest = end - start, ends[-1] - end
        can_cut = segment.pause_ms >= JOINT_PAUSE_MS and min(length, rest) >= shortest
        if can_cut and (_picked(segment.text) or length >= longest):
            cuts.append(number)
            start = end
    return [*cuts, len(segments) - 1]


def _picked(text: str) -> bool:
    """Whether a segment with this text ends its part (once the part is long enough). Only its
    opening decides: a correction of a figure or a name inside a sentence moves no cut."""
    opening = text[:OPENING_CHARS].encode("utf-8")
    return hashlib.sha256(opening).digest()[0] % CUT_ONE_IN == 0


def read_part(layout: Part) -> tuple[np.ndarray, str]:
    """The part's speech and pauses as float32 samples (its sting's place left silent), and
    the SHA-256 of its clips' PCM, which with the layout fixes what is heard."""
    samples = np.zeros(layout.frames, dtype=np.float32)
    digest = hashlib.sha256()
    for path, (start, end), label in zip(layout.clips, layout.spans, layout.labels, strict=True):
        data = _read_pcm(path, end - start, label)
        digest.update(data)
        np.multiply(
            np.frombuffer(data, dtype="<i2"), PCM_SCALE, out=samples[start:end], casting="unsafe"
        )
    return samples, digest.hexdigest()


def episode_timings(
    script: Script, parts: Sequence[Part], starts: Sequence[int], total: int
) -> tuple[tuple[ChapterTiming, ...], tuple[SegmentTiming, ...]]:
    """Chapter and segment times (ms) in an episode whose parts start at `starts` (frames) and
    which lasts `total` frames."""
    chapter_starts = {}
    segments = []
    for part, start in zip(parts, starts, strict=True):
        chapter_starts.setdefault(part.chapter, start)
        chapter = script.chapters[part.chapter]
        for number, (first, last) in enumerate(part.spans, start=part.first_segment):
            segment = chapter.segments[number]
            segments.append(
                SegmentTiming(
                    chapter_index=part.chapter,
                    segment_index=number,
                    start_ms=frames_to_ms(start + first, SAMPLE_RATE),
                    end_ms=frames_to_ms(start + last, SAMPLE_RATE),
                    role=segment.role,
                    text=segment.text,
                )
            )
    bounds = [chapter_starts[i] for i in range(len(script.chapters))] + [total]
    chapters = tuple(
        ChapterTiming(
            id=chapter.id,
            title=chapter.title,
            start_ms=frames_to_ms(bounds[i], SAMPLE_RATE),
            end_ms=frames_to_ms(bounds[i + 1], SAMPLE_RATE),
            url=chapter.url,
        )
        for i, chapter in enumerate(script.chapters)
    )
    return chapters, tuple(segments)


def _label(chapter_id: str, index: int, text: str) -> str:
    """How an error names a segment: its chapter, its place there and its first words."""
    words = text if len(text) <= 16 else text[:15] + "…"
    return f"segment {index + 1} of chapter {chapter_id!r} ({words!r})"


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


def _read_pcm(path: Path, frames: int, label: str) -> bytes:
    try:
        with wave.open(str(path), "rb") as wav:
            data = wav.readframes(frames)
    except (OSError, EOFError, wave.Error) as e:
        raise AudioError(f"the clip of {label} cannot be read ({e}): {path}") from e
    if len(data) != 2 * frames:
        raise AudioError(f"the clip of {label} is truncated: {path}")
    return data


def _ms_to_frames(ms: int) -> int:
    return round(ms * SAMPLE_RATE / 1000)
