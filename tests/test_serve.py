"""`audio-edition serve`: ranges, content types, and nothing outside the directory."""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import inspect
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import build_fixture_edition

from audio_edition.config import DEFAULT_BASE_URL, PublicationConfig
from audio_edition.errors import PublishError
from audio_edition.publish.feed import write_feed
from audio_edition.publish.page import write_index_page
from audio_edition.publish.serve import _parse_range, make_server, running_server
from audio_edition.publish.store import load_episodes


@pytest.fixture(scope="module")
def site(tmp_path_factory, fixture_mp3):
    """A built output directory with a secret beside it and a symlink pointing at it."""
    root = tmp_path_factory.mktemp("site")
    out = root / "out"
    config = PublicationConfig()
    episode, _ = build_fixture_edition(out, config, dt.date(2026, 11, 29), fixture_mp3)
    write_feed(out, config, load_episodes(out))
    write_index_page(out, config, load_episodes(out))
    (root / "secret.txt").write_text("outside", encoding="utf-8")
    (out / "leak.txt").symlink_to(root / "secret.txt")
    (out / "leakdir").symlink_to(root, target_is_directory=True)
    (out / ".lock").write_text("build lock", encoding="utf-8")
    (out / "inside.txt").symlink_to(out / "index.html")  # a link that stays inside is fine
    with running_server(out) as base:
        yield out, base, episode


