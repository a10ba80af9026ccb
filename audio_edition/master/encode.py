"""MP3 encoding, measured as it is written.

One ffmpeg encodes the PCM with LAME (CBR, mono, the voices' 24 kHz: MPEG-2 Layer III; see
MasterSettings for the bitrate) and its tee muxer writes the stream twice: to the file, which is
seekable so the first frame becomes a Xing "Info" frame with LAME's header (frame count, byte
count, seek table, encoder delay and padding for gapless decoding), and to a pipe into a second
ffmpeg that decodes it, measures its integrated loudness with ebur128 and passes the decoded
samples on, whose true peak numpy finds as they come (limiter.TruePeakMeter, 4x as BS.1770
asks, a fraction of the cost of ebur128's 192 kHz resampler). The two ffmpegs run side by side,
so the MP3 listeners get is measured at little cost in time. Encoding is bit-exact: the same PCM
always gives the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from audio_edition.master.ffmpeg import run_ffmpeg_pipeline
from audio_edition.master.limiter import TruePeakMeter
from audio_edition.master.loudness import Measurement, parse_integrated

# LAME's quantiser rounds magnitudes down: the decoded MP3 is this much quieter than its input
# (dB; measured on tones and speech at 8-48 kHz, 32-96 kb/s). Mastering aims that much higher.
ENCODER_LEVEL_DB = -0.4
SAFE_NAME = re.compile(r"[A-Za-z0-9._-]+")  # names the tee muxer's syntax passes untouched


def encode_mp3(
    pcm: Iterable[bytes | memoryview], dest: Path, sample_rate: int, bitrate_kbps: int
) -> Measurement:
    """Encode mono 16-bit little-endian PCM chunks to the MP3 file `dest`; measure the MP3.

    `dest`'s name must be plain ASCII (letters, digits, '.', '_', '-'); its folder must exist.
    """
    if not SAFE_NAME.fullmatch(dest.name):
        raise ValueError(f"encode_mp3 writes only plain file names, not {dest.name!r}")
    mp3 = "f=mp3:id3v2_version=0"  # no ID3 from ffmpeg: tags.py writes the one tag
    encoder = [
        "-loglevel", "error",
        "-f", "s16le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0",
        "-map", "0:a", "-c:a", "libmp3lame", "-b:a", f"{bitrate_kbps}k",
        "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-f", "tee", f"[{mp3}]{dest.name}|[{mp3}]pipe:1",
    ]  # fmt: skip
    meter = ["-f", "mp3", "-i", "pipe:0", "-af", "ebur128", "-f", "s16le", "-"]
    # 16-bit is exact enough, and an MP3 overshooting full scale reads as 0 dBTP: corrected
    peak = TruePeakMeter()
    _, (_, meter_log) = run_ffmpeg_pipeline(
        [encoder, meter], what=f"encode {dest.name}", stdin=pcm, cwd=dest.parent, sink=peak.feed
    )
    return Measurement(parse_integrated(meter_log, dest.name), peak.close())
