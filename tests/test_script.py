"""The running order: structure, roles, pauses, texts and spoken texts, on real and new pages."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import replace

import pytest
from click.testing import CliRunner
from conftest import SAMPLE_PAGE

from audio_edition.cli import cli
from audio_edition.errors import ConfigError
from audio_edition.estimate import estimated_ms, say_length
from audio_edition.ingest import read_edition
from audio_edition.model import ENGINES, Article, Edition, EditionInfo, Script, Section
from audio_edition.profile import load_profile
from audio_edition.script import MAX_SPOKEN, build_script
from audio_edition.text.lexicon import Lexicon, load_lexicon
from audio_edition.text.normalize import PAUSE_MARKS, READABLE, normalize
from audio_edition.text.sentences import split_sentences
from audio_edition.text.words import cut

INFO = EditionInfo(
    publication="赤峰日报",
    date=dt.date(2020, 11, 29),
    title="11月29日 星期日",
    full_title="2020年11月29日 星期日",
)
# The chapters of the sample page as the offline voice reads them (the demo build, measured):
# a01 472.7 s, a02 234.5 s, a03 215.2 s, a04 214.6 s, a05 163.9 s, photos 69.9 s.
SAMPLE_CONTENTS = [
    "“联合体”吹响集结号 产业兴旺助增收，约8分钟。",
    "做在田间 让农民甜在心头，约4分钟。",
    "七彩直播间 提升居民幸福感，约4分钟。",
    "党建引领有为 “硬核”举措有力，约4分钟。",
    "评论：从“有形覆盖”到“有效覆盖”的嬗变，约3分钟。",
    "图片新闻，约1分钟。",
]

# A page the text stage has never seen: Latin, numbers everywhere, quotes, a sentence of 200
# characters without a comma, a stray ellipsis paragraph, headings, several reporters.
UNSEEN = Edition(
    title="经济",
    articles=(
        Article(
            kind="article",
            headline="5G网络覆盖率达到98.5%",
            byline="□本报记者 张三 李四 通讯员 王五",
            sections=(
                Section(
                    heading=None,
                    paragraphs=(
                        "截至2021年3月，全市已建成5G基站12000个，APP下载量突破300万次。",
                        "工信部数据显示：“今年1-9月，我国移动互联网累计流量达1,500亿GB，同比增长35.2%。”"
                        "专家认为⋯⋯",
                        "⋯⋯",
                    ),
                ),
                Section(
                    heading="发展 数字经济",
                    paragraphs=(
                        "数字经济" * 80 + "发展迅速。",
                        "拨打12345热线或登录www.example.gov.cn查询，iPhone用户也可通过“城市服务”办理。",
                    ),
                ),
            ),
            url="https://example.com/a/1",
        ),
        Article(kind="photo", headline="新春走基层", byline="新华社供图", sections=()),
        Article(
            kind="commentary",
            headline="让数据多跑路",
            byline="◎文/刘某某",
            sections=(Section(heading=None, paragraphs=("数据多跑路，群众少跑腿。",)),),
        ),
        Article(kind="brief", headline="简讯：今日无雨", sections=()),
    ),
)


@pytest.fixture(scope="module")
def profile():
    return load_profile()


@pytest.fixture(scope="module")
def sample_edition(sample_page) -> Edition:
    return read_edition([sample_page])


@pytest.fixture(scope="module")
def scripts(sample_edition, profile) -> dict[str, Script]:
    lexicon = load_lexicon()
    return {e: build_script(sample_edition, INFO, profile, e, lexicon) for e in ENGINES}


def _body_text(chapter, roles=("body",)) -> str:
    return "".join(s.text for s in chapter.segments if s.role in roles)


def _printed(article: Article) -> str:
    return re.sub(r"\s", "", "".join(article.paragraphs))


@pytest.mark.parametrize("engine", ENGINES)
def test_every_character_of_every_body_is_in_the_script_in_order(scripts, sample_edition, engine):
    script = scripts[engine]
    articles = [a for a in sample_edition.articles if a.kind != "photo"]
    chapters = [c for c in script.chapters if c.id.startswith("a")]
    assert len(chapters) == len(articles) == 5
    for chapter, article in zip(chapters, articles, strict=True):
        assert re.sub(r"\s", "", _body_text(chapter)) == _printed(article)
    photos = next(c for c in script.chapters if c.id == "photos")
    said = re.sub(r"\s", "", _body_text(photos, ("caption",)))
    found = [said.find(_printed(a)) for a in sample_edition.articles if a.kind == "photo"]
    assert -1 not in found and found == sorted(found)


@pytest.mark.parametrize("engine", ENGINES)
def test_running_order_of_the_sample_page(scripts, engine):
    script = scripts[engine]
    ids = [c.id for c in script.chapters]
    assert ids == ["intro", "a01", "a02", "a03", "a04", "a05", "photos", "outro"]
    assert [c.sting for c in script.chapters] == ["edition"] + ["article"] * 6 + [None]
    first = script.chapters[1]
    assert first.title == "“联合体”吹响集结号 产业兴旺助增收"
    assert [s.role for s in first.segments[:3]] == ["headline", "byline", "body"]
    assert first.segments[1].text == "本报记者白丹报道"
    headings = [s for s in first.segments if s.role == "heading"]
    assert [h.text for h in headings] == [
        "强化引领 凝聚脱贫攻坚新动能",
        "发挥优势 集聚产业发展活力",
        "健全机制 汇聚增收致富力量",
    ]
    assert all(h.spoken.startswith("小标题") for h in headings)
    assert script.chapters[3].segments[1].text == "见习记者郝佳丽报道"
    commentary = script.chapters[5]
    assert commentary.title == "从“有形覆盖”到“有效覆盖”的嬗变"
    assert commentary.segments[0].text == "评论：从“有形覆盖”到“有效覆盖”的嬗变"
    assert commentary.segments[1].text == "作者郭俊楼"
    for chapter in script.chapters[1:6]:
        roles = [s.role for s in chapter.segments]
        assert roles.index("headline") < roles.index("byline") < roles.index("body")
    photos = script.chapters[6]
    assert photos.title == "图片新闻"
    texts = [s.text for s in photos.segments]
    assert (
        texts.index("“宝音讲堂”开讲")
        < texts.index("摄影 本报记者陈春艳")
        < texts.index("加强政治修养")
    )
    assert "摄影 马志军" in texts
    assert {s.role for s in photos.segments} == {"headline", "caption"}
    intro = script.chapters[0].segments
    assert {s.role for s in intro} == {"intro"}
    assert [s.text for s in intro[:4]] == [
        "欢迎收听赤峰日报有声版。",
        "2020年11月29日，星期日。",
        "本期共5篇文章和3幅新闻图片。",
        "今日要目：",
    ]
    # each headline in order with its length, then the photos
    assert [re.sub(r"，(约\d+分钟|不到1分钟)。$", "", s.text) for s in intro[4:]] == [
        re.sub(r"，约\d+分钟。$", "", line) for line in SAMPLE_CONTENTS
    ]
    assert script.photos == 3
    assert {s.role for s in script.chapters[-1].segments} == {"outro"}


def test_the_intro_announces_each_articles_length_as_heard(scripts):
    """The offline voice's estimate rounds to the minutes the demo build measured."""
    intro = scripts["offline"].chapters[0].segments
    assert [s.text for s in intro[4:]] == SAMPLE_CONTENTS
    assert intro[4].spoken == "联合体吹响集结号，产业兴旺助增收，约八分钟。"


