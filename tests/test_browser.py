"""The pages in a real headless Chromium (Debian's `chromium`, driven by Playwright): axe-core
finds no accessibility violations, and the player works from the keyboard alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import FIXTURE_SECONDS, build_fixture_edition

from audio_edition.config import PublicationConfig
from audio_edition.publish.feed import write_feed
from audio_edition.publish.page import write_index_page
from audio_edition.publish.serve import running_server
from audio_edition.publish.store import load_episodes

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000  # for anything a page waits on
MAX_TABS = 80  # more Tab presses than the page has stops before the transcript

if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extras")
axe = pytest.importorskip(
    "axe_playwright_python.base", reason="axe-playwright-python (dev extra) bundles axe-core"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory, fixture_mp3):
    """Two built editions served on a free port of 127.0.0.1; yields (base URL, newest)."""
    out = tmp_path_factory.mktemp("browser") / "out"
    config = PublicationConfig(title="赤峰日报有声版")
    build_fixture_edition(out, config, dt.date(2026, 11, 28), fixture_mp3)
    episode, audio = build_fixture_edition(
        out, config, dt.date(2026, 11, 29), fixture_mp3, note="第二篇标题有误，已更正。"
    )
    write_feed(out, config, load_episodes(out))
    write_index_page(out, config, load_episodes(out))
    with running_server(out) as base:
        yield base, episode, audio


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


def open_episode(page, site):
    base, episode, _ = site
    page.goto(f"{base}/{episode.page_file}")
    page.wait_for_function("!document.getElementById('player-controls').hidden")
    # the server answers the player's range requests: the real MP3's metadata loads
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    duration = page.evaluate("document.getElementById('player').duration")
    assert duration == pytest.approx(FIXTURE_SECONDS, abs=0.5)


def axe_violations(page) -> list[dict]:
    page.evaluate(axe.AXE_SCRIPT)
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"][:120] for n in v["nodes"]]}
        for v in results["violations"]
    ]


def test_axe_finds_no_violations_on_the_episode_page(page, site):
    open_episode(page, site)
    assert axe_violations(page) == []


def test_axe_finds_no_violations_while_a_sentence_is_highlighted(page, site):
    open_episode(page, site)
    _, _, audio = site
    assert page.locator(".cue[aria-current='true']").count() == 0  # nothing before playing
    page.evaluate("document.getElementById('player').currentTime = 20")
    spoken = next(s for s in audio.segments if s.start_ms <= 20_000 < s.end_ms)
    page.wait_for_selector(f".cue[aria-current='true'][data-start='{spoken.start_ms / 1000:.3f}']")
    assert page.locator(".cue[aria-current='true']").count() == 1
    assert axe_violations(page) == []


def test_axe_finds_no_violations_on_the_index_page(page, site):
    base, _, _ = site
    page.goto(f"{base}/")
    assert page.locator("h1").inner_text() == "赤峰日报有声版"
    assert axe_violations(page) == []


def tab_to(page, selector: str, index: int) -> None:
    """Press Tab until the index-th element matching selector has the focus."""
    check = f"document.activeElement === document.querySelectorAll({selector!r})[{index}]"
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate(check):
            return
    pytest.fail(f"{selector} #{index + 1} was not reached with {MAX_TABS} Tab presses")


def test_keyboard_alone_reaches_and_plays_chapter_three(page, site):
    _, episode, audio = site
    open_episode(page, site)
    url = page.url
    tab_to(page, "a.chapter", 2)
    focus = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
    )
    assert focus[0] != "none" and focus[1] >= 2  # the focus is visible

    page.keyboard.press("Enter")
    start = audio.chapters[2].start_ms / 1000
    page.wait_for_function(
        f"Math.abs(document.getElementById('player').currentTime - {start}) < 0.001"
    )
    assert page.evaluate("document.getElementById('player').currentTime") == pytest.approx(
        start, abs=0.001
    )
    assert page.url == url  # seeked in place, no navigation to the MP3
    assert page.evaluate("document.activeElement.classList.contains('chapter')")  # focus kept
    current = page.locator(".cue[aria-current='true']")
    assert float(current.get_attribute("data-start")) == pytest.approx(start, abs=0.001)
    assert page.locator("a.chapter[aria-current='true']").inner_text() == audio.chapters[2].title
    status = page.locator("#player-status").inner_text()
    clock = f"{int(start) // 60:02d}:{int(start) % 60:02d}"
    assert status == f"已跳到 {clock}：{audio.chapters[2].title}"  # said politely, once


def test_keyboard_skips_forward_and_back(page, site):
    open_episode(page, site)
    tab_to(page, "button[data-skip]", 3)  # 前进 30 秒
    page.keyboard.press("Space")
    page.wait_for_function("document.getElementById('player').currentTime === 30")
    page.keyboard.press("Shift+Tab")  # 前进 15 秒
    page.keyboard.press("Shift+Tab")  # 后退 15 秒
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('player').currentTime === 15")


def test_speed_and_follow_along_controls(page, site):
    open_episode(page, site)
    page.select_option("#rate", "1.5")
    assert page.evaluate("document.getElementById('player').playbackRate") == 1.5
    tab_to(page, "#follow", 0)
    page.keyboard.press("Space")
    assert page.locator("#follow").is_checked()
    # the preferences survive a reload
    open_episode(page, site)
    assert page.locator("#follow").is_checked()
    assert page.evaluate("document.getElementById('player').playbackRate") == 1.5


def test_without_javascript_chapters_and_transcript_still_read(browser, site):
    base, episode, audio = site
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{base}/{episode.page_file}")
        assert page.locator("audio[controls]").count() == 1
        assert not page.locator("#player-controls").is_visible()
        chapters = page.locator("a.chapter")
        assert chapters.count() == len(audio.chapters)
        href = chapters.nth(2).get_attribute("href")
        assert href.endswith(f"#t={audio.chapters[2].start_ms / 1000:.3f}")
        assert page.locator(".cue").count() == len(audio.segments)
        assert page.locator(".cue").first.is_visible()
        # the native player still loads the MP3 (the test harness reads it, the page runs no JS)
        page.wait_for_function("document.querySelector('audio').readyState >= 1")
        # following a chapter link opens the MP3 at the chapter: a media fragment
        tab_to(page, "a.chapter", 2)
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/{Path(episode.audio_file).name}#t=*")
        media = "document.querySelector('video, audio')"
        page.wait_for_function(f"{media} && {media}.readyState >= 1")
        position = page.evaluate(f"{media}.currentTime")
        assert position == pytest.approx(audio.chapters[2].start_ms / 1000, abs=0.5)
    finally:
        context.close()


def test_follow_along_scrolls_only_when_asked_and_keeps_the_focus(page, site):
    _, _, audio = site
    page.set_viewport_size({"width": 800, "height": 500})
    open_episode(page, site)
    last = audio.segments[-1]
    cue = page.locator(f".cue[data-start='{last.start_ms / 1000:.3f}']")
    page.evaluate(f"document.getElementById('player').currentTime = {last.start_ms / 1000 + 0.5}")
    page.wait_for_selector(f".cue[aria-current='true'][data-start='{last.start_ms / 1000:.3f}']")
    assert page.evaluate("window.scrollY") == 0  # not following: the page stays put
    sync_api.expect(cue).not_to_be_in_viewport()

    tab_to(page, "#follow", 0)
    page.keyboard.press("Space")
    sync_api.expect(cue).to_be_in_viewport()
    assert page.evaluate("document.activeElement.id") == "follow"  # the focus stays


def player_time(page) -> float:
    return page.evaluate("document.getElementById('player').currentTime")


def test_the_listening_position_is_offered_back_after_the_tab_is_closed(browser, site):
    """A listener who closes the tab at 23 s and opens the episode again is offered to
    continue from 00:23, and continues there; another episode offers nothing."""
    base, episode, _ = site
    context = browser.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        open_episode(page, site)
        assert not page.locator("#resume").is_visible()  # nothing saved yet
        page.evaluate("document.getElementById('player').currentTime = 23.4")
        page.wait_for_function("document.getElementById('player').seeking === false")
        page.close()  # the tab is closed

        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        open_episode(page, site)
        offer = page.locator("#resume-button")
        sync_api.expect(offer).to_be_visible()
        assert offer.inner_text() == "从上次听到的 00:23 继续收听"
        assert player_time(page) == 0  # offered, not imposed
        assert axe_violations(page) == []
        tab_to(page, "#resume-button", 0)  # reachable from the keyboard
        page.keyboard.press("Enter")
        page.wait_for_function(
            "Math.abs(document.getElementById('player').currentTime - 23.4) < 0.5"
        )
        assert not page.locator("#resume").is_visible()
        assert page.locator("#player-status").inner_text() == "从 00:23 继续播放"

        # while it plays, the position is saved as it goes (every few seconds)
        page.wait_for_function("document.getElementById('player').currentTime > 29.5")
        page.reload()
        sync_api.expect(offer).to_be_visible()
        assert offer.inner_text() in ("从上次听到的 00:28 继续收听", "从上次听到的 00:29 继续收听")

        # the position belongs to that episode: the other edition's page offers nothing
        page.goto(f"{base}/")
        other = page.locator(".editions h3 a").last.get_attribute("href")
        assert other != episode.page_file
        page.goto(f"{base}/{other}")
        page.wait_for_function("!document.getElementById('player-controls').hidden")
        assert not page.locator("#resume").is_visible()
    finally:
        context.close()


def test_an_episode_heard_to_the_end_is_not_offered_again(browser, site):
    context = browser.new_context(locale="zh-CN")
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        open_episode(page, site)
        page.evaluate("document.getElementById('player').currentTime = 30")
        page.wait_for_function("document.getElementById('player').seeking === false")
        page.reload()
        sync_api.expect(page.locator("#resume-button")).to_be_visible()
        # heard to the end: the saved position is forgotten
        page.evaluate("document.getElementById('player').currentTime = 39.9")
        page.wait_for_function("document.getElementById('player').seeking === false")
        page.reload()
        page.wait_for_function("!document.getElementById('player-controls').hidden")
        assert not page.locator("#resume").is_visible()
    finally:
        context.close()


def test_axe_finds_no_violations_in_the_talking_books_text(
    page, tmp_path, sample_page, fixture_mp3
):
    """The EPUB's documents (the sample page's text), also with a sentence highlighted as a
    reading system highlights it while reading aloud (the book claims WCAG 2.2 AA)."""
    import zipfile

    from conftest import sample_talking_book

    from audio_edition.publish.epub import ACTIVE_CLASS, write_epub

    book, _ = sample_talking_book(sample_page, fixture_mp3)
    folder = tmp_path / "book"
    with zipfile.ZipFile(write_epub(book, tmp_path / "sample.epub")) as z:
        z.extractall(folder)
    documents = sorted(p.name for p in (folder / "EPUB").glob("*.xhtml"))
    assert "nav.xhtml" in documents and len(documents) > 5
    with running_server(folder) as base:
        for name in documents:
            page.goto(f"{base}/EPUB/{name}")
            assert page.evaluate("document.contentType") == "application/xhtml+xml"
            assert axe_violations(page) == [], name
        page.goto(f"{base}/EPUB/a01.xhtml")
        page.evaluate(f"document.getElementById('a01-3').classList.add('{ACTIVE_CLASS}')")
        assert axe_violations(page) == []
