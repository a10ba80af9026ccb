"""The accessible web pages: one per episode (player, chapters, transcript) and an index of
editions. Plain HTML from the templates in assets/, a small script and a style sheet; every
piece of user text is HTML-escaped, and every link is relative so OUT can be served anywhere."""

from __future__ import annotations

import hashlib
import html
import posixpath
from collections.abc import Sequence
from pathlib import Path
from string import Template

from audio_edition.config import PublicationConfig
from audio_edition.fsutil import atomic_write_bytes, atomic_write_text
from audio_edition.model import Episode, MasteredAudio, SegmentTiming
from audio_edition.publish.feed import FEED_NAME, episode_counts, printable
from audio_edition.publish.store import sort_newest_first
from audio_edition.titles import chinese_date

ASSETS = Path(__file__).resolve().parent / "assets"
STATIC_FILES = ("style.css", "player.js")  # copied to OUT/assets/
INDEX_NAME = "index.html"
INDEX_BY_MONTH_FROM = 13  # episodes: from this many on, the index groups them under months


def write_episode_page(
    out_dir: Path, config: PublicationConfig, episode: Episode, audio: MasteredAudio
) -> Path:
    """Write OUT/<episode.page_file> (OUT/episodes/<key>/index.html) atomically."""
    out_dir = Path(out_dir)
    page = episode.page_file
    assets = _publish_static(out_dir)
    audio_url = _relative(page, episode.audio_file)
    values = {
        "lang": config.html_lang,
        "title": _h(episode.title),
        "publication": _h(config.title),
        "summary": _h("、".join(episode.articles) or episode.title),
        "css": _relative(page, assets["style.css"]),
        "js": _relative(page, assets["player.js"]),
        "home": _relative(page, INDEX_NAME),
        "feed": _relative(page, FEED_NAME),
        "feed_url": _h(config.feed_url),
        "date_iso": episode.date.isoformat(),
        "date": chinese_date(episode.date, weekday=False),
        "duration": spoken_duration(audio.duration_ms),
        "counts": episode_counts(episode),
        "guid": _h(episode.guid),
        "note": f'<p class="note">更正说明：{_h(episode.note)}</p>' if episode.note else "",
        "audio": _h(audio_url),
        "size": f"{audio.size_bytes / 1_000_000:.1f} MB",
        "vtt": _h(_relative(page, episode.transcript_file)),
        "chapters_json": _h(_relative(page, episode.chapters_file)),
        "books": _book_links(out_dir, episode),
        "chapters": _chapter_list(audio, audio_url),
        "transcript": _transcript(audio, audio_url),
    }
    atomic_write_text(out_dir / page, _render("episode.html", values))
    return out_dir / page


def write_index_page(out_dir: Path, config: PublicationConfig, episodes: Sequence[Episode]) -> Path:
    """Write OUT/index.html atomically: every edition (also those older than the feed's
    `feed_limit`), newest first; under a heading per month once there are many."""
    out_dir = Path(out_dir)
    assets = _publish_static(out_dir)
    newest_first = sort_newest_first(list(episodes))
    if not newest_first:
        editions = "<p>还没有节目。</p>"
    elif len(newest_first) < INDEX_BY_MONTH_FROM:
        editions = _edition_list(newest_first, "h3")
    else:
        months: dict[tuple[int, int], list[Episode]] = {}
        for episode in newest_first:
            months.setdefault((episode.date.year, episode.date.month), []).append(episode)
        editions = "\n".join(
            f'<h3 id="m{year}-{month:02d}">{year}年{month}月</h3>\n{_edition_list(items, "h4")}'
            for (year, month), items in months.items()
        )
    values = {
        "lang": config.html_lang,
        "publication": _h(config.title),
        "description": _h(config.description),
        "css": assets["style.css"],
        "feed": FEED_NAME,
        "feed_url": _h(config.feed_url),
        "editions": editions,
    }
    atomic_write_text(out_dir / INDEX_NAME, _render("index.html", values))
    return out_dir / INDEX_NAME


