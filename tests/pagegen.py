"""Random e-paper pages for the page parser's property test, with the edition each one holds.

A page is laid out from structured stories (the sample page's eight, and the ones below) the way
the paper's PDF text export prints them (see samples/000_aa4cbc5942cc5dc6.txt):

- every article in a column of its own width (10-26 cells; CJK punctuation and Latin type take
  half a cell), two neighbouring articles differing by at least MIN_WIDTH_STEP cells, as on the
  sample page, where each article is set in its own block;
- lines wrapped with no line starting with closing punctuation (it hangs, or the line's last
  character moves down with it) and no line ending with opening punctuation; spaces around
  numbers set in Latin type on some pages (`达到 1500余件`);
- the paragraph indent dropped or kept as `　　` (per page or per article), a blank line after
  some paragraphs' first lines and at column breaks anywhere;
- each article's headline before it or after it, chosen per article: before/after the byline
  (`□`, or bare `本报记者 …`), a commentary's headline before `◎author` with its body after or
  before both; a two-part headline on one line, two lines, or two lines split by a blank line;
- column labels before articles (right after the previous headline, right before a commentary
  or a brief, whose body then follows the label directly), junk-glyph banners, page furniture;
- photos in a group with or without a label, each title before its caption or all titles after
  the captions in another order, credits at the end of the caption or on the line after it;
- UTF-8 (with or without BOM) or GB18030, LF or CRLF.

Two things the generator does not make, because nothing on a page tells them apart (the
parser reads them one way and warns): a two-line headline split by a blank line whose line
farther from the text is as short as a column label (`做在田间` / `让农民甜在心头`), and the
sample's one paragraph without a full stop ending on a full-width line (see `stories`).

Run `python tests/pagegen.py SEED` to print one page and the edition expected from it.
"""

from __future__ import annotations

import json
import random
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from audio_edition.model import Article, Edition, Section

HERE = Path(__file__).parent
SAMPLE_ARTICLES = HERE / "fixtures" / "sample_articles.json"
WIDTHS = (10, 26)  # cells: the narrowest and widest body column
LABEL_MAX_CHARS = 4  # characters: the longest column label (see Layout.title)
MIN_WIDTH_STEP = 2  # cells: neighbouring articles' columns differ by at least this much
HALF_CELL = frozenset("，。、：；“”‘’（）《》！？")  # punctuation the typesetter compresses
NO_LINE_START = frozenset("，。、：；”’）》！？⋯…")
NO_LINE_END = frozenset("“‘（《")
JUNK = ("\U001000ca\U0010004a\U00100056", "\ue0b1\ue0b2")  # private-use glyphs of banners
PAGE_LABELS = (" 视点", " 要闻", " 理论", " 综合", " 区域")
PAGE_TITLES = ("红船初心", "北疆新风", "学思践悟", "草原春潮", "基层一线")
COLUMN_LABELS = ("观潮", "知行合一", "阵地", "草原论坛", "简讯", "图片新闻", "民生", "评论")
BANNERS = ("五化协同 大抓基层", "学习贯彻全会精神", "喜迎冬季那达慕")
FURNITURE_TOP = ("2020年11月20日 星期五", "第5版")
FURNITURE_BOTTOM = ("责任编辑：王五", "版式设计：李娜", "校对：赵敏")


def _article(kind: str, headline: str, byline: str | None, *sections: tuple) -> Article:
    return Article(
        kind, headline, byline, sections=tuple(Section(h, tuple(ps)) for h, ps in sections)
    )


