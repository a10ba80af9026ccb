"""Scaling out on Dask, in one run: the sample page synthesised locally with one worker process
and on a distributed.LocalCluster of one and of two workers; then a projection of the workers a
365-edition backfill needs to finish in one night, checked by a backfill of ten small editions
on the two-worker LocalCluster. Run by hand (about ten minutes on a quiet 2-core machine):

    .venv/bin/python bench/bench_cluster.py [--sentences N] [--rounds 1] [--editions 10]
                                            [--night-hours 8] [--pages-per-edition 3] [--json]

Each synthesis run starts from an empty cache and counts what a build pays: the local pool
forks its worker and loads the voice in it; a cluster run connects and loads the voice on its
workers (the plugin). The LocalCluster runs with the worker settings docs/scaling.md
recommends, and is started before the clock, as a cluster a build connects to is already
running. Goals: the one-worker cluster within 10 % of the local
pool (the cost of Dask and of sending every clip back), and 1.8x from one worker to two (the
local pool with two worker processes shows what two processes get on this machine). With
--rounds N the four runs take turns N times and the fastest of each counts (other people's
work only ever adds time).

On a 2-core machine the two workers share the cores with the client (which receives, checks
and writes every clip) and the scheduler, and here with other people's work: every run prints
the load average and the cores it got (the workers' CPU seconds per wall second). A
LocalCluster runs its scheduler in this process, so the "client" CPU of a cluster run includes
the scheduler's.

The projection: a year of editions of `--pages-per-edition` sample pages (3 make the issue's
400 hours of audio); the workers' CPU per clip and the bytes sent per clip from the one-worker
run, derated by the two-worker run's efficiency (speed-up / 2), give the worker processes
needed; the client's preparation and mastering come from building the sample page from the
two-worker run's clips. The check: the two-worker run's seconds of audio made per second
predict the synthesis time of the ten-edition backfill.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import dask
from distributed import Client, LocalCluster

from audio_edition.build import BuildOptions, build, prepare
from audio_edition.build.backfill import BackfillOptions, backfill
from audio_edition.build.outdir import CACHE_DIR
from audio_edition.ingest import read_edition
from audio_edition.model import Segment
from audio_edition.synth import Engine
from audio_edition.synth.cache import ClipCache, read_clip
from audio_edition.synth.cluster import ClusterEngine
from audio_edition.synth.offline import OfflineEngine
from audio_edition.synth.runner import synthesize_all

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PAGE = ROOT / "samples" / "000_aa4cbc5942cc5dc6.txt"
SAMPLE_DATE = dt.date(2026, 11, 29)
OVERHEAD_GOAL = 0.10  # the one-worker cluster may take at most 10 % longer than the local pool
SPEEDUP_GOAL = 1.8  # two workers vs one
YEAR = 365  # editions
LINK_BYTES_PER_S = 125e6  # a 1 Gb/s network between the workers and the client
WORKER_SETTINGS = {  # docs/scaling.md: Dask's monitoring turned down, for CPU-bound workers
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}


def sample_options(out_dir: Path) -> BuildOptions:
    return BuildOptions(inputs=(SAMPLE_PAGE,), out_dir=out_dir, date=SAMPLE_DATE, progress=False)


def sample_segments() -> list[Segment]:
    """The sample page's segments, exactly as a build of it makes them."""
    ((_, script),) = prepare(sample_options(Path("unused"))).parts
    return list(script.segments)


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # finished, waited-for children
    return usage.ru_utime + usage.ru_stime


def workers_state(client: Client) -> tuple[float, int]:
    """The workers' CPU seconds so far, and the bytes they have sent."""

    def state(dask_worker) -> tuple[float, int]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime, dask_worker.transfer_outgoing_bytes_total

    found = client.run(state).values()
    return sum(cpu for cpu, _ in found), sum(sent for _, sent in found)


def audio_seconds(folder: Path) -> float:
    clips = (read_clip(p) for p in folder.rglob("*.wav"))
    return sum(c.duration_ms for c in clips if c is not None) / 1000