def _edition_list(episodes: Sequence[Episode], heading: str) -> str:
    items = [
        "<li>"
        f'<{heading}><a href="{_h(_relative(INDEX_NAME, e.page_file))}">{_h(e.title)}</a>'
        f"</{heading}>"
        f'<p class="meta"><time datetime="{e.date.isoformat()}">'
        f"{chinese_date(e.date, weekday=False)}</time>"
        f" · 时长 {spoken_duration(e.duration_ms)} · {episode_counts(e)}"
        f' · <a href="{_h(_relative(INDEX_NAME, e.audio_file))}">MP3<span class="visually-hidden">'
        f"：{_h(e.title)}</span></a></p>"
        "</li>"
        for e in episodes
    ]
    return f"<ol>\n{chr(10).join(items)}\n</ol>"


def spoken_duration(duration_ms: int) -> str:
    """A duration as a reader says it: 1小时2分5秒, 12分34秒, 8秒."""
    seconds = max(0, round(duration_ms / 1000))
    hours, minutes, rest = seconds // 3600, seconds // 60 % 60, seconds % 60
    text = (f"{hours}小时" if hours else "") + (f"{minutes}分" if hours or minutes else "")
    return text + f"{rest}秒"


def _book_links(out_dir: Path, episode: Episode) -> str:
    """The download links of the episode's talking books (none when the config turns them off)."""
    links = []
    for file, kind in ((episode.epub_file, "EPUB 3"), (episode.daisy_file, "DAISY 2.02")):
        if file:
            size = (out_dir / file).stat().st_size / 1_000_000
            url = _h(_relative(episode.page_file, file))
            links.append(
                f'<li><a href="{url}" download>下载有声读物（{kind}）</a>'
                f"（{size:.1f} MB，文字与朗读逐句同步）</li>"
            )
    return "\n".join(links)


def _chapter_list(audio: MasteredAudio, audio_url: str) -> str:
    items = []
    for chapter in audio.chapters:
        start = chapter.start_ms / 1000
        items.append(
            f'<li><a class="chapter" href="{_h(audio_url)}#t={start:.3f}" data-start="{start:.3f}">'
            f'<span class="chapter-title">{_h(chapter.title)}</span></a> '
            f'<span class="time">{_clock(chapter.start_ms)}</span></li>'
        )
    return "\n".join(items)


def _transcript(audio: MasteredAudio, audio_url: str) -> str:
    """One section per chapter, one paragraph per spoken sentence with its start time."""
    by_chapter: dict[int, list[SegmentTiming]] = {}
    for segment in audio.segments:
        by_chapter.setdefault(segment.chapter_index, []).append(segment)
    sections = []
    for index, chapter in enumerate(audio.chapters):
        cues = []
        for s in sorted(by_chapter.get(index, ()), key=lambda s: s.start_ms):
            start, end = f"{s.start_ms / 1000:.3f}", f"{s.end_ms / 1000:.3f}"
            cues.append(
                f'<p class="cue {_h(s.role)}" data-start="{start}" data-end="{end}">'
                f'<a class="cue-time" href="{_h(audio_url)}#t={start}" data-start="{start}">'
                f'<span class="visually-hidden">从 </span>{_clock(s.start_ms)}'
                f'<span class="visually-hidden"> 播放</span></a> {_h(s.text)}</p>'
            )
        sections.append(f"<h3>{_h(chapter.title)}</h3>\n" + "\n".join(cues))
    return "\n".join(sections)


def _publish_static(out_dir: Path) -> dict[str, str]:
    """Copy the style sheet and script to OUT/assets/ (when changed); return their relative
    URLs with a content version so browsers never mix an old script with a new page."""
    urls = {}
    for name in STATIC_FILES:
        data = (ASSETS / name).read_bytes()
        target = out_dir / "assets" / name
        if not target.is_file() or target.read_bytes() != data:
            atomic_write_bytes(target, data)
        urls[name] = f"assets/{name}?v={hashlib.sha256(data).hexdigest()[:8]}"
    return urls


def _render(template: str, values: dict[str, str]) -> str:
    return Template((ASSETS / template).read_text(encoding="utf-8")).substitute(values)


def _relative(from_page: str, target: str) -> str:
    """The URL of `target` (relative to OUT) as seen from `from_page` (relative to OUT)."""
    return posixpath.relpath(target, posixpath.dirname(from_page) or ".")


def _h(text: str) -> str:
    return html.escape(printable(text), quote=True)


def _clock(ms: int) -> str:
    """A position as players show it: 07:05, or 1:02:05 past the hour."""
    seconds = max(0, int(ms // 1000))
    hours, minutes, rest = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes:02d}:{rest:02d}"
