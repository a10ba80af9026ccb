"""Benchmark: what writing the talking books (EPUB 3 + DAISY 2.02) adds to a build of the sample.

Target: the build's "books" stage takes at most 5 % of the whole build (first build, with its
synthesis); also shown against a rebuild from the clip cache (mastering only), the worst case.
Run by hand: .venv/bin/python bench/bench_books.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "000_aa4cbc5942cc5dc6.txt"
TARGET_RATIO = 0.05


def timed_build(out: Path) -> tuple[float, dict]:
    command = [sys.executable, "-m", "audio_edition", "build", str(SAMPLE), "-o", str(out)]
    started = time.perf_counter()
    result = subprocess.run(
        [*command, "--date", "2026-11-29", "--json"], capture_output=True, text=True, check=True
    )
    return time.perf_counter() - started, json.loads(result.stdout)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        full_s, full = timed_build(out)
        again_s, again = timed_build(out)
    ratio = full["timings"]["books"] / full_s
    worst = again["timings"]["books"] / again_s
    print(f"full build:        {full_s:7.1f} s, books {full['timings']['books']:.3f} s")
    print(f"books/full build:  {ratio:7.2%}  (target <= {TARGET_RATIO:.0%})")
    print(f"cached rebuild:    {again_s:7.1f} s, books {again['timings']['books']:.3f} s")
    print(f"books/rebuild:     {worst:7.2%}")
    sys.exit(0 if ratio <= TARGET_RATIO else 1)


if __name__ == "__main__":
    main()