NEW_STORIES = (
    _article(
        "article",
        "马铃薯产业链 串起农民致富路",
        "本报记者 张晓燕 通讯员 孙浩",
        (
            None,
            [
                "初冬时节，走进乌兰察布市察右前旗的马铃薯种薯繁育基地，恒温储藏窖里一排排种薯"
                "码放整齐，工人们正忙着分拣装袋。今年，全旗马铃薯种植面积稳定在30万亩，种薯和商"
                "品薯远销全国20多个省区市。",
                "近年来，察右前旗把马铃薯作为富民强旗的主导产业，从选种育种、规模种植到精深加工、"
                "冷链仓储，一条完整的产业链正在形成，带动全旗1.2万户农民稳定增收。",
            ],
        ),
        (
            "一、良种繁育打基础",
            [
                "好种子是好收成的前提。察右前旗与自治区农牧业科学院合作，建成脱毒种薯组培中心"
                "和网棚繁育基地，每年可生产原原种5000万粒。",
                "“过去自己留种，越种越退化，亩产不到两吨。现在用上脱毒种薯，亩产能达到三吨半。”"
                "种植大户李建军算起了收入账，脸上满是笑容。",
            ],
        ),
        (
            "二、精深加工提效益",
            [
                "在园区的淀粉加工车间，自动化生产线正在满负荷运转。企业负责人介绍，一吨鲜薯加"
                "工成精淀粉和全粉后，附加值能提高两倍以上。",
                "目前，全旗共有马铃薯加工企业12家，年加工能力达到60万吨，产品涵盖精淀粉、全粉、"
                "薯条薯片等多个品类。",
            ],
        ),
        (
            "三、冷链仓储稳销路",
            [
                "为解决“卖难”问题，察右前旗新建和改造标准化储藏窖300余座，总储量达到80万吨，"
                "农民可以错峰销售，不再急着在收获季低价出手。",
                "同时，当地依托电商平台和物流企业，开设马铃薯网上专卖店，让“乌兰察布马铃薯”走"
                "上更多百姓的餐桌。",
            ],
        ),
    ),
    _article(
        "article",
        "牧区小学开起了“空中课堂”",
        "本报通讯员 王丽娜",
        (
            None,
            [
                "近日，锡林郭勒盟阿巴嘎旗一所牧区小学的教室里，孩子们正通过大屏幕，和千里之外"
                "的呼和浩特市一所小学的同学同上一堂音乐课。",
                "这所学校距离旗所在地80多公里，在校学生不足百人。过去，音乐、美术等课程缺少专"
                "职教师，只能由其他学科老师兼任。去年以来，当地教育部门借助同步课堂系统，让城乡"
                "学校结对共享优质课程。",
                "“孩子们最盼着上‘空中课堂’，每次下课都舍不得走。”学校负责人说，下一步还将把"
                "科学实验课搬上屏幕，让牧区孩子享受更多优质教育资源。",
            ],
        ),
    ),
    _article(
        "commentary",
        "让乡村振兴的人才“留得住”",
        "李文博",
        (
            None,
            [
                "乡村振兴，人才是关键。近年来，各地出台了不少引才政策，一批批大学生、退役军人、"
                "返乡创业者走进乡村，为农村牧区发展注入了新活力。",
                "然而，引得来还要留得住。一些地方重引进、轻培养，人才来了之后缺平台、缺项目、缺"
                "保障，干了一两年便选择离开。留住人才，既要待遇留人，更要事业留人、感情留人。",
                "要搭建干事创业的平台，让人才有用武之地；要完善评价激励机制，让扎根基层的人才"
                "有奔头；要关心他们的工作生活，解决好子女上学、住房等后顾之忧。",
                "只有让人才在乡村安下心、扎下根，乡村振兴才能有源源不断的内生动力。",
            ],
        ),
    ),
    _article(
        "commentary",
        "办好群众家门口的小事",
        "赵雅琴",
        (
            None,
            [
                "路灯亮不亮、楼道净不净、停车难不难，这些看似琐碎的小事，连着群众的切身感受，"
                "也检验着基层治理的成色。",
                "群众的小事，就是干部的大事。社区工作者要多到居民中走一走、问一问，把群众反映"
                "的问题记在本子上、放在心坎上，一件一件抓落实，一项一项见成效。",
                "办好家门口的小事，贵在持之以恒。只有把功夫下在平时，把服务做到细处，才能赢得"
                "群众的信任和支持。",
            ],
        ),
    ),
    _article(
        "article",
        "赤峰首条城市绿道全线贯通",
        None,
        (
            None,
            [
                "日前，赤峰市中心城区首条城市绿道全线贯通。绿道全长26公里，串联起7个公园和12"
                "个社区，沿线设置休息驿站8处，为市民休闲健身提供了新去处。",
            ],
        ),
    ),
    _article(
        "article",
        "通辽启动冬季供暖设施检修",
        None,
        (
            None,
            [
                "记者从通辽市住房和城乡建设局获悉，全市集中供暖设施检修工作已全面启动，今年将"
                "改造老旧供热管网45公里，确保居民家中温暖过冬。",
                "检修期间，各供热企业开通24小时服务热线，及时受理居民报修。",
            ],
        ),
    ),
    _article(
        "article",
        "呼伦贝尔冰雪旅游季开幕",
        None,
        (
            None,
            [
                "12月1日，呼伦贝尔冰雪旅游季在扎兰屯市开幕。本届旅游季推出冰雪运动、民俗体验、"
                "冬季那达慕等六大类40余项活动，将持续到明年3月。",
            ],
        ),
    ),
)
NEW_PHOTOS = (
    _article(
        "photo",
        "冬捕迎来好“丰”景",
        "本报记者 刘佳 摄",
        (None, ["12月5日，渔民在呼伦湖冰面上收网。当日，呼伦湖冬捕作业全面展开，"
                "一网最多可捕鱼万余斤。"]),
    ),
    _article(
        "photo",
        "雪后那达慕",
        "通讯员 巴图 摄",
        (None, ["近日，锡林浩特市牧民在雪后的草原上举行小型那达慕，赛马、搏克等传统项目"
                "吸引了众多游客观看。"]),
    ),
    _article(
        "photo",
        "社区里的书香",
        "张蕾 摄",
        (None, ["在包头市昆都仑区一家社区图书室，小朋友们在志愿者的带领下阅读绘本。"
                "该图书室藏书5000余册，免费向居民开放。"]),
    ),
)  # fmt: skip


