"""Mastering on real audio: the offline voice's clips, real ffmpeg, the MP3 read back."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from mutagen.id3 import ID3, CTOCFlags
from mutagen.mp3 import MP3, BitrateMode

from audio_edition.errors import AudioError, ConfigError
from audio_edition.master import EpisodeTags, MasterSettings, master_episode, read_chapters
from audio_edition.master import cover as cover_module
from audio_edition.master import episode as episode_module
from audio_edition.master import part as part_module
from audio_edition.master.assemble import PART_MIN_S, SAMPLE_RATE, StingSpan, lay_out, read_part
from audio_edition.master.cache import MasteredPart
from audio_edition.master.cover import COVER_PX, default_cover
from audio_edition.master.encode import encode_frames
from audio_edition.master.episode import _check_loudness
from audio_edition.master.ffmpeg import ffmpeg_exe, run_ffmpeg
from audio_edition.master.limiter import Limiter, true_peak_db
from audio_edition.master.loudness import _k_spectrum, integrated_loudness, measure_file
from audio_edition.master.mp3 import crc16, crc16_combine, stream_from_frames
from audio_edition.master.sting import chime, place_stings
from audio_edition.model import Chapter, Clip, Script, Segment, Voice
from audio_edition.profile import load_profile
from audio_edition.publish.chapters import write_chapters_json
from audio_edition.publish.transcript import write_vtt
from audio_edition.synth.cache import ClipCache, write_wav
from audio_edition.synth.offline import OfflineEngine
from audio_edition.synth.runner import synthesize_all
from audio_edition.usercache import FOLDER_VARIABLE

BAKER = Voice(engine="offline", name="baker")
TAGS = EpisodeTags(title="赤峰日报 2020-06-30", publication="赤峰日报", date=dt.date(2020, 6, 30))
CHAPTERS = (  # (id, title, sting, url, [(role, sentence)])
    (
        "intro",
        "本期导读",
        "edition",
        None,
        [("intro", "这里是赤峰日报有声版。"), ("intro", "今天为您播报两篇文章。")],
    ),
    (
        "a1",
        "党建引领产业发展共同体",
        "article",
        "https://example.com/a1",
        [
            ("headline", "党建引领产业发展共同体。"),
            (
                "body",
                "在快手短视频平台上，一位笤帚大妈凭着高超的扫帚绑扎手艺吸引了两万多粉丝的关注，"
                "她就是来自赤峰市巴林左旗的贾殿荣老人。",
            ),
            ("body", "巴林左旗是全国最大的扫帚苗交易市场。"),
        ],
    ),
    (
        "a2",
        "强化引领 凝聚脱贫攻坚新动能",
        "article",
        None,
        [
            ("headline", "强化引领，凝聚脱贫攻坚新动能。"),
            ("body", "马鞍山村现在是小有名气的网红村。"),
        ],
    ),
    ("outro", "结束语", None, None, [("outro", "感谢收听，我们明天再见。")]),
)  # fmt: skip


def make_script(chapters=CHAPTERS) -> Script:
    return Script(
        chapters=tuple(
            Chapter(
                id=cid,
                title=title,
                segments=tuple(Segment(role, text, text, 400, BAKER) for role, text in sentences),
                sting=sting,
                url=url,
            )
            for cid, title, sting, url, sentences in chapters
        ),
        engine="offline",
    )


@pytest.fixture(scope="session")
def voice_clips(tmp_path_factory):
    """The offline voice's clips of make_script(), synthesised once per session."""
    script = make_script()
    report = synthesize_all(
        script.segments,
        OfflineEngine(),
        ClipCache(tmp_path_factory.mktemp("clips")),
        progress=False,
    )
    return script, report.clips


@pytest.fixture(scope="session")
def episode(voice_clips, tmp_path_factory):
    """The mastered episode with its transcript and chapters file."""
    script, clips = voice_clips
    folder = tmp_path_factory.mktemp("episode")
    audio = master_episode(
        script, clips, load_profile(), folder / "episode.mp3", TAGS, cache_dir=folder / "cache"
    )
    write_vtt(audio, folder / "transcript.vtt")
    write_chapters_json(audio, folder / "chapters.json")
    return audio, folder


