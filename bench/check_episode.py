"""Check a built episode's MP3 against its chapters, cached chapter streams, transcript and targets.

    .venv/bin/python bench/check_episode.py OUT          # every episode under OUT/episodes

For each episode: ffmpeg decodes the whole MP3 with no error; the decoded length equals the
last chapter's end (to the sample, hence to the ms); mutagen reads the CTOC and CHAP frames in
order and the chapters JSON agrees with them; the episode is, sample for sample, the parts'
own MP3s in OUT/.cache/parts decoded alone and laid end to end, and every CHAP start is the
first sample of a part (its first sound, -50 dBFS, is printed); where two parts' streams meet,
the largest step between 16-bit samples is no bigger than in the 200 ms of silence before;
every VTT cue lies inside its chapter; ebur128 measures the episode at -16 +-0.5 LUFS and
<= -1 dBTP. Prints the figures; exits non-zero when a check fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from mutagen.id3 import ID3, CTOCFlags
from mutagen.mp3 import MP3

from audio_edition.master import read_chapters
from audio_edition.master.ffmpeg import ffmpeg_exe
from audio_edition.master.loudness import measure_file

RATE = 24_000
FRAME = 576
STREAM_LEAD = 576 + 529  # encoder delay + decoder delay: where a stream's frames start, decoded
SOUND = 10 ** (-50 / 20)  # a sample louder than -50 dBFS is sound
SILENCE_S = 0.2


def decode(path: Path, sample_format: str = "f32le") -> np.ndarray:
    result = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", sample_format, "-"],
        capture_output=True,
        check=False,
    )
    if result.returncode or result.stderr:
        raise SystemExit(f"FAIL {path}: ffmpeg does not decode it cleanly: {result.stderr[:300]}")
    return np.frombuffer(result.stdout, {"f32le": "<f4", "s16le": "<i2"}[sample_format])


def check(out: Path, folder: Path) -> bool:
    record = json.loads((folder / "episode.json").read_text("utf-8"))
    mp3 = out / record["audio_file"]
    ok = True

    def verdict(passed: bool, text: str) -> None:
        nonlocal ok
        ok &= passed
        print(f"  {'ok  ' if passed else 'FAIL'} {text}")

    print(f"{mp3.relative_to(out)}")
    samples = decode(mp3)
    chapters = read_chapters(mp3)
    toc = [f for f in ID3(mp3).getall("CTOC") if f.flags & CTOCFlags.TOP_LEVEL]
    ordered = [c.start_ms for c in chapters] == sorted(c.start_ms for c in chapters)
    verdict(bool(toc) and ordered, f"CTOC lists {len(chapters)} CHAP frames in time order")
    verdict(
        round(len(samples) / 24) == chapters[-1].end_ms == record["duration_ms"],
        f"decoded {len(samples)} samples = {len(samples) / RATE:.3f} s; last chapter ends at "
        f"{chapters[-1].end_ms} ms; mutagen {MP3(mp3).info.length * 1000:.3f} ms",
    )
    document = json.loads((out / record["chapters_file"]).read_text("utf-8"))
    verdict(
        [round(c["startTime"] * 1000) for c in document["chapters"]]
        == [c.start_ms for c in chapters],
        "chapters JSON starts = CHAP starts",
    )
    cues = _cue_times(out / record["transcript_file"])
    verdict(
        all(any(c.start_ms <= s < e <= c.end_ms for c in chapters) for s, e in cues),
        f"all {len(cues)} VTT cues lie inside a chapter",
    )
    starts = _parts(out, samples, verdict)
    for chapter in chapters:
        start = chapter.start_ms * 24
        verdict(
            start in starts,
            f"{chapter.id}: starts at {start} samples ({chapter.start_ms} ms) on a part's first "
            f"sample; first sound +{_first_sound(samples[start:])} samples",
        )
    pcm = decode(mp3, "s16le").astype(np.int32)
    steps = []
    for start in starts[1:]:
        meet = start - STREAM_LEAD
        joint = np.abs(np.diff(pcm[meet - 48 : meet + 48])).max()
        quiet = np.abs(np.diff(pcm[meet - 48 - round(SILENCE_S * RATE) : meet - 48])).max()
        steps.append((joint, quiet))
    verdict(
        all(joint <= quiet for joint, quiet in steps),
        f"{len(steps)} joints: largest 16-bit step at a joint {max(j for j, _ in steps)}, "
        f"in the silence before {min(q for _, q in steps)}..{max(q for _, q in steps)}",
    )
    measured = measure_file(mp3)
    verdict(
        abs(measured.integrated_lufs + 16) <= 0.5 and measured.true_peak_db <= -1.0,
        f"ebur128: {measured.integrated_lufs:.1f} LUFS, true peak {measured.true_peak_db:.1f} dBTP",
    )
    return ok


def _parts(out: Path, samples: np.ndarray, verdict) -> list[int]:  # noqa: ANN001
    """Walk the episode part by part: at each part's start, one cached part stream, decoded
    alone, is the episode's audio sample for sample; the next part starts after its frames.
    Returns where each part starts (samples)."""
    streams = []
    for record in sorted((out / ".cache" / "parts").glob("*.json")):
        mp3 = record.with_suffix(".mp3")
        frames = int.from_bytes(mp3.read_bytes()[13 + 8 : 13 + 12], "big")  # the Info frame's
        streams.append((decode(mp3), frames * FRAME))
    starts, position = [], 0
    while position < len(samples):
        here = samples[position:]
        match = next(
            (
                (alone, slot)
                for alone, slot in streams
                if len(alone) <= len(here) and np.abs(here[: len(alone)] - alone).max() < 1e-6
            ),
            None,
        )
        if match is None:
            verdict(False, f"no cached part stream is the episode from sample {position}")
            return starts
        starts.append(position)
        position += match[1]
    verdict(True, f"the episode is {len(starts)} cached part streams, each sample for sample")
    return starts


def _first_sound(samples: np.ndarray) -> int:
    return int(np.flatnonzero(np.abs(samples) > SOUND)[0])


def _cue_times(vtt: Path) -> list[tuple[int, int]]:
    def ms(stamp: str) -> int:
        h, m, s = stamp.split(":")
        return round((int(h) * 3600 + int(m) * 60 + float(s)) * 1000)

    cues = []
    for line in vtt.read_text("utf-8").splitlines():
        if " --> " in line:
            start, end = line.split(" --> ")
            cues.append((ms(start), ms(end.split()[0])))
    return cues


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "output")
    folders = sorted(p.parent for p in (out / "episodes").glob("*/episode.json"))
    results = [check(out, folder) for folder in folders]
    print("PASS" if results and all(results) else "FAIL")
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
