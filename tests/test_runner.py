"""The synthesis runner: bounded concurrency, retries, timeouts, fallback and the fast stop when
the service is unreachable, driven by a small engine that writes real tones and fails on cue."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from audio_edition.errors import SynthesisError
from audio_edition.model import Segment, Voice
from audio_edition.synth import SAMPLE_RATE, TransientSynthesisError
from audio_edition.synth.cache import ClipCache, read_clip, write_wav
from audio_edition.synth.runner import RetryPolicy, UnreachableError, synthesize_all

VOICE = Voice(engine="edge", name="zh-CN-YunyangNeural")
TEXTS = tuple(f"第{i}句，巴林左旗是全国最大的扫帚苗交易市场。" for i in range(12))
FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, timeout_s=5)
HANG = "hang"  # a failure that never answers: the per-try timeout has to cut it


class ToneEngine:
    """Writes a 0.2 s tone per utterance after `delay_s`; `failures(text, attempt)` returns the
    exception to raise on that attempt, HANG, or None."""

    def __init__(self, name="tone", failures=None, delay_s=0.01, concurrency=4, unreachable=False):
        self.name = name
        self.default_concurrency = concurrency
        self.failures = failures or (lambda text, attempt: None)
        self.delay_s = delay_s
        self.unreachable = unreachable  # check_voices fails as if the service were down
        self.attempts: Counter[str] = Counter()
        self.in_flight = self.max_in_flight = 0
        self.closed = False

    def identity(self, voice: Voice) -> str:
        return f"{self.name}/{voice.name}/{voice.rate}/{voice.pitch}"

    def check_voices(self, voices: Iterable[Voice]) -> None:
        if self.unreachable:
            raise UnreachableError("cannot reach the tone service")

    async def synthesize(self, text: str, voice: Voice, dest: Path) -> None:
        self.attempts[text] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay_s)
            error = self.failures(text, self.attempts[text])
            if error == HANG:
                await asyncio.sleep(60)
            elif error is not None:
                raise error
            tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(SAMPLE_RATE // 5) / SAMPLE_RATE)
            write_wav(dest, tone, SAMPLE_RATE)
        finally:
            self.in_flight -= 1

    def close(self) -> None:
        self.closed = True


def segments(texts=TEXTS) -> list[Segment]:
    return [Segment(role="body", text=t, spoken=t, pause_ms=300, voice=VOICE) for t in texts]


def stray_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and read_clip(p) is None]


def test_the_semaphore_bounds_requests_in_flight(tmp_path):
    engine = ToneEngine(concurrency=3)
    report = synthesize_all(segments(), engine, ClipCache(tmp_path), policy=FAST)
    assert engine.max_in_flight == 3 and report.synthesized == len(TEXTS)
    assert engine.closed
    one = ToneEngine()
    synthesize_all(segments(), one, ClipCache(tmp_path / "one"), concurrency=1, policy=FAST)
    assert one.max_in_flight == 1


def test_transient_failures_and_timeouts_are_retried_and_counted(tmp_path):
    def failures(text, attempt):
        if text == TEXTS[0] and attempt <= 2:
            return TransientSynthesisError("dropped")
        return HANG if text == TEXTS[1] and attempt == 1 else None

    engine = ToneEngine(failures=failures)
    policy = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, timeout_s=0.3)
    report = synthesize_all(segments(), engine, ClipCache(tmp_path), policy=policy)
    assert report.retried == 3 and report.synthesized == len(TEXTS)
    assert engine.attempts[TEXTS[1]] == 2 and stray_files(tmp_path) == []


def test_a_permanent_error_is_not_retried(tmp_path):
    engine = ToneEngine(
        failures=lambda t, a: SynthesisError("bad voice") if t == TEXTS[0] else None
    )
    with pytest.raises(
        SynthesisError, match=r"^1 of 12 clips could not be synthesised \(bad voice"
    ):
        synthesize_all(segments(), engine, ClipCache(tmp_path), policy=FAST)
    assert engine.attempts[TEXTS[0]] == 1
    assert len(list(tmp_path.rglob("*.wav"))) == len(TEXTS) - 1  # the others are kept


def test_an_unreachable_service_stops_the_run_at_once(tmp_path):
    cache = ClipCache(tmp_path)
    synthesize_all(segments(TEXTS[:2]), ToneEngine(), cache, policy=FAST)
    down = ToneEngine(failures=lambda t, a: UnreachableError("cannot reach the tone service"))
    policy = RetryPolicy(base_delay_s=0.05, unreachable_limit=6)
    with pytest.raises(SynthesisError) as caught:
        synthesize_all(segments(), down, cache, policy=policy)
    assert str(caught.value) == (
        "cannot reach the tone service; the 2 clips already made are cached, "
        "so running the build again resumes"
    )
    # the limit, plus the requests already in flight: not 10 clips x 5 attempts
    assert sum(down.attempts.values()) <= policy.unreachable_limit + down.default_concurrency
    assert stray_files(tmp_path) == [] and down.in_flight == 0


def test_a_success_resets_the_count_of_connection_failures(tmp_path):
    def flaky(text, attempt):  # every first attempt fails to connect, every second succeeds
        return UnreachableError("refused") if attempt == 1 else None

    engine = ToneEngine(failures=flaky)
    policy = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, unreachable_limit=2)
    report = synthesize_all(segments(), engine, ClipCache(tmp_path), concurrency=1, policy=policy)
    assert report.synthesized == len(TEXTS) and report.retried == len(TEXTS)


def test_fallback_reads_what_fails_and_everything_once_the_service_is_down(tmp_path):
    broken = TEXTS[3]
    engine = ToneEngine(failures=lambda t, a: TransientSynthesisError("x") if t == broken else None)
    fallback = ToneEngine(name="backup")
    report = synthesize_all(segments(), engine, ClipCache(tmp_path), fallback=fallback, policy=FAST)
    assert report.fallbacks == (broken,) and fallback.attempts == Counter({broken: 1})
    assert engine.attempts[broken] == FAST.attempts and report.retried == FAST.attempts - 1
    assert fallback.closed

    down = ToneEngine(unreachable=True)
    backup = ToneEngine(name="backup")
    report = synthesize_all(
        segments(), down, ClipCache(tmp_path / "down"), fallback=backup, policy=FAST
    )
    assert set(report.fallbacks) == set(TEXTS) and sum(down.attempts.values()) == 0
    assert all(clip.path.exists() for clip in report.clips)


def test_without_fallback_an_unreachable_voice_check_fails_before_synthesis(tmp_path):
    engine = ToneEngine(unreachable=True)
    with pytest.raises(UnreachableError, match="cannot reach the tone service"):
        synthesize_all(segments(), engine, ClipCache(tmp_path))
    assert not engine.attempts and not list(tmp_path.rglob("*"))
