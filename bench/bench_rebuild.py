"""Benchmark: an editor's one-sentence correction vs the full build of the sample page.

Target (issue 17): the corrected rebuild takes at most 5 % of the full build's time: only the
chapter holding the sentence is synthesised and mastered again, the others come from the caches.
Run by hand: .venv/bin/python bench/bench_rebuild.py
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "000_aa4cbc5942cc5dc6.txt"
ORIGINAL = "累计收益 3万余元。"
TARGET_RATIO = 0.05


def timed_build(page: Path, out: Path, *extra: str) -> tuple[float, dict]:
    command = [sys.executable, "-m", "audio_edition", "build", str(page), "-o", str(out)]
    started = time.perf_counter()
    result = subprocess.run(
        [*command, "--date", "2026-11-29", "--json", *extra],
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started, json.loads(result.stdout)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        page, out = Path(folder) / "page.txt", Path(folder) / "out"
        text = SAMPLE.read_text(encoding="utf-8")
        assert ORIGINAL in text, "the sample page changed: pick another sentence"
        page.write_text(text, encoding="utf-8")
        full_s, full = timed_build(page, out)
        # a new figure each run: what the caches (clips, parts, the text memo) have not seen
        amount = random.randint(4, 99)
        page.write_text(text.replace(ORIGINAL, f"累计收益 {amount}万余元。"), encoding="utf-8")
        fix_s, fix = timed_build(page, out, "--note", f"更正：累计收益为{amount}万余元。")
    ratio = fix_s / full_s
    print(f"full build:      {full_s:7.1f} s  ({full['synthesized']} clips synthesised)")
    print(
        f"correction:      {fix_s:7.1f} s  ({fix['synthesized']} synthesised, "
        f"{fix['reused']} reused)"
    )
    print(f"correction/full: {ratio:7.1%}  (target <= {TARGET_RATIO:.0%})")
    print("correction timings:", json.dumps(fix["timings"]))
    sys.exit(0 if ratio <= TARGET_RATIO else 1)


if __name__ == "__main__":
    main()