def test_the_intro_says_the_title_not_the_pages_label(scripts):
    intro = scripts["offline"].chapters[0].segments
    assert any(s.spoken == "二零二零年十一月二十九日，星期日。" for s in intro)
    assert not any("红船初心" in s.text for s in intro)  # a column label on the page
    assert any("赤峰日报" in s.spoken for s in intro)


def test_a_long_edition_lists_headlines_only(profile):
    article = UNSEEN.articles[2]
    many = tuple(replace(article, kind="article", headline=f"第{n}条新闻") for n in range(1, 10))
    script = build_script(Edition(title=None, articles=many), INFO, profile, "offline")
    intro = [s.text for s in script.chapters[0].segments]
    assert intro[2:] == ["本期共9篇文章。", "今日要目："] + [f"第{n}条新闻。" for n in range(1, 10)]
    eight = build_script(Edition(title=None, articles=many[:8]), INFO, profile, "offline")
    assert all("分钟" in s.text for s in eight.chapters[0].segments[4:])


@pytest.mark.parametrize(
    ("ms", "said"),
    [
        (10_000, "不到1分钟"),
        (44_999, "不到1分钟"),
        (45_000, "约1分钟"),
        (89_999, "约1分钟"),
        (90_000, "约2分钟"),
        (472_700, "约8分钟"),
        (3_600_000, "约60分钟"),
    ],
)
def test_lengths_are_said_in_whole_minutes(ms, said):
    assert say_length(ms) == said


