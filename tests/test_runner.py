"""The synthesis runner: bounded concurrency, retries, timeouts, fallback and the fast stop when
the service is unreachable, driven by a small engine that writes real tones and fails on cue."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conftest import ToneEngine

from audio_edition.errors import SynthesisError
from audio_edition.model import Segment, Voice
from audio_edition.synth import TransientSynthesisError
from audio_edition.synth.cache import ClipCache, read_clip
from audio_edition.synth.runner import RetryPolicy, UnreachableError, synthesize_all

VOICE = Voice(engine="edge", name="zh-CN-YunyangNeural")
TEXTS = tuple(f"第{i}句，巴林左旗是全国最大的扫帚苗交易市场。" for i in range(12))
FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.02, timeout_s=5)
HANG = ToneEngine.HANG  # a failure that never answers: the per-try timeout has to cut it


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


def test_an_implausible_clip_is_retried_and_replaced(tmp_path):
    """The first clip of TEXTS[0] is 0.05 s (a truncation the engine did not notice); the
    retry's 3 s clip is kept and nothing is suspect."""
    engine = ToneEngine(seconds=lambda text: 0.05 if engine.attempts[text] == 1 else 3.0)
    report = synthesize_all(
        segments(TEXTS[:2]), engine, ClipCache(tmp_path), policy=FAST, plausible=plausible
    )
    assert engine.attempts == Counter({TEXTS[0]: 2, TEXTS[1]: 2})
    assert report.retried == 2 and report.suspect == ()
    assert [c.frames for c in report.clips] == [3 * 24_000, 3 * 24_000]
    assert stray_files(tmp_path) == []


def test_a_clip_that_stays_implausible_is_kept_and_reported_suspect(tmp_path):
    short = TEXTS[5]
    engine = ToneEngine(seconds=lambda text: 0.05 if text == short else 3.0)
    report = synthesize_all(
        segments(TEXTS[4:7]), engine, ClipCache(tmp_path), policy=FAST, plausible=plausible
    )
    assert engine.attempts[short] == FAST.attempts == 5
    assert report.retried == 4 and report.suspect == (short,)
    assert report.synthesized == 3 and report.clips[1].frames == 1_200  # kept: 0.05 s
    assert report.clips[1].path.is_file()
    again = synthesize_all(
        segments(TEXTS[4:7]), engine, ClipCache(tmp_path), policy=FAST, plausible=plausible
    )
    assert again.reused == 3 and again.suspect == ()  # cached: not synthesised again


def plausible(spoken: str, frames: int, sample_rate: int) -> bool:
    """The check the tests above use: at least one second of audio."""
    return frames >= sample_rate


@pytest.mark.parametrize(
    ("fields", "valid"),
    [
        ({"attempts": 1}, True),
        ({"attempts": 0}, False),
        ({"base_delay_s": 0.0}, True),
        ({"base_delay_s": -0.1}, False),
        ({"timeout_s": 0.0}, False),
        ({"timeout_s": 0.001}, True),
        ({"unreachable_limit": 1}, True),
        ({"unreachable_limit": 0}, False),
    ],
)
def test_retry_policy_bounds(fields, valid):
    if valid:
        RetryPolicy(**fields)
    else:
        with pytest.raises(ValueError, match=r"^(attempts >= 1, base_delay_s|unreachable_limit)"):
            RetryPolicy(**fields)


def test_backoff_doubles_up_to_its_cap(monkeypatch):
    monkeypatch.setattr("random.uniform", lambda low, high: (low, high))
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=20.0)
    assert [policy.delay(n)[1] for n in (1, 2, 3, 4, 6, 7)] == [0.5, 1.0, 2.0, 4.0, 16.0, 20.0]
    assert policy.delay(1)[0] == 0  # full jitter: anywhere from no wait


def test_retries_wait_the_backoff_of_their_number(tmp_path, monkeypatch):
    waited = []
    monkeypatch.setattr(RetryPolicy, "delay", lambda self, retry: waited.append(retry) or 0.0)
    engine = ToneEngine(failures=lambda t, a: TransientSynthesisError("x") if a <= 2 else None)
    synthesize_all(segments(TEXTS[:1]), engine, ClipCache(tmp_path), policy=FAST)
    assert waited == [1, 2] and engine.voices == {VOICE}


def test_exactly_the_limit_of_connection_failures_stops_the_run(tmp_path):
    down = ToneEngine(failures=lambda t, a: UnreachableError("refused"), concurrency=1)
    policy = RetryPolicy(base_delay_s=0.0, unreachable_limit=3)
    with pytest.raises(SynthesisError, match="^refused; the 0 clips already made"):
        synthesize_all(segments(), down, ClipCache(tmp_path), policy=policy)
    assert sum(down.attempts.values()) == 3


def test_the_last_error_of_a_clip_is_named(tmp_path):
    class Silent(ToneEngine):
        async def synthesize(self, text, voice, dest):
            self.attempts[text] += 1  # writes nothing: no valid audio

    once = RetryPolicy(attempts=1, timeout_s=1)
    with pytest.raises(SynthesisError, match=r"\(silent failed 1 times on .*: the engine wrote no"):
        synthesize_all(segments(TEXTS[:1]), Silent(name="silent"), ClipCache(tmp_path), policy=once)
    hang = ToneEngine(name="slow", failures=lambda t, a: HANG)
    with pytest.raises(SynthesisError, match=r"\(slow failed 1 times on .*: no answer within 1 s"):
        synthesize_all(segments(TEXTS[:1]), hang, ClipCache(tmp_path), policy=once)
