"""Benchmark: parsing e-paper pages (decode + page parser), milliseconds per page.

Target: the sample page parses in under 50 ms (median). Both the wall-clock time and the
CPU time of the process are reported: on a shared machine the CPU time is the fairer figure.
Run by hand: .venv/bin/python bench/bench_ingest.py [--runs 50]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from audio_edition.ingest import read_edition

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "000_aa4cbc5942cc5dc6.txt"
PAGES = (SAMPLE, *sorted((ROOT / "tests" / "fixtures").glob("page_*.txt")))
TARGET_MS = 50.0  # milliseconds: median parse of the sample page


def time_page(page: Path, runs: int) -> tuple[list[float], list[float]]:
    """Milliseconds (wall clock, CPU) of each of `runs` reads of one page, after a warm-up."""
    read_edition([page])
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        read_edition([page])
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="reads per page")
    runs = parser.parse_args().runs
    sample_ms = 0.0
    for page in PAGES:
        wall, cpu = time_page(page, runs)
        print(
            f"{page.name}: median {statistics.median(wall):.1f} ms "
            f"(CPU {statistics.median(cpu):.1f} ms), slowest {max(wall):.1f} ms ({runs} runs)"
        )
        if page == SAMPLE:
            sample_ms = statistics.median(wall)
    verdict = "OK" if sample_ms < TARGET_MS else "TOO SLOW"
    print(f"sample page: median {sample_ms:.1f} ms; target < {TARGET_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
