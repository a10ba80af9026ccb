"""Cover art: the user's square image, or a default drawn here (a PNG written with zlib).

The default is geometric, so it needs no font: a broadcast mark (a dot with sound waves on both
sides) between a masthead bar and three column rules, white on a gradient whose hue comes from
the publication's name. It is deterministic: the same publication always gets the same bytes.
Drawing it takes 0.2 s of a core, which a correction's build would spend beside re-mastering one
part, so it is drawn once per machine and kept in the user's cache folder (usercache.py), under
a name made of the package's code, numpy's version, the publication and the size.
"""

from __future__ import annotations

import colorsys
import hashlib
import struct
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from audio_edition.config import ARTWORK_SIZES, check_artwork
from audio_edition.usercache import cached_bytes, code_fingerprint

COVER_PX = ARTWORK_SIZES[0]  # px: the smallest square Apple Podcasts accepts
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WAVE_ANGLE_DEG = 40.0  # half the angle the sound waves span around the horizontal
WAVE_RADII = (0.17, 0.27, 0.37)  # radii of the waves, as a fraction of the side
WAVE_OPACITY = (1.0, 0.75, 0.5)
STROKE = 0.034  # width of waves and rules, as a fraction of the side


def cover_image(path: Path | None, publication: str) -> tuple[bytes, str]:
    """(image bytes, MIME type) of the episode's cover: `path`'s image, or the default."""
    if path is None:
        return default_cover(publication), "image/png"
    check_artwork(Path(path))  # the config's rules: a square PNG or JPEG Apple accepts
    data = Path(path).read_bytes()
    return data, "image/png" if data.startswith(PNG_SIGNATURE) else "image/jpeg"


@lru_cache(maxsize=8)
def default_cover(publication: str, size: int = COVER_PX) -> bytes:
    """The generated cover for `publication` as PNG bytes, `size` px square, from the user's
    cache folder (drawn there first when it is missing)."""
    drawing = hashlib.sha256(f"{size}\0{publication}".encode()).hexdigest()
    name = f"cover-{code_fingerprint('numpy')[:16]}-{drawing[:16]}.png"
    return cached_bytes(name, lambda: draw_cover(publication, size))


def draw_cover(publication: str, size: int = COVER_PX) -> bytes:
    """Draw the generated cover for `publication` as PNG bytes, `size` px square."""
    hue = hashlib.sha256(publication.encode()).digest()[0] / 255.0
    top = np.array(colorsys.hsv_to_rgb(hue, 0.55, 0.42), dtype=np.float32)
    bottom = np.array(colorsys.hsv_to_rgb((hue + 0.06) % 1.0, 0.70, 0.16), dtype=np.float32)
    centres = (np.arange(size, dtype=np.float32) + 0.5) / size  # pixel centres, 0..1
    shade = centres[:, None]
    image = (top * (1 - shade) + bottom * shade)[:, None, :]  # one colour a row

    px = 1.0 / size  # one pixel, as a fraction of the side: the width of the anti-aliased edge
    ink = np.zeros((size, size), dtype=np.float32)
    # Each shape is drawn in the box around it (its coverage is 0 further than half a pixel out)
    cx, cy = 0.5, 0.52
    reach = max(WAVE_RADII) + STROKE
    box, x, y = _box(ink, centres, cx - reach, cy - reach, cx + reach, cy + reach)
    dx, dy = x - cx, y - cy
    radius = np.hypot(dx, dy)
    np.maximum(box, _coverage(radius - 0.065, px), out=box)  # the dot
    angle = np.degrees(np.arctan2(np.abs(dy), np.abs(dx)))  # 0 along the horizontal, both sides
    for r, opacity in zip(WAVE_RADII, WAVE_OPACITY, strict=True):
        ring = _coverage(np.abs(radius - r) - STROKE / 2, px)
        ends = _coverage(angle - WAVE_ANGLE_DEG, np.degrees(px / r))  # one pixel wide at r
        np.maximum(box, opacity * ring * ends, out=box)
    bars = [(0.22, 0.78, 0.13, 0.155, 1.0)]  # masthead: left, right, top, bottom, opacity
    for row, right in enumerate((0.78, 0.70, 0.58)):  # three column rules
        top_edge = 0.82 + row * 0.045
        bars.append((0.22, right, top_edge, top_edge + 0.016, 0.6))
    for left, right, top_edge, bottom_edge, opacity in bars:
        box, x, y = _box(ink, centres, left, top_edge, right, bottom_edge)
        bar = _bar(x, y, left, right, top_edge, bottom_edge, px)
        np.maximum(box, opacity * bar, out=box)
    image = image * (1 - ink[..., None]) + ink[..., None]
    return _png(np.clip(np.rint(image * 255), 0, 255).astype(np.uint8))


def _box(ink: np.ndarray, centres: np.ndarray, left, top, right, bottom):  # noqa: ANN001, ANN202
    """The part of `ink` around [left, right] x [top, bottom] (fractions of the side, with two
    pixels to spare), and its pixel centres' x (a row) and y (a column)."""
    size = len(centres)
    first_col, last_col = max(0, int(left * size) - 2), min(size, int(right * size) + 3)
    first_row, last_row = max(0, int(top * size) - 2), min(size, int(bottom * size) + 3)
    box = ink[first_row:last_row, first_col:last_col]
    return box, centres[None, first_col:last_col], centres[first_row:last_row, None]


def _coverage(distance: np.ndarray, edge: float) -> np.ndarray:
    """How much of a pixel a shape covers, from its signed distance to the shape's edge."""
    return np.clip(0.5 - distance / edge, 0.0, 1.0)


def _bar(x, y, left, right, top, bottom, px) -> np.ndarray:  # noqa: ANN001 - arrays and floats
    """A rectangle with round ends."""
    half = (bottom - top) / 2
    mid = (top + bottom) / 2
    along = np.clip(x, left + half, right - half)
    return _coverage(np.hypot(x - along, y - mid) - half, px)


def _png(rgb: np.ndarray) -> bytes:
    height, width, _ = rgb.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, -1)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