def timed_synthesis(segments: list[Segment], connect: Callable[[], Engine], cache: Path) -> dict:
    """Synthesise `segments` into the empty `cache` with the engine `connect` makes (timed)."""
    load = os.getloadavg()[0]
    start, client_cpu = time.perf_counter(), own_cpu_s()
    engine = connect()
    connected = time.perf_counter() - start
    report = synthesize_all(segments, engine, ClipCache(cache), progress=False)
    seconds = time.perf_counter() - start
    clips = set(report.clips)
    audio_s = sum(c.duration_ms for c in clips) / 1000
    return {
        "seconds": round(seconds, 2),
        "connect_s": round(connected, 2),
        "clips": report.synthesized,
        "clips_per_s": round(report.synthesized / seconds, 3),
        "audio_s": round(audio_s, 1),
        "audio_s_per_s_connected": round(audio_s / (seconds - connected), 2),
        "wav_bytes_per_clip": round(sum(c.path.stat().st_size for c in clips) / len(clips)),
        "client_cpu_ms_per_clip": round(1000 * (own_cpu_s() - client_cpu) / report.synthesized),
        "load_average": [round(load, 1), round(os.getloadavg()[0], 1)],
    }


def local_run(workers: int, segments: list[Segment], cache: Path) -> dict:
    before = children_cpu_s()
    run = timed_synthesis(segments, lambda: OfflineEngine(workers=workers), cache)
    worker_cpu = children_cpu_s() - before  # the pool's workers, joined at the end of the run
    run["worker_cpu_ms_per_clip"] = round(1000 * worker_cpu / run["clips"])
    run["cores_used"] = round(worker_cpu / run["seconds"], 2)
    return run


def start_cluster(workers: int) -> LocalCluster:
    """A LocalCluster with docs/scaling.md's settings for workers (the nannies pass them on)."""
    dask.config.set(WORKER_SETTINGS)
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )


def cluster_run(workers: int, segments: list[Segment], cache: Path) -> dict:
    """On a LocalCluster of its own, started before the clock and closed after the run."""
    with (
        start_cluster(workers) as cluster,
        Client(cluster.scheduler_address, set_as_default=False) as watcher,
    ):

        def connect() -> Engine:
            return ClusterEngine.connect(cluster.scheduler_address)

        cpu, sent = workers_state(watcher)
        run = timed_synthesis(segments, connect, cache)
        cpu_after, sent_after = workers_state(watcher)
    run["worker_cpu_ms_per_clip"] = round(1000 * (cpu_after - cpu) / run["clips"])
    run["sent_bytes_per_clip"] = round((sent_after - sent) / run["clips"])
    run["cores_used"] = round((cpu_after - cpu) / run["seconds"], 2)
    return run


def synthesis_rounds(segments: list[Segment], rounds: int, work: Path) -> dict:
    """The four runs, taking turns `rounds` times; the fastest of each. The two-worker
    cluster's last clips stay in work/sample/ (to master the sample page from)."""
    runs: dict[str, list[dict]] = {"local_1": [], "cluster_1": [], "cluster_2": [], "local_2": []}
    for round_ in range(rounds):
        for name, run in (
            ("local_1", lambda c: local_run(1, segments, c)),
            ("cluster_1", lambda c: cluster_run(1, segments, c)),
            ("cluster_2", lambda c: cluster_run(2, segments, c)),
            ("local_2", lambda c: local_run(2, segments, c)),  # what 2 processes get here
        ):
            runs[name].append(run(work / f"{name}-{round_}" / CACHE_DIR))
            say(f"{name}: {runs[name][-1]['seconds']} s, load {os.getloadavg()[0]:.1f}")
    (work / "cluster_2-0").rename(work / "sample")
    return {
        name: {
            **min(found, key=lambda r: r["seconds"]),
            "every_run_s": [r["seconds"] for r in found],
        }
        for name, found in runs.items()
    }


def master_sample(work: Path) -> dict:
    """Build the sample page from cached clips: the client's preparation and mastering."""
    summary = build(sample_options(work / "sample"))
    assert summary.synthesized == 0, "the sample page's clips were all cached"
    timings = summary.timings
    audio_s = summary.episodes[0].duration_ms / 1000
    return {
        "prepare_s": round(timings["ingest"] + timings["script"], 2),
        "master_s": round(timings["master"] + timings["publish"], 2),
        "audio_s": round(audio_s, 1),
        "load_average": round(os.getloadavg()[0], 1),
    }


