"""Benchmark: mastering an episode against one bare ffmpeg MP3 encode of the same PCM.

    .venv/bin/python bench/bench_master.py            # 10- and 20-minute episodes
    .venv/bin/python bench/bench_master.py --minutes 5 10 --runs 5

No synthesis: the clips are generated speech-like signal (a pitch-gliding buzz with harmonics,
syllable-modulated, at the offline voice's level and peak-to-loudness ratio, so the limiter
works as hard as on the real voice), ~1 s per clip, in chapters of 20 clips each with a sting.
The bare encode gets the same samples the episode holds: each chapter's sting and the gap after
it, then its clips and pauses, laid out by mastering's own lay_out (at 20 s chapters, the stings
are ~8 % of the audio; a bare encode of the speech alone would be that much less work).
Each size is timed side by side, alternating bare encode and master_episode (from a cold chapter
cache: every chapter is mastered), the sizes interleaved, best of --runs (the machine is shared:
the fastest run is the one least slowed by others); wall time (the target) and CPU time of the
process and its children (the mastering workers). Targets (issue 17): master_episode <= 1.0x
the bare single-stream encode; doubling the length at most doubles the time. The load average
is printed before and after: on a busy machine the ratio says little. Peak memory: the largest
child process's resident size (a mastering worker holds one chapter). Exits non-zero when a
target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from audio_edition.master import EpisodeTags, MasterSettings, master_episode
from audio_edition.master.assemble import lay_out, read_part
from audio_edition.master.ffmpeg import ffmpeg_exe
from audio_edition.master.loudness import measure_file
from audio_edition.master.sting import place_stings, stings_for
from audio_edition.model import Chapter, Clip, Script, Segment, Voice
from audio_edition.profile import load_profile
from audio_edition.synth.cache import write_wav

RATE = 24_000  # Hz
CLIPS_PER_MINUTE = 60
PAUSE_MS = 350
CHAPTER_CLIPS = 20
MAX_RATIO = 1.0
VOICE = Voice("offline", "baker")
TAGS = EpisodeTags("基准测试", "赤峰日报", dt.date(2026, 11, 29))


def speech_like(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A voiced buzz gliding in pitch, cut into syllables, ~-21 LUFS, peaks near -4 dBFS."""
    n = round(seconds * RATE)
    t = np.arange(n) / RATE
    pitch = 180 + 40 * np.sin(2 * np.pi * rng.uniform(0.3, 0.8) * t + rng.uniform(0, 6))
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    buzz = sum(np.sin(k * phase) / k**1.2 for k in range(1, 16))
    syllables = np.clip(np.sin(2 * np.pi * rng.uniform(3.5, 5.5) * t), 0, None) ** 0.7
    noise = rng.standard_normal(n) * 0.15
    signal = (buzz + noise) * syllables * rng.uniform(0.8, 1.2)
    return (0.085 * signal).astype(np.float32)


def make_episode(folder: Path, minutes: float) -> tuple[Script, list[Clip], Path]:
    """Clips, a script, and the raw PCM of the episode's samples (for the bare run)."""
    rng = np.random.default_rng(20261129)
    count = round(minutes * CLIPS_PER_MINUTE)
    clips, segments = [], []
    for i in range(count):
        samples = speech_like(rng.uniform(0.45, 0.85), rng)
        path = folder / f"{i:05d}.wav"
        write_wav(path, samples, RATE)
        clips.append(Clip(path, len(samples), RATE))
        text = f"第{i}句话。"
        segments.append(Segment("body", text, text, PAUSE_MS, VOICE))
    chapters = tuple(
        Chapter(
            f"c{n}",
            f"第{n}篇",
            tuple(segments[i : i + CHAPTER_CLIPS]),
            sting="edition" if n == 0 else "article",
            url=f"https://example.com/{n}",
        )
        for n, i in enumerate(range(0, count, CHAPTER_CLIPS))
    )
    script = Script(chapters, "offline")
    raw = folder / "episode.pcm"
    raw.write_bytes(episode_pcm(script, clips).tobytes())  # joined once, for the bare encode only
    return script, clips, raw


