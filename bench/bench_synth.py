"""Synthesis speed: the edge engine against the loopback stand-in, concurrent vs one at a time,
and the offline voice with two workers vs one. Run by hand (about two minutes a round):

    .venv/bin/python bench/bench_synth.py [--latency 0.3] [--offline-sentences 20] [--rounds 1]
                                          [--only edge|offline] [--json]

Edge: every segment of the sample page's script (edge voices) is synthesised into a fresh cache
twice, side by side against the same stand-in (tests/edge_server.py, in a process of its own)
answering each request after `--latency` seconds: with the engine's default concurrency and with
concurrency 1. Target: at least 6x faster.
Offline: the first `--offline-sentences` body sentences of the page, with OfflineEngine(workers=1)
and OfflineEngine(workers=2), model loading included, as a build experiences it.

Both are CPU-bound on a busy machine (each edge clip costs ~60 ms of CPU, mostly starting ffmpeg
to decode it): every run prints its CPU per clip, the cores it actually got (CPU seconds per wall
second) and the load average, so figures from a shared machine can be read for what they are.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from audio_edition.ingest import read_edition
from audio_edition.model import EditionInfo, Segment
from audio_edition.profile import load_profile
from audio_edition.script import build_script
from audio_edition.synth.cache import ClipCache
from audio_edition.synth.runner import synthesize_all
from audio_edition.text.lexicon import load_lexicon

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PAGE = ROOT / "samples" / "000_aa4cbc5942cc5dc6.txt"
STAND_IN = ROOT / "tests" / "edge_server.py"  # run in a process of its own, like the real service
TARGET_RATIO = 6.0  # the goal: default concurrency vs --concurrency 1


def sample_segments(engine: str) -> list[Segment]:
    """Every segment of the sample page's script for `engine`."""
    edition = read_edition((SAMPLE_PAGE,))
    info = EditionInfo(publication="本报", date=dt.date(2026, 11, 29), title="红船初心")
    script = build_script(edition, info, load_profile(), engine, load_lexicon())
    return list(script.segments)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (ffmpeg, offline workers)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_run(segments: list[Segment], engine, concurrency: int | None = None) -> dict:
    """Synthesise `segments` into a fresh cache: wall and CPU seconds, what the report says."""
    with tempfile.TemporaryDirectory() as folder:
        start, cpu = time.perf_counter(), cpu_seconds()
        report = synthesize_all(segments, engine, ClipCache(Path(folder)), concurrency=concurrency)
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        audio_s = sum(c.duration_ms for c in set(report.clips)) / 1000
    return {
        "seconds": round(seconds, 2),
        "cpu_ms_per_clip": round(1000 * cpu / report.synthesized),
        "cores_used": round(cpu / seconds, 2),  # CPU seconds per wall second: what we got
        "load_average": round(os.getloadavg()[0], 1),
        "clips": report.synthesized,
        "retried": report.retried,
        "clips_per_s": round(report.synthesized / seconds, 2),
        "audio_s": round(audio_s, 1),
    }


def best_of(rounds: int, run: Callable[[], dict]) -> dict:
    """The fastest of `rounds` runs (load from other processes only ever adds time), with the
    wall seconds of every run."""
    runs = [run() for _ in range(rounds)]
    return {**min(runs, key=lambda r: r["seconds"]), "every_run_s": [r["seconds"] for r in runs]}


def bench_edge(latency_s: float, rounds: int) -> dict:
    from audio_edition.synth.edge import EdgeEngine

    segments = sample_segments("edge")
    command = [sys.executable, str(STAND_IN), "--latency", str(latency_s)]
    pipe = subprocess.PIPE
    with subprocess.Popen(command, stdin=pipe, stdout=pipe, text=True) as server:
        os.environ.update(json.loads(server.stdout.readline()))
        default = EdgeEngine()
        concurrent = best_of(rounds, lambda: timed_run(segments, EdgeEngine()))
        one = best_of(rounds, lambda: timed_run(segments, EdgeEngine(), concurrency=1))
        seen = json.loads(server.communicate("", timeout=30)[0])
    assert not seen["protocol_errors"], seen["protocol_errors"]
    ratio = one["seconds"] / concurrent["seconds"]
    return {
        "segments": len(segments),
        "latency_s": latency_s,
        "stand_in_cpu_s": seen["cpu_s"],  # spent on this machine, unlike the real service's
        f"concurrency_{default.default_concurrency}": concurrent,
        "concurrency_1": one,
        "speedup": round(ratio, 2),
        "target_met": ratio >= TARGET_RATIO,
    }


def bench_offline(count: int, rounds: int) -> dict:
    from audio_edition.synth.offline import OfflineEngine

    body = [s for s in sample_segments("offline") if s.role == "body"][:count]
    one = best_of(rounds, lambda: timed_run(body, OfflineEngine(workers=1)))
    two = best_of(rounds, lambda: timed_run(body, OfflineEngine(workers=2)))
    return {
        "sentences": len(body),
        "cores": os.cpu_count(),
        "workers_1": one,
        "workers_2": two,
        "speedup": round(one["seconds"] / two["seconds"], 2),
        "realtime_factor_2_workers": round(two["audio_s"] / two["seconds"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.3, help="stand-in seconds per request")
    parser.add_argument("--offline-sentences", type=int, default=20)
    parser.add_argument("--only", choices=("edge", "offline"), help="run one of the two")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each; the best counts")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    results = {}
    if args.only != "offline":
        results["edge"] = bench_edge(args.latency, args.rounds)
    if args.only != "edge":
        results["offline"] = bench_offline(args.offline_sentences, args.rounds)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    if "edge" in results:
        print_edge(results["edge"])
    if "offline" in results:
        print_offline(results["offline"])


def print_edge(edge: dict) -> None:
    print(
        f"edge engine, stand-in with {edge['latency_s']} s latency, {edge['segments']} segments "
        f"(the stand-in itself used {edge['stand_in_cpu_s']} s of CPU)"
    )
    for name, run in edge.items():
        if name.startswith("concurrency_"):
            print(
                f"  {name:<15} {run['seconds']:7.2f} s  {run['clips_per_s']:6.2f} clips/s  "
                f"{run['cpu_ms_per_clip']} ms CPU/clip  {run['cores_used']} cores used  "
                f"load {run['load_average']}  (runs: {run['every_run_s']} s)"
            )
    verdict = "meets" if edge["target_met"] else "MISSES"
    print(f"  speed-up {edge['speedup']}x ({verdict} the {TARGET_RATIO:g}x target)")


def print_offline(off: dict) -> None:
    print(f"offline voice, {off['sentences']} sentences on {off['cores']} cores")
    for name in ("workers_1", "workers_2"):
        run = off[name]
        print(
            f"  {name:<15} {run['seconds']:7.2f} s  {run['audio_s']} s of audio  "
            f"{run['cpu_ms_per_clip']} ms CPU/clip  {run['cores_used']} cores used  "
            f"load {run['load_average']}  (runs: {run['every_run_s']} s)"
        )
    print(
        f"  speed-up {off['speedup']}x, {off['realtime_factor_2_workers']}x faster than real time"
    )


if __name__ == "__main__":
    main()
