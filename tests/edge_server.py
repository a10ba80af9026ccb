"""A loopback stand-in for Microsoft's read-aloud service that speaks edge-tts 7.3.1's protocol.

The real edge-tts client talks to it unchanged once $AUDIO_EDITION_EDGE_WSS_URL and
$AUDIO_EDITION_EDGE_VOICES_URL point here (`EdgeStandIn.env()`):

- GET /voices/list?trustedclienttoken=..&Sec-MS-GEC=..&Sec-MS-GEC-Version=.. answers a JSON voice
  list shaped like the real one (Name, ShortName, Gender, Locale, SuggestedCodec, FriendlyName,
  Status, VoiceTag).
- GET /edge/v1?TrustedClientToken=..&ConnectionId=..&Sec-MS-GEC=..&Sec-MS-GEC-Version=.. upgrades
  to a websocket that takes the `speech.config` and `ssml` text messages and answers
  `Path:turn.start`, one `Path:audio.metadata` message per SentenceBoundary (or WordBoundary)
  with offset and duration in 100-ns ticks, binary `Path:audio` messages (2-byte big-endian
  header length, headers, MP3 bytes), an empty end-of-audio message, then `Path:turn.end`.

The audio is real MP3 (48 kb/s CBR, 24 kHz mono, no bit reservoir, so every 144-byte frame decodes
on its own): a slice, as long as the text takes to say at CHARS_PER_S, of a tape made once by
ffmpeg. Faults are injected per `Fault`; `down()` and `up()` close and reopen the port, and
`down_after` closes it by itself after that many websocket connections (a service that goes
away in the middle of a build). The server runs on 127.0.0.1 in a daemon thread with its own
event loop, answers at most MAX_REQUESTS requests and stops by itself after LIFETIME_S.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import re
import subprocess
import threading
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import unescape

import imageio_ffmpeg
from aiohttp import WSMsgType, web

from audio_edition.synth.edge import VOICES_URL_ENV, WSS_URL_ENV

MP3_FRAME_BYTES = 144  # one MPEG-2 layer III frame at 48 kb/s and 24 kHz
MP3_FRAME_S = 0.024  # 576 samples at 24 kHz
FRAMES_PER_MESSAGE = 12  # MP3 frames in one binary websocket message
TAPE_S = 90  # seconds of MP3 made once, sliced per request
CHARS_PER_S = 5.0  # characters a second the stand-in reads at rate +0%, by default
LEAD_S, TAIL_S = 0.1, 0.25  # silence before the first and after the last sentence
TICKS_PER_S = 10_000_000
OUTPUT_FORMAT = "audio-24khz-48kbitrate-mono-mp3"
HANG_S = 20.0  # how long a "hang" fault keeps a request unanswered
RECEIVE_TIMEOUT_S = 10.0  # for the client's two text messages
MAX_REQUESTS = 3000  # websocket connections answered before every request gets 503
LIFETIME_S = 600.0  # the server stops by itself after this, whatever the test does
FAULT_KINDS = ("status", "drop", "reset", "short", "no_audio", "hang")
_SENTENCE = re.compile(r"[^。！？!?；;]+[。！？!?；;”’」』）)]*")
_SSML = re.compile(
    r"<speak [^>]*><voice name='([^']+)'><prosody pitch='([^']+)' rate='([^']+)' "
    r"volume='([^']+)'>(.*)</prosody></voice></speak>",
    re.DOTALL,
)


def _voice(short: str, gender: str, categories: list[str], status: str = "GA") -> dict:
    locale = "-".join(short.split("-")[:2])
    name = short.split("-", 2)[2]
    return {
        "Name": f"Microsoft Server Speech Text to Speech Voice ({locale}, {name})",
        "ShortName": short,
        "Gender": gender,
        "Locale": locale,
        "SuggestedCodec": OUTPUT_FORMAT,
        "FriendlyName": f"Microsoft {name.removesuffix('Neural')} Online (Natural) - {locale}",
        "Status": status,
        "VoiceTag": {"ContentCategories": categories, "VoicePersonalities": ["Friendly"]},
    }


VOICES = [
    _voice("zh-CN-XiaoxiaoNeural", "Female", ["News", "Novel"]),
    _voice("zh-CN-XiaoyiNeural", "Female", ["Cartoon", "Novel"]),
    _voice("zh-CN-YunjianNeural", "Male", ["Sports", "Novel"]),
    _voice("zh-CN-YunxiNeural", "Male", ["Novel"]),
    _voice("zh-CN-YunxiaNeural", "Male", ["Cartoon", "Novel"]),
    _voice("zh-CN-YunyangNeural", "Male", ["News"]),
    _voice("zh-TW-HsiaoChenNeural", "Female", ["General"]),
    _voice("en-US-EmmaMultilingualNeural", "Female", ["Conversation", "Copilot"]),
]


@dataclass(frozen=True)
class Fault:
    """What to spoil. Request faults hit every `every`-th distinct text on its first `times`
    requests; a `status` fault answers the handshake of every `every`-th connection with `status`
    (the text is not known at the handshake).

    Kinds: status (HTTP error at the handshake), drop (clean close mid-audio, no turn.end),
    reset (TCP reset mid-audio), short (half the audio, then turn.end as if complete),
    no_audio (turn.start then turn.end), hang (no answer for HANG_S).
    """

    kind: str
    every: int = 1
    times: int = 1
    status: int = 503

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS or self.every < 1 or self.times < 1:
            raise ValueError(f"bad fault {self}")


@functools.lru_cache(maxsize=1)
def mp3_tape() -> bytes:
    """TAPE_S seconds of a speech-like warble as self-contained 144-byte MP3 frames."""
    signal = "0.3*sin(2*PI*(170+40*sin(2*PI*0.7*t))*t)*(0.55+0.45*sin(2*PI*3.1*t))"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error"]
    command += ["-f", "lavfi", "-i", f"aevalsrc={signal}:s=24000:d={TAPE_S}"]
    command += ["-ac", "1", "-c:a", "libmp3lame", "-b:a", "48k", "-reservoir", "0"]
    command += ["-write_xing", "0", "-id3v2_version", "0", "-f", "mp3", "pipe:1"]
    tape = subprocess.run(command, check=True, capture_output=True).stdout
    if len(tape) % MP3_FRAME_BYTES or tape[:2] != b"\xff\xf3":
        raise RuntimeError("ffmpeg did not make 144-byte MPEG-2 layer III frames")
    return tape


class EdgeStandIn:
    """The stand-in server; use it as a context manager (it stops on exit)."""

    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        fault: Fault | None = None,
        voices: list[dict[str, Any]] | None = None,
        down_after: int | None = None,
        chars_per_s: float = CHARS_PER_S,
        voice_list_errors: tuple[int, ...] = (),
    ) -> None:
        self.latency_s = latency_s
        self.chars_per_s = chars_per_s
        self.voice_list_errors = voice_list_errors  # HTTP statuses of the first voice lists
        self.fault = fault
        self.down_after = down_after  # answer this many connections, then close the port
        self.voices = VOICES if voices is None else voices
        self.connections = 0  # websocket handshakes, failed ones included
        self.voice_list_requests = 0
        self.texts: Counter[str] = Counter()  # SSML requests by text
        self.injected: list[tuple[str, str]] = []  # (fault kind, text or connection number)
        self.protocol_errors: list[str] = []  # what the client sent wrong (tests assert none)
        self.port = 0
        self._first_seen: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="edge-stand-in", daemon=True)

    # --- life cycle (called from the test's thread) ---

    def __enter__(self) -> EdgeStandIn:
        mp3_tape()
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the edge stand-in did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    @property
    def wss_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/edge/v1?TrustedClientToken=stand-in"

    @property
    def voices_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/voices/list?trustedclienttoken=stand-in"

    def env(self) -> dict[str, str]:
        """The environment variables that point EdgeEngine here."""
        return {WSS_URL_ENV: self.wss_url, VOICES_URL_ENV: self.voices_url}

    def down(self) -> None:
        """Close the port: connections are refused until up()."""
        self._call(self._close_site())

    def up(self) -> None:
        """Listen again on the same port (and stay up: `down_after` has had its effect)."""
        self.down_after = None
        self._call(self._open_site())

    def _call(self, coroutine: Any) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_get("/voices/list", self._voice_list)
        app.router.add_get("/edge/v1", self._speak)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, handler_cancellation=True)
        await self._runner.setup()
        await self._open_site()
        self.port = self._runner.addresses[0][1]
        self._ready.set()
        try:
            await asyncio.wait_for(self._stop.wait(), LIFETIME_S)
        except TimeoutError:
            pass
        finally:
            await self._runner.cleanup()

    async def _open_site(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()

    async def _close_site(self) -> None:
        if self._site is not None:
            await self._site.stop()
            self._site = None

    # --- the service ---

    def _check_query(self, request: web.Request, names: tuple[str, ...]) -> bool:
        missing = [n for n in names if not request.query.get(n)]
        if missing:
            self.protocol_errors.append(f"{request.path}: missing {', '.join(missing)}")
        return not missing

    async def _voice_list(self, request: web.Request) -> web.StreamResponse:
        self.voice_list_requests += 1
        query = ("trustedclienttoken", "Sec-MS-GEC", "Sec-MS-GEC-Version")
        if not self._check_query(request, query):
            return web.Response(status=400)
        await asyncio.sleep(self.latency_s)
        if self.voice_list_requests <= len(self.voice_list_errors):
            return web.Response(status=self.voice_list_errors[self.voice_list_requests - 1])
        return web.json_response(self.voices)

    async def _speak(self, request: web.Request) -> web.StreamResponse:
        self.connections += 1
        number = self.connections
        query = ("TrustedClientToken", "ConnectionId", "Sec-MS-GEC", "Sec-MS-GEC-Version")
        if not self._check_query(request, query):
            return web.Response(status=400)
        if number > MAX_REQUESTS:
            return web.Response(status=503, text="stand-in request limit reached")
        if self.down_after is not None and number > self.down_after:
            # accepted while the port was closing: drop it, as a closed port would refuse it
            request.transport.close()
            return web.Response(status=503)
        if number == self.down_after:
            await self._close_site()  # this one is still answered; the next ones are refused
        fault = self.fault
        if fault is not None and fault.kind == "status" and number % fault.every == 0:
            self.injected.append(("status", str(number)))
            return web.Response(status=fault.status)  # aiohttp adds the Date header
        ws = web.WebSocketResponse(compress=False)  # MP3 does not deflate: save the CPU
        await ws.prepare(request)
        try:
            await self._answer(request, ws)
        finally:
            await ws.close()
        return ws

    async def _answer(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        config = await self._receive(ws, "speech.config")
        ssml = await self._receive(ws, "ssml")
        if config is None or ssml is None:
            return
        try:
            options = json.loads(config[1])["context"]["synthesis"]["audio"]
            word = options["metadataoptions"]["wordBoundaryEnabled"] == "true"
            output_format = options["outputFormat"]
        except (ValueError, KeyError) as e:
            self.protocol_errors.append(f"bad speech.config: {e!r}")
            return
        if output_format != OUTPUT_FORMAT:
            self.protocol_errors.append(f"unexpected output format {output_format!r}")
            return
        match = _SSML.fullmatch(ssml[1])
        request_id = ssml[0].get("X-RequestId", "")
        if match is None or not request_id:
            self.protocol_errors.append(f"bad ssml message: {ssml[1][:80]!r}")
            return
        voice, _pitch, rate, _volume, escaped = match.groups()
        text = unescape(escaped)
        self.texts[text] += 1
        fault = self._request_fault(text)
        await asyncio.sleep(self.latency_s)
        await ws.send_str(_text_message(request_id, "turn.start", {"context": {}}))
        if fault == "hang":
            await asyncio.sleep(HANG_S)
            return
        known = voice in {v["Name"] for v in self.voices}  # edge-tts sends the long name
        if fault == "no_audio" or not known:  # the real service sends no audio for a bad voice
            await ws.send_str(_text_message(request_id, "turn.end", {}))
            return
        speed = self.chars_per_s * (1 + int(rate.rstrip("%")) / 100)
        audio, boundaries = _speech(text, speed, "WordBoundary" if word else "SentenceBoundary")
        sent_until = len(audio) // 2 if fault in ("drop", "reset", "short") else len(audio)
        step = FRAMES_PER_MESSAGE * MP3_FRAME_BYTES
        for start in range(0, sent_until, step):
            end = min(sent_until, start + step)
            end_ticks = end // MP3_FRAME_BYTES * MP3_FRAME_S * TICKS_PER_S
            while boundaries and boundaries[0]["Data"]["Offset"] < end_ticks:  # as it is heard
                metadata = {"Metadata": [boundaries.pop(0)]}
                await ws.send_str(_text_message(request_id, "audio.metadata", metadata))
            await ws.send_bytes(_audio_message(request_id, audio[start:end]))
        if fault == "drop":
            return  # the finally clause closes the websocket cleanly: no turn.end
        if fault == "reset":
            assert request.transport is not None
            request.transport.abort()
            return
        await ws.send_bytes(_audio_message(request_id, b""))
        await ws.send_str(_text_message(request_id, "turn.end", {}))

    def _request_fault(self, text: str) -> str | None:
        fault = self.fault
        if fault is None or fault.kind == "status":
            return None
        index = self._first_seen.setdefault(text, len(self._first_seen) + 1)
        if index % fault.every == 0 and self.texts[text] <= fault.times:
            self.injected.append((fault.kind, text))
            return fault.kind
        return None

    async def _receive(
        self, ws: web.WebSocketResponse, path: str
    ) -> tuple[dict[str, str], str] | None:
        """The headers and body of the next text message, which must have Path:`path`."""
        try:
            message = await ws.receive(timeout=RECEIVE_TIMEOUT_S)
        except TimeoutError:
            self.protocol_errors.append(f"no {path} message")
            return None
        if message.type != WSMsgType.TEXT:
            self.protocol_errors.append(f"expected {path}, got {message.type!r}")
            return None
        head, _, body = message.data.partition("\r\n\r\n")
        headers = dict(line.split(":", 1) for line in head.split("\r\n"))
        if headers.get("Path") != path or "X-Timestamp" not in headers:
            self.protocol_errors.append(f"expected Path:{path} with X-Timestamp, got {headers}")
            return None
        return headers, body


def _speech(text: str, speed: float, boundary: str) -> tuple[bytes, list[dict[str, Any]]]:
    """The MP3 for `text` read at `speed` characters a second, and its boundary metadata, each
    entry as the service sends it."""
    pieces = _SENTENCE.findall(text) or [text]
    if boundary == "WordBoundary":
        pieces = [p[i : i + 2] for p in pieces for i in range(0, len(p), 2)]
    seconds = [max(1, len(p.strip())) / speed for p in pieces]
    total_s = min(LEAD_S + sum(seconds) + TAIL_S, TAPE_S / 2)
    frames = math.ceil(total_s / MP3_FRAME_S)
    tape = mp3_tape()
    tape_frames = len(tape) // MP3_FRAME_BYTES
    first = zlib.crc32(text.encode()) % (tape_frames - frames)
    audio = tape[first * MP3_FRAME_BYTES : (first + frames) * MP3_FRAME_BYTES]
    entries, offset = [], LEAD_S
    for piece, duration in zip(pieces, seconds, strict=True):
        if offset + duration > total_s:
            break
        entries.append(
            {
                "Type": boundary,
                "Data": {
                    "Offset": round(offset * TICKS_PER_S),
                    "Duration": round(duration * TICKS_PER_S),
                    "text": {"Text": piece, "Length": len(piece), "BoundaryType": boundary},
                },
            }
        )
        offset += duration
    return audio, entries


def _text_message(request_id: str, path: str, body: dict[str, Any]) -> str:
    content_type = "application/json; charset=utf-8"
    head = f"X-RequestId:{request_id}\r\nContent-Type:{content_type}\r\nPath:{path}\r\n\r\n"
    return head + json.dumps(body, ensure_ascii=False)


def _audio_message(request_id: str, data: bytes) -> bytes:
    """A binary message: 2-byte header length, headers, MP3 bytes (none: end of audio)."""
    stream = uuid.uuid5(uuid.NAMESPACE_URL, request_id).hex.upper()
    content_type = "Content-Type:audio/mpeg\r\n" if data else ""
    head = f"X-RequestId:{request_id}\r\n{content_type}X-StreamId:{stream}\r\nPath:audio\r\n"
    encoded = head.encode()
    return len(encoded).to_bytes(2, "big") + encoded + data


def main() -> None:
    """Serve from a process of its own (the benchmark's way: the real service's work is not done
    on our cores under our GIL). Prints the environment that points EdgeEngine here as one JSON
    line, serves until stdin closes, then prints what it saw as one JSON line."""
    import argparse
    import resource
    import sys

    parser = argparse.ArgumentParser(description="the edge-tts service stand-in")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args()
    with EdgeStandIn(latency_s=args.latency) as server:
        print(json.dumps(server.env()), flush=True)
        sys.stdin.read()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    seen = {
        "connections": server.connections,
        "protocol_errors": server.protocol_errors,
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),  # the stand-in's own CPU time
    }
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    main()
