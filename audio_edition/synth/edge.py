"""The edge engine: Microsoft's neural voices through the edge-tts client (pinned to 7.3.1).

One utterance is one websocket request: edge-tts streams MP3 (audio-24khz-48kbitrate-mono-mp3)
and SentenceBoundary metadata; libsndfile decodes the MP3 into the clip's 24 kHz mono WAV. Failures
worth retrying raise TransientSynthesisError, and a service that cannot be reached at all raises
UnreachableError, so the runner stops the run at once instead of retrying every sentence.

Truncated audio: edge-tts 7.3.1 ends a stream without an exception when the connection closes
mid-audio (only an ERROR frame raises). We catch it three ways: edge-tts adds a request's audio
bytes to `state["cumulative_audio_bytes"]` only when it sees turn.end, so bytes missing there mean
the turn never ended; the decoded audio must reach the end of the last sentence boundary; and the
audio must be long enough for the text (at most MAX_CHARS_PER_S syllables a second at the
voice's rate).

Sentence boundaries (offset and duration in 100-ns ticks from the start of the clip) serve only
that check and are not stored: a segment is one sentence, so its place in the episode and the
transcript comes from the clip lengths when the episode is mastered.
"""

from __future__ import annotations

import asyncio
import difflib
import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import edge_tts
import edge_tts.communicate
import edge_tts.voices
import numpy as np
import soundfile
from edge_tts import constants
from edge_tts.exceptions import EdgeTTSException

from audio_edition.errors import ConfigError, SynthesisError, VoiceError
from audio_edition.model import UTTERANCE_SEPARATOR, Voice
from audio_edition.synth import SAMPLE_RATE, TransientSynthesisError
from audio_edition.synth.cache import write_wav
from audio_edition.synth.checks import spoken_units
from audio_edition.synth.runner import UnreachableError

WSS_URL_ENV = "AUDIO_EDITION_EDGE_WSS_URL"  # full websocket URL, e.g. ws://127.0.0.1:8765/edge/v1
VOICES_URL_ENV = "AUDIO_EDITION_EDGE_VOICES_URL"  # full voice list URL
DEFAULT_CONCURRENCY = 12  # requests in flight: a third of the ~40 at which users report throttling
OUTPUT_FORMAT = "audio-24khz-48kbitrate-mono-mp3"  # what edge-tts 7.3.1 always asks for
CONNECT_TIMEOUT_S = 10  # seconds to open the websocket
RECEIVE_TIMEOUT_S = 60  # seconds of silence from the service before giving up on a request
VOICE_LIST_TIMEOUT_S = 30  # seconds for the whole voice list request
VOICE_LIST_ATTEMPTS = 3  # tries of the voice list when the service answers with an error
TICKS_PER_S = 10_000_000  # the service's offsets and durations are in 100-ns ticks
BOUNDARY_SLACK_S = 0.25  # decoded audio may end this much before the last boundary's end
MAX_CHARS_PER_S = 9.0  # syllables a second at rate +0%: faster is not the service's speech
OFFLINE_HINT = "check the network, or build with --engine offline, which needs none"
_RETRYABLE_STATUS = {403: "token refused: clock skew?", 408: "timeout", 429: "throttled"}


def apply_endpoints() -> tuple[str, str]:
    """Point edge-tts at $AUDIO_EDITION_EDGE_WSS_URL and $AUDIO_EDITION_EDGE_VOICES_URL
    (Microsoft's endpoints when unset); returns (websocket URL, voice list URL).

    edge-tts reads its endpoints from module globals bound at import time,
    `edge_tts.communicate.WSS_URL` and `edge_tts.voices.VOICE_LIST` (setting `edge_tts.constants`
    changes nothing), and appends `&ConnectionId=..&Sec-MS-GEC=..&Sec-MS-GEC-Version=..` to the
    first and `&Sec-MS-GEC=..&Sec-MS-GEC-Version=..` to the second. So an override is a full URL
    as the constants are written; one without a query gets Microsoft's client token query added.
    The globals are process-wide: the last EdgeEngine created decides.
    """
    wss = _endpoint(WSS_URL_ENV, constants.WSS_URL, ("ws", "wss"), "TrustedClientToken")
    voices = _endpoint(
        VOICES_URL_ENV, constants.VOICE_LIST, ("http", "https"), "trustedclienttoken"
    )
    edge_tts.communicate.WSS_URL = wss
    edge_tts.voices.VOICE_LIST = voices
    return wss, voices