def request(base: str, path: str, method: str = "GET", headers: dict | None = None):
    """Send `path` exactly as written (no client-side normalisation of `..`)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_serves_pages_with_their_content_types(site):
    out, base, episode = site
    expected = {
        "/": "text/html; charset=utf-8",
        "/index.html": "text/html; charset=utf-8",
        "/feed.xml": "application/xml; charset=utf-8",
        "/" + episode.audio_file: "audio/mpeg",
        "/" + episode.transcript_file: "text/vtt; charset=utf-8",
        "/" + episode.chapters_file: "application/json",
        "/" + episode.page_file: "text/html; charset=utf-8",
        "/assets/player.js?v=1": "text/javascript; charset=utf-8",
        "/assets/style.css": "text/css; charset=utf-8",
    }
    for path, content_type in expected.items():
        status, headers, body = request(base, path)
        assert status == 200, path
        assert headers["Content-Type"] == content_type, path
        assert headers["Accept-Ranges"] == "bytes"
        assert headers["Cache-Control"] == "no-cache"  # a corrected feed or page is refetched
        assert email.utils.parsedate_to_datetime(headers["Last-Modified"]).year >= 2024
        assert int(headers["Content-Length"]) == len(body)
    assert request(base, "/")[2] == (out / "index.html").read_bytes()
    status, headers, _ = request(base, "/episodes/" + episode.edition_key)
    assert status == 301 and headers["Location"].endswith(episode.edition_key + "/")


def test_range_requests(site):
    out, base, episode = site
    data = (out / episode.audio_file).read_bytes()
    size = len(data)
    path = "/" + episode.audio_file
    cases = {
        "bytes=0-99": (0, 99),
        "bytes=1000-": (1000, size - 1),
        "bytes=-500": (size - 500, size - 1),
        f"bytes={size - 10}-{size + 1000}": (size - 10, size - 1),
    }
    for header, (first, last) in cases.items():
        status, headers, body = request(base, path, headers={"Range": header})
        assert status == 206, header
        assert headers["Content-Range"] == f"bytes {first}-{last}/{size}"
        assert int(headers["Content-Length"]) == last - first + 1
        assert body == data[first : last + 1]
    for header in (f"bytes={size}-", f"bytes={size + 5}-{size + 10}", "bytes=-0"):
        status, headers, body = request(base, path, headers={"Range": header})
        assert status == 416, header
        assert headers["Content-Range"] == f"bytes */{size}"
        assert body == b""
    # a malformed or multi-part range is ignored: the whole file
    status, headers, body = request(base, path, headers={"Range": "bytes=0-1,5-9"})
    assert status == 200 and body == data
    status, headers, body = request(base, path, "HEAD", {"Range": "bytes=0-9"})
    assert status == 206 and headers["Content-Length"] == "10" and body == b""


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/episodes/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/episodes/%2e%2e/%2e%2e/secret.txt",
        "/..%5csecret.txt",
        "/leak.txt",
        "/leakdir/secret.txt",
        "/.lock",
        "/%2elock",
        "/episodes/",  # no directory listings
        "/nothing-here.mp3",
        "/%ff%fe",
    ],
)
def test_nothing_outside_the_directory_is_reachable(site, path):
    _, base, _ = site
    status, _, body = request(base, path)
    assert status == 404, path
    assert b"outside" not in body and b"build lock" not in body


def test_a_symlink_that_stays_inside_is_served(site):
    out, base, _ = site
    status, _, body = request(base, "/inside.txt")
    assert status == 200 and body == (out / "index.html").read_bytes()


def test_server_refuses_a_missing_directory(tmp_path):
    with pytest.raises(PublishError, match="not a directory"):
        make_server(tmp_path / "missing")


@pytest.mark.subprocess
def test_serve_command_serves_until_stopped(site):
    out, _, _ = site
    command = [sys.executable, "-m", "audio_edition", "serve", str(out), "--port", "0"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        line = process.stdout.readline().decode()
        assert line.startswith(f"serving {out} at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].split("/ ", 1)[0]
        with urllib.request.urlopen(url + "/feed.xml", timeout=10) as response:
            assert response.read() == (out / "feed.xml").read_bytes()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_command_reports_a_missing_directory(tmp_path):
    from click.testing import CliRunner

    from audio_edition.cli import cli

    result = CliRunner().invoke(cli, ["serve", str(tmp_path / "missing")])
    assert result.exit_code == 1
    assert "not a directory" in result.output


def test_pages_are_reachable_by_their_relative_links(site):
    """The episode page's relative links resolve on the server (the page works when served)."""
    _, base, episode = site
    page_url = f"{base}/{episode.page_file}"
    with urllib.request.urlopen(page_url, timeout=10) as response:
        html = response.read().decode()
    for name in ("transcript.vtt", "chapters.json", Path(episode.audio_file).name):
        assert f'href="{name}"' in html
        with urllib.request.urlopen(f"{base}/episodes/{episode.edition_key}/{name}") as r:
            assert r.status == 200


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [  # RFC 9110 section 14.1.2, worked by hand
        ("bytes=5-5", 100, (5, 5)),  # one byte
        ("bytes=0-0", 100, (0, 0)),
        ("bytes=-1000", 100, (0, 99)),  # a suffix longer than the file: all of it
        ("bytes=-100", 100, (0, 99)),
        ("bytes=-1", 100, (99, 99)),
        ("bytes=99-", 100, (99, 99)),
        ("bytes=100-", 100, "unsatisfiable"),
        ("bytes=-5", 0, "unsatisfiable"),  # nothing to send from an empty file
        ("bytes=0-", 0, "unsatisfiable"),
        ("bytes=-5", 1, (0, 0)),
        ("bytes=-", 100, None),  # malformed: the whole file
        ("bytes=9-5", 100, None),  # last before first: ignored
        ("bytes=0-1,5-9", 100, None),
        ("items=0-5", 100, None),
    ],
)
def test_parse_range(header, size, expected):
    assert _parse_range(header, size) == expected


def test_a_redirect_has_an_empty_body_and_says_so(site):
    _, base, episode = site
    status, headers, body = request(base, "/episodes/" + episode.edition_key + "?x=1")
    assert status == 301 and headers["Content-Length"] == "0" and body == b""
    assert headers["Location"] == f"/episodes/{episode.edition_key}/?x=1"


def test_the_server_listens_on_loopback_where_the_default_base_url_points(tmp_path):
    default = inspect.signature(make_server).parameters
    assert (default["host"].default, default["port"].default) == ("127.0.0.1", 8000)
    assert DEFAULT_BASE_URL == "http://127.0.0.1:8000"
    server = make_server(tmp_path, port=0)
    try:
        assert server.server_address[0] == "127.0.0.1" and server.daemon_threads is True
    finally:
        server.server_close()
