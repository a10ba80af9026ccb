"""Run `audio-edition build` with the tone engine and stop dead at one point of its commit
sequence, so that a test can SIGKILL the build exactly there (tests/test_robustness.py).

    python tests/crashpoint.py WHEN TARGET MATCH MARKER -- build ARGS...

WHEN is `before` or `after`; TARGET a callable as module:qualname (for example
audio_edition.build.episode:save_episode, os:replace, pathlib:Path.unlink); MATCH a text that one
of the call's arguments must end with ("" for any call). At the first matching call the build
writes MARKER and waits to be killed; if nobody kills it within WAIT_S it exits with EXIT_UNKILLED.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import time
from pathlib import Path
from unittest import mock

from conftest import ToneEngine, speech_pace

WAIT_S = 120
EXIT_UNKILLED = 97


def stop_at(when: str, target: str, match: str, marker: Path) -> None:
    """Replace TARGET with a wrapper that stops the process at its first matching call."""
    module_name, qualname = target.split(":")
    *owners, name = qualname.split(".")
    owner = importlib.import_module(module_name)
    for attribute in owners:
        owner = getattr(owner, attribute)
    original = getattr(owner, name)

    def stop() -> None:
        marker.write_text(f"{when} {target} {match}\n", encoding="utf-8")
        time.sleep(WAIT_S)
        os._exit(EXIT_UNKILLED)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        hit = not match or any(str(a).endswith(match) for a in (*args, *kwargs.values()))
        if hit and when == "before":
            stop()
        result = original(*args, **kwargs)
        if hit and when == "after":
            stop()
        return result

    setattr(owner, name, wrapper)


def main() -> None:
    when, target, match, marker, separator, *build_args = sys.argv[1:]
    assert when in ("before", "after") and separator == "--", sys.argv
    stop_at(when, target, match, Path(marker))
    from audio_edition.cli import cli

    engine = ToneEngine(seconds=speech_pace)
    with mock.patch(
        "audio_edition.build.pipeline.create_engine", lambda name, cluster=None: engine
    ):
        cli(build_args, prog_name="audio-edition")


if __name__ == "__main__":
    main()
