"""The MP3's ID3v2.4 tag: what the episode is, its cover, and its chapters with a table of contents.

Chapters follow the ID3v2 Chapter Frame Addendum: one CHAP frame per chapter (element ids "ch0",
"ch1"..., start and end in ms, a TIT2 sub-frame with its title and a WXXX sub-frame with its URL
where it has one) and one CTOC frame ("toc", flagged top-level and ordered) listing them in order.
Without the CTOC many players (Overcast among them) show no chapters at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mutagen.id3 import (
    APIC,
    CHAP,
    CTOC,
    ID3,
    TALB,
    TCON,
    TDRC,
    TIT2,
    TLAN,
    TPE1,
    WXXX,
    CTOCFlags,
    ID3NoHeaderError,
    PictureType,
)

from audio_edition.errors import AudioError
from audio_edition.master.settings import EpisodeTags
from audio_edition.model import ChapterTiming

TOC_ID = "toc"
UTF8 = 3  # ID3 text encoding
NO_OFFSET = 0xFFFFFFFF  # CHAP byte offsets unused: players seek by time
LANGUAGE = "zho"  # ISO 639-2: Chinese
GENRE = "Podcast"


def chapter_element_id(index: int) -> str:
    return f"ch{index}"


def write_tags(
    path: Path,
    tags: EpisodeTags,
    chapters: Sequence[ChapterTiming],
    cover: tuple[bytes, str],
) -> None:
    """Write the episode's ID3v2.4 tag to the MP3 file at `path` (replacing any tag it has)."""
    image, mime = cover
    id3 = ID3()
    id3.add(TIT2(encoding=UTF8, text=tags.title))
    id3.add(TALB(encoding=UTF8, text=tags.publication))
    id3.add(TPE1(encoding=UTF8, text=tags.publication))
    id3.add(TDRC(encoding=UTF8, text=tags.date.isoformat()))
    id3.add(TCON(encoding=UTF8, text=GENRE))
    id3.add(TLAN(encoding=UTF8, text=LANGUAGE))
    id3.add(APIC(encoding=UTF8, mime=mime, type=PictureType.COVER_FRONT, desc="", data=image))
    ids = [chapter_element_id(i) for i in range(len(chapters))]
    id3.add(
        CTOC(
            element_id=TOC_ID,
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=UTF8, text=tags.title)],
        )
    )
    for element_id, chapter in zip(ids, chapters, strict=True):
        sub_frames = [TIT2(encoding=UTF8, text=chapter.title)]
        if chapter.url:
            sub_frames.append(WXXX(encoding=UTF8, desc="", url=chapter.url))
        id3.add(
            CHAP(
                element_id=element_id,
                start_time=chapter.start_ms,
                end_time=chapter.end_ms,
                start_offset=NO_OFFSET,
                end_offset=NO_OFFSET,
                sub_frames=sub_frames,
            )
        )
    try:
        id3.save(path, v2_version=4)
    except OSError as e:
        raise AudioError(f"cannot write the ID3 tag of {path}: {e.strerror}") from e


def read_chapters(path: Path) -> tuple[ChapterTiming, ...]:
    """The chapters of an MP3 in the order of its top-level table of contents (ids are the
    CHAP element ids). An MP3 without a table of contents has none."""
    try:
        id3 = ID3(path)
    except ID3NoHeaderError:
        return ()
    tocs = [f for f in id3.getall("CTOC") if f.flags & CTOCFlags.TOP_LEVEL]
    if not tocs:
        return ()
    chapters = []
    for element_id in tocs[0].child_element_ids:
        frame = id3.get(f"CHAP:{element_id}")
        if frame is None:
            raise AudioError(f"{path}: the table of contents lists a missing chapter {element_id}")
        title = frame.sub_frames.get("TIT2")
        urls = frame.sub_frames.getall("WXXX")
        chapters.append(
            ChapterTiming(
                id=element_id,
                title=str(title.text[0]) if title else "",
                start_ms=frame.start_time,
                end_ms=frame.end_time,
                url=urls[0].url if urls else None,
            )
        )
    return tuple(chapters)