def _endpoint(variable: str, default: str, schemes: tuple[str, ...], token_name: str) -> str:
    url = os.environ.get(variable) or default
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.netloc:
        raise ConfigError(f"${variable} must be a full {' or '.join(schemes)} URL, not {url!r}")
    if not parts.query:
        url += f"?{token_name}={constants.TRUSTED_CLIENT_TOKEN}"
    return url


def min_duration_s(spoken: str, rate: int = 0) -> float:
    """The shortest audio in which the service reads `spoken` at `rate` percent faster than
    normal: tighter than the runner's voice-independent plausibility check, as it knows the rate."""
    return spoken_units(spoken) / (MAX_CHARS_PER_S * (1 + rate / 100))


def decode_mp3(mp3: bytes) -> np.ndarray:
    """MP3 bytes decoded in-process by libsndfile to mono int16 samples at SAMPLE_RATE.

    In-process because starting an ffmpeg per clip cost about 45 ms of CPU, three quarters of
    the engine's work per clip; libsndfile decodes a sentence in a few milliseconds.
    """
    try:
        samples, rate = soundfile.read(io.BytesIO(mp3), dtype="int16", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as e:
        raise TransientSynthesisError(f"the service's MP3 could not be decoded: {e}") from e
    if rate != SAMPLE_RATE:
        raise SynthesisError(f"the service sent {rate} Hz audio, not {SAMPLE_RATE} Hz")
    return samples[:, 0] if samples.shape[1] == 1 else samples.mean(axis=1).astype(np.int16)


class EdgeEngine:
    """Microsoft Edge's online neural voices (zh-CN-YunyangNeural ...) through edge-tts."""

    name = "edge"

    def __init__(self, concurrency: int = DEFAULT_CONCURRENCY) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.default_concurrency = concurrency
        self.wss_url, self.voices_url = apply_endpoints()
        self._voice_list: list[dict[str, Any]] | None = None

    def identity(self, voice: Voice) -> str:
        return f"edge/{voice.name}/rate{voice.rate:+d}/pitch{voice.pitch:+d}/{OUTPUT_FORMAT}"

    def voice_list(self) -> list[dict[str, Any]]:
        """The service's voices (ShortName, Gender, Locale, Status, VoiceTag ...), fetched once."""
        if self._voice_list is None:
            self._voice_list = asyncio.run(self._fetch_voice_list())
        return self._voice_list

    def check_voices(self, voices: Iterable[Voice]) -> None:
        """Raise VoiceError, with the closest names, for a voice the service does not offer."""
        wanted = sorted({v.name for v in voices})
        if not wanted:
            return
        known = [v["ShortName"] for v in self.voice_list()]
        for name in wanted:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
                hint = f"did you mean {', '.join(close)}? " if close else ""
                raise VoiceError(
                    f"unknown edge voice {name!r}: {hint}"
                    "(audio-edition voices --engine edge --language zh lists them)"
                )

    async def synthesize(self, text: str, voice: Voice, dest: Path) -> None:
        text = text.partition(UTTERANCE_SEPARATOR)[0]  # as a fallback: the service reads text
        try:
            communicate = edge_tts.Communicate(
                text,
                voice.name,
                rate=f"{voice.rate:+d}%",
                pitch=f"{voice.pitch:+d}Hz",
                boundary="SentenceBoundary",
                connect_timeout=CONNECT_TIMEOUT_S,
                receive_timeout=RECEIVE_TIMEOUT_S,
            )
        except ValueError as e:  # edge-tts validates the voice name, rate and pitch
            raise SynthesisError(
                f"edge-tts refused voice {voice.name!r} at rate {voice.rate:+d}% and pitch "
                f"{voice.pitch:+d}Hz: {e}"
            ) from e
        mp3 = bytearray()
        boundary_end = 0  # ticks
        try:
            async for chunk in communicate.stream():
                if chunk["type"] == "audio":
                    mp3 += chunk["data"]
                else:
                    boundary_end = max(boundary_end, chunk["offset"] + chunk["duration"])
        except (aiohttp.ClientError, EdgeTTSException, TimeoutError) as e:
            raise _transport_error(e, self.wss_url, "speech") from e
        if communicate.state["cumulative_audio_bytes"] != len(mp3):
            raise TransientSynthesisError(
                f"the connection closed mid-audio after {len(mp3)} bytes (no turn.end)"
            )
        samples = decode_mp3(bytes(mp3))
        seconds = len(samples) / SAMPLE_RATE
        if seconds + BOUNDARY_SLACK_S < boundary_end / TICKS_PER_S:
            raise TransientSynthesisError(
                f"truncated audio: {seconds:.2f} s, but the sentence runs to "
                f"{boundary_end / TICKS_PER_S:.2f} s"
            )
        if seconds < min_duration_s(text, voice.rate):
            raise TransientSynthesisError(
                f"truncated audio: {seconds:.2f} s is too short to say {text[:24]!r}"
            )
        write_wav(dest, samples, SAMPLE_RATE)

    def warm_up(self) -> None:
        """Nothing to load: the voices live on the service."""

    def close(self) -> None:
        """Nothing to release: edge-tts opens and closes a session per request."""

    async def _fetch_voice_list(self) -> list[dict[str, Any]]:
        attempt = 1
        while True:
            try:
                return await asyncio.wait_for(edge_tts.list_voices(), VOICE_LIST_TIMEOUT_S)
            except (aiohttp.ClientError, EdgeTTSException, TimeoutError, ValueError) as e:
                error = _transport_error(e, self.voices_url, "voice list")
                if type(error) is not TransientSynthesisError or attempt == VOICE_LIST_ATTEMPTS:
                    raise error from e
            await asyncio.sleep(attempt)
            attempt += 1


def _transport_error(error: Exception, url: str, what: str) -> SynthesisError:
    """The SynthesisError that a failure of edge-tts or aiohttp on a `what` request to `url` is."""
    host = urlsplit(url).netloc
    if isinstance(error, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return UnreachableError(
            f"cannot reach Microsoft's speech service at {host} "
            f"({_connect_reason(error)}): {OFFLINE_HINT}"
        )
    if isinstance(error, aiohttp.ClientResponseError):  # incl. the websocket handshake
        status = error.status
        if status in _RETRYABLE_STATUS or status >= 500:
            reason = _RETRYABLE_STATUS.get(status, "service error")
            return TransientSynthesisError(
                f"the speech service answered HTTP {status} ({reason}) to a {what} request"
            )
        return SynthesisError(
            f"the speech service at {host} answered HTTP {status} to the {what} "
            f"request: check ${WSS_URL_ENV} and ${VOICES_URL_ENV}, or update edge-tts"
        )
    if isinstance(error, ValueError):  # the voice list was not JSON
        return TransientSynthesisError(f"the {what} answer is not valid JSON: {error}")
    detail = str(error) or "no detail"
    return TransientSynthesisError(f"{type(error).__name__}: {detail}")


def _connect_reason(error: aiohttp.ClientError) -> str:
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return "host name not found"
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return "connection timed out"
    os_error = getattr(error, "os_error", None)
    if isinstance(os_error, ConnectionRefusedError):
        return "connection refused"
    return getattr(os_error, "strerror", None) or str(error)
