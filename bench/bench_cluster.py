"""Scaling out on Dask, in one run: the sample page synthesised locally with one worker process
and on a distributed.LocalCluster of one and of two workers; then a projection of the workers a
365-edition backfill needs to finish in one night, checked by a backfill of ten small editions
on the two-worker LocalCluster. Run by hand (about ten minutes on a quiet 2-core machine):

    .venv/bin/python bench/bench_cluster.py [--sentences N] [--editions 10] [--night-hours 8]
                                            [--pages-per-edition 3] [--json]

Each synthesis run starts from an empty cache and counts what a build pays: the local pool
forks its worker and loads the voice in it; a cluster run connects and loads the voice on its
workers (the plugin). The LocalCluster itself is started before the clock, as a cluster a
build connects to is already running. Goals: the one-worker cluster within 10 % of the local
pool (the cost of Dask and of sending every clip back), and 1.8x from one worker to two.

On a 2-core machine the two workers share the cores with the client (which receives, checks
and writes every clip) and the scheduler, and here with other people's work: every run prints
the load average and the cores it got (the workers' CPU seconds per wall second).

The projection takes the workers' CPU seconds per clip and the bytes sent per clip from the
one-worker run, the client's CPU per clip from the two-worker run, and the client's
preparation and mastering per clip from the ten-edition backfill; an edition is
`--pages-per-edition` sample pages (3 make the issue's 400 hours of audio a year).
The check: the two-worker run's clips per second predict the backfill's synthesis time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from distributed import Client, LocalCluster

from audio_edition.build.backfill import BackfillOptions, backfill
from audio_edition.ingest import read_edition
from audio_edition.model import EditionInfo, Segment
from audio_edition.profile import load_profile
from audio_edition.script import build_script
from audio_edition.synth import Engine
from audio_edition.synth.cache import ClipCache
from audio_edition.synth.cluster import ClusterEngine
from audio_edition.synth.offline import OfflineEngine
from audio_edition.synth.runner import synthesize_all
from audio_edition.text.lexicon import load_lexicon

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PAGE = ROOT / "samples" / "000_aa4cbc5942cc5dc6.txt"
OVERHEAD_GOAL = 0.10  # the one-worker cluster may take at most 10 % longer than the local pool
SPEEDUP_GOAL = 1.8  # two workers vs one
YEAR = 365  # editions
LINK_BYTES_PER_S = 125e6  # a 1 Gb/s network between the workers and the client
SMALL_EDITION_PARAGRAPHS = 1  # paragraphs of one sample article in each small edition


def sample_segments() -> list[Segment]:
    edition = read_edition((SAMPLE_PAGE,))
    info = EditionInfo(publication="本报", date=dt.date(2026, 11, 29), title="红船初心")
    return list(build_script(edition, info, load_profile(), "offline", load_lexicon()).segments)


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


def timed_synthesis(segments: list[Segment], connect: Callable[[], Engine]) -> dict:
    """Synthesise `segments` into an empty cache with the engine `connect` makes (timed)."""
    with tempfile.TemporaryDirectory() as folder:
        load = os.getloadavg()[0]
        start, client_cpu = time.perf_counter(), own_cpu_s()
        engine = connect()
        connected = time.perf_counter() - start
        report = synthesize_all(segments, engine, ClipCache(Path(folder)), progress=False)
        seconds = time.perf_counter() - start
        synthesis_s = seconds - connected
        clips = set(report.clips)
        wav_bytes = sum(c.path.stat().st_size for c in clips)
        audio_s = sum(c.duration_ms for c in clips) / 1000
    return {
        "seconds": round(seconds, 2),
        "connect_s": round(connected, 2),
        "clips": report.synthesized,
        "clips_per_s": round(report.synthesized / seconds, 3),
        "clips_per_s_connected": round(report.synthesized / synthesis_s, 3),  # once connected
        "audio_s": round(audio_s, 1),
        "wav_bytes_per_clip": round(wav_bytes / len(clips)),
        "client_cpu_ms_per_clip": round(1000 * (own_cpu_s() - client_cpu) / report.synthesized),
        "load_average": [round(load, 1), round(os.getloadavg()[0], 1)],
    }


def local_run(segments: list[Segment]) -> dict:
    before = children_cpu_s()
    run = timed_synthesis(segments, lambda: OfflineEngine(workers=1))
    worker_cpu = children_cpu_s() - before  # the pool's worker, joined at the end of the run
    run["worker_cpu_ms_per_clip"] = round(1000 * worker_cpu / run["clips"])
    run["cores_used"] = round(worker_cpu / run["seconds"], 2)
    return run


def start_cluster(workers: int) -> LocalCluster:
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )


def cluster_run(cluster: LocalCluster, segments: list[Segment]) -> dict:
    with Client(cluster.scheduler_address, set_as_default=False) as watcher:
        cpu, sent = workers_state(watcher)
        run = timed_synthesis(segments, lambda: ClusterEngine.connect(cluster.scheduler_address))
        cpu_after, sent_after = workers_state(watcher)
    run["worker_cpu_ms_per_clip"] = round(1000 * (cpu_after - cpu) / run["clips"])
    run["sent_bytes_per_clip"] = round((sent_after - sent) / run["clips"])
    run["cores_used"] = round((cpu_after - cpu) / run["seconds"], 2)
    return run


def write_small_editions(archive: Path, count: int) -> int:
    """`count` dated folders, each one page: one sample article cut to its first paragraph.
    Returns how many sample articles there are to cycle through."""
    articles = read_edition((SAMPLE_PAGE,)).to_dict()["articles"]
    texts = [a for a in articles if a["kind"] != "photo"]
    for day in range(count):
        article = dict(texts[day % len(texts)])
        first = article["sections"][0]
        article["sections"] = [{**first, "paragraphs": first["paragraphs"][:1]}]
        folder = archive / (dt.date(2024, 3, 1) + dt.timedelta(days=day)).isoformat()
        folder.mkdir(parents=True)
        page = {"title": article["headline"], "articles": [article]}
        (folder / "page.json").write_text(json.dumps(page, ensure_ascii=False), "utf-8")
    return len(texts)


def backfill_check(cluster: LocalCluster, editions: int, clips_per_s: float) -> dict:
    """A backfill of `editions` small editions on `cluster`, against the synthesis time that
    the sample page's clips per second predict."""
    with tempfile.TemporaryDirectory() as folder:
        archive, out = Path(folder) / "archive", Path(folder) / "out"
        write_small_editions(archive, editions)
        load = os.getloadavg()[0]
        start = time.perf_counter()
        summary = backfill(
            BackfillOptions(archive, out, cluster=cluster.scheduler_address, progress=False)
        ).build
        seconds = time.perf_counter() - start
    timings = summary.timings
    predicted = summary.synthesized / clips_per_s
    return {
        "editions": len(summary.episodes),
        "clips": summary.synthesized,
        "seconds": round(seconds, 2),
        "timings": {k: round(v, 2) for k, v in timings.items()},
        "predicted_synth_s": round(predicted, 2),
        "measured_synth_s": round(timings["synth"], 2),
        "measured_vs_predicted": round(timings["synth"] / predicted, 2),
        "prepare_ms_per_clip": round(
            1000 * (timings["ingest"] + timings["script"]) / summary.synthesized
        ),
        "master_ms_per_clip": round(
            1000 * (timings.get("master", 0) + timings.get("publish", 0)) / summary.synthesized
        ),
        "load_average": [round(load, 1), round(os.getloadavg()[0], 1)],
    }


