"""A one-line progress bar for long synthesis: clips done / total, cached vs new, rate, ETA, and
for a backfill the editions published.

It draws on stderr only when stderr is a terminal, so logs and pipes stay clean. Its counters
may be advanced from several threads (a backfill publishes editions while clips arrive).
"""

from __future__ import annotations

import sys
import threading
import time

REDRAW_INTERVAL_S = 0.2  # seconds between redraws
BAR_WIDTH = 24  # characters


def _bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    filled = width * done // max(total, 1)
    return "#" * filled + "-" * (width - filled)


class Progress:
    """Counts clips (and editions, when given how many) as they finish and redraws a status line."""

    def __init__(self, enabled: bool | None = None, editions: int | None = None) -> None:
        self.total = self.cached = self.new = 0
        self.editions, self.published = editions, 0
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._drawn = 0.0

    def start(self, total: int, cached: int) -> None:
        """Begin counting: `total` distinct clips, `cached` of them already in the cache."""
        with self._lock:
            self.total, self.cached, self.new = total, cached, 0
            self._started = time.monotonic()
            self._draw(force=True)

    def advance(self) -> None:
        """One more clip made."""
        with self._lock:
            self.new += 1
            self._draw()

    def edition_published(self) -> None:
        """One more edition published (a backfill)."""
        with self._lock:
            self.published += 1
            self._draw(force=True)

    def line(self) -> str:
        done = self.cached + self.new
        elapsed = max(time.monotonic() - self._started, 1e-9)
        rate = self.new / elapsed
        remaining = self.total - done
        eta = f"{remaining / rate:.0f}s" if rate > 0 else "?"
        clips = (
            f"[{_bar(done, self.total)}] {done}/{self.total} clips "
            f"({self.cached} cached, {self.new} new) {rate:.1f}/s ETA {eta}"
        )
        if self.editions is None:
            return f"synthesis {clips}"
        editions = f"[{_bar(self.published, self.editions, BAR_WIDTH // 2)}]"
        return f"editions {editions} {self.published}/{self.editions} published, clips {clips}"

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._drawn < REDRAW_INTERVAL_S):
            return
        self._drawn = now
        sys.stderr.write("\r" + self.line())
        sys.stderr.flush()

    def close(self) -> None:
        with self._lock:
            if self.enabled:
                self._draw(force=True)
                sys.stderr.write("\n")
                sys.stderr.flush()
