"""Worker processes that die with the build.

CPU-bound stages (the offline voice, mastering) run in pools of forked processes, one per core.
Each worker asks the kernel to kill it when its parent dies (PR_SET_PDEATHSIG), so a build
killed even by SIGKILL leaves no worker behind to write into the output afterwards.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

PR_SET_PDEATHSIG = 1  # prctl option: signal this process when its parent dies


def cpu_count() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def worker_pool(workers: int, warm_up: Callable[[], None] | None = None) -> ProcessPoolExecutor:
    """A pool of `workers` forked processes that die with this one; each runs `warm_up` (which
    must not raise) as it starts. The workers start together, with the first task submitted.

    fork: workers need no re-import of the caller's main module (spawn would run an unguarded
    script again) and start in milliseconds.
    """
    return ProcessPoolExecutor(
        workers,
        mp_context=get_context("fork"),
        initializer=_start_worker,
        initargs=(os.getpid(), warm_up),
    )


def _start_worker(parent_pid: int, warm_up: Callable[[], None] | None) -> None:
    die_with_parent(parent_pid)
    if warm_up is not None:
        warm_up()


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel kill this worker when the build process dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(0)
