"""The edge engine: the real edge-tts client against the loopback stand-in of the service."""

from __future__ import annotations

import asyncio
import contextlib
import json
from itertools import pairwise
from pathlib import Path

import edge_tts.communicate
import edge_tts.voices
import pytest
from click.testing import CliRunner
from conftest import check_sample_episode
from edge_server import CHARS_PER_S, LEAD_S, TAIL_S, EdgeStandIn, Fault

from audio_edition.cli import cli
from audio_edition.config import load_config
from audio_edition.errors import ConfigError, SynthesisError, VoiceError
from audio_edition.model import Segment, Voice
from audio_edition.synth import SAMPLE_RATE, TransientSynthesisError
from audio_edition.synth.cache import ClipCache, read_clip
from audio_edition.synth.edge import (
    VOICES_URL_ENV,
    WSS_URL_ENV,
    EdgeEngine,
    apply_endpoints,
    min_duration_s,
)
from audio_edition.synth.offline import OfflineEngine
from audio_edition.synth.runner import RetryPolicy, synthesize_all

YUNYANG = Voice(engine="edge", name="zh-CN-YunyangNeural")
XIAOXIAO = Voice(engine="edge", name="zh-CN-XiaoxiaoNeural", rate=-5, pitch=-2)
SENTENCES = (
    "红船初心",
    "在快手短视频平台上，一位“笤帚大妈”凭着高超的扫帚绑扎手艺吸引了两万多粉丝的关注。",
    "半年来，她制作的工艺扫帚在快手上销量达到1500余件，累计收益3万余元。",
    "巴林左旗是全国最大的扫帚苗交易市场，被誉为“中国扫帚苗之乡。”",
    "新建加工厂40家，全产业链参与人数达到8万人，带动了9138名贫困人口实现了稳定脱贫。",
    "像这样的“党建引领产业发展共同体”在赤峰市有141个。",
)
FAST = RetryPolicy(base_delay_s=0.02, max_delay_s=0.1, timeout_s=10)  # retries without waiting


def segments(texts=SENTENCES, voice=YUNYANG) -> list[Segment]:
    return [Segment(role="body", text=t, spoken=t, pause_ms=300, voice=voice) for t in texts]


def leftovers(root: Path) -> list[Path]:
    """Files in the cache that are not complete, verified clips (temp files, 0-byte files...)."""
    files = [p for p in root.rglob("*") if p.is_file()]
    return [p for p in files if p.suffix != ".wav" or read_clip(p) is None]


@pytest.fixture
def stand_in(monkeypatch):
    """Start an EdgeStandIn(**options) and point edge-tts at it; stopped after the test."""
    for module, name in ((edge_tts.communicate, "WSS_URL"), (edge_tts.voices, "VOICE_LIST")):
        monkeypatch.setattr(module, name, getattr(module, name))  # restored after the test
    with contextlib.ExitStack() as stack:

        def start(**options) -> EdgeStandIn:
            server = stack.enter_context(EdgeStandIn(**options))
            for variable, value in server.env().items():
                monkeypatch.setenv(variable, value)
            return server

        yield start


def test_sentences_are_synthesised_decoded_and_cached(stand_in, tmp_path):
    server = stand_in()
    cache = ClipCache(tmp_path)
    texts = SENTENCES + (SENTENCES[1],)  # a repeated sentence is synthesised once
    report = synthesize_all(segments(texts), EdgeEngine(), cache, policy=FAST)
    assert report.synthesized == len(SENTENCES) and report.retried == 0
    assert server.protocol_errors == [] and server.voice_list_requests == 1
    assert sorted(server.texts) == sorted(SENTENCES) and set(server.texts.values()) == {1}
    for text, clip in zip(texts, report.clips, strict=True):
        assert clip.sample_rate == SAMPLE_RATE and read_clip(clip.path) == clip
        spoken_s = len(text) / CHARS_PER_S
        assert spoken_s + LEAD_S <= clip.duration_ms / 1000 <= spoken_s + LEAD_S + TAIL_S + 0.1
    assert leftovers(tmp_path) == []
    again = synthesize_all(segments(texts), EdgeEngine(), cache, policy=FAST)
    assert (again.synthesized, again.reused) == (0, len(SENTENCES))
    assert again.clips == report.clips and sum(server.texts.values()) == len(SENTENCES)