def project(
    one: dict,
    two: dict,
    check: dict,
    page_clips: int,
    pages: int,
    night_h: float,
) -> dict:
    """Workers a year of editions needs to be synthesised in one night, and what the client
    must do meanwhile: editions of `pages` sample pages of `page_clips` clips each."""
    clips = YEAR * pages * page_clips
    night_s = night_h * 3600
    prepare_s = clips * check["prepare_ms_per_clip"] / 1000  # serial, before synthesis starts
    master_s = clips * check["master_ms_per_clip"] / 1000  # in one thread, during synthesis
    client_s = clips * two["client_cpu_ms_per_clip"] / 1000  # receive, check, write clips
    worker_s = clips * one["worker_cpu_ms_per_clip"] / 1000
    left_s = night_s - prepare_s
    workers = math.ceil(worker_s / left_s) if left_s > 0 else None
    return {
        "editions": YEAR,
        "clips": clips,
        "audio_hours": round(clips * one["audio_s"] / one["clips"] / 3600),
        "night_hours": night_h,
        "worker_cpu_hours": round(worker_s / 3600, 1),
        "workers_needed": workers,  # worker processes, one per core
        "transfer_gb": round(clips * one["sent_bytes_per_clip"] / 1e9, 1),
        "transfer_hours_at_1gbps": round(
            clips * one["sent_bytes_per_clip"] / LINK_BYTES_PER_S / 3600, 2
        ),
        "client_prepare_hours": round(prepare_s / 3600, 1),
        "client_master_hours": round(master_s / 3600, 1),
        "client_receive_hours": round(client_s / 3600, 1),
        "client_fits": prepare_s + max(master_s, client_s) < night_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, help="only the first N segments of the page")
    parser.add_argument("--editions", type=int, default=10, help="small editions to backfill")
    parser.add_argument("--night-hours", type=float, default=8.0)
    parser.add_argument("--pages-per-edition", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    page = sample_segments()
    segments = page[: args.sentences]
    page_clips = len({(s.voice, s.spoken) for s in page})
    results: dict = {"cores": os.cpu_count(), "segments": len(segments), "page_clips": page_clips}
    results["local_1"] = local_run(segments)
    with start_cluster(1) as cluster:
        results["cluster_1"] = cluster_run(cluster, segments)
    with start_cluster(2) as cluster:
        results["cluster_2"] = cluster_run(cluster, segments)
        clips_per_s = results["cluster_2"]["clips_per_s_connected"]
        results["backfill"] = backfill_check(cluster, args.editions, clips_per_s)
    local, one, two = results["local_1"], results["cluster_1"], results["cluster_2"]
    results["overhead"] = round(one["seconds"] / local["seconds"] - 1, 3)
    results["speedup_1_to_2"] = round(one["seconds"] / two["seconds"], 2)
    results["projection"] = project(
        one,
        two,
        results["backfill"],
        page_clips,
        args.pages_per_edition,
        args.night_hours,
    )
    if args.json:
        print(json.dumps(results, indent=2))
        return
    report(results)


def report(results: dict) -> None:
    print(
        f"{results['segments']} segments of the sample page ({results['page_clips']} distinct "
        f"clips in all), {results['cores']} cores"
    )
    for name in ("local_1", "cluster_1", "cluster_2"):
        run = results[name]
        print(
            f"  {name:<10} {run['seconds']:7.1f} s (connect {run['connect_s']} s)  "
            f"{run['clips']} clips  {run['clips_per_s']} clips/s  "
            f"worker {run['worker_cpu_ms_per_clip']} ms CPU/clip  "
            f"client {run['client_cpu_ms_per_clip']} ms CPU/clip  "
            f"{run['cores_used']} cores used  load {run['load_average']}"
        )
    overhead, speedup = results["overhead"], results["speedup_1_to_2"]
    print(
        f"  cluster overhead vs local pool: {overhead:+.1%} (goal <= {OVERHEAD_GOAL:.0%}: "
        f"{'met' if overhead <= OVERHEAD_GOAL else 'MISSED'})"
    )
    print(
        f"  speed-up 1 -> 2 workers: {speedup}x (goal >= {SPEEDUP_GOAL}x: "
        f"{'met' if speedup >= SPEEDUP_GOAL else 'MISSED'})"
    )
    one = results["cluster_1"]
    print(
        f"  per clip: {one['worker_cpu_ms_per_clip']} ms of worker CPU, "
        f"{one['sent_bytes_per_clip']} bytes sent ({one['wav_bytes_per_clip']} of WAV)"
    )
    check = results["backfill"]
    print(
        f"backfill of {check['editions']} small editions on 2 workers: {check['seconds']} s, "
        f"{check['clips']} clips; synthesis {check['measured_synth_s']} s vs "
        f"{check['predicted_synth_s']} s predicted ({check['measured_vs_predicted']}x); "
        f"timings {check['timings']}; load {check['load_average']}"
    )
    p = results["projection"]
    print(
        f"projection: {p['editions']} editions, {p['clips']} clips, {p['audio_hours']} h of "
        f"audio in a {p['night_hours']} h night: {p['worker_cpu_hours']} worker-CPU hours -> "
        f"{p['workers_needed']} worker processes (one per core); {p['transfer_gb']} GB to the "
        f"client ({p['transfer_hours_at_1gbps']} h at 1 Gb/s); client: prepare "
        f"{p['client_prepare_hours']} h, master {p['client_master_hours']} h, receive "
        f"{p['client_receive_hours']} h ({'fits' if p['client_fits'] else 'DOES NOT FIT'})"
    )


if __name__ == "__main__":
    main()
