"""A one-line progress bar for long synthesis: clips done / total, cached vs new, rate, ETA.

It draws on stderr only when stderr is a terminal, so logs and pipes stay clean.
"""

from __future__ import annotations

import sys
import time

REDRAW_INTERVAL_S = 0.2  # seconds between redraws
BAR_WIDTH = 24  # characters


class Progress:
    """Counts clips as they finish and redraws a status line."""

    def __init__(self, total: int, cached: int, enabled: bool | None = None) -> None:
        self.total, self.cached, self.new = total, cached, 0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._started = time.monotonic()
        self._drawn = 0.0
        self._draw(force=True)

    def advance(self) -> None:
        self.new += 1
        self._draw()

    def line(self) -> str:
        done = self.cached + self.new
        elapsed = max(time.monotonic() - self._started, 1e-9)
        rate = self.new / elapsed
        remaining = self.total - done
        eta = f"{remaining / rate:.0f}s" if rate > 0 else "?"
        filled = BAR_WIDTH * done // max(self.total, 1)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        return (
            f"synthesis [{bar}] {done}/{self.total} clips "
            f"({self.cached} cached, {self.new} new) {rate:.1f}/s ETA {eta}"
        )

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._drawn < REDRAW_INTERVAL_S):
            return
        self._drawn = now
        sys.stderr.write("\r" + self.line())
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(force=True)
            sys.stderr.write("\n")
            sys.stderr.flush()
