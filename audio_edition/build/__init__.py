"""Build an edition end to end: ingest -> script -> synth -> master -> publish.

- `options.py`: what a build is asked to do and what it reports (BuildOptions, BuildSummary, Plan).
- `prepare.py`: reads every input and makes the running order of each episode, writing nothing.
- `pipeline.py`: the orchestrator of `build` and `plan`.
- `episode.py`: masters one episode and writes its files.
- `outdir.py`: the output directory: its layout, its lock, versioned names and the commit order
  that keeps a killed build from ever breaking the published feed.
- `backfill.py`: one edition per dated folder of an archive, every day's clips synthesised at
  once, each day published as soon as its clips are in.
"""

from audio_edition.build.options import BuildOptions, BuildSummary, Plan, PlannedEpisode
from audio_edition.build.pipeline import build, plan
from audio_edition.build.prepare import Prepared, prepare

__all__ = [
    "BuildOptions",
    "BuildSummary",
    "Plan",
    "PlannedEpisode",
    "Prepared",
    "build",
    "plan",
    "prepare",
]
