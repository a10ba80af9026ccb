"""`audio-edition serve`: a small static server for the output directory, with the HTTP Range
requests podcast players seek with, and nothing outside the directory (or hidden in it)
reachable: no `..`, no symlinks that lead out, no dot-files (.cache, .lock)."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

from audio_edition.errors import PublishError

CONTENT_TYPES = {
    ".mp3": "audio/mpeg",
    ".vtt": "text/vtt; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml; charset=utf-8",  # browsers show it; podcast apps sniff RSS
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
COPY_CHUNK = 64 * 1024  # bytes per write
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")

log = logging.getLogger(__name__)


class _Handler(SimpleHTTPRequestHandler):
    """Static files from `directory` only, with single byte-range support."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}
    _range: tuple[int, int] | None = None

    def send_head(self) -> BinaryIO | None:  # type: ignore[override]
        self._range = None
        path = self._resolve(self.path)
        if path is None:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        if path.is_dir():
            if not self.path.split("?", 1)[0].endswith("/"):
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                parts = urllib.parse.urlsplit(self.path)
                self.send_header("Location", parts._replace(path=parts.path + "/").geturl())
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            path = path / "index.html"
            if not path.is_file():
                self.send_error(HTTPStatus.NOT_FOUND, "File not found")
                return None
        try:
            f = path.open("rb")
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        size = os.fstat(f.fileno()).st_size
        wanted = self.headers.get("Range")
        byte_range = _parse_range(wanted, size) if wanted else None
        if byte_range == "unsatisfiable":
            f.close()
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if byte_range is None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Length", str(size))
        else:
            start, end = byte_range
            self._range = byte_range
            self.send_response(HTTPStatus.PARTIAL_CONTENT)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Last-Modified", self.date_time_string(int(os.fstat(f.fileno()).st_mtime)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        return f

    def copyfile(self, source: BinaryIO, outputfile: BinaryIO) -> None:  # type: ignore[override]
        start, end = self._range or (0, None)
        source.seek(start)
        left = None if end is None else end - start + 1
        try:
            while left is None or left > 0:
                chunk = source.read(COPY_CHUNK if left is None else min(COPY_CHUNK, left))
                if not chunk:
                    break
                outputfile.write(chunk)
                if left is not None:
                    left -= len(chunk)
        except ConnectionError:  # players drop a range request as soon as they seek elsewhere
            log.debug("%s went away during %s", self.address_string(), self.path)

    def _resolve(self, url_path: str) -> Path | None:
        """The real file a URL path names, or None when it is outside the root or hidden."""
        root = Path(self.directory).resolve()
        try:
            path = urllib.parse.unquote(urllib.parse.urlsplit(url_path).path, errors="strict")
            parts = [p for p in path.split("/") if p]
            if any(p.startswith(".") or "\\" in p or "\x00" in p for p in parts):
                return None  # `..`, `.cache`, `.lock`, and the same percent-encoded
            real = root.joinpath(*parts).resolve(strict=True)
        except (OSError, RuntimeError, ValueError):  # missing, a loop, bad UTF-8
            return None
        if real != root and not real.is_relative_to(root):
            return None  # a symlink that leads out of the directory
        return real

    def list_directory(self, path: str | os.PathLike[str]) -> None:  # type: ignore[override]
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)


def _parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """(first, last) byte of a single `bytes=` range; "unsatisfiable"; or None to send it all
    (multiple or malformed ranges, which RFC 9110 lets a server ignore)."""
    match = _RANGE.fullmatch(header.strip())
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - suffix), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None
    if start >= size:
        return "unsatisfiable"
    return start, end


def make_server(directory: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A server for `directory`, bound but not yet serving (port 0 picks a free port)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise PublishError(f"cannot serve {str(directory)!r}: it is not a directory")
    handler = partial(_Handler, directory=str(directory.resolve()))
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as e:
        raise PublishError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
    server.daemon_threads = True
    return server


def serve(
    directory: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve `directory` until interrupted (Ctrl+C); `on_ready` gets the base URL once
    listening."""
    server = make_server(directory, host, port)
    with server, contextlib.suppress(KeyboardInterrupt):
        if on_ready:
            on_ready(f"http://{host}:{server.server_address[1]}")
        server.serve_forever()


@contextlib.contextmanager
def running_server(directory: Path, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `directory` in a background thread for the duration of the block; yields the base
    URL (e.g. "http://127.0.0.1:43125"). The server stops when the block ends."""
    server = make_server(directory, host, port)
    thread = threading.Thread(target=server.serve_forever, name="audio-edition-serve", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