def stories() -> tuple[list[Article], list[Article]]:
    """All stories to lay out: (articles and commentaries, photos).

    The sample page prints one paragraph without its full stop (`…培训1500余人次`). Where
    its last line comes out full width, nothing on a page tells that a paragraph ends there
    (on the real page, lines inside a paragraph run up to two cells short), so here it gets
    its full stop; the real page, where that line is short, is tested as it is.
    """
    text = SAMPLE_ARTICLES.read_text("utf-8").replace("1500余人次", "1500余人次。")
    sample = [Article.from_dict(a) for a in json.loads(text)]
    texts = [a for a in sample if a.kind != "photo"] + list(NEW_STORIES)
    return texts, [a for a in sample if a.kind == "photo"] + list(NEW_PHOTOS)


TEXTS, PHOTOS = stories()


def cells(char: str) -> float:
    return 0.5 if char.isascii() or char in HALF_CELL else 1.0


def wrap(text: str, width: int, rng: random.Random, indent: str = "") -> list[str]:
    """Wrap a paragraph at `width` cells, its first line 2 cells narrower (the indent, printed
    as `indent` or dropped). Latin words and numbers move down whole; closing punctuation
    never starts a line: a half-cell mark hangs past the column (two times in three), else
    the line's last character moves down with it; opening punctuation never ends a line."""
    lines: list[str] = []
    line, used, room = "", 0.0, width - 2.0
    for char in text:
        if used + cells(char) > room and line and char != " ":
            carry = ""
            latin = char.isascii() and (char.isalnum() or char in ".%")
            word = re.search(r"[0-9A-Za-z.%]+$", line) if latin else None
            if word and word.start() > 0:  # a Latin word or number moves down whole
                line, carry = line[: word.start()].rstrip(), word.group()
            elif word:
                carry = None  # longer than the line: it runs over
            elif char in NO_LINE_START:
                hangs = char in HALF_CELL and used <= room and rng.random() < 2 / 3
                if hangs:
                    carry = None  # hangs at the end of this full line, half a cell out
                elif len(line) > 1:
                    line, carry = line[:-1], line[-1]
            if carry is not None:
                while line[-1] in NO_LINE_END and len(line) > 1:
                    line, carry = line[:-1], line[-1] + carry
                lines.append(line.rstrip())
                line, used, room = carry, sum(map(cells, carry)), float(width)
        if char == " " and not line:
            continue  # no line starts with a space
        line += char
        used += cells(char)
    lines.append(line.rstrip())
    if indent:
        lines[0] = indent + lines[0]
    return lines


def latin_spaces(text: str, rng: random.Random) -> str:
    """Spaces around some numbers, as the page sets them in Latin type (`达到 1500余件`)."""
    return re.sub(
        r"(?<=[\u4e00-\u9fff])(?=\d)|(?<=\d)(?=[\u4e00-\u9fff])",
        lambda _: " " if rng.random() < 0.4 else "",
        text,
    )


