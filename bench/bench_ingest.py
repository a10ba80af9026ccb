"""Benchmark: parsing the sample e-paper page (decode + page parser), milliseconds per page.

Target: well under a second per page (a day's paper is a dozen pages).
Run by hand: .venv/bin/python bench/bench_ingest.py [--runs 50]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from audio_edition.ingest import read_edition

ROOT = Path(__file__).resolve().parent.parent
PAGES = (
    ROOT / "samples" / "000_aa4cbc5942cc5dc6.txt",
    *sorted((ROOT / "tests" / "fixtures").glob("page_*.txt")),
)
TARGET_MS = 1000.0  # milliseconds per page


def time_page(page: Path, runs: int) -> list[float]:
    """Milliseconds for each of `runs` reads of one page, after one warm-up read."""
    read_edition([page])
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        read_edition([page])
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="reads per page")
    runs = parser.parse_args().runs
    worst = 0.0
    for page in PAGES:
        times = time_page(page, runs)
        median, slowest = statistics.median(times), max(times)
        worst = max(worst, slowest)
        print(f"{page.name}: median {median:.1f} ms, slowest {slowest:.1f} ms ({runs} runs)")
    verdict = "OK" if worst < TARGET_MS else "TOO SLOW"
    print(f"slowest page read: {worst:.1f} ms; target < {TARGET_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
