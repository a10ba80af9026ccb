"""Benchmark: joining the sample episode's clips and pauses with pydub against our assembly.

    .venv/bin/python bench/bench_stitch.py                 # clips cached in output/ (make demo)
    .venv/bin/python bench/bench_stitch.py --out /tmp/x --runs 5

The design card named pydub for stitching; we assemble with numpy (master/assemble.py: WAV
headers read first, one buffer allocated, each clip copied once into place). This joins the
same real clips of the sample page (offline voice; clips missing from the cache are synthesised
first) with the same pauses and the same silent places for the stings:
- ours: `lay_out()` then `read_part()` for each part, as mastering calls them (float32 samples,
  what loudness and the limiter use), the parts joined once;
- pydub +=: the idiom, `episode += AudioSegment.from_wav(clip)`, then the pause, per segment
  (every += copies the whole episode so far: quadratic); 16-bit samples;
- pydub once: pydub reads each clip, the raw bytes are joined once at the end (its private
  `_spawn`: the best pydub can do, and no longer pydub's own joining); 16-bit samples;
- pydub once+f32: that, converted to float32 as mastering would need it.
Every way must give the same samples (checked). Wall and CPU time: best of --runs, the ways
interleaved so that they share the machine's load; peak memory: tracemalloc (Python and numpy
allocations) in a separate run of each. Prints the load average before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from audio_edition.build import BuildOptions, prepare
from audio_edition.build.outdir import CACHE_DIR
from audio_edition.master.assemble import PCM_SCALE, SAMPLE_RATE, lay_out, read_part
from audio_edition.master.settings import MasterSettings
from audio_edition.master.sting import stings_for
from audio_edition.model import Clip, Script
from audio_edition.synth import create_engine
from audio_edition.synth.cache import ClipCache
from audio_edition.synth.runner import synthesize_all

with warnings.catch_warnings():  # pydub warns at import when it finds no ffmpeg: WAV needs none
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "000_aa4cbc5942cc5dc6.txt"
DATE = dt.date(2020, 11, 29)  # the sample page's date (the intro says it)


def sample_episode(out: Path) -> tuple[Script, list[Clip], dict[str, int]]:
    """The sample page's running order, its clips (from OUT's cache, made when missing) and the
    length in frames of each sting it opens chapters with."""
    prepared = prepare(BuildOptions(inputs=(SAMPLE,), date=DATE, out_dir=out))
    ((_, script),) = prepared.parts
    report = synthesize_all(
        script.segments, create_engine("offline"), ClipCache(out / CACHE_DIR), progress=False
    )
    if report.synthesized:
        print(f"synthesised {report.synthesized} clips missing from {out / CACHE_DIR}")
    kinds = {c.sting for c in script.chapters if c.sting}
    stings = stings_for(kinds, prepared.profile.stings, SAMPLE_RATE)
    return script, list(report.clips), {kind: len(s) for kind, s in stings.items()}


def ours(script: Script, clips: Sequence[Clip], stings: dict[str, int]) -> np.ndarray:
    parts = lay_out(script, clips, stings, MasterSettings().sting_gap_ms)
    return np.concatenate([read_part(part)[0] for part in parts])


def _silence(frames: int) -> AudioSegment:
    """Exact silence (AudioSegment.silent takes ms and truncates to whole frames)."""
    return AudioSegment(data=b"\0\0" * frames, sample_width=2, frame_rate=SAMPLE_RATE, channels=1)


def _pieces(script: Script, clips: Sequence[Clip], stings: dict[str, int]):
    """The episode as pydub segments in order: sting places, clips, pauses."""
    gap = round(MasterSettings().sting_gap_ms * SAMPLE_RATE / 1000)
    index = 0
    for chapter in script.chapters:
        if chapter.sting:
            yield _silence(stings[chapter.sting] + gap)
        for segment in chapter.segments:
            yield AudioSegment.from_wav(str(clips[index].path))
            yield _silence(round(segment.pause_ms * SAMPLE_RATE / 1000))
            index += 1


def pydub_append(script: Script, clips: Sequence[Clip], stings: dict[str, int]) -> AudioSegment:
    episode = AudioSegment.empty()
    for piece in _pieces(script, clips, stings):
        episode += piece
    return episode


def pydub_joined_once(
    script: Script, clips: Sequence[Clip], stings: dict[str, int]
) -> AudioSegment:
    pieces = list(_pieces(script, clips, stings))
    return pieces[0]._spawn(b"".join(p.raw_data for p in pieces))


def pydub_once_as_float(
    script: Script, clips: Sequence[Clip], stings: dict[str, int]
) -> np.ndarray:
    """What mastering would need from pydub: its samples as float32 (loudness, limiter)."""
    joined = pydub_joined_once(script, clips, stings)
    return np.frombuffer(joined.raw_data, dtype="<i2").astype(np.float32) * np.float32(PCM_SCALE)


WAYS: dict[str, Callable[..., object]] = {
    "ours (numpy)": ours,
    "pydub +=": pydub_append,
    "pydub once": pydub_joined_once,
    "pydub once+f32": pydub_once_as_float,
}


def as_pcm16(result: object) -> np.ndarray:
    if isinstance(result, np.ndarray):
        return np.round(result * 32768).astype(np.int16)
    return np.frombuffer(result.raw_data, dtype="<i2")


def cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "output", help="its clip cache is used")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    script, clips, stings = sample_episode(args.out)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    reference = as_pcm16(ours(script, clips, stings))
    for name, way in WAYS.items():
        if not np.array_equal(as_pcm16(way(script, clips, stings)), reference):
            print(f"FAIL: {name} does not give the same samples as ours")
            return 1
    seconds = len(reference) / SAMPLE_RATE
    print(
        f"sample episode: {len(clips)} clips, {seconds / 60:.1f} min, "
        f"{reference.nbytes / 1e6:.0f} MB of 16-bit PCM; every way gives the same samples"
    )

    best = {name: (float("inf"), float("inf")) for name in WAYS}
    for _ in range(args.runs):
        for name, way in WAYS.items():
            wall, cpu = time.perf_counter(), cpu_s()
            way(script, clips, stings)
            elapsed = (time.perf_counter() - wall, cpu_s() - cpu)
            best[name] = min(best[name], elapsed)
    peak = {}
    for name, way in WAYS.items():
        tracemalloc.start()
        way(script, clips, stings)
        peak[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

    base_wall, base_peak = best["ours (numpy)"][0], peak["ours (numpy)"]
    print(f"{'way':<14} {'wall s':>8} {'cpu s':>7} {'x ours':>7} {'peak MB':>8} {'x ours':>7}")
    for name in WAYS:
        wall, cpu = best[name]
        print(
            f"{name:<14} {wall:>8.3f} {cpu:>7.3f} {wall / base_wall:>7.1f} "
            f"{peak[name] / 1e6:>8.0f} {peak[name] / base_peak:>7.2f}"
        )
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