def test_the_estimate_depends_only_on_the_script(sample_edition, profile):
    """Clips are cached by text: the same input must give the same intro, byte for byte."""
    first = build_script(sample_edition, INFO, profile, "offline")
    again = build_script(read_edition([SAMPLE_PAGE]), INFO, load_profile(), "offline")
    assert first.chapters[0] == again.chapters[0]
    slower = replace(profile.voice("offline", "body"), rate=-20)
    chapter = first.chapters[1]
    slowed = replace(
        chapter,
        segments=tuple(
            replace(s, voice=slower) if s.role == "body" else s for s in chapter.segments
        ),
    )
    assert estimated_ms(slowed) > estimated_ms(chapter) * 1.15  # a slower voice, a longer read


@pytest.mark.parametrize("engine", ENGINES)
def test_pauses_depend_on_what_follows(scripts, profile, engine):
    pauses = profile.pauses
    for chapter in scripts[engine].chapters:
        segments = chapter.segments
        assert segments[-1].pause_ms == pauses.chapter
        for segment, following in zip(segments, segments[1:], strict=False):
            if following.role == "heading":
                assert segment.pause_ms == pauses.section
            elif segment.role in ("headline", "byline", "heading"):
                assert segment.pause_ms == pauses.paragraph
            elif segment.role == "body":
                assert segment.pause_ms in (0, pauses.clause, pauses.sentence, pauses.paragraph)
    first = scripts[engine].chapters[1].segments
    ends = [s for s in first if s.text.endswith("脱贫。")]
    assert ends[0].pause_ms == pauses.paragraph  # the first paragraph's last sentence
    assert any(s.pause_ms == pauses.sentence for s in first)


@pytest.mark.parametrize("engine", ENGINES)
def test_voices_follow_the_profile_and_lengths_the_engine(scripts, profile, engine):
    for segment in scripts[engine].segments:
        assert segment.voice == profile.voice(engine, segment.role)
        if engine == "offline":
            assert len(READABLE.findall(segment.spoken)) <= MAX_SPOKEN["offline"]
        else:
            assert len(segment.spoken) <= MAX_SPOKEN["edge"]


def test_offline_spoken_text_is_all_readable_by_the_voice(scripts, baker):
    for segment in scripts["offline"].segments:
        spoken = segment.spoken
        assert not re.search(r"[A-Za-z0-9\uff10-\uff19\uff21-\uff5a]", spoken), spoken
        assert all(READABLE.match(c) or c in PAUSE_MARKS for c in spoken), spoken
        assert baker.syllables(spoken) == len(READABLE.findall(spoken)), spoken


def test_edge_spoken_text_is_the_text_with_the_lexicon(scripts):
    for segment in scripts["edge"].segments:
        if segment.role == "body":
            assert len(segment.spoken) == len(segment.text) or "崇拾" in segment.spoken


@pytest.mark.parametrize("engine", ENGINES)
def test_no_cut_inside_a_word(scripts, sample_edition, profile, engine):
    """The pieces of a sentence cut for synthesis meet at a jieba word boundary of the sentence."""
    tokenizer = load_lexicon().tokenizer
    sentences = {
        s for a in sample_edition.articles for p in a.paragraphs for s in split_sentences(p)
    }
    within = (0, profile.pauses.clause)  # pauses inside a sentence
    cut_sentences = 0
    for chapter in scripts[engine].chapters:
        parts: list[str] = []
        for segment in chapter.segments:
            if segment.role not in ("body", "caption"):
                continue
            parts.append(segment.text)
            if segment.pause_ms in within:
                continue
            sentence = "".join(parts)
            if len(parts) > 1:
                assert sentence in sentences
                cut_sentences += 1
                bounds, offset = set(), 0
                for word in cut(sentence, tokenizer):
                    offset += len(word)
                    bounds.add(offset)
                offset = 0
                for part in parts[:-1]:
                    offset += len(part)
                    assert offset in bounds, f"{part!r} ends inside a word"
            parts = []
    if engine == "offline":  # the sample page has no sentence longer than edge's maximum
        assert cut_sentences > 20


