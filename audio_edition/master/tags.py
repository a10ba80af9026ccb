"""The MP3's ID3v2.4 tag: what the episode is, its cover, and its chapters with a table of contents.

Chapters follow the ID3v2 Chapter Frame Addendum: one CHAP frame per chapter (element ids "ch0",
"ch1"..., start and end in ms, a TIT2 sub-frame with its title and a WXXX sub-frame with its URL
where it has one) and one CTOC frame ("toc", flagged top-level and ordered) listing them in order.
Without the CTOC many players (Overcast among them) show no chapters at all.

Frames are stored text first, then the CTOC, then the CHAP frames in time order, then the cover:
players built on ffmpeg's libavformat list chapters in the order their CHAP frames are stored,
whatever the CTOC says, and mutagen on its own stores frames by size.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
    Frame,
    ID3NoHeaderError,
    PictureType,
)
from mutagen.id3._tags import save_frame  # what ID3._write uses to serialise one frame

from audio_edition.errors import AudioError
from audio_edition.master.settings import EpisodeTags
from audio_edition.model import ChapterTiming

TOC_ID = "toc"
UTF8 = 3  # ID3 text encoding
NO_OFFSET = 0xFFFFFFFF  # CHAP byte offsets unused: players seek by time
LANGUAGE = "zho"  # ISO 639-2: Chinese
GENRE = "Podcast"
STORAGE_KINDS = {"CTOC": 1, "CHAP": 2, "APIC": 3}  # frame id -> its place in the tag (others 0)


def chapter_element_id(index: int) -> str:
    return f"ch{index}"


class _OrderedID3(ID3):
    """mutagen's ID3 with the frames stored in the order described above.

    mutagen sorts frames in `ID3Tags._write` by a priority list, then by size; this override
    keeps its serialisation (`save_frame`) and only chooses the order. The tag is always built
    from scratch, so there are no unknown frames of another ID3 version to carry over.
    """

    def _write(self, config: Any) -> bytearray:
        frames = sorted(self.values(), key=_storage_rank)  # stable: ties keep the order added
        return bytearray().join(save_frame(frame, config=config) for frame in frames)


def _storage_rank(frame: Frame) -> tuple[int, int]:
    """Text and other frames first, then the CTOC, the CHAPs by start time, the cover last."""
    kind = STORAGE_KINDS.get(frame.FrameID, 0)
    return kind, frame.start_time if isinstance(frame, CHAP) else 0


def write_tags(
    path: Path,
    tags: EpisodeTags,
    chapters: Sequence[ChapterTiming],
    cover: tuple[bytes, str],
) -> None:
    """Write the episode's ID3v2.4 tag to the MP3 file at `path` (replacing any tag it has)."""
    image, mime = cover
    id3 = _OrderedID3()
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
