"""Running the ffmpeg binary that imageio-ffmpeg ships, so no system ffmpeg is needed.

Every failure becomes an AudioError carrying the tail of ffmpeg's stderr, raised `from` the
CalledProcessError that holds all of it.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from audio_edition.errors import AudioError

STDERR_TAIL_LINES = 3  # lines of ffmpeg's stderr quoted in an AudioError
SINK_PIECE = 1 << 16  # bytes: at most this much of a stdout is handed to a sink at a time
BASE_ARGS = ("-hide_banner", "-nostdin", "-nostats", "-y")


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary bundled with imageio-ffmpeg."""
    import imageio_ffmpeg

    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as e:
        raise AudioError(f"ffmpeg is not available: {e}") from e


def _feed(stdin: IO[bytes], chunks: Iterable[bytes | memoryview]) -> None:
    # BrokenPipeError: ffmpeg stopped reading; its exit status and stderr say why.
    with contextlib.suppress(BrokenPipeError), stdin:
        for chunk in chunks:
            stdin.write(chunk)


def run_ffmpeg(
    args: Sequence[str], *, what: str, stdin: Iterable[bytes | memoryview] | None = None
) -> tuple[bytes, str]:
    """Run ffmpeg with `args`, streaming `stdin` chunks to it; return (stdout, stderr).

    `what` completes the sentence "ffmpeg could not ..." in the error message.
    """
    out, (stderr,) = run_ffmpeg_pipeline([args], what=what, stdin=stdin)
    return out, stderr


def run_ffmpeg_pipeline(
    commands: Sequence[Sequence[str]],
    *,
    what: str,
    stdin: Iterable[bytes | memoryview] | None = None,
    cwd: Path | None = None,
    sink: Callable[[bytes], None] | None = None,
) -> tuple[bytes, list[str]]:
    """Run ffmpeg commands concurrently, each one's stdout piped into the next one's stdin.

    Returns the last command's stdout (or b"" when `sink` takes it piece by piece as it comes)
    and every command's stderr. Any failure raises AudioError.
    """
    cmds = [[ffmpeg_exe(), *BASE_ARGS, *args] for args in commands]
    with contextlib.ExitStack() as stack:
        errs = [stack.enter_context(tempfile.TemporaryFile()) for _ in cmds]  # files never block
        procs: list[subprocess.Popen[bytes]] = []
        try:
            for cmd, err in zip(cmds, errs, strict=True):
                if procs:
                    source: Any = procs[-1].stdout
                else:
                    source = subprocess.PIPE if stdin is not None else subprocess.DEVNULL
                procs.append(
                    subprocess.Popen(cmd, stdin=source, stdout=subprocess.PIPE, stderr=err, cwd=cwd)
                )
                if len(procs) > 1:
                    procs[-2].stdout.close()  # type: ignore[union-attr]  # the next one owns it
        except OSError as e:
            for proc in procs:
                proc.kill()
            raise AudioError(f"ffmpeg could not {what}: cannot run {cmds[0][0]}: {e}") from e
        feeder = None
        if stdin is not None:
            feeder = threading.Thread(target=_feed, args=(procs[0].stdin, stdin), daemon=True)
            feeder.start()
        last = procs[-1].stdout
        assert last is not None
        with last:
            if sink is None:
                out = last.read()
            else:
                out = b""
                while piece := last.read(SINK_PIECE):  # blocks for a whole piece
                    sink(piece)
        codes = [proc.wait() for proc in procs]
        if feeder is not None:
            feeder.join()
        stderrs = []
        for err in errs:
            err.seek(0)
            stderrs.append(err.read().decode("utf-8", errors="replace"))
    for cmd, code, stderr in zip(cmds, codes, stderrs, strict=True):
        if code != 0:
            lines = stderr.strip().splitlines()[-STDERR_TAIL_LINES:]
            tail = " | ".join(line.strip() for line in lines) or f"exit status {code}"
            raise AudioError(f"ffmpeg could not {what}: {tail}") from (
                subprocess.CalledProcessError(code, cmd, output=None, stderr=stderr)
            )
    return out, stderrs
