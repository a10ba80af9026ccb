"""Synthesise every segment of a script into the clip cache: concurrent, retrying, resumable.

Identical utterances (same engine identity and spoken text) are synthesised once. A semaphore
bounds the requests in flight and is held for the whole request, retries included. Clips finished
before a failure stay in the cache, so a rerun synthesises only what is missing. When the service
cannot be reached at all (RetryPolicy.unreachable_limit connection failures in a row), the run stops
at once with one message, or every sentence left goes to the fallback engine.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from audio_edition.errors import SynthesisError
from audio_edition.model import Clip, Segment
from audio_edition.synth import Engine, TransientSynthesisError
from audio_edition.synth.cache import ClipCache
from audio_edition.synth.progress import Progress

PlausibilityCheck = Callable[[str, int, int], bool]  # (spoken, frames, sample_rate) -> plausible?
ClipReady = Callable[[str, Clip, bool], None]  # (key from plan_keys, its clip, made in this run?)


class UnreachableError(TransientSynthesisError):
    """The service cannot be reached at all (connection refused, unknown host, connect timeout)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one utterance: attempts, exponential backoff with jitter, per-try timeout."""

    attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    timeout_s: float = 120.0
    unreachable_limit: int = 8  # UnreachableErrors in a row (any engine request) that end the run

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base_delay_s < 0 or self.timeout_s <= 0:
            raise ValueError("attempts >= 1, base_delay_s >= 0 and timeout_s > 0 are required")
        if self.unreachable_limit < 1:
            raise ValueError("unreachable_limit >= 1 is required")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1-based): full jitter."""
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class SynthReport:
    """The clips of a script, in segment order, and how they were obtained."""

    clips: tuple[Clip, ...]
    synthesized: int  # distinct clips made in this run
    reused: int  # distinct clips found in the cache
    retried: int  # requests retried
    fallbacks: tuple[str, ...] = ()  # spoken texts read by the fallback engine
    suspect: tuple[str, ...] = ()  # spoken texts whose duration stayed implausible


@dataclass
class _Counters:
    synthesized: int = 0
    retried: int = 0


@dataclass
class _Reachability:
    """One engine's connection failures in a row; it is `down` for the rest of the run once they
    reach the limit."""

    limit: int
    streak: int = 0
    down: UnreachableError | None = None

    def failed(self, error: Exception) -> None:
        if isinstance(error, UnreachableError):
            self.streak += 1
            if self.streak >= self.limit:
                self.down = error


def plan_keys(segments: Sequence[Segment], engine: Engine) -> list[str]:
    """The cache key of every segment, in order."""
    return [ClipCache.key(engine.identity(s.voice), s.utterance) for s in segments]


def synthesize_all(
    segments: Sequence[Segment],
    engine: Engine,
    cache: ClipCache,
    *,
    concurrency: int | None = None,
    fallback: Engine | None = None,
    policy: RetryPolicy = RetryPolicy(),
    plausible: PlausibilityCheck | None = None,
    progress: bool | Progress | None = None,
    on_clip: ClipReady | None = None,
) -> SynthReport:
    """Make sure every segment has a clip in the cache; the one asyncio.run of the pipeline.

    `progress`: a bar to count clips on (a Progress, left open), or whether to draw one (None:
    when stderr is a terminal). `on_clip(key, clip, made)` is called in the runner's thread as
    soon as each distinct key's clip is in the cache: first those found there (made False),
    then each one made (made True); it must be quick."""
    reach = _Reachability(policy.unreachable_limit)
    try:
        engine.check_voices({s.voice for s in segments})
    except UnreachableError as e:
        if fallback is None:
            raise
        reach.down = e  # the fallback engine reads everything
    return asyncio.run(
        _synthesize_all(
            segments,
            engine,
            cache,
            concurrency or engine.default_concurrency,
            fallback,
            policy,
            plausible,
            progress,
            on_clip or _ignore,
            reach,
        )
    )


def _ignore(key: str, clip: Clip, made: bool) -> None:
    pass