def episode_pcm(script: Script, clips: list[Clip]) -> np.ndarray:
    """The 16-bit samples the episode holds before its gain: stings, gaps, clips and pauses."""
    kinds = {chapter.sting for chapter in script.chapters if chapter.sting}
    stings = stings_for(kinds, load_profile().stings, RATE)
    lengths = {kind: len(sting) for kind, sting in stings.items()}
    pieces = []
    for part in lay_out(script, clips, lengths, MasterSettings().sting_gap_ms):
        samples, _ = read_part(part)
        if part.sting:
            place_stings(samples, (part.sting,), stings, RATE)
        pieces.append(np.clip(np.round(samples * 32767), -32768, 32767).astype(np.int16))
    return np.concatenate(pieces)


def bare_encode(raw: Path, out: Path) -> None:
    bitrate = f"{MasterSettings().bitrate_kbps}k"
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
        + ["-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", str(raw)]
        + ["-c:a", "libmp3lame", "-b:a", bitrate, str(out)],
        check=True,
    )


def timed(action: Callable[..., object], *args: object) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its children) of `action(*args)`."""
    before = _cpu()
    start = time.perf_counter()
    action(*args)
    return time.perf_counter() - start, _cpu() - before


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def bench(sizes: list[float], runs: int, root: Path) -> list[dict[str, float]]:
    """Time every size side by side, runs interleaved across sizes so that they share the
    machine's load alike; then measure each size's loudness."""
    profile = load_profile()
    episodes = []
    for minutes in sizes:
        folder = root / f"{minutes:g}"
        folder.mkdir()
        episodes.append((folder, *make_episode(folder, minutes)))
    times: list[dict[str, list[tuple[float, float]]]] = [{"bare": [], "master": []} for _ in sizes]
    for _ in range(runs):
        for (folder, script, clips, raw), record in zip(episodes, times, strict=True):
            out = folder / "mastered.mp3"
            record["bare"].append(timed(bare_encode, raw, folder / "bare.mp3"))
            record["master"].append(timed(master_episode, script, clips, profile, out, TAGS))
    results = []
    for minutes, (folder, _, clips, raw), record in zip(sizes, episodes, times, strict=True):
        measured = measure_file(folder / "mastered.mp3")
        results.append(
            {
                "minutes": minutes,
                "clips": len(clips),
                "bare_s": min(w for w, _ in record["bare"]),
                "master_s": min(w for w, _ in record["master"]),
                "bare_cpu_s": min(c for _, c in record["bare"]),
                "master_cpu_s": min(c for _, c in record["master"]),
                "pcm_mb": raw.stat().st_size / 1e6,
                "lufs": measured.integrated_lufs,
                "true_peak": measured.true_peak_db,
            }
        )
    return results


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    print(f"load average before: {_load()}")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs=2, default=(10.0, 20.0))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm"
        warm.mkdir()
        bench([0.5], 1, warm)  # imports, the cover, ffmpeg in the page cache
        results = bench(list(args.minutes), args.runs, Path(tmp))
    print(f"load average after:  {_load()}")
    print(
        f"{'min':>5} {'clips':>6} {'bare s':>8} {'master s':>9} {'ratio':>6} "
        f"{'bare cpu':>9} {'master cpu':>11} {'PCM MB':>7} {'LUFS':>6} {'dBTP':>5}"
    )
    ok = True
    for r in results:
        ratio = r["master_s"] / r["bare_s"]
        ok &= ratio <= MAX_RATIO
        print(
            f"{r['minutes']:>5g} {r['clips']:>6} {r['bare_s']:>8.2f} {r['master_s']:>9.2f} "
            f"{ratio:>6.2f} {r['bare_cpu_s']:>9.2f} {r['master_cpu_s']:>11.2f} "
            f"{r['pcm_mb']:>7.1f} {r['lufs']:>6.1f} {r['true_peak']:>5.1f}"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"largest child process: {peak_mb:.0f} MB resident; {os.cpu_count()} cores")
    length = results[1]["minutes"] / results[0]["minutes"]
    target = length
    scaling = {k: results[1][k] / results[0][k] for k in ("master_s", "bare_s", "master_cpu_s")}
    ok &= scaling["master_s"] <= target
    print(
        f"x{length:g} length: master_episode x{scaling['master_s']:.2f} the time (target <= "
        f"x{target:.2f}); its CPU time x{scaling['master_cpu_s']:.2f}; bare encode "
        f"x{scaling['bare_s']:.2f}"
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
