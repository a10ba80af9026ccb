"""Gain and a true-peak limiter, streamed out as 16-bit PCM for the encoder.

Speech read at -16 LUFS peaks 1-4 dB above -1 dBTP (the offline voice's peak-to-loudness ratio is
about 17 dB), so the loudest syllables need a few dB of limiting. The limiter is look-ahead and
offline, in numpy, one linear pass in chunks:
- true peak: every sample within CANDIDATE_DB of the ceiling gets the peaks between it and its
  neighbours interpolated at OVERSAMPLE x by a windowed sinc (the only places an inter-sample
  peak can cross the ceiling); each such sample requires gain <= ceiling / peak;
- the gain curve: a running minimum over the sample's neighbourhood (a ramp before, a hold after)
  then a moving average of one ramp's length. The average of minima is never above the
  requirement of any sample it covers, so the ceiling holds exactly, with smooth linear ramps
  and no gain wobble between the pitch pulses of one syllable. It is computed on blocks of
  BLOCK samples (a third of a millisecond) and interpolated, which keeps the guarantee.
true_peak_db applies the same interpolation to measure a whole signal (the decoded MP3).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

OVERSAMPLE = 4  # interpolated points per sample interval (BS.1770-4: 4x)
SINC_HALF_TAPS = 12  # samples each side of an interpolated point
CANDIDATE_DB = 4.0  # dB below the ceiling where inter-sample peaks are looked for (a
# band-limited peak exceeds both samples around it by 3 dB at most for tones up to fs/4)
BLOCK = 8  # samples: the gain curve is computed per block and interpolated between them
RAMP_MS = 8.0  # ms: length of the linear gain ramps (attack before a peak, release after it)
HOLD_MS = 40.0  # ms: gain reduction held after a peak (longer than a pitch period)
CHUNK_FRAMES = 1 << 20  # samples processed at a time: bounds the temporary arrays
LOSS_CHUNKS = 4  # chunks the loudness taken by limiting is estimated on
PCM_SCALE = 32768.0  # float full scale -> 16-bit


def _interpolator() -> np.ndarray:
    """Kaiser-windowed sinc taps: row k gives the value at offset (k + 1) / OVERSAMPLE."""
    offsets = np.arange(1, OVERSAMPLE) / OVERSAMPLE
    taps = np.arange(-SINC_HALF_TAPS + 1, SINC_HALF_TAPS + 1)
    distance = offsets[:, None] - taps[None, :]
    window = np.kaiser(4 * SINC_HALF_TAPS + 1, 6.0)
    centre = 2 * SINC_HALF_TAPS
    return np.sinc(distance) * np.interp(distance * 2 + centre, np.arange(len(window)), window)


_TAPS = _interpolator().astype(np.float32)


def _peaks_after(x: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The true peak of x over [i, i + 1] for each i in `index` (x padded by SINC_HALF_TAPS)."""
    windows = sliding_window_view(x, 2 * SINC_HALF_TAPS)[index - SINC_HALF_TAPS + 1]
    between = np.einsum("kj,pj->kp", windows, _TAPS)  # einsum, not BLAS: its threads spin
    ends = np.maximum(np.abs(x[index]), np.abs(x[index + 1]))
    return np.maximum(np.abs(between).max(axis=1), ends)