async def _synthesize_all(
    segments: Sequence[Segment],
    engine: Engine,
    cache: ClipCache,
    concurrency: int,
    fallback: Engine | None,
    policy: RetryPolicy,
    plausible: PlausibilityCheck | None,
    show_progress: bool | Progress | None,
    on_clip: ClipReady,
    reach: _Reachability,
) -> SynthReport:
    keys = plan_keys(segments, engine)
    first_segment = {}
    for key, segment in zip(keys, segments, strict=True):
        first_segment.setdefault(key, segment)
    clips: dict[str, Clip] = {}
    for key in first_segment:
        clip = cache.get(key)
        if clip is not None:
            clips[key] = clip
    reused = len(clips)
    missing = [k for k in first_segment if k not in clips]
    if isinstance(show_progress, Progress):
        progress = show_progress
    else:
        progress = Progress(enabled=show_progress)
    progress.start(total=len(first_segment), cached=reused)
    for key, clip in clips.items():
        on_clip(key, clip, False)
    counters = _Counters()
    fallbacks: list[str] = []
    suspect: list[str] = []
    semaphore = asyncio.Semaphore(max(1, concurrency))
    fallback_reach = _Reachability(policy.unreachable_limit)

    async def make(key: str) -> None:
        segment = first_segment[key]
        async with semaphore:
            try:
                clip, ok = await _with_retries(
                    engine, segment, key, cache, policy, plausible, counters, reach
                )
            except SynthesisError:
                if fallback is None:
                    if reach.down is not None:  # stop the run now rather than retry every clip
                        for task in tasks:
                            if task is not asyncio.current_task():
                                task.cancel()
                    raise
                fallback_key = ClipCache.key(fallback.identity(segment.voice), segment.utterance)
                clip = cache.get(fallback_key)
                if clip is None:
                    clip, ok = await _with_retries(
                        fallback,
                        segment,
                        fallback_key,
                        cache,
                        policy,
                        plausible,
                        counters,
                        fallback_reach,
                    )
                fallbacks.append(segment.spoken)
                ok = True
        if not ok:
            suspect.append(segment.spoken)
        clips[key] = clip
        counters.synthesized += 1
        progress.advance()
        on_clip(key, clip, True)

    tasks = [asyncio.create_task(make(k)) for k in missing]
    try:
        results = await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        if progress is not show_progress:
            progress.close()
        engine.close()
        if fallback is not None:
            fallback.close()
    errors = [r for r in results if isinstance(r, BaseException)]
    done = counters.synthesized
    if errors and reach.down is not None and fallback is None:
        raise SynthesisError(
            f"{reach.down}; the {done + reused} clips already made are cached, "
            "so running the build again resumes"
        ) from reach.down
    if errors:
        raise SynthesisError(
            f"{len(errors)} of {len(first_segment)} clips could not be synthesised "
            f"({errors[0]}); the {done + reused} clips already made are cached, "
            "so running the build again resumes"
        ) from errors[0]
    return SynthReport(
        clips=tuple(clips[k] for k in keys),
        synthesized=counters.synthesized,
        reused=reused,
        retried=counters.retried,
        fallbacks=tuple(fallbacks),
        suspect=tuple(suspect),
    )


async def _with_retries(
    engine: Engine,
    segment: Segment,
    key: str,
    cache: ClipCache,
    policy: RetryPolicy,
    plausible: PlausibilityCheck | None,
    counters: _Counters,
    reach: _Reachability,
) -> tuple[Clip, bool]:
    """One utterance with retries; returns the clip and whether its duration is plausible."""
    last_error: Exception | None = None
    for attempt in range(1, policy.attempts + 1):
        if reach.down is not None:
            raise UnreachableError(str(reach.down))
        if attempt > 1:
            counters.retried += 1
            await asyncio.sleep(policy.delay(attempt - 1))
        dest = cache.temp_path(key)
        try:
            await asyncio.wait_for(
                engine.synthesize(segment.utterance, segment.voice, dest), policy.timeout_s
            )
        except (TransientSynthesisError, TimeoutError) as e:
            dest.unlink(missing_ok=True)
            timed_out = TransientSynthesisError(f"no answer within {policy.timeout_s:.0f} s")
            last_error = e if isinstance(e, TransientSynthesisError) else timed_out
            reach.failed(last_error)
            continue
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
        reach.streak = 0
        clip = cache.put(key, dest)
        if clip is None:
            last_error = TransientSynthesisError("the engine wrote no valid audio")
            continue
        if plausible is None or plausible(segment.spoken, clip.frames, clip.sample_rate):
            return clip, True
        if attempt == policy.attempts:
            return clip, False  # it stays wrong: keep it and report it as suspect
        cache.path(key).unlink(missing_ok=True)
        last_error = TransientSynthesisError("implausible duration for the text")
    raise SynthesisError(
        f"{engine.name} failed {policy.attempts} times on {segment.spoken[:24]!r}: {last_error}"
    )