def decode(path: Path, start_s: float = 0.0, seconds: float | None = None) -> np.ndarray:
    """Mono float samples of an audio file (or a part of it) at 24 kHz, decoded by ffmpeg."""
    part = ["-ss", f"{start_s:.3f}"] + (["-t", f"{seconds:.3f}"] if seconds else [])
    raw, _ = run_ffmpeg(
        ["-i", str(path), *part, "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "-"],
        what="decode",
    )
    return np.frombuffer(raw, "<f4")


def ebur128(path: Path, start_s: float, seconds: float) -> float:
    """ffmpeg's integrated loudness of a part of a file (cut by atrim before the meter)."""
    _, log = run_ffmpeg(
        ["-i", str(path), "-af", f"atrim=start={start_s:.3f}:duration={seconds:.3f},ebur128"]
        + ["-f", "null", "-"],
        what="measure",
    )
    return float(re.search(r"Summary:.*?I:\s*(\S+) LUFS", log, re.S).group(1))


# --- the episode: chapters, tags, loudness ----------------------------------------------------


@pytest.mark.voice
def test_chapters_read_back_in_order_covering_the_file(episode):
    audio, _ = episode
    chapters = read_chapters(audio.path)
    assert [c.id for c in chapters] == ["ch0", "ch1", "ch2", "ch3"]
    assert [c.title for c in chapters] == [c[1] for c in CHAPTERS]
    assert [c.url for c in chapters] == [None, "https://example.com/a1", None, None]
    assert chapters[0].start_ms == 0
    for before, after in zip(chapters, chapters[1:], strict=False):
        assert before.end_ms == after.start_ms > before.start_ms
    assert chapters[-1].end_ms == audio.duration_ms
    info = MP3(audio.path).info
    assert abs(info.length * 1000 - audio.duration_ms) <= 0.5  # as long as its chapters, to the ms
    toc = ID3(audio.path).getall("CTOC")
    assert len(toc) == 1 and toc[0].element_id == "toc"
    assert toc[0].flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    assert toc[0].child_element_ids == ["ch0", "ch1", "ch2", "ch3"]


@pytest.mark.voice
def test_mp3_is_speech_cbr_with_a_lame_header_and_exact_size(episode):
    audio, _ = episode
    data = audio.path.read_bytes()
    assert audio.size_bytes == len(data)
    info = MP3(audio.path).info
    assert (info.channels, info.sample_rate, info.bitrate) == (1, 24_000, 48_000)
    assert info.bitrate_mode == BitrateMode.CBR  # known only from the Xing "Info" header
    tag_end = ID3(audio.path).size
    assert b"Info" in data[tag_end : tag_end + 200]
    assert not [p for p in audio.path.parent.iterdir() if p.name.startswith(".")]  # no temp left


@pytest.mark.voice
def test_tags_name_the_episode_with_a_cover(episode):
    audio, _ = episode
    tags = ID3(audio.path)
    assert tags.version[:2] == (2, 4)
    assert str(tags["TIT2"]) == TAGS.title
    assert str(tags["TALB"]) == str(tags["TPE1"]) == "赤峰日报"
    assert str(tags["TDRC"]) == "2020-06-30"
    cover = tags.getall("APIC")[0]
    assert cover.mime == "image/png" and cover.type == 3
    assert cover.data == default_cover("赤峰日报")


# What podcast apps and hosts expect (Apple: -16 LUFS integrated, true peak at most -1 dBTP),
# written here by hand: a test that read them from MasterSettings would follow a wrong default.
TARGET_LUFS = -16.0
CEILING_DBTP = -1.0


def assert_on_target(path: Path) -> None:
    """ffmpeg's ebur128 (an independent meter) finds `path` within the mastering's own
    tolerance of -16 LUFS and under the -1 dBTP ceiling."""
    measured = measure_file(path)
    tolerance = MasterSettings().tolerance_lu
    assert abs(measured.integrated_lufs - TARGET_LUFS) <= tolerance, measured
    assert measured.true_peak_db <= CEILING_DBTP, measured


def test_mastering_defaults_are_the_published_targets():
    assert MasterSettings() == MasterSettings(
        target_lufs=TARGET_LUFS,
        true_peak_db=CEILING_DBTP,
        bitrate_kbps=48,
        tolerance_lu=0.5,
        sting_gap_ms=300,
    )


@pytest.mark.voice
def test_loudness_and_true_peak_on_target(episode):
    audio, _ = episode
    assert_on_target(audio.path)


@pytest.mark.voice
def test_stings_are_as_loud_as_the_speech_around_them(episode):
    audio, _ = episode
    script = make_script()
    for chapter, timing in zip(script.chapters, audio.chapters, strict=True):
        if not chapter.sting:
            continue
        first = next(s for s in audio.segments if s.text == chapter.segments[0].text)
        sting_s = (first.start_ms - timing.start_ms - MasterSettings().sting_gap_ms) / 1000
        sting = ebur128(audio.path, timing.start_ms / 1000, sting_s)
        speech_s = min(10.0, (timing.end_ms - first.start_ms) / 1000)  # up to the next sting
        speech = ebur128(audio.path, first.start_ms / 1000, speech_s)
        assert abs(sting - speech) <= 3.0, (chapter.id, sting, speech)


@pytest.mark.voice
def test_transcript_and_chapters_json_agree_with_the_chap_frames(episode):
    audio, folder = episode
    chap = read_chapters(audio.path)
    document = json.loads((folder / "chapters.json").read_text("utf-8"))
    assert document["version"] == "1.2.0"
    assert [c["title"] for c in document["chapters"]] == [c.title for c in chap]
    assert document["chapters"][1]["url"] == "https://example.com/a1"
    assert "url" not in document["chapters"][0]
    for entry, frame in zip(document["chapters"], chap, strict=True):
        assert abs(entry["startTime"] * 1000 - frame.start_ms) <= 50

    cues = parse_vtt((folder / "transcript.vtt").read_text("utf-8"))
    spoken = make_script().segments
    joined, current = [], ""
    for _, _, text in cues:
        current += text.replace("\n", "")
        if current == spoken[len(joined)].text:
            joined.append(current)
            current = ""
    assert joined == [s.text for s in spoken]  # every sentence, in order, whole
    for start, end, _ in cues:  # each cue is heard inside its chapter
        inside = [c for c in chap if c.start_ms <= start < end <= c.end_ms]
        assert len(inside) == 1


def parse_vtt(text: str) -> list[tuple[int, int, str]]:
    assert text.startswith("WEBVTT\n\n")

    def ms(stamp: str) -> int:
        h, m, s = stamp.split(":")
        return round((int(h) * 3600 + int(m) * 60 + float(s)) * 1000)

    cues = []
    for block in text.strip().split("\n\n")[1:]:
        timing, *lines = block.split("\n")
        start, end = timing.split(" --> ")
        cues.append((ms(start), ms(end), "\n".join(lines)))
    return cues


@pytest.mark.voice
def test_each_segment_is_timed_from_its_clip(episode, voice_clips):
    audio, _ = episode
    _, clips = voice_clips
    for timing, clip in zip(audio.segments, clips, strict=True):
        assert abs((timing.end_ms - timing.start_ms) - clip.duration_ms) <= 1
    samples = decode(audio.path)
    for timing in audio.segments:  # voice where a segment is, silence in its pause
        during = samples[timing.start_ms * 24 : timing.end_ms * 24]
        pause = samples[(timing.end_ms + 100) * 24 : (timing.end_ms + 300) * 24]
        assert np.sqrt(np.mean(during**2)) > 30 * (np.sqrt(np.mean(pause**2)) + 1e-5)


@pytest.mark.voice
def test_the_same_input_gives_the_same_bytes(episode, voice_clips, tmp_path):
    audio, _ = episode
    script, clips = voice_clips
    again = master_episode(script, clips, load_profile(), tmp_path / "again.mp3", TAGS)
    assert again.path.read_bytes() == audio.path.read_bytes()


# --- joined chapters: exact, seamless, cached ---------------------------------------------------


def crc16_reference(data: bytes) -> int:
    """CRC-16 as the LAME tag spec defines it (0x8005 reflected, initial 0), bit by bit."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def lame_tag(path: Path) -> dict:
    """The Xing/LAME Info frame of an MP3, read by the offsets of the LAME tag specification
    (MPEG-2 mono: a 4-byte header and 9 bytes of side information before "Info")."""
    data = path.read_bytes()
    audio = data[ID3(path).size :]
    info = audio[13:]
    assert info[:4] == b"Info" and int.from_bytes(info[4:8], "big") & 0x3 == 0x3
    lame = info[120:156]
    delay_padding = int.from_bytes(lame[21:24], "big")
    frame_size = 72_000 * 64 // 24_000  # the Info frame: 64 kb/s, the smallest that holds it
    return {
        "frames": int.from_bytes(info[8:12], "big"),
        "bytes": int.from_bytes(info[12:16], "big"),
        "encoder": lame[:9],
        "delay": delay_padding >> 12,
        "padding": delay_padding & 0xFFF,
        "music_length": int.from_bytes(lame[28:32], "big"),
        "music_crc_ok": int.from_bytes(lame[32:34], "big") == crc16_reference(audio[frame_size:]),
        "tag_crc_ok": int.from_bytes(lame[34:36], "big") == crc16_reference(audio[: 13 + 154]),
        "audio": audio,
        "frame_size": frame_size,
    }


def decode_whole(path: Path, sample_format: str = "f32le") -> np.ndarray:
    """All samples of an MP3 as ffmpeg decodes it (gapless), failing on any decoding error."""
    result = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", sample_format, "-"],
        capture_output=True,
        check=True,
    )
    assert result.stderr == b"", result.stderr.decode()  # plays through: no damaged frame
    return np.frombuffer(result.stdout, {"f32le": "<f4", "s16le": "<i2"}[sample_format])


def test_the_info_frame_describes_the_joined_stream(episode):
    audio, _ = episode
    tag = lame_tag(audio.path)
    assert tag["bytes"] == tag["music_length"] == len(tag["audio"])
    assert tag["frames"] * 144 + tag["frame_size"] == len(tag["audio"])  # 48 kb/s: 144 B a frame
    assert tag["encoder"] == b"LAME3.100"
    assert tag["delay"] == 576 and 529 <= tag["padding"] < 576 + 576 + 529
    assert tag["music_crc_ok"] and tag["tag_crc_ok"]
    samples = tag["frames"] * 576 - tag["delay"] - tag["padding"]
    assert len(decode_whole(audio.path)) == samples  # the decoder trims exactly those
    assert MP3(audio.path).info.length == samples / 24_000
    assert round(samples / 24) == audio.duration_ms == audio.chapters[-1].end_ms


def test_each_chapter_is_heard_from_its_chap_start_to_the_sample(episode, voice_clips):
    """Decoded, the episode from each CHAP start is that chapter's own MP3, sample for sample
    (each chapter mastered alone reuses the cached chapter: same frames)."""
    audio, folder = episode
    script, clips = voice_clips
    joined = decode_whole(audio.path)
    first = 0
    for chapter, timing in zip(script.chapters, read_chapters(audio.path), strict=True):
        own = master_episode(
            Script((chapter,), "offline"),
            clips[first : first + len(chapter.segments)],
            load_profile(),
            folder / f"alone-{chapter.id}.mp3",
            TAGS,
            cache_dir=folder / "cache",
        )
        first += len(chapter.segments)
        alone = decode_whole(own.path)
        start = timing.start_ms * 24  # a CHAP start is a whole number of 24 ms frames: exact
        assert np.abs(joined[start : start + len(alone)] - alone).max() < 1e-6, chapter.id
        sound = np.flatnonzero(np.abs(alone) > 10 ** (-50 / 20))[0]
        assert np.flatnonzero(np.abs(joined[start:]) > 10 ** (-50 / 20))[0] == sound
    assert len(list((folder / "cache").glob("*.mp3"))) == len(script.chapters)  # all reused


def test_the_joints_are_seamless(episode):
    """Where two chapters' streams meet, the largest step between samples is no bigger than in
    the silence before it. (A chapter's first frame reading the previous chapter's bytes, or a
    decoder state carried over from sound, would show there. Later in that frame the next
    chapter's sting may already sound faintly: MP3's pre-echo of its attack, as in any encode.)
    Decoded to 16 bits, as players play it."""
    audio, _ = episode
    joined = decode_whole(audio.path, "s16le").astype(np.int32)
    for timing in read_chapters(audio.path)[1:]:
        meet = timing.start_ms * 24 - 576 - 529  # the second stream's first decoded sample
        joint = joined[meet - 48 : meet + 48]  # 2 ms each side
        silence = joined[meet - 48 - 4_800 : meet - 48]  # the 200 ms before
        assert np.abs(np.diff(joint)).max() <= np.abs(np.diff(silence)).max(), timing.id
        assert np.abs(joint).max() <= np.abs(silence).max(), timing.id


def test_segments_are_heard_at_their_times(episode, voice_clips):
    """Each clip, cross-correlated with the decoded episode around its segment's start, lines
    up within the millisecond the timings are rounded to; a chapter's first clip, which starts
    a sting and its gap after the (exact) CHAP start, lines up to the sample."""
    audio, folder = episode
    script, clips = voice_clips
    joined = decode_whole(audio.path)
    margin = 2_400  # 100 ms
    chapters = read_chapters(audio.path)
    for timing, clip in zip(audio.segments, clips, strict=True):
        with wave.open(str(clip.path)) as wav:
            voice = np.frombuffer(wav.readframes(clip.frames), "<i2").astype(np.float32)
        start = timing.start_ms * 24
        sting = script.chapters[timing.chapter_index].sting
        if timing.segment_index == 0 and sting:
            chapter_start = chapters[timing.chapter_index].start_ms * 24
            start = chapter_start + len(chime(sting, SAMPLE_RATE)) + 7_200  # 300 ms gap
        region = joined[start - margin : start + len(voice) + margin]
        lag = int(np.correlate(region, voice, mode="valid").argmax()) - margin
        assert lag == 0 if timing.segment_index == 0 and sting else abs(lag) <= 12, timing.text
    document = json.loads((folder / "chapters.json").read_text("utf-8"))
    assert [round(c["startTime"] * 1000) for c in document["chapters"]] == [
        c.start_ms for c in read_chapters(audio.path)
    ]
    cues = parse_vtt((folder / "transcript.vtt").read_text("utf-8"))
    starts = {start for start, _, _ in cues}
    assert all(timing.start_ms in starts for timing in audio.segments)  # a cue opens each one


def three_chapters(folder: Path, levels=(0.12, 0.12, 0.12)) -> tuple[Script, list[Clip]]:
    """Three chapters of tone clips, each chapter's clips at its own level."""
    chapters, clips = [], []
    for n, level in enumerate(levels):
        segments = []
        for i in range(3):
            clip = tone_clip(folder / f"{n}-{i}.wav", 2.0 + 0.3 * i + 0.1 * n, level=level)
            clips.append(clip)
            segments.append(Segment("body", f"第{n}章第{i}句。", f"第{n}章第{i}句。", 400, BAKER))
        sting = "edition" if n == 0 else "article"
        chapters.append(Chapter(f"c{n}", f"第{n}章", tuple(segments), sting=sting))
    return Script(tuple(chapters), engine="offline"), clips


def test_a_correction_masters_only_its_chapter(tmp_path):
    script, clips = three_chapters(tmp_path)
    cache = tmp_path / "cache"
    before = master_episode(
        script, clips, load_profile(), tmp_path / "a.mp3", TAGS, cache_dir=cache
    )
    entries = set(cache.iterdir())
    # one sentence of chapter 2 read again: as long as before, so only its sound is new
    clips[4] = tone_clip(tmp_path / "fixed.wav", 2.4, level=0.1)
    after = master_episode(script, clips, load_profile(), tmp_path / "b.mp3", TAGS, cache_dir=cache)
    added = set(cache.iterdir()) - entries
    assert sorted(p.suffix for p in added) == [".json", ".mp3"]  # one chapter mastered again
    old, new = lame_tag(before.path)["audio"], lame_tag(after.path)["audio"]
    first = (before.chapters[1].start_ms * 24 // 576) * 144 + 192  # chapter 1's frames
    assert new[192:first] == old[192:first]
    last = (before.chapters[2].start_ms * 24 // 576) * 144 + 192
    assert new[-(len(old) - last) :] == old[last:]  # chapter 3's frames: the same bytes


def test_a_part_off_target_is_encoded_again_on_target(tmp_path, monkeypatch):
    """Every part's first encode aimed 1 dB too loud: each is corrected by a second one."""
    monkeypatch.setattr(part_module, "ENCODER_LEVEL_DB", part_module.ENCODER_LEVEL_DB - 1.0)
    monkeypatch.setattr(episode_module, "cpu_count", lambda: 1)  # mastered in this process
    mastered = []
    monkeypatch.setattr(
        episode_module,
        "master_part",
        lambda job: mastered.append(part_module.master_part(job)) or mastered[-1],
    )
    script, clips = three_chapters(tmp_path)
    audio = master_episode(script, clips, load_profile(), tmp_path / "e.mp3", TAGS)
    assert [part.encodes for part in mastered] == [2, 2, 2]
    assert_on_target(audio.path)


def test_a_damaged_chapter_in_the_cache_is_made_again(tmp_path):
    script, clips = three_chapters(tmp_path)
    cache = tmp_path / "cache"
    good = master_episode(script, clips, load_profile(), tmp_path / "a.mp3", TAGS, cache_dir=cache)
    damaged = sorted(cache.glob("*.mp3"))[0]
    damaged.write_bytes(damaged.read_bytes()[:-500])
    again = master_episode(script, clips, load_profile(), tmp_path / "b.mp3", TAGS, cache_dir=cache)
    assert again.path.read_bytes() == good.path.read_bytes()
    assert len(list(cache.glob("*.mp3"))) == 3 and not list(cache.glob(".*"))


def test_a_part_failing_in_a_worker_fails_the_episode_naming_it(tmp_path):
    script, clips = three_chapters(tmp_path)
    clips[7].path.write_bytes(clips[7].path.read_bytes()[:-1000])  # read only by its worker
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(AudioError, match="segment 2 of chapter 'c2' .* is truncated"):
        master_episode(script, clips, load_profile(), out / "e.mp3", TAGS, cache_dir=out / "c")
    assert [p.name for p in out.iterdir()] in ([], ["c"])  # no episode, nothing half-written
    assert not list(out.rglob(".*"))


def test_chapters_of_very_different_loudness_make_an_episode_on_target(tmp_path):
    script, clips = three_chapters(tmp_path, levels=(0.01, 0.12, 0.7))  # about -42, -20, -5 LUFS
    audio = master_episode(script, clips, load_profile(), tmp_path / "e.mp3", TAGS)
    measured = measure_file(audio.path)
    assert abs(measured.integrated_lufs + 16.0) <= 0.5 and measured.true_peak_db <= -1.0
    for chapter in audio.chapters:
        seconds = (chapter.end_ms - chapter.start_ms) / 1000
        assert abs(ebur128(audio.path, chapter.start_ms / 1000, seconds) + 16.0) <= 0.5


def test_the_episode_is_checked_from_its_parts_measurements(tmp_path):
    """The episode's loudness is the gated blend of its parts' 100 ms energies: parts that pass
    alone can still make an episode off target, and that is an error, not a quiet miss."""
    tone = 10 ** ((-16.0 + 0.691) / 10)  # a 100 ms energy that reads -16 LUFS
    part = MasteredPart(tmp_path / "x.mp3", "", 0, -16.0, -2.0, np.full(600, tone), encodes=1)
    _check_loudness([part, part], MasterSettings(), tmp_path / "e.mp3")  # on target: no error
    quiet = replace(part, energies=np.full(600, tone / 10**0.06))  # 0.6 dB under
    with pytest.raises(AudioError, match=r"e.mp3: the parts together measure -16.6 LUFS"):
        _check_loudness([quiet, quiet], MasterSettings(), tmp_path / "e.mp3")
    with pytest.raises(AudioError, match="true peak -0.9 dBTP"):
        _check_loudness([part, replace(part, true_peak_db=-0.9)], MasterSettings(), tmp_path)


def test_mp3_streams_are_checked_before_they_are_joined():
    rng = np.random.default_rng(5)
    for size in (0, 1, 7, 1000, 70_001):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        assert crc16(data) == crc16_reference(data)
    assert crc16(b"123456789") == 0xBB3D  # the catalogue's check value of CRC-16/ARC
    a, b = rng.bytes(3_001), rng.bytes(12_345)
    assert crc16_combine(crc16(a), crc16(b), len(b)) == crc16(a + b)
    pcm = (0.3 * np.sin(np.arange(24_000) * 0.05) * 32767).astype("<i2").tobytes()
    frames = encode_frames([pcm], SAMPLE_RATE, 48)
    stream = stream_from_frames(frames, 24_000, "a tone")
    assert stream.samples == 24_000 and stream.delay == 576
    borrowing = frames[:4] + b"\x10" + frames[5:]  # a first frame reading a previous one's bytes
    with pytest.raises(AudioError, match="borrowing from the bit reservoir"):
        stream_from_frames(borrowing, 24_000, "a cut stream")
    with pytest.raises(AudioError, match="not whole constant-bitrate frames"):
        stream_from_frames(frames[:-10], 24_000, "a cut stream")
    with pytest.raises(AudioError, match="cannot hold"):
        stream_from_frames(frames, 24_000 + 600, "a short stream")


# --- stings -------------------------------------------------------------------------------------


def test_built_in_stings_are_chimes_that_differ():
    edition, article = chime("edition", SAMPLE_RATE), chime("article", SAMPLE_RATE)
    assert np.array_equal(edition, chime("edition", SAMPLE_RATE))  # deterministic
    for sting in (edition, article):
        assert 1.0 <= len(sting) / SAMPLE_RATE <= 2.0
        head = np.sqrt(np.mean(sting[: SAMPLE_RATE // 4] ** 2))
        tail = np.sqrt(np.mean(sting[-SAMPLE_RATE // 10 :] ** 2))
        assert tail < head / 5  # it rings out, it is not a cut-off beep
        assert abs(sting[0]) < 0.01 and abs(sting[-1]) < 0.01  # no clicks
    spectra = [np.abs(np.fft.rfft(s[:SAMPLE_RATE]))[: SAMPLE_RATE // 2] for s in (edition, article)]
    for spectrum in spectra:  # several partials, not one tone
        assert np.sum(spectrum > spectrum.max() / 10) > 10
    assert spectra[0].argmax() != spectra[1].argmax()  # different notes


@pytest.mark.voice
def test_a_user_sting_file_replaces_the_chime(voice_clips, tmp_path):
    script, clips = voice_clips
    user = tmp_path / "sting.mp3"  # any format: an MP3 tone of 0.8 s at 44.1 kHz
    subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=330:d=0.8:r=44100"]
        + ["-c:a", "libmp3lame", str(user)],
        check=True,
    )
    profile = load_profile()
    profile = replace(profile, stings={"edition": None, "article": user})
    audio = master_episode(script, clips, profile, tmp_path / "user.mp3", TAGS)
    article = audio.chapters[1]
    first = next(s for s in audio.segments if s.chapter_index == 1)
    sting_ms = first.start_ms - article.start_ms - MasterSettings().sting_gap_ms
    assert abs(sting_ms - 800) <= 30  # the user's 0.8 s, decoded (a little MP3 padding)
    part = decode(audio.path, article.start_ms / 1000 + 0.1, 0.5)
    spectrum = np.abs(np.fft.rfft(part))
    assert abs(np.fft.rfftfreq(len(part), 1 / SAMPLE_RATE)[spectrum.argmax()] - 330) < 5
    intro = audio.chapters[0]
    assert audio.segments[0].start_ms - intro.start_ms > 1300  # the edition chime stays


@pytest.mark.voice
def test_a_missing_user_sting_is_a_config_error(voice_clips, tmp_path):
    script, clips = voice_clips
    profile = replace(load_profile(), stings={"edition": tmp_path / "nope.wav", "article": None})
    with pytest.raises(ConfigError, match="nope.wav does not exist"):
        master_episode(script, clips, profile, tmp_path / "x.mp3", TAGS)
    assert not list(tmp_path.iterdir())


# --- a guard against bad clips, and many clips --------------------------------------------------


def tone_clip(
    path: Path, seconds: float, rate: int = SAMPLE_RATE, channels: int = 1, level: float = 0.12
) -> Clip:
    """A speech-like clip: a 150 Hz buzz with harmonics, syllable-modulated, at ~-20 LUFS
    (at the default level)."""
    t = np.arange(round(seconds * rate)) / rate
    buzz = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 12))
    samples = level * buzz * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
        out.writeframes(np.repeat(pcm, channels).tobytes())
    return Clip(path=path, frames=len(t), sample_rate=rate)


def small_script(count: int, sting: str | None = "article") -> Script:
    segments = tuple(Segment("body", f"第{i}句。", f"第{i}句。", 250, BAKER) for i in range(count))
    return Script((Chapter("only", "唯一的文章", segments, sting=sting),), engine="offline")


@pytest.mark.parametrize(
    "damage, message",
    [
        ("missing", "is missing"),
        ("garbage", "is not a PCM WAV file"),
        ("16k", "is 16000 Hz, 1 channel"),
        ("stereo", "2 channel"),
        ("empty", "is empty"),
        ("truncated", "is truncated"),
    ],
)
def test_a_bad_clip_is_refused_naming_its_segment(tmp_path, damage, message):
    clips = [tone_clip(tmp_path / f"{i}.wav", 0.5) for i in range(3)]
    bad = tmp_path / "1.wav"
    if damage == "missing":
        bad.unlink()
    elif damage == "garbage":
        bad.write_bytes(b"RIFF not really a wave file" * 10)
    elif damage in ("16k", "stereo"):
        rate, channels = (16_000, 1) if damage == "16k" else (SAMPLE_RATE, 2)
        clips[1] = replace(tone_clip(bad, 0.5, rate, channels), sample_rate=SAMPLE_RATE)
    elif damage == "empty":
        write_wav(bad, np.zeros(0, np.int16), SAMPLE_RATE)
    else:
        bad.write_bytes(bad.read_bytes()[:-1000])
    out = tmp_path / "out" / "episode.mp3"
    out.parent.mkdir()
    with pytest.raises(AudioError, match=message) as error:
        master_episode(small_script(3), clips, load_profile(), out, TAGS)
    assert "segment 2 of chapter 'only' ('第1句。')" in str(error.value)
    assert not list(out.parent.iterdir())  # nothing written


def test_many_clips_are_laid_end_to_end_exactly(tmp_path):
    lengths = [0.2 + (i % 7) * 0.05 for i in range(300)]
    clips = [tone_clip(tmp_path / f"{i}.wav", s) for i, s in enumerate(lengths)]
    (layout,) = lay_out(small_script(300), clips, {"article": 24_000}, sting_gap_ms=300)
    assert (layout.sting.start, layout.sting.frames) == (0, 24_000)
    position = 24_000 + 7_200  # the sting, then its gap (frames)
    for (start, end), clip in zip(layout.spans, clips, strict=True):
        assert (start, end) == (position, position + clip.frames)
        position += clip.frames + 6_000  # 250 ms
    assert layout.frames == position
    samples, _ = read_part(layout)
    assert len(samples) == position and not samples[: 24_000 + 7_200].any()
    with wave.open(str(clips[-1].path)) as wav:
        last = np.frombuffer(wav.readframes(clips[-1].frames), "<i2") / 32768.0
    assert np.array_equal(samples[layout.spans[-1][0] : layout.spans[-1][1]], last)


def test_a_long_chapter_is_mastered_in_parts_joined_in_a_pause(tmp_path):
    """A long chapter is cut after segments whose pause can hold a joint, at least PART_MIN_S
    into a part and before its end, where the SHA-256 of the text's first 4 characters picks
    it (first byte divisible by 3); its segments keep their exact lengths, and each joint adds
    only the encoder's delay and padding (48 to 72 ms) to that pause."""
    clips = [tone_clip(tmp_path / f"{i}.wav", 3.0 + 0.01 * i) for i in range(30)]
    segments = tuple(Segment("body", f"第{i}句。", f"第{i}句。", 400, BAKER) for i in range(30))
    script = Script((Chapter("long", "长文", segments, sting="article"),), engine="offline")
    parts = lay_out(script, clips, {"article": 24_000}, sting_gap_ms=300)
    # By hand: the openings picked are those of segments 0, 8, 9, 13, 16, 17, 21, 28.
    # Segment i's pause ends 1.3 s (sting, gap) + sum of (3.4 + 0.01 k) s for k <= i, so the
    # parts end after segments 8 (32.3 s), 13 (49.8 s: 17.6 s in; 16 and 17 come too soon)
    # and 21 (78.4 s: 28.6 s in); 28 (104.0 s) leaves less than 15 s: 22..29 is the last.
    assert [p.first_segment for p in parts] == [0, 9, 14, 22]
    assert parts[0].sting is not None and all(p.sting is None for p in parts[1:])
    assert all(p.frames >= PART_MIN_S * SAMPLE_RATE for p in parts)
    cache = tmp_path / "cache"
    audio = master_episode(script, clips, load_profile(), tmp_path / "e.mp3", TAGS, cache_dir=cache)
    assert len(list(cache.glob("*.mp3"))) == 4
    (chapter,) = read_chapters(audio.path)
    assert (chapter.start_ms, chapter.end_ms) == (0, audio.duration_ms)
    gaps = [
        b.start_ms - a.end_ms for a, b in zip(audio.segments[:-1], audio.segments[1:], strict=True)
    ]
    joints = (8, 13, 21)
    assert [g for i, g in enumerate(gaps) if i not in joints] == [400] * 26
    assert all(400 + 48 <= gaps[i] <= 400 + 72 for i in joints)
    for timing, clip in zip(audio.segments, clips, strict=True):
        assert abs((timing.end_ms - timing.start_ms) - clip.duration_ms) <= 1
    joined = decode_whole(audio.path, "s16le").astype(np.int32)
    meet = audio.segments[9].start_ms * 24 - 576 - 529
    assert np.abs(np.diff(joined[meet - 48 : meet + 48])).max() == 0
    assert abs(measure_file(audio.path).integrated_lufs + 16.0) <= 0.5


def test_a_correction_lays_out_again_only_the_part_that_holds_it(tmp_path):
    """Where a chapter is cut depends mostly on its text: a correction of a sentence's words
    past its opening changes only the part that holds it, and one that makes it longer or
    shorter seldom moves a cut, soon found again (with a cut every 60 s of time, every later
    part of the chapter moved, and was mastered again)."""
    lengths = [2.0 + (i * 37 % 23) / 10 for i in range(100)]  # 2.0 to 4.2 s
    segments = tuple(Segment("body", f"句子{i}。", f"句子{i}。", 350, BAKER) for i in range(100))
    base = [tone_clip(tmp_path / f"{i}.wav", s) for i, s in enumerate(lengths)]

    def layout(changed: int, seconds: float, suffix: str = "") -> list[tuple]:
        """The chapter's parts with segment `changed` said for `seconds`, `suffix` added."""
        clips, texts = list(base), list(segments)
        if changed >= 0:
            folder = tmp_path / f"{changed}-{seconds}-{suffix}"
            folder.mkdir()
            clips[changed] = tone_clip(folder / f"{changed}.wav", seconds)
            corrected = texts[changed].text + suffix
            texts[changed] = Segment("body", corrected, corrected, 350, BAKER)
        chapter = Chapter("long", "长文", tuple(texts), sting="article")
        parts = lay_out(Script((chapter,), "offline"), clips, {"article": 24_000}, 300)
        return [(p.first_segment, p.labels, [c.name for c in p.clips], p.spans) for p in parts]

    def moved(changed: int, seconds: float, suffix: str = "") -> int:
        return len([p for p in layout(changed, seconds, suffix) if p not in before])

    before = layout(-1, 0)
    assert len(before) >= 5
    # words changed past the opening, said as long: only the part that holds them
    assert [moved(i, lengths[i], "改") for i in range(5, 100, 9)] == [1] * 11
    # said longer or shorter: a cut seldom moves, and the next is found again soon
    said = [moved(i, lengths[i] + change) for i in (1, 20, 45, 70) for change in (-1, 1, 2.5)]
    assert max(said) <= 3 and sum(said) <= 1.5 * len(said), said


def test_one_chapter_episode_without_sting(tmp_path):
    clips = [tone_clip(tmp_path / f"{i}.wav", 1.5) for i in range(4)]
    audio = master_episode(
        small_script(4, sting=None), clips, load_profile(), tmp_path / "one.mp3", TAGS
    )
    (chapter,) = read_chapters(audio.path)
    assert (chapter.start_ms, chapter.end_ms) == (0, audio.duration_ms)
    assert audio.segments[0].start_ms == 0
    assert_on_target(audio.path)


# --- loudness, limiter, cover, settings, checks -------------------------------------------------


def test_numpy_loudness_agrees_with_ebur128(tmp_path):
    _k_spectrum.cache_clear()  # the filter is computed here, not taken from an earlier test
    clip = tone_clip(tmp_path / "tone.wav", 6.0)
    with wave.open(str(clip.path)) as wav:
        samples = np.frombuffer(wav.readframes(clip.frames), "<i2") / 32768.0
    ours = integrated_loudness(samples, SAMPLE_RATE)
    assert abs(ours - measure_file(clip.path).integrated_lufs) <= 0.1


def test_numpy_loudness_agrees_with_ebur128_on_broadband_noise(tmp_path):
    """White noise has energy where the K-weighting shelf lifts it (above ~1.7 kHz)."""
    _k_spectrum.cache_clear()
    noise = np.random.default_rng(3).normal(0, 0.1, SAMPLE_RATE * 5)
    path = tmp_path / "noise.wav"
    write_wav(path, noise, SAMPLE_RATE)
    with wave.open(str(path)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), "<i2") / 32768.0
    assert (
        abs(integrated_loudness(samples, SAMPLE_RATE) - measure_file(path).integrated_lufs) <= 0.1
    )


def speech_like_signal() -> np.ndarray:
    """4 s of bursts of speech-like noise over a 3 kHz tone, peaking near full scale."""
    rng = np.random.default_rng(7)
    t = np.arange(SAMPLE_RATE * 4) / SAMPLE_RATE
    spectrum = np.fft.rfft(rng.standard_normal(len(t)))
    spectrum /= np.sqrt(1 + (np.fft.rfftfreq(len(t), 1 / SAMPLE_RATE) / 2000) ** 2)  # speech-like
    bursts = np.fft.irfft(spectrum, len(t)) * (np.sin(2 * np.pi * 3 * t) > 0.3)
    return (0.4 * bursts + 0.3 * np.sin(2 * np.pi * 3_000 * t)).astype(np.float32)


def pcm_of(chunks) -> np.ndarray:
    return np.frombuffer(b"".join(bytes(c) for c in chunks), "<i2")


def test_limiter_holds_the_true_peak_ceiling(tmp_path):
    pcm = tmp_path / "limited.wav"
    limited = pcm_of(Limiter(speech_like_signal(), SAMPLE_RATE).pcm16(6.0, -3.0))
    write_wav(pcm, limited, SAMPLE_RATE)
    # ebur128 interpolates at 192 kHz and prints 0.1 dB steps; the limiter's 4x reading of
    # speech-like spectra is within ~0.1 dB of it
    assert measure_file(pcm).true_peak_db <= -3.0 + 0.15
    loud = limited[: SAMPLE_RATE // 10]
    assert np.abs(loud).max() > 0.5 * 32768  # limited, not just turned down


def test_limiter_output_does_not_depend_on_the_passes_before_it():
    """Peaks found for one pass serve the next, or are found again when it needs more."""
    signal = speech_like_signal()
    fresh = pcm_of(Limiter(signal, SAMPLE_RATE).pcm16(6.0, -3.0))
    for earlier_gain_db in (5.5, -10.0):  # 10 dB under the ceiling at -10 dB: no candidates
        limiter = Limiter(signal, SAMPLE_RATE)
        limiter.loss_db(earlier_gain_db, -3.0)
        assert np.array_equal(pcm_of(limiter.pcm16(6.0, -3.0)), fresh)


def test_limiter_loss_is_the_energy_limiting_takes():
    signal = speech_like_signal()
    limiter = Limiter(signal, SAMPLE_RATE)
    limited = pcm_of(limiter.pcm16(6.0, -3.0)) / 32768.0
    plain = signal * 10 ** (6.0 / 20)
    expected = 10 * np.log10(np.sum(limited**2) / np.sum(plain.astype(np.float64) ** 2))
    assert expected < -0.5  # it limits
    assert abs(limiter.loss_db(6.0, -3.0) - expected) < 0.005
    assert limiter.loss_db(-20.0, -3.0) == 0.0  # nothing to limit


@pytest.mark.voice
def test_true_peak_reads_like_ebur128(episode):
    audio, _ = episode
    decoded = decode(audio.path)
    assert abs(true_peak_db(decoded) - measure_file(audio.path).true_peak_db) <= 0.15
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE  # a tone at fs/4 sampled 45 degrees off its peaks
    tone = (0.5 * np.sin(2 * np.pi * SAMPLE_RATE / 4 * t + np.pi / 4)).astype(np.float32)
    assert np.abs(tone).max() < 0.36
    assert abs(true_peak_db(tone) - 20 * np.log10(0.5)) < 0.15  # not the samples: -9 dB
    assert true_peak_db(np.zeros(100, np.float32)) == -np.inf


def test_default_cover_is_a_deterministic_square_png():
    png = default_cover("赤峰日报")
    assert png.startswith(b"\x89PNG") and png == default_cover("赤峰日报")
    assert int.from_bytes(png[16:20], "big") == int.from_bytes(png[20:24], "big") == COVER_PX
    assert default_cover("人民日报") != png


def test_the_default_cover_is_drawn_once_per_machine(tmp_path, monkeypatch):
    monkeypatch.setenv(FOLDER_VARIABLE, str(tmp_path))
    drawn = []
    draw = cover_module.draw_cover
    monkeypatch.setattr(cover_module, "draw_cover", lambda *args: drawn.append(args) or draw(*args))
    try:
        default_cover.cache_clear()
        first = default_cover("某某日报")
        default_cover.cache_clear()  # as in the next build's process
        assert default_cover("某某日报") == first == draw("某某日报")
        assert drawn == [("某某日报", COVER_PX)]
        assert [p.suffix for p in tmp_path.iterdir()] == [".png"]
        default_cover("某某晚报")  # another publication, another file
        default_cover("某某日报", size=600)  # another size too
        assert len(drawn) == 3 and len(list(tmp_path.iterdir())) == 3
    finally:
        default_cover.cache_clear()  # what this test's folder gave is not kept for others


@pytest.mark.voice
def test_a_bad_user_cover_is_refused(voice_clips, tmp_path):
    script, clips = voice_clips
    small = tmp_path / "small.png"
    small.write_bytes(default_cover("x", size=600))
    with pytest.raises(ConfigError, match="600x600"):
        master_episode(
            script, clips, load_profile(), tmp_path / "x.mp3", replace(TAGS, cover=small)
        )


def test_a_user_cover_is_embedded(tmp_path):
    cover = tmp_path / "cover.png"
    cover.write_bytes(default_cover("另一份报纸"))
    clips = [tone_clip(tmp_path / "0.wav", 1.0)]
    tags = replace(TAGS, cover=cover)
    audio = master_episode(small_script(1), clips, load_profile(), tmp_path / "c.mp3", tags)
    assert ID3(audio.path).getall("APIC")[0].data == cover.read_bytes()


@pytest.mark.parametrize(
    ("name", "inside", "outside", "message"),
    [  # the documented ranges, each bound accepted and the value just past it refused
        ("target_lufs", (-36.0, -6.0), (-36.1, -5.9), "target loudness"),
        ("true_peak_db", (-9.0, 0.0), (-9.1, 0.1), "true peak ceiling"),
        ("tolerance_lu", (0.1, 2.0), (0.09, 2.1), "loudness tolerance"),
        ("sting_gap_ms", (0, 5000), (-1, 5001), "sting gap"),
    ],
)
def test_settings_are_validated(name, inside, outside, message):
    for value in inside:
        assert getattr(MasterSettings(**{name: value}), name) == value
    for value in outside:
        with pytest.raises(ConfigError, match=f"^{message} {value} "):
            MasterSettings(**{name: value})


def test_the_bitrate_is_one_of_mpeg2s():
    assert MasterSettings(bitrate_kbps=8).bitrate_kbps == 8
    with pytest.raises(ConfigError, match="^bitrate 44 kb/s .* 8, 16, 24, 32, 40, 48, 56, 64,"):
        MasterSettings(bitrate_kbps=44)


def test_ffmpeg_failure_carries_its_stderr():
    with pytest.raises(AudioError, match="ffmpeg could not decode: .*no_such_file") as error:
        run_ffmpeg(["-i", "no_such_file.wav", "-f", "null", "-"], what="decode")
    assert isinstance(error.value.__cause__, subprocess.CalledProcessError)
    assert "no_such_file" in error.value.__cause__.stderr


def test_a_stings_loudness_is_measured_once_per_process(monkeypatch):
    """Every part that opens a chapter places a sting as loud as the speech around it; the
    sting's own loudness is measured once, not once per part."""
    from audio_edition.master import sting as sting_module

    sting_module.sting_loudness.cache_clear()
    measured = []
    real = sting_module.integrated_loudness
    monkeypatch.setattr(
        sting_module, "integrated_loudness", lambda s, r: measured.append(len(s)) or real(s, r)
    )
    chime = sting_module.stings_for({"article"}, {}, SAMPLE_RATE)["article"]
    rng = np.random.default_rng(7)
    for _ in range(3):
        speech = (rng.standard_normal(20 * SAMPLE_RATE) * 0.05).astype(np.float32)
        speech[: len(chime) + 4800] = 0.0  # the sting's place is silent
        span = StingSpan("article", 0, len(chime))
        place_stings(speech, (span,), {"article": chime}, SAMPLE_RATE)
        assert np.abs(speech[: len(chime)]).max() > 0  # the sting is in
    assert measured == [len(chime)]
