"""Running the ffmpeg binary that imageio-ffmpeg ships, so no system ffmpeg is needed.

Every failure becomes an AudioError carrying the tail of ffmpeg's stderr, raised `from` the
CalledProcessError that holds all of it.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import IO

from audio_edition.errors import AudioError

STDERR_TAIL_LINES = 3  # lines of ffmpeg's stderr quoted in an AudioError
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
    cmd = [ffmpeg_exe(), *BASE_ARGS, *args]
    with tempfile.TemporaryFile() as err:  # a file never blocks ffmpeg
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        except OSError as e:
            raise AudioError(f"ffmpeg could not {what}: cannot run {cmd[0]}: {e}") from e
        feeder = None
        if stdin is not None:
            feeder = threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True)
            feeder.start()
        assert proc.stdout is not None
        with proc.stdout:
            out = proc.stdout.read()
        code = proc.wait()
        if feeder is not None:
            feeder.join()
        err.seek(0)
        stderr = err.read().decode("utf-8", errors="replace")
    if code != 0:
        lines = stderr.strip().splitlines()[-STDERR_TAIL_LINES:]
        tail = " | ".join(line.strip() for line in lines) or f"exit status {code}"
        raise AudioError(f"ffmpeg could not {what}: {tail}") from (
            subprocess.CalledProcessError(code, cmd, output=None, stderr=stderr)
        )
    return out, stderr
