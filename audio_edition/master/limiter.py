"""Gain and a true-peak limiter, streamed out as 16-bit PCM for the encoder.

Speech read at -16 LUFS peaks 1-4 dB above -1 dBTP (the offline voice's peak-to-loudness ratio is
about 17 dB), so the loudest syllables need a few dB of limiting. The limiter is look-ahead and
offline, in numpy, linear in the signal's length:
- true peak: every sample within CANDIDATE_DB of the ceiling gets the peaks between it and its
  neighbours interpolated at OVERSAMPLE x by a windowed sinc (the only places an inter-sample
  peak can cross the ceiling); each such sample requires gain <= ceiling / peak. The peaks are
  found once on the signal at unit gain (they scale with the gain) and serve every pass: the
  loss estimate, the encode, a correction;
- the gain curve: a running minimum over the sample's neighbourhood (a ramp before, a hold after)
  then a moving average of one ramp's length. The average of minima is never above the
  requirement of any sample it covers, so the ceiling holds exactly, with smooth linear ramps
  and no gain wobble between the pitch pulses of one syllable. It is computed on blocks of
  BLOCK samples (a third of a millisecond) for the whole signal, and interpolated chunk by chunk
  as the signal is streamed out, which keeps the guarantee.
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
REUSE_DB = 1.0  # dB below the candidates a pass needs that the limiter finds them down to
CHUNK_FRAMES = 1 << 20  # samples streamed out at a time (a multiple of BLOCK): bounds temporaries
PEAKS_AT_ONCE = 1 << 15  # intervals interpolated at a time: their windows stay in cache
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
    # one row per interpolated offset, so that the maximum runs along whole rows; einsum, not
    # BLAS: its threads spin
    between = np.abs(np.einsum("pj,kj->pk", _TAPS, windows)).max(axis=0)
    return np.maximum(np.maximum(np.abs(x[index]), np.abs(x[index + 1])), between)


def _peaks_near(x: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """(i, true peak over [i, i + 1]) for every interval next to a sample louder than `level`."""
    loud = np.flatnonzero(np.abs(x) > level)
    near = np.zeros(len(x) + 1, dtype=bool)
    near[loud] = True
    near[loud[loud > 0] - 1] = True
    starts = np.flatnonzero(near[: len(x) - 1])
    padded = np.pad(x, SINC_HALF_TAPS + 1)
    pieces = [
        _peaks_after(padded, starts[i : i + PEAKS_AT_ONCE] + SINC_HALF_TAPS + 1)
        for i in range(0, len(starts), PEAKS_AT_ONCE)
    ]
    return starts, np.concatenate(pieces) if pieces else np.zeros(0, x.dtype)


def true_peak_db(x: np.ndarray) -> float:
    """The true peak of `x` (float, full scale 1.0) in dBTP (-inf for silence): the sample peak,
    or the peak interpolated between samples next to one within CANDIDATE_DB of it."""
    sample_peak = float(np.abs(x).max()) if len(x) else 0.0
    if sample_peak == 0.0:
        return -np.inf
    _, peaks = _peaks_near(x, sample_peak * 10.0 ** (-CANDIDATE_DB / 20.0))
    return float(20.0 * np.log10(max(sample_peak, float(peaks.max(initial=0.0)))))


class Limiter:
    """A true-peak limiter for one signal (float32, full scale 1.0) at any gain and ceiling.

    The interpolated peaks (the costly part) are found once, on the signal at unit gain, a little
    below where the first gain and ceiling asked for need them (REUSE_DB), so that the pass at a
    slightly higher gain that follows the loss estimate finds them all already; a pass that needs
    lower ones finds them again. Only the blocks the gain curve lowers are touched.
    """

    def __init__(self, samples: np.ndarray, sample_rate: int) -> None:
        blocks = -(-len(samples) // BLOCK)
        self._blocks = np.zeros((blocks, BLOCK), np.float32)  # the signal in rows of one block
        self._blocks.ravel()[: len(samples)] = samples
        self.samples = self._blocks.ravel()[: len(samples)]
        self.sample_rate = sample_rate
        self._level = np.inf  # every interval next to a sample louder than this is in _peaks
        self._starts = self._peaks = np.zeros(0)

    def loss_db(self, gain_db: float, ceiling_db: float) -> float:
        """How much quieter (dB, <= 0) limiting makes the signal at this gain: the energy it
        takes. Speech's pauses hold no energy, so this is close to the change in gated loudness.
        """
        rows, curve = self._curve(gain_db, ceiling_db)
        x = self.samples
        before = float(np.einsum("i,i->", x, x, dtype=np.float64))  # einsum: no BLAS threads
        plain = self._blocks[rows]
        limited = plain * curve
        taken = np.einsum("ij,ij->", plain, plain, dtype=np.float64) - np.einsum(
            "ij,ij->", limited, limited, dtype=np.float64
        )
        after = before - float(taken)
        return float(10.0 * np.log10(after / before)) if before > 0 and after > 0 else 0.0

    def pcm16(self, gain_db: float, ceiling_db: float) -> Iterator[memoryview]:
        """The signal times the gain, true-peak limited to `ceiling_db`, as little-endian 16-bit
        PCM chunks."""
        gain = np.float32(10.0 ** (gain_db / 20.0))
        rows, curve = self._curve(gain_db, ceiling_db)
        per_chunk = CHUNK_FRAMES // BLOCK
        for first in range(0, len(self._blocks), per_chunk):
            chunk = self._blocks[first : first + per_chunk] * gain
            lo, hi = np.searchsorted(rows, [first, first + per_chunk])
            chunk[rows[lo:hi] - first] *= curve[lo:hi]
            chunk = chunk.ravel()[: len(self.samples) - first * BLOCK]
            pcm = np.clip(np.rint(chunk * PCM_SCALE), -32768, 32767).astype("<i2")
            yield memoryview(pcm).cast("B")

    def _curve(self, gain_db: float, ceiling_db: float) -> tuple[np.ndarray, np.ndarray]:
        """The blocks the gain curve lowers (ascending) and the curve over each (one row of
        BLOCK gains <= 1, linear from the block's start to the next one's)."""
        smooth = self._block_gains(10.0 ** (gain_db / 20.0), 10.0 ** (ceiling_db / 20.0))
        if smooth is None:
            return np.zeros(0, np.intp), np.zeros((0, BLOCK), np.float32)
        after = np.append(smooth[1:], smooth[-1])
        rows = np.flatnonzero((smooth < 1.0) | (after < 1.0))
        step = np.arange(BLOCK, dtype=np.float32) / BLOCK
        low, high = smooth[rows], after[rows]
        return rows, low[:, None] + (high - low)[:, None] * step

    def _block_gains(self, gain: float, ceiling: float) -> np.ndarray | None:
        """The gain curve (<= 1) at the start of each block that keeps the true peak of the
        signal times `gain` under `ceiling` (both linear); None when none is needed."""
        level = ceiling / gain * 10.0 ** (-CANDIDATE_DB / 20.0)
        if level < self._level:
            self._level = level * 10.0 ** (-REUSE_DB / 20.0)
            self._starts, self._peaks = _peaks_near(self.samples, self._level)
        gain = np.float32(gain)
        over = self._peaks * gain > ceiling
        if not over.any():
            return None
        # The requirement per block: the smallest need of any interval touching it.
        blocks = len(self._blocks)
        required = np.ones(blocks, dtype=np.float32)
        needed = (ceiling / (self._peaks[over] * gain)).astype(np.float32)
        for side in (0, 1):  # the interval [i, i + 1] constrains both of its samples
            where = np.minimum((self._starts[over] + side) // BLOCK, blocks - 1)
            np.minimum.at(required, where, needed)
        ramp, hold = _ramp_hold(self.sample_rate)
        # Held low from `ramp` + 1 blocks before a need to `ramp` + `hold` + 1 after it (the extra
        # block each side makes a block's neighbours obey its need too, so interpolating from a
        # block's start to the next one's cannot rise above it), then ramped by a moving average.
        held = _running_min(required, 2 * ramp + hold + 3)
        held = np.concatenate([np.full(hold // 2, held[0]), held[: len(held) - hold // 2]])
        return np.minimum(_running_mean(held, 2 * ramp + 1), 1.0).astype(np.float32)


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


def _ramp_hold(sample_rate: int) -> tuple[int, int]:
    """Half the ramp and the hold, in blocks (the hold even, so it shifts by whole blocks)."""
    ramp = max(1, round(sample_rate * RAMP_MS / 2000.0 / BLOCK))
    hold = 2 * max(1, round(sample_rate * HOLD_MS / 2000.0 / BLOCK))
    return ramp, hold