def write_small_editions(archive: Path, count: int) -> None:
    """`count` dated folders, each one page: one paragraph of one sample article, no paragraph
    twice (so no day's clips come from another's)."""
    articles = [
        a for a in read_edition((SAMPLE_PAGE,)).to_dict()["articles"] if a["kind"] != "photo"
    ]
    for day in range(count):
        article = dict(articles[day % len(articles)])
        paragraphs = [p for s in article["sections"] for p in s["paragraphs"]]
        paragraph = paragraphs[min(day // len(articles), len(paragraphs) - 1)]
        article["sections"] = [{"heading": None, "paragraphs": [paragraph]}]
        folder = archive / (dt.date(2024, 3, 1) + dt.timedelta(days=day)).isoformat()
        folder.mkdir(parents=True)
        page = {"title": article["headline"], "articles": [article]}
        (folder / "page.json").write_text(json.dumps(page, ensure_ascii=False), "utf-8")


def backfill_check(cluster_address: str, editions: int, audio_per_s: float, work: Path) -> dict:
    """A backfill of `editions` small editions against the synthesis time that the two-worker
    run's rate (seconds of audio made per second) predicts."""
    archive, out = work / "archive", work / "backfill"
    write_small_editions(archive, editions)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    summary = backfill(
        BackfillOptions(archive, out_dir=out, cluster=cluster_address, progress=False)
    ).build
    seconds = time.perf_counter() - start
    timings = summary.timings
    audio_s = audio_seconds(out / CACHE_DIR)
    predicted = audio_s / audio_per_s
    return {
        "editions": len(summary.episodes),
        "clips": summary.synthesized,
        "audio_s": round(audio_s, 1),
        "seconds": round(seconds, 2),
        "timings": {k: round(v, 2) for k, v in timings.items()},
        "predicted_synth_s": round(predicted, 2),
        "measured_synth_s": round(timings["synth"], 2),
        "measured_vs_predicted": round(timings["synth"] / predicted, 2),
        "load_average": [round(load, 1), round(os.getloadavg()[0], 1)],
    }


def project(one: dict, sample: dict, efficiency: float, pages: int, night_h: float) -> dict:
    """Worker processes a year of editions of `pages` sample pages needs to be synthesised in
    one night (each worker giving `efficiency` of its CPU to clips, as two did here), and the
    client's share of that night."""
    clips = YEAR * pages * one["clips"]
    night_s = night_h * 3600
    prepare_s = YEAR * pages * sample["prepare_s"]  # serial, before any synthesis
    master_s = YEAR * pages * sample["master_s"]  # one thread, while the workers synthesise
    worker_s = clips * one["worker_cpu_ms_per_clip"] / 1000
    sent = clips * one["sent_bytes_per_clip"]
    left_s = night_s - prepare_s
    return {
        "editions": YEAR,
        "clips": clips,
        "audio_hours": round(YEAR * pages * one["audio_s"] / 3600),
        "night_hours": night_h,
        "worker_cpu_hours": round(worker_s / 3600, 1),
        "efficiency": round(efficiency, 2),
        "workers_needed": math.ceil(worker_s / (left_s * efficiency)) if left_s > 0 else None,
        "transfer_gb": round(sent / 1e9, 1),
        "transfer_hours_at_1gbps": round(sent / LINK_BYTES_PER_S / 3600, 2),
        "client_prepare_hours": round(prepare_s / 3600, 2),
        "client_master_hours": round(master_s / 3600, 2),
        "client_fits": prepare_s + master_s < night_s,
    }


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, help="only the first N segments of the page")
    parser.add_argument("--rounds", type=int, default=1, help="turns of the four runs")
    parser.add_argument("--editions", type=int, default=10, help="small editions to backfill")
    parser.add_argument("--night-hours", type=float, default=8.0)
    parser.add_argument("--pages-per-edition", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    segments = sample_segments()[: args.sentences]
    results: dict = {"cores": os.cpu_count(), "segments": len(segments)}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        results.update(synthesis_rounds(segments, args.rounds, work))
        if args.sentences is None:
            results["sample_build"] = master_sample(work)
            say(f"sample page mastered: {results['sample_build']}")
        with start_cluster(2) as cluster:
            rate = results["cluster_2"]["audio_s_per_s_connected"]
            results["backfill"] = backfill_check(
                cluster.scheduler_address, args.editions, rate, work
            )
    local, one, two = results["local_1"], results["cluster_1"], results["cluster_2"]
    results["overhead"] = round(one["seconds"] / local["seconds"] - 1, 3)
    results["speedup_1_to_2"] = round(one["seconds"] / two["seconds"], 2)
    results["local_speedup_1_to_2"] = round(local["seconds"] / results["local_2"]["seconds"], 2)
    if "sample_build" in results:
        efficiency = min(1.0, results["speedup_1_to_2"] / 2)
        results["projection"] = project(
            one, results["sample_build"], efficiency, args.pages_per_edition, args.night_hours
        )
    if args.json:
        print(json.dumps(results, indent=2))
        return
    report(results)


def report(results: dict) -> None:
    print(f"{results['segments']} segments of the sample page, {results['cores']} cores")
    for name in ("local_1", "cluster_1", "cluster_2", "local_2"):
        run = results[name]
        print(
            f"  {name:<10} {run['seconds']:7.1f} s (connect {run['connect_s']} s)  "
            f"{run['clips']} clips  {run['audio_s_per_s_connected']} s of audio/s  "
            f"worker {run['worker_cpu_ms_per_clip']} ms CPU/clip  "
            f"client {run['client_cpu_ms_per_clip']} ms CPU/clip  "
            f"{run['cores_used']} cores used  load {run['load_average']}  "
            f"(runs {run['every_run_s']} s)"
        )
    overhead, speedup = results["overhead"], results["speedup_1_to_2"]
    print(
        f"  cluster overhead vs local pool: {overhead:+.1%} (goal <= {OVERHEAD_GOAL:.0%}: "
        f"{'met' if overhead <= OVERHEAD_GOAL else 'MISSED'})"
    )
    print(
        f"  speed-up 1 -> 2 workers: {speedup}x (goal >= {SPEEDUP_GOAL}x: "
        f"{'met' if speedup >= SPEEDUP_GOAL else 'MISSED'}); the local pool, without Dask: "
        f"{results['local_speedup_1_to_2']}x"
    )
    one = results["cluster_1"]
    print(
        f"  per clip: {one['worker_cpu_ms_per_clip']} ms of worker CPU, "
        f"{one['sent_bytes_per_clip']} bytes sent ({one['wav_bytes_per_clip']} of WAV)"
    )
    check = results["backfill"]
    print(
        f"backfill of {check['editions']} small editions on 2 workers: {check['seconds']} s, "
        f"{check['clips']} clips, {check['audio_s']} s of audio; synthesis "
        f"{check['measured_synth_s']} s vs {check['predicted_synth_s']} s predicted "
        f"({check['measured_vs_predicted']}x); timings {check['timings']}; "
        f"load {check['load_average']}"
    )
    if "projection" not in results:
        return
    sample, p = results["sample_build"], results["projection"]
    print(
        f"sample page built from cached clips: prepare {sample['prepare_s']} s, master and "
        f"publish {sample['master_s']} s for {sample['audio_s']} s of audio "
        f"(load {sample['load_average']})"
    )
    print(
        f"projection: {p['editions']} editions, {p['clips']} clips, {p['audio_hours']} h of "
        f"audio in a {p['night_hours']} h night: {p['worker_cpu_hours']} worker-CPU hours at "
        f"{p['efficiency']:.0%} efficiency -> {p['workers_needed']} worker processes (one per "
        f"core); {p['transfer_gb']} GB to the "
        f"client ({p['transfer_hours_at_1gbps']} h at 1 Gb/s); client: prepare "
        f"{p['client_prepare_hours']} h, master {p['client_master_hours']} h "
        f"({'fits' if p['client_fits'] else 'DOES NOT FIT'})"
    )


if __name__ == "__main__":
    main()
