"""Speech synthesis: the Engine protocol, the engines, the clip cache and the concurrent runner."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from audio_edition.errors import ConfigError, SynthesisError
from audio_edition.model import ENGINES, Voice

SAMPLE_RATE = 24_000  # Hz: every clip in the cache is mono 16-bit PCM at this rate


class TransientSynthesisError(SynthesisError):
    """A failure worth retrying (dropped connection, throttling, truncated audio...)."""


class Engine(Protocol):
    """A text-to-speech engine: it writes clips; the runner handles retries and caching."""

    name: str
    default_concurrency: int

    def identity(self, voice: Voice) -> str:
        """Everything besides the text that changes the sound (model, voice, prosody, format)."""
        ...

    def check_voices(self, voices: Iterable[Voice]) -> None:
        """Raise VoiceError before any synthesis when a voice does not exist."""
        ...

    def warm_up(self) -> None:
        """Start loading what synthesis needs, without waiting: the build calls this once its
        inputs are read, and makes the script meanwhile."""
        ...

    async def synthesize(self, text: str, voice: Voice, dest: Path) -> None:
        """Write `text` (a Segment.utterance) spoken by `voice` to `dest` as a mono 16-bit WAV
        at SAMPLE_RATE.

        Raises TransientSynthesisError for failures worth retrying, SynthesisError otherwise.
        """
        ...

    def close(self) -> None:
        """Release workers and connections."""
        ...


def create_engine(name: str, cluster: str | None = None) -> Engine:
    """The engine called `name` ("offline" or "edge"). With `cluster`, the address of a Dask
    scheduler, the offline voice runs on that cluster's workers (connected here, so that an
    unreachable scheduler fails now); the edge engine, network-bound, always runs here."""
    if name == "offline" and cluster:
        try:
            from audio_edition.synth.cluster import ClusterEngine
        except ModuleNotFoundError as e:
            raise ConfigError(
                f"a cluster build needs Dask's distributed ({e}): "
                "pip install 'audio-edition[cluster]'"
            ) from None
        return ClusterEngine.connect(cluster)
    if name == "offline":
        from audio_edition.synth.offline import OfflineEngine

        return OfflineEngine()
    if name == "edge":
        from audio_edition.synth.edge import EdgeEngine

        return EdgeEngine()
    raise ConfigError(f"unknown engine {name!r}: use one of {', '.join(ENGINES)}")