def test_a_lexicon_entry_changes_the_term_everywhere_and_only_there(sample_edition, profile):
    term, expansion = "呼铁中院", "呼和浩特铁路运输中级法院"
    for engine in ENGINES:
        plain = build_script(sample_edition, INFO, profile, engine, Lexicon())
        expanded = build_script(sample_edition, INFO, profile, engine, Lexicon({term: expansion}))
        said = {s.text: s.spoken for s in plain.segments}
        with_term = [s for s in expanded.segments if term in s.text]
        assert len(with_term) >= 5
        for segment in with_term:
            assert term not in segment.spoken
            assert (normalize(expansion) if engine == "offline" else expansion) in segment.spoken
        others = [s for s in expanded.segments if term not in s.text and s.text in said]
        assert len(others) > 100
        assert all(said[s.text] == s.spoken for s in others)
        assert _body_text_all(plain) == _body_text_all(expanded)  # texts never change


def _body_text_all(script: Script) -> str:
    return "".join(s.text for s in script.segments if s.role == "body")


@pytest.mark.parametrize("engine", ENGINES)
def test_an_unseen_page(profile, engine, baker):
    script = build_script(UNSEEN, INFO, profile, engine, Lexicon())
    ids = [c.id for c in script.chapters]
    assert ids == ["intro", "a01", "a02", "a03", "photos", "outro"]
    article = script.chapters[1]
    assert article.url == "https://example.com/a/1"
    assert article.segments[1].text == "本报记者张三、李四，通讯员王五报道"
    printed = re.sub(r"\s", "", "".join(UNSEEN.articles[0].paragraphs))
    assert re.sub(r"\s", "", _body_text(article)) == printed
    assert script.chapters[2].segments[0].text == "评论：让数据多跑路"
    assert script.chapters[2].segments[1].text == "作者刘某某"
    assert [s.role for s in script.chapters[3].segments] == ["headline"]  # a brief with no body
    assert [s.text for s in script.chapters[4].segments] == [
        "图片新闻。",
        "新春走基层",
        "新华社供图",
    ]
    assert "本期共3篇文章和1幅新闻图片。" in [s.text for s in script.chapters[0].segments]
    if engine == "offline":
        spoken = "".join(s.spoken for s in script.segments)
        assert not re.search(r"[A-Za-z0-9]", spoken)
        expected = "五吉 百分之九十八点五 二零二一年三月 一万两千个 诶批批 一到九月 一千五百亿吉比"
        for said in expected.split() + ["幺二三四五热线", "达布溜达布溜达布溜点"]:
            assert said in spoken
        for segment in script.segments:
            assert baker.syllables(segment.spoken) == len(READABLE.findall(segment.spoken))
    else:
        assert any("12345热线" in s.spoken for s in script.segments)
    long = [s for s in article.segments if "数字经济数字经济" in s.text]
    assert len(long) > 1 and all(len(s.spoken) <= MAX_SPOKEN[engine] for s in script.segments)


def test_text_with_nothing_to_say_joins_a_neighbour(profile):
    edition = Edition(
        title="t",
        articles=(
            Article(
                kind="article",
                headline="标题",
                sections=(Section(heading=None, paragraphs=("……", "第一句。", "……", "”")),),
            ),
        ),
    )
    for engine in ENGINES:
        body = [
            s for s in build_script(edition, INFO, profile, engine).segments if s.role == "body"
        ]
        assert [s.text for s in body] == ["……第一句。……”"]


def test_segments_know_what_follows_them_and_chapters_where_pages_start(profile):
    article = Article(
        kind="article",
        headline="标题",
        page="1",
        sections=(
            Section(None, ("第一句。第二句。", "第三句。")),
            Section("小标题", ("第四句。",)),
        ),
    )
    photos = tuple(
        Article(kind="photo", headline=title, sections=(Section(None, ("说明。",)),), page=page)
        for title, page in (("丰收", "1"), ("冬捕", "2"), ("春耕", "2"))
    )
    script = build_script(Edition(title="t", articles=(article, *photos)), INFO, profile, "edge")
    chapter = script.chapters[1]
    assert [(s.role, s.text, s.boundary) for s in chapter.segments] == [
        ("headline", "标题", "paragraph"),
        ("body", "第一句。", "sentence"),
        ("body", "第二句。", "paragraph"),
        ("body", "第三句。", "section"),
        ("heading", "小标题", "paragraph"),
        ("body", "第四句。", "chapter"),
    ]
    assert chapter.page_starts == ((0, "1"),)
    pictures = script.chapters[2]
    assert [(s.text, s.boundary) for s in pictures.segments] == [
        ("图片新闻。", "paragraph"),
        ("丰收", "paragraph"),
        ("说明。", "section"),
        ("冬捕", "paragraph"),
        ("说明。", "section"),
        ("春耕", "paragraph"),
        ("说明。", "chapter"),
    ]
    assert pictures.page_starts == ((1, "1"), (3, "2"))  # where each page's photos begin
    assert all(c.page_starts == () for c in (script.chapters[0], script.chapters[-1]))