def _peaks_near(x: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """(i, true peak over [i, i + 1]) for every interval next to a sample louder than `level`."""
    loud = np.flatnonzero(np.abs(x) > level)
    near = np.zeros(len(x) + 1, dtype=bool)
    near[loud] = True
    near[loud[loud > 0] - 1] = True
    starts = np.flatnonzero(near[: len(x) - 1])
    return starts, _peaks_after(np.pad(x, SINC_HALF_TAPS + 1), starts + SINC_HALF_TAPS + 1)


def true_peak_db(x: np.ndarray) -> float:
    """The true peak of `x` (float, full scale 1.0) in dBTP (-inf for silence): the sample peak,
    or the peak interpolated between samples next to one within CANDIDATE_DB of it."""
    sample_peak = float(np.abs(x).max()) if len(x) else 0.0
    if sample_peak == 0.0:
        return -np.inf
    _, peaks = _peaks_near(x, sample_peak * 10.0 ** (-CANDIDATE_DB / 20.0))
    return float(20.0 * np.log10(max(sample_peak, float(peaks.max(initial=0.0)))))


def gain_curve(x: np.ndarray, ceiling: float, sample_rate: int) -> np.ndarray | None:
    """Per-sample gain (<= 1) keeping the true peak of `x * gain` under `ceiling` (linear).

    None when `x` needs no limiting. The first and last `margin(sample_rate)` samples of the
    result are not reliable (their neighbourhood is cut off): callers pass overlapping chunks.
    """
    starts, peaks = _peaks_near(x, ceiling * 10.0 ** (-CANDIDATE_DB / 20.0))
    over = peaks > ceiling
    if not over.any():
        return None
    # The requirement per block of BLOCK samples: the smallest need of any interval touching it.
    blocks = -(-len(x) // BLOCK)
    required = np.ones(blocks, dtype=np.float32)
    needed = (ceiling / peaks[over]).astype(np.float32)
    for side in (0, 1):  # the interval [i, i + 1] constrains both of its samples
        np.minimum.at(required, np.minimum((starts[over] + side) // BLOCK, blocks - 1), needed)
    ramp, hold = _ramp_hold(sample_rate)
    # Held low from `ramp` + 1 blocks before a need to `ramp` + `hold` + 1 after it (the extra
    # block each side makes a block's neighbours obey its need too, so interpolating from a
    # block's start to the next one's cannot rise above it), then ramped by a moving average.
    held = _running_min(required, 2 * ramp + hold + 3)
    held = np.concatenate([np.full(hold // 2, held[0]), held[: len(held) - hold // 2]])
    smooth = np.minimum(_running_mean(held, 2 * ramp + 1), 1.0).astype(np.float32)
    after = np.append(smooth[1:], smooth[-1])  # linear from each block's start to the next's
    step = np.arange(BLOCK, dtype=np.float32) / BLOCK
    return (smooth[:, None] + (after - smooth)[:, None] * step).ravel()[: len(x)]


def _running_min(values: np.ndarray, width: int) -> np.ndarray:
    """Minimum over the centred window of odd `width` (edges extended), in linear time.

    van Herk / Gil-Werman: cut into blocks of `width`; a window spans at most two blocks, so its
    minimum is the suffix minimum of one block with the prefix minimum of the next.
    """
    half = width // 2
    n = len(values)
    padded = np.pad(values, (half, half + (-(n + 2 * half)) % width), mode="edge")
    blocks = padded.reshape(-1, width)
    prefix = np.minimum.accumulate(blocks, axis=1).ravel()
    suffix = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(suffix[:n], prefix[width - 1 : width - 1 + n])


def _running_mean(values: np.ndarray, width: int) -> np.ndarray:
    """Mean over the centred window of odd `width` (edges extended)."""
    half = width // 2
    sums = np.concatenate([[0.0], np.cumsum(np.pad(values, half, mode="edge"), dtype=np.float64)])
    return (sums[width:] - sums[:-width]) / width


def margin(sample_rate: int) -> int:
    """Samples of context a chunk needs on each side for its gain curve to be exact."""
    ramp, hold = _ramp_hold(sample_rate)
    blocks = 2 * (2 * ramp + hold) + 4 + -(-(SINC_HALF_TAPS + 2) // BLOCK)
    return blocks * BLOCK  # whole blocks: every chunk's curve lies on the same block grid


def limited_pcm16(
    samples: np.ndarray, gain_db: float, ceiling_db: float, sample_rate: int
) -> Iterator[memoryview]:
    """`samples` (float, full scale 1.0) times the gain, true-peak limited to `ceiling_db`,
    as little-endian 16-bit PCM chunks."""
    for chunk in _limited(samples, gain_db, ceiling_db, sample_rate):
        pcm = np.clip(np.rint(chunk * PCM_SCALE), -32768, 32767).astype("<i2")
        yield memoryview(pcm).cast("B")


def limiting_loss_db(
    samples: np.ndarray, gain_db: float, ceiling_db: float, sample_rate: int
) -> float:
    """How much quieter (dB, <= 0) limiting makes `samples` at this gain: the energy it takes.

    Estimated on at most LOSS_CHUNKS chunks spread over the episode (speech is alike throughout),
    so it costs the same whatever the length. Speech's pauses hold no energy, so this is close
    to the change in gated loudness.
    """
    gain = np.float32(10.0 ** (gain_db / 20.0))
    starts = range(0, len(samples), CHUNK_FRAMES)
    picked = sorted({starts[round(i)] for i in np.linspace(0, len(starts) - 1, LOSS_CHUNKS)})
    before = after = 0.0
    for start in picked:
        chunk = next(_limited(samples, gain_db, ceiling_db, sample_rate, first=start))
        plain = samples[start : start + len(chunk)] * gain
        before += float(np.einsum("i,i->", plain, plain, dtype=np.float64))  # no BLAS threads
        after += float(np.einsum("i,i->", chunk, chunk, dtype=np.float64))
    return float(10.0 * np.log10(after / before)) if before > 0 and after > 0 else 0.0


def _limited(
    samples: np.ndarray, gain_db: float, ceiling_db: float, sample_rate: int, first: int = 0
) -> Iterator[np.ndarray]:
    """`samples` from `first` on, times the gain, limited, in float32 chunks of CHUNK_FRAMES."""
    gain = np.float32(10.0 ** (gain_db / 20.0))
    ceiling = 10.0 ** (ceiling_db / 20.0)
    context = margin(sample_rate)
    for start in range(first, len(samples), CHUNK_FRAMES):
        stop = min(start + CHUNK_FRAMES, len(samples))
        lo, hi = max(0, start - context), min(len(samples), stop + context)
        extended = samples[lo:hi] * gain
        curve = gain_curve(extended, ceiling, sample_rate)
        if curve is not None:
            extended *= curve
        yield extended[start - lo : stop - lo]


def _ramp_hold(sample_rate: int) -> tuple[int, int]:
    """Half the ramp and the hold, in blocks (the hold even, so it shifts by whole blocks)."""
    ramp = max(1, round(sample_rate * RAMP_MS / 2000.0 / BLOCK))
    hold = 2 * max(1, round(sample_rate * HOLD_MS / 2000.0 / BLOCK))
    return ramp, hold
