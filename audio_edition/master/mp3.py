"""MP3 streams as frames: the Xing/LAME "Info" frame, checking a stream, and joining streams.

The episode is mastered chapter by chapter, each chapter its own LAME stream, and the streams'
frames are joined into one file. That is sound because:
- a LAME stream's first frame borrows nothing from the bit reservoir (main_data_begin = 0), so
  no frame reads bytes of another chapter (checked on every chapter);
- a chapter's stream decodes to ENCODER_DELAY samples of silence, its N samples, then `padding`
  samples of silence: FRAME_SAMPLES * frames in all. Joined, chapter k's first sample lands on
  the sum of the earlier chapters' FRAME_SAMPLES * frames, exactly (a whole number of 24 ms
  frames, so a whole number of milliseconds), and the delay and padding between two chapters
  fall in the silence that ends every chapter;
- the decoder's state where two streams meet (the overlap of the last granule, the synthesis
  filterbank's memory) holds only that silence, so the joined stream decodes to the chapters'
  own decodes laid end to end: no seam.
The joined file's Info frame (Xing header plus LAME's extension, written as LAME lays it out)
carries the total frame and byte counts, a seek table, the first stream's encoder delay and the
last stream's padding (gapless players trim exactly those), the music length and CRC-16.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import BinaryIO

import numpy as np

from audio_edition.errors import AudioError

FRAME_SAMPLES = 576  # samples per MPEG-2 Layer III frame (one granule)
ENCODER_DELAY = 576  # samples LAME puts before the input's first sample
DECODER_DELAY = 529  # samples a Layer III decoder's filterbank lags (gapless players add it)
SIDE_INFO_BYTES = 9  # MPEG-2 mono side information
MPEG2_SAMPLE_RATES = {0: 22_050, 1: 24_000, 2: 16_000}
MPEG2_LAYER3_KBPS = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
MONO = 3  # channel mode bits
XING_FLAGS = 0x0F  # frame count, byte count, seek table, quality
TOC_ENTRIES = 100
LAME_VERSION = b"LAME3.100"  # 9 bytes: the encoder that made the frames (lameenc bundles it)
CBR_METHOD = 1  # LAME tag: revision 0, VBR method 1 (constant bitrate)
INFO_TAG = b"Info"  # "Xing" for VBR, "Info" for CBR
# Offsets in the Info frame, after the header and the side information
XING_AT = 4 + SIDE_INFO_BYTES
LAME_AT = XING_AT + 4 + 4 + 4 + 4 + TOC_ENTRIES + 4
TAG_CRC_AT = LAME_AT + 34  # the LAME tag's own CRC covers every byte of the frame before it
INFO_BYTES = TAG_CRC_AT + 2
CRC16_POLY = 0xA001  # CRC-16 (reflected 0x8005, initial 0), as LAME checks its music and tag
CRC_ROWS_PER_COLUMN = 64  # rows per byte of a row: numpy calls traded against the Python loop


@dataclass(frozen=True)
class Stream:
    """The audio frames of one LAME stream and what its Info frame says of them."""

    frames: bytes  # the audio frames, Info frame excluded
    frame_count: int
    delay: int  # samples before the first input sample
    padding: int  # samples after the last one
    crc: int  # CRC-16 of `frames`

    @property
    def samples(self) -> int:
        """How many samples the stream holds, without its delay and padding."""
        return self.frame_count * FRAME_SAMPLES - self.delay - self.padding


def frame_bytes(kbps: int, sample_rate: int) -> int:
    """Size of an MPEG-2 Layer III frame without its padding slot."""
    return 72_000 * kbps // sample_rate


def info_frame_kbps(sample_rate: int) -> int:
    """The smallest bitrate whose frame holds the Info frame (LAME's 48 kb/s one is too small)."""
    for kbps in MPEG2_LAYER3_KBPS[1:]:
        if frame_bytes(kbps, sample_rate) >= INFO_BYTES:
            return kbps
    raise AudioError(f"no MP3 frame at {sample_rate} Hz holds an Info frame")


def stream_from_frames(frames: bytes, samples: int, what: str) -> Stream:
    """The Stream of LAME's raw output for `samples` input samples, checked frame by frame."""
    header = _check_frames(frames, what)
    count = len(frames) // frame_bytes(header.kbps, header.sample_rate)
    padding = count * FRAME_SAMPLES - ENCODER_DELAY - samples
    if padding < DECODER_DELAY:  # a decoder would lose the last samples
        raise AudioError(f"{what}: {count} frames cannot hold {samples} samples")
    return Stream(frames, count, ENCODER_DELAY, padding, crc16(frames))


def write_stream(streams: Sequence[Stream], out: BinaryIO) -> int:
    """Write `streams` joined, after one Info frame describing them all, to `out`; return the
    bytes written."""
    first = _header(streams[0].frames[:4], "the first stream")
    frames = sum(s.frame_count for s in streams)
    audio_bytes = crc = 0
    for stream in streams:
        crc = crc16_combine(crc, stream.crc, len(stream.frames))
        audio_bytes += len(stream.frames)
    info = info_frame(first, frames, audio_bytes, streams[0].delay, streams[-1].padding, crc)
    out.write(info)
    for stream in streams:
        out.write(stream.frames)
    return len(info) + audio_bytes


def read_stream(data: bytes, what: str) -> Stream:
    """The Stream in an MP3 file made by `write_stream`, its Info frame and frames checked
    (not its music CRC: callers that keep files check them whole, by SHA-256)."""
    if len(data) < INFO_BYTES or data[XING_AT : XING_AT + 4] != INFO_TAG:
        raise AudioError(f"{what} has no Info frame")
    header = _header(data[:4], what)
    size = frame_bytes(header.kbps, header.sample_rate)
    count, total = struct.unpack_from(">II", data, XING_AT + 8)
    delay_padding = int.from_bytes(data[LAME_AT + 21 : LAME_AT + 24], "big")
    (music_crc,) = struct.unpack_from(">H", data, LAME_AT + 32)
    frames = data[size:]
    if total != len(data) or (frames and len(frames) != count * _audio_frame_bytes(frames)):
        raise AudioError(f"{what} is truncated: its Info frame counts {total} bytes")
    if crc16(data[:TAG_CRC_AT]) != struct.unpack_from(">H", data, TAG_CRC_AT)[0]:
        raise AudioError(f"{what}: its Info frame is damaged (CRC)")
    _check_frames(frames, what)
    return Stream(frames, count, delay_padding >> 12, delay_padding & 0xFFF, music_crc)


def info_frame(
    audio: _Header, frames: int, audio_bytes: int, delay: int, padding: int, music_crc: int
) -> bytes:
    """A Xing "Info" frame with LAME's tag for `frames` CBR frames like `audio`'s."""
    kbps = info_frame_kbps(audio.sample_rate)
    size = frame_bytes(kbps, audio.sample_rate)
    total = size + audio_bytes
    header = bytearray(audio.raw)
    header[2] = MPEG2_LAYER3_KBPS.index(kbps) << 4 | header[2] & 0x0D  # no padding slot
    audio_size = frame_bytes(audio.kbps, audio.sample_rate)
    toc = bytes(
        min(255, 256 * (size + i * frames // TOC_ENTRIES * audio_size) // total)
        for i in range(TOC_ENTRIES)
    )
    frame = bytearray(size)
    frame[:4] = header
    xing = INFO_TAG + struct.pack(">III", XING_FLAGS, frames, total) + toc + bytes(4)
    frame[XING_AT:LAME_AT] = xing
    lame = (
        LAME_VERSION
        + bytes([CBR_METHOD, 0])  # revision and method; lowpass unknown
        + bytes(4 + 2 + 2 + 1)  # peak, radio and audiophile gain, flags: none recorded
        + bytes([min(audio.kbps, 255)])
        + ((delay << 12) | padding).to_bytes(3, "big")
        + bytes(1 + 1 + 2)  # mono, <32 kHz source; no MP3 gain; no preset
        + struct.pack(">IH", total, music_crc)
    )
    frame[LAME_AT:TAG_CRC_AT] = lame
    frame[TAG_CRC_AT:INFO_BYTES] = struct.pack(">H", crc16(bytes(frame[:TAG_CRC_AT])))
    return bytes(frame)


@dataclass(frozen=True)
class _Header:
    raw: bytes
    kbps: int
    sample_rate: int


def _header(raw: bytes, what: str) -> _Header:
    """An MPEG-2 Layer III mono frame header without CRC protection, parsed."""
    if len(raw) < 4 or raw[0] != 0xFF or raw[1] & 0xFE != 0xF2 or raw[3] >> 6 != MONO:
        raise AudioError(f"{what} is not an MPEG-2 Layer III mono stream")
    rate_index = raw[2] >> 2 & 3
    kbps = MPEG2_LAYER3_KBPS[raw[2] >> 4] if raw[2] >> 4 < 15 else 0
    if rate_index not in MPEG2_SAMPLE_RATES or not kbps:
        raise AudioError(f"{what} has a bad MP3 frame header {raw[:4].hex()}")
    return _Header(bytes(raw[:4]), kbps, MPEG2_SAMPLE_RATES[rate_index])


def _audio_frame_bytes(frames: bytes) -> int:
    header = _header(frames[:4], "an MP3 stream")
    return frame_bytes(header.kbps, header.sample_rate)


def _check_frames(frames: bytes, what: str) -> _Header:
    """Check that `frames` are whole CBR frames with one header, the first one borrowing no
    bytes from before it (main_data_begin, the side information's first byte, is 0)."""
    header = _header(frames[:4], what)
    size = frame_bytes(header.kbps, header.sample_rate)
    if len(frames) % size or header.raw[2] & 0x02:
        raise AudioError(f"{what} is not whole constant-bitrate frames")
    grid = np.frombuffer(frames, np.uint8).reshape(-1, size)
    if not (grid[:, :4] == np.frombuffer(header.raw, np.uint8)).all():
        raise AudioError(f"{what} has frames of another kind among its frames")
    if frames[4] != 0:
        raise AudioError(f"{what} starts by borrowing from the bit reservoir")
    return header


def _crc_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ CRC16_POLY, table >> 1)
    return table.astype(np.uint16)


_CRC_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """CRC-16 of `data`, in linear time in numpy.

    The bytes are cut into rows of equal length processed side by side (zero bytes in front of
    the first row change no CRC that starts at 0). Then, row after row, the running CRC is
    carried across a row's length of zero bytes (a linear map of the 16 register bits, tabled
    once per byte of the register, in the same pass) and the row's own CRC added.
    """
    n = len(data)
    if n == 0:
        return 0
    width = max(1, int(np.sqrt(n / CRC_ROWS_PER_COLUMN)))
    rows = -(-n // width)
    padded = np.zeros(rows * width, np.uint8)
    padded[rows * width - n :] = np.frombuffer(data, np.uint8)
    basis = np.concatenate([np.arange(256), np.arange(256) << 8]).astype(np.uint16)
    columns = np.zeros((width, rows + len(basis)), np.uint8)  # the basis rows read zeros
    columns[:, :rows] = padded.reshape(rows, width).T
    registers = np.concatenate([np.zeros(rows, np.uint16), basis])
    for column in columns:
        registers = (registers >> 8) ^ _CRC_TABLE[(registers ^ column) & 0xFF]
    row_crcs, low, high = registers[:rows], registers[rows : rows + 256], registers[rows + 256 :]
    crc = 0
    for row_crc in row_crcs.tolist():
        crc = int(low[crc & 0xFF] ^ high[crc >> 8]) ^ row_crc
    return crc


def crc16_combine(first: int, second: int, second_length: int) -> int:
    """The CRC-16 of two byte strings joined, from their CRCs and the second one's length: the
    first CRC carried across as many zero bytes (a linear map of the register), plus the second."""
    power = 0
    while second_length:
        if second_length & 1:
            first = _apply(_zero_bytes_map(power), first)
        second_length >>= 1
        power += 1
    return first ^ second


@lru_cache(maxsize=64)
def _zero_bytes_map(power: int) -> tuple[int, ...]:
    """What 2**power zero bytes do to each bit of the CRC register (its image, bit by bit)."""
    if power == 0:
        return tuple((1 << bit >> 8) ^ int(_CRC_TABLE[1 << bit & 0xFF]) for bit in range(16))
    half = _zero_bytes_map(power - 1)
    return tuple(_apply(half, image) for image in half)


def _apply(images: tuple[int, ...], register: int) -> int:
    result = bit = 0
    while register:
        if register & 1:
            result ^= images[bit]
        register >>= 1
        bit += 1
    return result