@dataclass
class Style:
    """How the export prints this page."""

    indent: str  # 'kept', 'dropped' or 'mixed' (per article)
    first_line_blank: float  # chance of a blank line after a paragraph's first line
    column_lines: int  # lines between column breaks (blank lines)
    numbers_spaced: bool
    encoding: str
    newline: str


@dataclass
class GeneratedPage:
    """A generated page: its bytes, the edition it holds, and the hard cases it contains."""

    seed: int
    data: bytes
    encoding: str
    expected: Edition
    features: set[str] = field(default_factory=set)


class Layout:
    """A page being printed line by line, with the edition it holds."""

    def __init__(self, rng: random.Random, style: Style) -> None:
        self.rng = rng
        self.style = style
        self.lines: list[str] = []
        self.since_break = 0
        self.articles: list[Article] = []
        self.column: str | None = None
        self.features: set[str] = set()
        self.last = "start"  # what was printed last: start, body, headline, label, banner, photo

    def block(self, *lines: str) -> None:
        self.lines.extend([*lines, ""])

    def title(self, text: str, before: bool) -> None:
        """A headline or photo title; a two-part headline on one, two or two blank-split lines
        (but not when the line farther from the text is as short as a column label: read
        alone, `做在田间` / `让农民甜在心头` is a label and a headline, and nothing on the page
        tells them apart; the parser reads a label and warns)."""
        parts = text.split(" ", 1)
        outer = parts[0] if before else parts[-1]
        roll = self.rng.random()
        if len(parts) == 1 or roll < 0.35:
            self.block(text)
        elif roll < 0.75 or len(outer) <= LABEL_MAX_CHARS:
            self.block(*parts)
        else:
            self.block(parts[0])
            self.block(parts[1])
            self.features.add("headline split by a blank line")

    def label(self, text: str) -> None:
        if self.last == "headline":
            self.features.add("label right after a headline")
        if self.last == "sections":
            self.features.add("label after an article's last section")
        self.block(text)
        self.column = text
        self.last = "label"

    def body(self, article: Article, width: int, indent: str) -> None:
        for number, section in enumerate(article.sections):
            if section.heading:
                self.block(section.heading)
            elif number:
                raise ValueError("only the first section may go without a heading")
            for paragraph in section.paragraphs:
                if self.style.numbers_spaced:
                    paragraph = latin_spaces(paragraph, self.rng)
                wrapped = wrap(paragraph, width, self.rng, indent)
                for k, line in enumerate(wrapped):
                    self.lines.append(line)
                    self.since_break += 1
                    blank = (
                        k == 0 and not indent and self.rng.random() < self.style.first_line_blank
                    )
                    if blank or self.since_break >= self.style.column_lines:
                        self.lines.append("")
                        self.since_break = self.rng.randrange(self.style.column_lines // 2)
            self.lines.append("")
        self.last = "body"

    def article(self, article: Article, width: int, before: bool) -> None:
        indent = {"kept": "\u3000\u3000", "dropped": ""}.get(self.style.indent)
        if indent is None:
            indent = self.rng.choice(["\u3000\u3000", ""])
        body_first = not before and (article.kind == "commentary" or not article.byline)
        if self.last == "label":
            if article.kind == "commentary":
                self.features.add("label right before a commentary")
            if body_first:
                self.features.add("label right before a body")
        if self.last in ("body", "sections") and body_first:
            self.features.add("two articles' texts meet with only a blank line between")
        if article.kind == "commentary":
            self._commentary(article, width, indent, before)
        else:
            if before:
                self.title(article.headline, before)
            if article.byline:
                self._byline(article.byline)
            self.body(article, width, indent)
            if not before:
                self.title(article.headline, before)
        if not before:
            self.last = "headline"
        elif len(article.sections) > 1:
            self.last = "sections"
        self.articles.append(replace(article, column=self.column))

    def _byline(self, byline: str) -> None:
        first, *more = byline.split(" 通讯员 ")
        marked = "□" + first if self.rng.random() < 0.8 else first
        if more and self.rng.random() < 0.5:
            self.block(marked, *("通讯员 " + m for m in more))
        else:
            self.block(" 通讯员 ".join([marked, *more]))

    def _commentary(self, article: Article, width: int, indent: str, before: bool) -> None:
        signed = [article.headline, "◎" + article.byline]
        if before and self.rng.random() < 0.5:
            self.block(*signed)
        elif before:
            self.lines.extend(signed)  # no blank line before the body
        self.body(article, width, indent)
        if not before:
            self.block(*signed)

    def photos(self, pictures: list[Article]) -> None:
        titles_first = self.rng.random() < 0.5
        if titles_first:
            self.features.add("photo titles before their captions")
        for picture in pictures:
            if titles_first:
                self.block(picture.headline)
            lines = wrap(picture.paragraphs[0], self.rng.randint(*WIDTHS), self.rng)
            roll = self.rng.random()
            if roll < 0.5:
                lines[-1] += " " + picture.byline
                self.block(*lines)
            elif roll < 0.75:
                self.block(*lines, picture.byline)
            else:
                self.block(*lines)
                self.block(picture.byline)
            self.articles.append(replace(picture, column=self.column))
        if not titles_first:
            for picture in self.rng.sample(pictures, len(pictures)):
                self.block(picture.headline)
        self.last = "photo"

    def encoded(self) -> bytes:
        text = "\n".join(self.lines) + "\n"
        data = text.replace("\n", self.style.newline).encode(self.style.encoding)
        return data


def generate(seed: int) -> GeneratedPage:
    """The page made from `seed` (the same page for the same seed, on any machine)."""
    rng = random.Random(seed)
    style = Style(
        indent=rng.choices(["dropped", "kept", "mixed"], [6, 2, 2])[0],
        first_line_blank=rng.choice([0.0, 0.3, 0.7]),
        column_lines=rng.randint(12, 35),
        numbers_spaced=rng.random() < 0.5,
        encoding=rng.choices(["utf-8", "utf-8-sig", "gb18030"], [4, 2, 3])[0],
        newline=rng.choice(["\n", "\n", "\r\n"]),
    )
    page = Layout(rng, style)
    if rng.random() < 0.3:
        page.block(rng.choice(FURNITURE_TOP))
    page.block(rng.choice(PAGE_LABELS))
    if rng.random() < 0.5:
        page.label(rng.choice(COLUMN_LABELS))
    title = rng.choice(PAGE_TITLES)
    page.block(title)
    page.last = "start"

    bylined = [a for a in TEXTS if a.kind == "article" and a.byline]
    briefs = [a for a in TEXTS if a.kind == "article" and not a.byline]
    commentaries = [a for a in TEXTS if a.kind == "commentary"]
    chosen = rng.sample(bylined, rng.randint(1, 4))
    chosen += rng.sample(commentaries, rng.randint(0, 2)) + rng.sample(briefs, rng.randint(0, 2))
    rng.shuffle(chosen)
    pictures = rng.sample(PHOTOS, rng.randint(0, 3))
    photos_at = rng.choice([len(chosen)] * 2 + list(range(1, len(chosen))))

    width = 0
    layouts = set()
    for k, article in enumerate(chosen):
        if k == photos_at and pictures:
            _label_or_banner(page, rng, chance=0.6)
            page.photos(pictures)
        if k:
            _label_or_banner(page, rng, chance=0.4)
        widths = range(WIDTHS[0], WIDTHS[1] + 1)
        width = rng.choice([w for w in widths if abs(w - width) >= MIN_WIDTH_STEP])
        before = rng.random() < 0.5
        layouts.add(before)
        page.article(article, width, before)
    if photos_at >= len(chosen) and pictures:
        _label_or_banner(page, rng, chance=0.6)
        page.photos(pictures)
    if rng.random() < 0.3:
        page.block(rng.choice(FURNITURE_BOTTOM))

    features = page.features
    if len(layouts) == 2:
        features.add("headlines before and after on one page")
    features.add(f"encoding {style.encoding}")
    features.add(f"newline {style.newline!r}")
    features.add(f"indent {style.indent}")
    expected = Edition(title=title, articles=tuple(page.articles))
    return GeneratedPage(seed, page.encoded(), style.encoding, expected, features)


def _label_or_banner(page: Layout, rng: random.Random, chance: float) -> None:
    if rng.random() < 0.2:
        page.block(rng.choice(BANNERS) + rng.choice(JUNK))
        page.last = "banner"
    if rng.random() < chance:
        page.label(rng.choice([c for c in COLUMN_LABELS if c != page.column]))


def main() -> None:
    page = generate(int(sys.argv[1]))
    print(page.data.decode(page.encoding))
    print(json.dumps(page.expected.to_dict(), ensure_ascii=False, indent=2))
    print(sorted(page.features))


if __name__ == "__main__":
    main()