def test_an_article_with_nothing_to_say_has_no_chapter(profile):
    silent = Article(kind="article", headline="★★★", sections=(Section(None, ("……",)),))
    edition = Edition(title="t", articles=(silent, UNSEEN.articles[2]))
    script = build_script(edition, INFO, profile, "offline")
    assert [c.id for c in script.chapters] == ["intro", "a02", "outro"]
    assert script.chapters[0].segments[-1].text.endswith("共1篇文章。")


def test_an_edition_without_articles_still_opens_and_closes(profile):
    script = build_script(Edition(title=None, articles=()), INFO, profile, "offline")
    assert [c.id for c in script.chapters] == ["intro", "outro"]
    intro = [s.text for s in script.chapters[0].segments]
    assert intro == ["欢迎收听赤峰日报有声版。", "2020年11月29日，星期日。"]


def test_unknown_engine_is_a_config_error(profile):
    with pytest.raises(ConfigError, match="unknown engine 'tts'"):
        build_script(UNSEEN, INFO, profile, "tts")


def test_script_command_prints_json(sample_page):
    result = CliRunner().invoke(
        cli, ["script", str(sample_page), "--json", "--date", "2020-11-29", "--engine", "edge"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [c["id"] for c in data["chapters"]][:2] == ["intro", "a01"]
    segment = data["chapters"][1]["segments"][0]
    assert set(segment) == {"role", "text", "spoken", "pause_ms"}
    assert segment["role"] == "headline"
    assert "本报有声版" in data["chapters"][0]["segments"][0]["text"]


def test_script_command_prints_a_listing(sample_page, tmp_path):
    lexicon = tmp_path / "lexicon.toml"
    lexicon.write_text('"呼铁中院" = "呼和浩特铁路运输中级法院"\n', encoding="utf-8")
    config = tmp_path / "audio-edition.toml"
    config.write_text('publication = "赤峰日报"\n', encoding="utf-8")
    args = ["script", str(sample_page), "--config", str(config), "--title", "第三版"]
    result = CliRunner().invoke(cli, [*args, "--lexicon", str(lexicon)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("8 chapters")
    assert "== a01 “联合体”吹响集结号 产业兴旺助增收  [sting: article]" in lines
    assert any(re.match(r"  headline +750ms  “联合体”吹响集结号", line) for line in lines)
    assert any(line.startswith("  intro") and line.endswith("，第三版。") for line in lines)
    assert "欢迎收听赤峰日报有声版" in result.output
    assert not any("呼铁中院" in line for line in lines if line.strip().startswith(">"))


def test_script_command_errors_are_one_line(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["script", str(tmp_path / "missing.txt")])
    assert result.exit_code == 2
    assert result.output.startswith("Error:") and len(result.output.strip().splitlines()) == 1
    page = tmp_path / "page.txt"
    page.write_text("标题\n\n正文。\n", encoding="utf-8")
    result = runner.invoke(cli, ["script", str(page), "--lexicon", str(tmp_path / "no.toml")])
    assert result.exit_code == 2
    assert "lexicon" in result.output and "does not exist" in result.output


@pytest.mark.voice
def test_the_offline_voice_says_every_syllable_of_the_spoken_text(scripts, tmp_path):
    """Real synthesis: a normalised sentence lasts as long as its syllables need (about 0.19 s
    each, measured), and longer than the same sentence without its spelled Latin letters."""
    import asyncio
    import wave

    from audio_edition.synth.offline import OfflineEngine, decided_utterance

    segment = next(s for s in scripts["offline"].segments if "SCI" in s.text)
    engine = OfflineEngine(workers=1)

    def seconds(text: str) -> float:
        dest = tmp_path / f"{len(list(tmp_path.iterdir()))}.wav"
        asyncio.run(engine.synthesize(text, segment.voice, dest))
        with wave.open(str(dest)) as clip:
            return clip.getnframes() / clip.getframerate()

    unspelled = segment.spoken.replace(normalize("SCI"), "").replace(normalize("EI"), "")
    try:
        spoken, shorter = seconds(segment.utterance), seconds(decided_utterance(unspelled))
    finally:
        engine.close()
    syllables = len(READABLE.findall(segment.spoken))
    assert len(segment.pinyin) == syllables
    assert 0.15 < spoken / syllables < 0.25
    letters = len(normalize("SCIEI"))  # the syllables of the letter names
    assert spoken - shorter > letters * 0.15
