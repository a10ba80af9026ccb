"""The running order of an episode: what is said, in which voice role, with which pause after.

Intro (publication, the episode's title, how many articles and photos, and 今日要目: each
headline with its approximate length) -> one chapter per article (headline, byline said as a
credit, subheadings announced, body sentences) -> one chapter of all photos (title, caption,
photographer) -> outro. `text` is what a reader sees (a body segment's text is
exactly a piece of the article), `spoken` what the engine is given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from audio_edition.errors import ConfigError
from audio_edition.estimate import estimated_ms, say_length
from audio_edition.model import (
    BOUNDARIES,
    ENGINES,
    Article,
    Chapter,
    Edition,
    EditionInfo,
    Script,
    Segment,
)
from audio_edition.profile import VoiceProfile
from audio_edition.text.clean import clean, for_speech
from audio_edition.text.g2p import Reader
from audio_edition.text.lexicon import Lexicon, load_lexicon
from audio_edition.text.memo import TextMemo
from audio_edition.text.normalize import READABLE, measure, normalize
from audio_edition.text.sentences import CLAUSE_MARKS, CLOSERS, cut_sentence, split_sentences

# Longest segment an engine is given: offline in syllables (FastSpeech2 was trained on short
# sentences), edge in characters (one request per segment; long ones are slow to retry).
MAX_SPOKEN = {"offline": 50, "edge": 300}
WORD_CUT_PAUSE_MS = 0  # a sentence cut between words runs on: the clips' own edges are the pause
PHOTOS_TITLE = "图片新闻"
PHOTOS_ID = "photos"
INTRO_TITLE = "本期导读"
OUTRO_TITLE = "结束语"
CONTENTS_TITLE = "今日要目"
CONTENTS_LENGTHS_UP_TO = 8  # articles: 今日要目 says each one's length; more: headlines only
BYLINE_MARKS = "□■◎○●◇◆△▲☆★▼▽※"  # printed before bylines and authors: □本报记者, ◎郭俊楼
# Words that name a contributor's job: a byline's names follow one of them.
CREDIT_ROLES = re.compile(
    r"(?:本报|新华社|人民日报|央视|中新社)?(?:首席|特约|见习|实习)?"
    r"(?:记者|通讯员|实习生|撰稿人?|编辑|评论员|摄影记者|摄影)$"
)
CREDIT_DONE = ("报道", "电", "讯", "摄", "供图", "供稿", "整理", "编译")
Pages = tuple[tuple[int, str], ...]  # (segment index, printed page) as in Chapter.page_starts


@dataclass(frozen=True)
class _Line:
    """A segment before its pause is known: `level` is what separates it from the next one."""

    role: str
    text: str
    spoken: str
    level: str  # "word", "clause", "sentence", "paragraph", "section"


class _Speaker:
    """Turns what a reader sees into what one engine is given."""

    def __init__(self, engine: str, lexicon: Lexicon, memo: TextMemo) -> None:
        self.engine = engine
        self.lexicon = lexicon
        self.max_len = MAX_SPOKEN[engine]
        self.memo = memo

    def spoken(self, text: str, title: bool = False) -> str:
        said = self.lexicon.apply(for_speech(text, title))
        return normalize(said) if self.engine == "offline" else said

    def size(self, text: str) -> int:
        said = self.lexicon.apply(for_speech(text))
        return measure(said) if self.engine == "offline" else len(said)

    def says_something(self, spoken: str) -> bool:
        if self.engine == "offline":
            return READABLE.search(spoken) is not None
        return bool(re.search(r"\w", spoken))

    def pieces(self, paragraph: str) -> list[tuple[str, str]]:
        """A paragraph as (piece, level after it) for synthesis, sentence by sentence."""
        made_from = [self.engine, self.max_len, self.lexicon.digest, paragraph]
        found = self.memo.get("pieces", made_from, lambda: self._pieces(paragraph))
        return [(piece, level) for piece, level in found]

    def _pieces(self, paragraph: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for sentence in split_sentences(clean(paragraph)):
            cuts = cut_sentence(sentence, self.max_len, self.size, self.lexicon.tokenizer)
            for piece in cuts[:-1]:
                out.append((piece, "clause" if _ends_clause(piece) else "word"))
            out.append((cuts[-1], "sentence"))
        return out


def build_script(
    edition: Edition,
    info: EditionInfo,
    profile: VoiceProfile,
    engine: str,
    lexicon: Lexicon | None = None,
    memo: TextMemo | None = None,
) -> Script:
    """The running order of `edition` for `engine` ("offline" or "edge").

    `lexicon` None means the editors' lexicon, voices/lexicon.toml; pass Lexicon() for none.
    `memo` holds what earlier builds cut and read (by default: nothing, kept for this call).
    """
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    lexicon = load_lexicon() if lexicon is None else lexicon
    # The edge voice reads characters: its pinyin entries become respellings.
    memo = memo or TextMemo()
    speaker = _Speaker(engine, lexicon.spelled() if engine == "edge" else lexicon, memo)
    reader = Reader(lexicon) if engine == "offline" else None
    articles = [a for a in edition.articles if a.kind != "photo"]
    photos = [a for a in edition.articles if a.kind == "photo"]

    def chapter(
        id: str, title: str, lines: list[_Line], pages: Pages = (), **kwargs: str | None
    ) -> Chapter:
        levels = [line.level for line in lines[:-1]] + ["chapter"]
        spoken = [line.spoken for line in lines]
        syllables = _syllables(spoken, reader, memo) if reader else [()] * len(lines)
        segments = tuple(
            Segment(
                role=line.role,
                text=line.text,
                spoken=line.spoken,
                pause_ms=_pause_ms(profile, level),
                voice=profile.voice(engine, line.role),
                boundary=level,
                pinyin=said,
            )
            for line, level, said in zip(lines, levels, syllables, strict=True)
        )
        return Chapter(id=id, title=title, segments=segments, page_starts=pages, **kwargs)

    chapters = []
    for number, article in enumerate(articles, start=1):
        lines = _article(article, speaker)
        if not lines:  # only symbols, nothing a voice can say: no chapter (ids keep positions)
            continue
        title = clean(article.headline, title=True)
        pages = ((0, article.page),) if article.page else ()
        chapters.append(
            chapter(f"a{number:02d}", title, lines, sting="article", url=article.url, pages=pages)
        )
    if photos:
        lines, pages = _photos(photos, speaker)
        chapters.append(chapter(PHOTOS_ID, PHOTOS_TITLE, lines, sting="article", pages=pages))
    intro = _intro(info, chapters, len(photos), speaker)
    chapters.insert(0, chapter("intro", INTRO_TITLE, intro, sting="edition"))
    chapters.append(chapter("outro", OUTRO_TITLE, _outro(info, speaker)))
    return Script(chapters=tuple(chapters), engine=engine, photos=len(photos))


def _syllables(spoken: list[str], reader: Reader, memo: TextMemo) -> list[tuple[str, ...]]:
    """The syllables the offline voice says for each spoken text of a chapter (the g2p stage,
    which reads a chapter's texts as one batch)."""

    def read() -> list[list[str]]:
        found = reader.read_all(spoken)
        return [[r.syllable for r in readings if r is not None] for readings in found]

    said = memo.get("syllables", [reader.lexicon.digest, spoken], read)
    return [tuple(syllables) for syllables in said]


def _intro(
    info: EditionInfo, chapters: list[Chapter], photos: int, speaker: _Speaker
) -> list[_Line]:
    """Welcome, the episode's title, the counts, then 今日要目: each chapter's headline in order
    with its estimated length (headlines only beyond CONTENTS_LENGTHS_UP_TO articles)."""
    articles = [c for c in chapters if c.id != PHOTOS_ID]
    counts = [f"{len(articles)}篇文章"] if articles else []
    counts += [f"{photos}幅新闻图片"] if photos else []
    title = "，".join((info.full_title or info.title).split())
    lines = [f"欢迎收听{info.publication}有声版。", f"{title}。"]
    if counts:
        lines.append(f"本期共{'和'.join(counts)}。")
    if len(chapters) > 1:
        with_lengths = len(articles) <= CONTENTS_LENGTHS_UP_TO
        lines.append(f"{CONTENTS_TITLE}：")
        for chapter in chapters:
            length = f"，{say_length(estimated_ms(chapter))}" if with_lengths else ""
            lines.append(f"{_contents_entry(chapter)}{length}。")
    return [_Line("intro", t, speaker.spoken(t), "sentence") for t in lines]


def _contents_entry(chapter: Chapter) -> str:
    """A chapter as 今日要目 names it: its headline as said (评论：…), without a closing mark."""
    first = chapter.segments[0]
    return (first.text if first.role == "headline" else chapter.title).rstrip("。！？!?")


def _outro(info: EditionInfo, speaker: _Speaker) -> list[_Line]:
    lines = [
        f"以上是{info.publication}{info.date.year}年{info.date.month}月{info.date.day}日有声版的全部内容。",
        "感谢收听，我们下期再见。",
    ]
    return [_Line("outro", t, speaker.spoken(t), "sentence") for t in lines]


def _article(article: Article, speaker: _Speaker) -> list[_Line]:
    headline = clean(article.headline, title=True)
    if article.kind == "commentary":
        headline = f"评论：{headline}"
    lines = _title_line("headline", headline, speaker)
    credit = _credit(article.byline, article.kind) if article.byline else None
    if credit:
        lines += _title_line("byline", credit, speaker)
    for section in article.sections:
        if section.heading and lines[-1:] and lines[-1].role == "body":
            lines[-1] = _with_level(lines[-1], "section")
        if section.heading:
            heading = clean(section.heading, title=True)
            lines += [
                _Line(
                    "heading",
                    heading,
                    speaker.spoken("小标题：" + heading, title=True),
                    "paragraph",
                )
            ]
        lines += _body(section.paragraphs, "body", speaker)
    return lines


def _photos(photos: list[Article], speaker: _Speaker) -> tuple[list[_Line], Pages]:
    """The photos' lines, and where each printed page's photos begin among them."""
    lines = _title_line("headline", f"{PHOTOS_TITLE}。", speaker)
    pages: Pages = ()
    for number, photo in enumerate(photos):
        if number:
            lines[-1] = _with_level(lines[-1], "section")
        start = len(lines)
        lines += _title_line("caption", clean(photo.headline, title=True), speaker)
        lines += _body(photo.paragraphs, "caption", speaker)
        if photo.byline:
            credit = _photo_credit(photo.byline)
            lines += _title_line("caption", credit, speaker) if credit else []
        last_page = pages[-1][1] if pages else None
        if photo.page and photo.page != last_page and len(lines) > start:
            pages += ((start, photo.page),)
    return lines, pages


def _title_line(role: str, text: str, speaker: _Speaker) -> list[_Line]:
    """A headline, byline or caption title: one segment, or none if it has nothing to say."""
    spoken = speaker.spoken(text, title=True)
    return [_Line(role, text, spoken, "paragraph")] if speaker.says_something(spoken) else []


def _body(paragraphs: tuple[str, ...], role: str, speaker: _Speaker) -> list[_Line]:
    """Body segments: every character of the paragraphs, in order, in their texts (unless no
    character of them can be said at all)."""
    pieces: list[tuple[str, str]] = []
    for paragraph in paragraphs:
        paragraph_pieces = speaker.pieces(paragraph)
        if paragraph_pieces:
            paragraph_pieces[-1] = (paragraph_pieces[-1][0], "paragraph")
        pieces += paragraph_pieces
    lines: list[_Line] = []
    pending = ""  # text with nothing to say before the first piece that has: it joins that piece
    for text, level in pieces:
        text = pending + text
        spoken = speaker.spoken(text)
        if speaker.says_something(spoken):
            lines.append(_Line(role, text, spoken, level))
            pending = ""
        elif lines:  # a stray `……` or `”` the voice cannot say joins the piece before
            previous = lines.pop()
            text = previous.text + text
            level = max(level, previous.level, key=BOUNDARIES.index)
            lines.append(_Line(role, text, speaker.spoken(text), level))
        else:
            pending = text
    return lines


def _credit(byline: str, kind: str) -> str | None:
    """A byline as said: `□本报记者 白丹` -> `本报记者白丹报道`, `◎郭俊楼` -> `作者郭俊楼`."""
    byline = _strip_marks(byline)
    if not byline:
        return None
    if kind == "commentary":
        return "作者" + _names(re.sub(r"^(?:文|作者)\s*[/／:：|｜]?\s*", "", byline))
    if byline.endswith(CREDIT_DONE) or byline.startswith("据"):
        return byline
    return _names(byline) + "报道"


def _photo_credit(byline: str) -> str | None:
    """A photo credit as said: `本报记者 陈春艳 摄` -> `摄影 本报记者陈春艳`."""
    byline = _strip_marks(byline)
    if byline.endswith("供图"):
        return _names(byline[:-2]) + "供图"
    byline = re.sub(r"\s*(?:摄影|摄)$", "", re.sub(r"^(?:摄影|摄)\s*[:：/]?\s*", "", byline))
    return f"摄影 {_names(byline)}" if byline else None


def _strip_marks(byline: str) -> str:
    return clean(byline, title=True).strip(BYLINE_MARKS + " ")


def _names(byline: str) -> str:
    """`本报记者 张三 李四 通讯员 王五` -> `本报记者张三、李四，通讯员王五`."""
    groups: list[list[str]] = []
    for word in byline.split():
        if CREDIT_ROLES.search(word) or not groups:
            groups.append([word])
        else:
            groups[-1].append(word)
    said = []
    for group in groups:
        if CREDIT_ROLES.search(group[0]):
            said.append(group[0] + "、".join(group[1:]))
        else:
            said.append("、".join(group))
    return "，".join(said)


def _with_level(line: _Line, level: str) -> _Line:
    return _Line(line.role, line.text, line.spoken, level)


def _pause_ms(profile: VoiceProfile, level: str) -> int:
    return WORD_CUT_PAUSE_MS if level == "word" else getattr(profile.pauses, level)


def _ends_clause(piece: str) -> bool:
    """True when a cut piece ends at a clause mark or a closing quote (a pause in reading)."""
    return piece.rstrip(CLOSERS)[-1:] in CLAUSE_MARKS or piece[-1:] in "”’」』"


def outline(script: Script) -> list[str]:
    """A listing an editor can scan: chapters, then each segment's role, pause and text, with
    what the engine is given shown below it when that differs."""
    lines = [f"{len(script.chapters)} chapters, {len(script.segments)} segments ({script.engine})"]
    for chapter in script.chapters:
        sting = f"  [sting: {chapter.sting}]" if chapter.sting else ""
        url = f"  {chapter.url}" if chapter.url else ""
        lines += ["", f"== {chapter.id} {chapter.title}{sting}{url}"]
        for segment in chapter.segments:
            lines.append(f"  {segment.role:<8} {segment.pause_ms:>5}ms  {segment.text}")
            if segment.spoken != segment.text:
                lines.append(f"  {'':<8} {'':>7}  > {segment.spoken}")
    return lines