def test_the_stand_in_speaks_the_protocol_edge_tts_expects(stand_in):
    server = stand_in()
    apply_endpoints()

    async def stream(boundary: str) -> list[dict]:
        communicate = edge_tts.Communicate(
            SENTENCES[1] + SENTENCES[2], YUNYANG.name, boundary=boundary
        )
        return [chunk async for chunk in communicate.stream()]

    for boundary in ("SentenceBoundary", "WordBoundary"):
        chunks = asyncio.run(stream(boundary))
        marks = [c for c in chunks if c["type"] == boundary]
        words = sum(-(-len(s) // 2) for s in SENTENCES[1:3])  # the stand-in's "words": 2 chars
        assert len(marks) == (2 if boundary == "SentenceBoundary" else words)
        assert "".join(m["text"] for m in marks) == SENTENCES[1] + SENTENCES[2]
        assert all(a["offset"] + a["duration"] <= b["offset"] for a, b in pairwise(marks))
        assert sum(len(c["data"]) for c in chunks if c["type"] == "audio") % 144 == 0
    assert server.protocol_errors == []


def test_identity_covers_voice_prosody_and_format():
    engine = EdgeEngine()
    identities = {engine.identity(v) for v in (YUNYANG, XIAOXIAO, Voice("edge", YUNYANG.name, 5))}
    assert len(identities) == 3
    assert engine.identity(XIAOXIAO) == (
        "edge/zh-CN-XiaoxiaoNeural/rate-5/pitch-2/audio-24khz-48kbitrate-mono-mp3"
    )


def test_prosody_reaches_the_service(stand_in, tmp_path):
    server = stand_in()
    fast = Voice("edge", "zh-CN-YunyangNeural", rate=50)
    slow, quick = synthesize_all(
        [segments(SENTENCES[1:2])[0], segments(SENTENCES[1:2], fast)[0]],
        EdgeEngine(),
        ClipCache(tmp_path),
        policy=FAST,
    ).clips
    assert quick.frames < slow.frames * 0.8  # the stand-in honours the SSML rate
    assert server.protocol_errors == []


def test_an_offline_utterance_reaches_the_service_as_its_text_only(stand_in, tmp_path):
    # as the fallback of the offline voice, edge is given utterances that carry syllables
    server = stand_in()
    said = Segment(
        "body", "行长说。", "行长说。", 300, YUNYANG, pinyin=("hang2", "zhang3", "shuo1")
    )
    synthesize_all([said], EdgeEngine(), ClipCache(tmp_path), policy=FAST)
    assert list(server.texts) == ["行长说。"]


@pytest.mark.parametrize(
    "fault",
    [
        Fault("drop", every=2),  # connection closed mid-audio: edge-tts returns without error
        Fault("reset", every=2),  # TCP reset mid-audio
        Fault("short", every=2),  # half the audio, then turn.end as if complete
        Fault("no_audio", every=2),
        Fault("hang", every=3),  # cut by the per-try timeout
        Fault("status", every=3, status=503),
        Fault("status", every=3, status=429),
    ],
    ids=lambda f: f"{f.kind}-{f.status}" if f.kind == "status" else f.kind,
)
def test_every_fault_is_retried_until_the_audio_is_complete(stand_in, tmp_path, fault):
    server = stand_in(fault=fault)
    policy = RetryPolicy(base_delay_s=0.02, max_delay_s=0.1, timeout_s=1.5)
    # one request at a time, so that connection-counted faults hit a known number of requests
    concurrency = 1 if fault.kind == "status" else None
    report = synthesize_all(
        segments(), EdgeEngine(), ClipCache(tmp_path), concurrency=concurrency, policy=policy
    )
    assert server.injected and report.retried == len(server.injected)
    assert report.synthesized == len(SENTENCES) and report.fallbacks == ()
    for text, clip in zip(SENTENCES, report.clips, strict=True):
        assert clip.duration_ms / 1000 >= len(text) / CHARS_PER_S + LEAD_S  # none truncated
    assert leftovers(tmp_path) == [] and server.protocol_errors == []


def test_a_403_from_clock_skew_is_retried_by_edge_tts_itself(stand_in, tmp_path):
    server = stand_in(fault=Fault("status", every=2, status=403))
    report = synthesize_all(
        segments(), EdgeEngine(), ClipCache(tmp_path), concurrency=1, policy=FAST
    )
    # connections 2, 4 .. 10 fail with 403: the 2nd to 6th sentences each take two connections
    assert len(server.injected) == len(SENTENCES) - 1 and report.retried == 0
    assert report.synthesized == len(SENTENCES)


def test_a_fault_that_persists_fails_the_run_with_what_failed(stand_in, tmp_path):
    server = stand_in(fault=Fault("status", status=503))
    with pytest.raises(SynthesisError) as caught:
        synthesize_all(segments(SENTENCES[:2]), EdgeEngine(), ClipCache(tmp_path), policy=FAST)
    message = str(caught.value)
    assert "2 of 2 clips could not be synthesised" in message
    assert "edge failed 5 times" in message and "HTTP 503" in message and "\n" not in message
    assert server.connections == 2 * FAST.attempts and leftovers(tmp_path) == []


def test_truncated_audio_that_never_recovers_is_not_kept(stand_in, tmp_path):
    stand_in(fault=Fault("drop", times=99))
    with pytest.raises(SynthesisError, match=r"connection closed mid-audio .*no turn\.end"):
        synthesize_all(segments(SENTENCES[1:2]), EdgeEngine(), ClipCache(tmp_path), policy=FAST)
    assert leftovers(tmp_path) == [] and not list(tmp_path.rglob("*.wav"))


def test_fallback_reads_what_still_fails_with_the_offline_voice(stand_in, tmp_path):
    server = stand_in(fault=Fault("drop", every=3, times=99))
    texts = SENTENCES[:3]
    report = synthesize_all(
        segments(texts),
        EdgeEngine(),
        ClipCache(tmp_path),
        fallback=OfflineEngine(workers=1),
        policy=FAST,
    )
    failing = server.injected[0][1]  # the third text to arrive, whichever that was
    assert report.fallbacks == (failing,) and server.texts[failing] == FAST.attempts
    assert set(server.injected) == {("drop", failing)}
    assert report.synthesized == 3 and all(read_clip(c.path) for c in report.clips)
    clip = report.clips[texts.index(failing)]
    offline_key = ClipCache.key(OfflineEngine().identity(YUNYANG), failing)
    assert clip.path == ClipCache(tmp_path).path(offline_key)
    assert clip.duration_ms > 1000  # the offline voice really read it


def test_unknown_voice_fails_before_any_request_with_the_closest_names(stand_in, tmp_path):
    server = stand_in()
    typo = Voice(engine="edge", name="zh-CN-YunyangNeurl")
    with pytest.raises(VoiceError) as caught:
        synthesize_all(
            segments() + segments(SENTENCES[:1], typo), EdgeEngine(), ClipCache(tmp_path)
        )
    assert str(caught.value).startswith(
        "unknown edge voice 'zh-CN-YunyangNeurl': did you mean zh-CN-YunyangNeural"
    )
    assert server.connections == 0 and server.voice_list_requests == 1
    assert caught.value.exit_code == 2


def test_the_voice_list_is_retried_on_a_service_error_but_not_on_a_wrong_address(stand_in):
    server = stand_in(voice_list_errors=(503,))
    EdgeEngine().check_voices([YUNYANG])
    assert server.voice_list_requests == 2
    server = stand_in(voice_list_errors=(404,))
    with pytest.raises(SynthesisError) as caught:
        EdgeEngine().check_voices([YUNYANG])
    assert str(caught.value) == (
        f"the speech service at 127.0.0.1:{server.port} answered HTTP 404 to the voice list "
        "request: check $AUDIO_EDITION_EDGE_WSS_URL and $AUDIO_EDITION_EDGE_VOICES_URL, "
        "or update edge-tts"
    )
    assert server.voice_list_requests == 1


def test_a_voice_edge_tts_rejects_is_a_permanent_error(tmp_path):
    with pytest.raises(SynthesisError, match=r"edge-tts refused voice 'baker'") as caught:
        asyncio.run(EdgeEngine().synthesize("你好", Voice("edge", "baker"), tmp_path / "x.wav"))
    assert not isinstance(caught.value, TransientSynthesisError)
    assert not (tmp_path / "x.wav").exists()


def test_unreachable_service_one_line_nothing_half_written_and_a_rerun_resumes(stand_in, tmp_path):
    server = stand_in()
    cache = ClipCache(tmp_path)
    synthesize_all(segments(SENTENCES[:2]), EdgeEngine(), cache, policy=FAST)
    server.down()
    with pytest.raises(SynthesisError) as caught:  # the voice list is the first request
        synthesize_all(segments(), EdgeEngine(), cache, policy=FAST)
    message = str(caught.value)
    assert message == (
        f"cannot reach Microsoft's speech service at 127.0.0.1:{server.port} "
        "(connection refused): check the network, or build with --engine offline, "
        "which needs none"
    )
    engine = EdgeEngine()
    server.up()
    engine.check_voices([YUNYANG])  # the voice list is fetched while the service is up ...
    server.down()  # ... and the speech requests fail: the run stops without retrying each clip
    with pytest.raises(SynthesisError) as caught:
        synthesize_all(segments(), engine, cache, policy=RetryPolicy(base_delay_s=0.05))
    assert str(caught.value).startswith(
        f"cannot reach Microsoft's speech service at 127.0.0.1:{server.port} (connection refused)"
    )
    assert str(caught.value).endswith(
        "the 2 clips already made are cached, so running the build again resumes"
    )
    assert leftovers(tmp_path) == [] and len(list(tmp_path.rglob("*.wav"))) == 2
    server.up()
    before = sum(server.texts.values())
    report = synthesize_all(segments(), EdgeEngine(), cache, policy=FAST)
    assert (report.synthesized, report.reused) == (len(SENTENCES) - 2, 2)
    assert sum(server.texts.values()) - before == len(SENTENCES) - 2


def test_unreachable_service_with_fallback_reads_everything_offline(stand_in, tmp_path):
    server = stand_in()
    server.down()
    report = synthesize_all(
        segments(SENTENCES[:2]),
        EdgeEngine(),
        ClipCache(tmp_path),
        fallback=OfflineEngine(workers=1),
        policy=FAST,
    )
    assert report.fallbacks == SENTENCES[:2] and report.synthesized == 2


def test_endpoints_come_from_the_environment(monkeypatch):
    for module, name in ((edge_tts.communicate, "WSS_URL"), (edge_tts.voices, "VOICE_LIST")):
        monkeypatch.setattr(module, name, getattr(module, name))
    monkeypatch.setenv(WSS_URL_ENV, "wss://tts.example.org/edge/v1")
    monkeypatch.setenv(VOICES_URL_ENV, "https://tts.example.org/voices?key=1")
    wss, voices = apply_endpoints()
    assert wss == edge_tts.communicate.WSS_URL
    assert wss.startswith("wss://tts.example.org/edge/v1?TrustedClientToken=")
    assert edge_tts.voices.VOICE_LIST == voices == "https://tts.example.org/voices?key=1"
    monkeypatch.delenv(WSS_URL_ENV)
    monkeypatch.delenv(VOICES_URL_ENV)
    assert apply_endpoints() == (edge_tts.constants.WSS_URL, edge_tts.constants.VOICE_LIST)
    monkeypatch.setenv(WSS_URL_ENV, "https://tts.example.org/edge/v1")
    with pytest.raises(ConfigError, match=r"AUDIO_EDITION_EDGE_WSS_URL must be a full ws or wss"):
        EdgeEngine()


def test_minimum_duration_counts_syllables_at_the_voice_rate():
    text = "巴林左旗是全国最大的扫帚苗交易市场。"  # 17 characters
    assert min_duration_s(text) == pytest.approx(17 / 9)
    assert min_duration_s(text, rate=100) == pytest.approx(17 / 18)
    assert min_duration_s("SCI 2020") == pytest.approx(5.5 / 9)  # a digit, half a letter


def test_voices_command_lists_edge_and_offline_voices(stand_in):
    server = stand_in()
    runner = CliRunner()
    result = runner.invoke(cli, ["voices", "--engine", "edge", "--language", "zh-cn"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.split()[:3] == ["zh-CN-YunyangNeural", "Male", "zh-CN"] for line in lines)
    assert "zh-TW" not in result.output and "en-US" not in result.output
    listed = json.loads(runner.invoke(cli, ["voices", "--engine", "edge", "--json"]).output)
    assert {v["name"] for v in listed} == {v["ShortName"] for v in server.voices}
    offline = runner.invoke(cli, ["voices", "--engine", "offline", "--language", "zh"])
    assert offline.exit_code == 0 and offline.output.split()[:3] == ["baker", "Female", "zh-CN"]
    none = runner.invoke(cli, ["voices", "--engine", "edge", "--language", "fr"])
    assert none.exit_code == 2 and "no edge voice speaks 'fr'" in none.output
    server.down()
    down = runner.invoke(cli, ["voices", "--engine", "edge"])
    assert down.exit_code == 1
    assert down.output.startswith("Error: cannot reach Microsoft's speech service")
    assert "--engine offline" in down.output and down.output.count("\n") == 1


# --- through the build command ---

ARTICLE = """\
# 党建引领产业发展共同体

□本报记者 白丹

巴林左旗是全国最大的扫帚苗交易市场。旗委组织村民重拾“老本行”。

新建加工厂40家，全产业链参与人数达到8万人。带动了9138名贫困人口实现了稳定脱贫。

像这样的共同体在赤峰市有141个。覆盖了全市2059个嘎查村党组织。
"""


def build_args(inputs, out: Path) -> list[str]:
    return ["build", *map(str, inputs), "-o", str(out), "--engine", "edge", "--date", "2026-11-29"]


def test_sample_page_builds_completely_with_every_fifth_request_failing_once(
    stand_in, sample_page, tmp_path
):
    # closed mid-audio: the silent truncation; a brisk reader keeps the episode short to master
    server = stand_in(fault=Fault("drop", every=5), chars_per_s=8.0)
    runner = CliRunner()
    args = build_args([sample_page], tmp_path)
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    distinct = len(server.texts)
    assert len(server.injected) == distinct // 5 > 10
    assert summary["synthesized"] == distinct and summary["retried"] == distinct // 5
    assert summary["fallbacks"] == [] and server.protocol_errors == []
    plan = json.loads(runner.invoke(cli, ["plan", *args[1:], "--json"]).output)
    assert plan["to_synthesize"] == 0 and plan["total_clips"] >= distinct  # every sentence made
    clips = [read_clip(p) for p in (tmp_path / ".cache").rglob("*.wav")]
    assert len(clips) == distinct and all(clips)
    heard_s = sum(c.duration_ms for c in clips) / 1000
    assert summary["episodes"][0]["duration_s"] >= heard_s  # all of them, plus pauses and stings
    check_sample_episode(tmp_path, load_config())


def test_build_when_the_service_goes_away_fails_in_one_line_and_resumes(stand_in, tmp_path):
    article = tmp_path / "article.md"
    article.write_text(ARTICLE, encoding="utf-8")
    out = tmp_path / "out"
    server = stand_in(down_after=3)
    runner = CliRunner()
    failed = runner.invoke(cli, [*build_args([article], out), "--concurrency", "2"])
    assert failed.exit_code == 1
    assert failed.output == (
        f"Error: cannot reach Microsoft's speech service at 127.0.0.1:{server.port} "
        "(connection refused): check the network, or build with --engine offline, which needs "
        "none; the 3 clips already made are cached, so running the build again resumes\n"
    )
    written = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    clips = [p for p in written if p.suffix == ".wav"]
    assert len(clips) == 3 and all(read_clip(out / p) for p in clips)
    assert [p for p in written if p not in clips] in ([], [Path(".lock")])  # nothing else
    server.up()
    resumed = runner.invoke(cli, [*build_args([article], out), "--json"])
    assert resumed.exit_code == 0, resumed.output
    summary = json.loads(resumed.output)
    assert summary["reused"] == 3 and summary["synthesized"] == len(server.texts) - 3
    assert sum(server.texts.values()) == len(server.texts)  # nothing was read twice


def test_build_with_fallback_names_the_sentences_the_offline_voice_read(stand_in, tmp_path):
    article = tmp_path / "article.md"
    article.write_text(ARTICLE, encoding="utf-8")
    server = stand_in(fault=Fault("no_audio", every=6, times=99))
    result = CliRunner().invoke(
        cli, [*build_args([article], tmp_path / "out"), "--fallback", "offline"]
    )
    assert result.exit_code == 0, result.output
    failed = sorted({text for _, text in server.injected})
    assert len(failed) == len(server.texts) // 6 >= 2
    listed = [line for line in result.output.splitlines() if line.startswith("read by")]
    assert sorted(listed) == [f"read by the fallback voice: {text}" for text in failed]
