"""Turn an input file's bytes into text: UTF-8 (with or without BOM), else GB18030."""

from __future__ import annotations

import re
from pathlib import Path

from audio_edition.errors import InputError

MAX_INPUT_BYTES = (
    5_000_000  # bytes (5 MB): a day's page text is ~20 kB, so this only stops mistakes
)
ENCODINGS = ("utf-8-sig", "gb18030")  # tried in this order; utf-8-sig also reads UTF-8 without BOM
BINARY_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f]")  # control characters no text file has


def read_text(path: Path) -> str:
    """Read one input file as text with `\\n` line ends, or raise InputError saying what to fix."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a directory; give the text files inside it")
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path")
    size = path.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise InputError(
            f"{path}: {size / 1e6:.1f} MB is more than the {MAX_INPUT_BYTES / 1e6:.0f} MB "
            "limit for one input; split it into pages"
        )
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot be read ({e.strerror}); check its permissions") from e
    text = decode(data)
    if text is None:
        raise InputError(
            f"{path}: is not a text file (binary data); give the page's extracted text "
            "in UTF-8 or GB18030"
        )
    if not text.strip():
        raise InputError(f"{path}: is empty; export the page's text again")
    return text


def decode(data: bytes) -> str | None:
    """Decode bytes as UTF-8 or GB18030 with line ends normalised; None when they are not text."""
    if b"\x00" in data:
        return None
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if BINARY_CHARS.search(text):
            return None
        return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return None
