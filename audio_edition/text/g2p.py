"""Grapheme to pinyin: the syllable the offline voice says for every character it reads.

Decided once, in the script stage, for the normalised text of each segment (ideographs and pause
marks), in this order:
1. the editors' lexicon: a pinyin entry (`"行长" = "hang2 zhang3"`) fixes its word's syllables;
2. words: each jieba word (or, inside a word no dictionary has, its longest dictionary words) is
   looked up in pypinyin's phrase dictionary, then in CC-CEDICT's (pypinyin-dict). Word
   readings carry the neutral tones of 钥匙 yàoshi, 路子 lùzi;
3. rules for characters no dictionary word holds that the model misreads in news prose:
   those whose other readings live only inside words (的 de, 和 hé, 都 dōu, 将 jiāng …, see
   ALONE), 为 wèi/wéi by its clause, 还 hái/huán, 得 de after a verb, 重/种/只/行 by their
   neighbours, a word-final 率 lǜ;
4. the polyphone model (g2pM's BiLSTM) for every other character with several readings, chosen
   among that character's own readings (or its word's), with the probability it gives;
5. the tone sandhi of 一 and 不, which the voice's training labels (the Baker corpus) carry.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from audio_edition.text.clean import for_speech
from audio_edition.text.dictionaries import PhraseEntry, dictionaries
from audio_edition.text.lexicon import Lexicon
from audio_edition.text.normalize import READABLE, UNREADABLE, normalize
from audio_edition.text.polyphone import shared_model
from audio_edition.text.syllables import readings, tone
from audio_edition.text.words import cut

# How sure each kind of choice is, for the review's "least sure first" (the model's own
# probability otherwise).
WORD_SURE = 0.99
RULE_SURE = 0.9
DEFAULT_SURE = 0.5  # a polyphone the model cannot tell apart: pypinyin's most common reading
MAX_WORD = 8  # characters: longest dictionary word looked for inside an unknown jieba word
NUMERALS = "零〇一二三四五六七八九十两百千万亿"
PLACES = "十百千万亿"  # after 一 these make 一百, 一千 ... (sandhi applies)
# 一 keeps its own tone before these: ordinals and ranks (一等奖, 一级, 一流, 一号, 一月).
ORDINAL_AFTER_YI = frozenset("等级流号审楼月期")
# Verbs (or their last character) that take 为 wéi as their complement: 成为, 分为, 被任命为.
WEI2_BEFORE = frozenset("成作认称视化变改分定评选列誉命任设译拜聘封奉尊推划归转折合并升降扩缩简判")
HUAN_AFTER = frozenset("给清钱债款贷本书原")  # 还给, 还清, 还钱: huán (return)
DEMONSTRATIVES = frozenset("这那哪各每某几此该本同个")
# Polyphones whose other readings live only inside words the dictionaries hold (首都 dū, 少年
# shào, 出差 chāi, 投降 xiáng, 便宜 pián, 将领 jiàng, 供给 jǐ, 目的 dì, 参与 yù, 要求 yāo, 会计
# kuài, 淹没 mò, 爱好 hào, 大夫 dài, 成分 fèn, 朝阳 zhāo, 反省 xǐng, 应邀 yìng): alone, they
# are read as the common word.
ALONE = {
    "都": "dou1", "少": "shao3", "差": "cha4", "降": "jiang4", "便": "bian4", "将": "jiang1",
    "给": "gei3", "的": "de5", "和": "he2", "与": "yu3", "要": "yao4", "会": "hui4", "没": "mei2",
    "好": "hao3", "大": "da4", "分": "fen1", "朝": "chao2", "省": "sheng3", "应": "ying1",
}  # fmt: skip
# Words whose dictionary reading is wrong (运转 yùnzhuǎn in 现代汉语词典, pypinyin: zhuàn) or
# is the rare sense in news (大都: mostly, not the metropolis).
NEWS_WORDS = {"运转": ("yun4", "zhuan3"), "大都": ("da4", "dou1")}
NAME_TAGS = frozenset({"nr", "ns", "nz", "nrt", "nrfg", "nt"})  # jieba's tags of proper names
MODEL_OVER_NAME = 0.9  # the model's probability that overrules CC-CEDICT's reading of a name


@dataclass(frozen=True)
class Reading:
    """The syllable chosen for one character, where it came from and how sure it is."""

    char: str
    syllable: str  # e.g. "chong2"; tone 5 = neutral
    source: str  # "lexicon", "word", "rule", "model", "default" or "single" (one reading)
    sure: float  # 1.0 for the lexicon and single readings; the model's probability for its choice
    others: tuple[str, ...] = ()  # its other readings in use (empty: not a polyphone)


@functools.cache
def word_readings(word: str) -> tuple[tuple[str, ...], ...] | None:
    """Each character's possible readings in `word` from the phrase dictionaries, or None."""
    if word in NEWS_WORDS:
        return tuple((s,) for s in NEWS_WORDS[word])
    found = _dictionary_entry(word)
    return found[0] if found else None


def _dictionary_entry(word: str) -> PhraseEntry | None:
    """(readings per character, whether from pypinyin's curated dictionary) or None."""
    return dictionaries().phrases.get(word)


def _trusted(word: str) -> bool:
    """Whether a word's dictionary reading stands against the model. CC-CEDICT's readings of
    names (places, people, transliterations: 阆中 Làng, 勃艮第 gèn, 德累斯顿 léi) are its
    least reliable; there the model, trained on Wikipedia sentences, is asked too."""
    found = _dictionary_entry(word)
    return found is not None and (found[1] or dictionaries().tags.get(word, "n") not in NAME_TAGS)


class Reader:
    """Reads normalised text (ideographs and pause marks) as syllables."""

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon or Lexicon()

    def read(self, text: str) -> list[Reading | None]:
        """One Reading per character of `text`; None for characters the voice does not read."""
        return self.read_all([text])[0]

    def read_all(self, texts: Sequence[str]) -> list[list[Reading | None]]:
        """`read` for many texts at once (the model runs on them in batches)."""
        plans = [_Plan(text, self.lexicon) for text in texts]
        model = shared_model() if any(p.ask for p in plans) else None
        chances = model.probabilities(texts, [p.ask for p in plans]) if model else []
        for plan, found in zip(plans, chances, strict=False):
            for position, spread in zip(plan.ask, found, strict=True):
                plan.choose(position, spread)
        return [plan.finish() for plan in plans]

    def syllables(self, text: str) -> tuple[str, ...]:
        """The syllables the voice says for `text`, in order."""
        return tuple(r.syllable for r in self.read(text) if r is not None)


class _Plan:
    """One text being read: the decisions so far and the positions left to the model."""

    def __init__(self, text: str, lexicon: Lexicon) -> None:
        self.text = text
        self.words = cut(text, lexicon.tokenizer)
        self.decided: list[Reading | None] = [None] * len(text)
        self.ask: list[int] = []
        self.open: dict[int, tuple[str, ...]] = {}  # readings a word leaves open, by position
        self.word_of: list[tuple[int, int]] = []  # per character: (index of its word, start)
        for index, word in enumerate(self.words):
            start = len(self.word_of)
            self.word_of += [(index, start)] * len(word)
        for start, syllables in lexicon.pinned(self.words):
            for k, syllable in enumerate(syllables):
                self.decided[start + k] = Reading(text[start + k], syllable, "lexicon", 1.0)
        start = 0
        for word in self.words:
            self._read_word(word, start)
            start += len(word)

    def _read_word(self, word: str, start: int) -> None:
        for offset, piece in _dictionary_pieces(word):
            known = word_readings(piece) if len(piece) > 1 else None
            for k, char in enumerate(piece):
                position = start + offset + k
                if self.decided[position] is not None or not _readable(char):
                    continue
                options = known[k] if known else readings(char)
                others = tuple(r for r in choices(char) if r != options[0])
                if len(options) == 1:
                    source = "word" if known and others else "single"
                    sure = WORD_SURE if source == "word" else 1.0
                    self.decided[position] = Reading(char, options[0], source, sure, others)
                    if source == "word" and not _trusted(piece):
                        self.ask.append(position)
                    continue
                ruled = _rule(char, position, self, alone=len(piece) == 1)
                if ruled:
                    self.decided[position] = Reading(char, ruled, "rule", RULE_SURE, others)
                else:
                    self.ask.append(position)
                    self.open[position] = options
                    default = Reading(char, options[0], "default", DEFAULT_SURE, others)
                    self.decided[position] = default

    def choose(self, position: int, spread: dict[str, float]) -> None:
        """Take the model's choice among the readings still open at `position` (over a name's
        dictionary reading only when it is sure)."""
        current = self.decided[position]
        if position in self.open:
            kept = {r: p for r, p in spread.items() if r in self.open[position]}
            total = sum(kept.values())
            spread = {r: p / total for r, p in kept.items()} if len(kept) > 1 else {}
        if current is None or not spread:
            return
        best = max(spread, key=spread.__getitem__)
        if current.source == "word" and spread[best] < MODEL_OVER_NAME:
            return
        others = tuple(r for r in choices(current.char) if r != best)
        self.decided[position] = Reading(current.char, best, "model", spread[best], others)

    def finish(self) -> list[Reading | None]:
        return _sandhi(self.text, self.decided, self.words)


@functools.cache
def choices(char: str) -> tuple[str, ...]:
    """The readings of `char` an editor might mean, for the review: pypinyin's (which keep
    archaic and dialect ones: 是 tí, 她 jiě), narrowed to those of the dictionary g2pM learnt
    from. (Decisions use all of pypinyin's: that dictionary lacks some common ones, 嘎 gā.)"""
    every = readings(char)
    common = shared_model().trained.get(char)
    if not common:
        return every
    return tuple(r for r in every if r in common) or every[:1]


@functools.cache
def _readable(char: str) -> bool:
    return bool(READABLE.match(char)) and char not in UNREADABLE and bool(readings(char))


def _dictionary_pieces(word: str) -> Iterable[tuple[int, str]]:
    """`word` whole if a dictionary has it, else its longest dictionary words left to right
    (unknown characters alone): 充分发挥 -> 充分, 发挥."""
    if len(word) == 1 or word_readings(word):
        yield 0, word
        return
    start = 0
    while start < len(word):
        end = min(len(word), start + MAX_WORD)
        while end > start + 1 and not word_readings(word[start:end]):
            end -= 1
        yield start, word[start:end]
        start = end


def _rule(char: str, position: int, plan: _Plan, alone: bool) -> str | None:
    """The reading of a news function word the model is known to misread, when no dictionary
    word holds it and it is not inside a name (温都尔): inside words the dictionaries decide."""
    index, start = plan.word_of[position]
    word = plan.words[index]
    if char == "率" and len(word) > 1 and position == start + len(word) - 1:
        return "lv4"  # 利润率, 增长率: a rate (率 shuài begins words: 率先, 率领)
    tag = dictionaries().tags.get(word)
    if not alone or (len(word) > 1 and (tag is None or tag in NAME_TAGS)):
        return None
    before = plan.words[index - 1] if index else ""
    after = plan.words[index + 1] if index + 1 < len(plan.words) else ""
    if char == "差" and before.endswith("之"):
        return "cha1"  # 一分之差: the difference
    if char in ALONE:
        return ALONE[char]
    if char == "还":
        return "huan2" if after[:1] in HUAN_AFTER else "hai2"
    if char == "得" and _tag(before)[:1] in ("v", "a"):
        return "de5"  # after a verb or adjective it links a complement: 进行得非常激烈
    if char == "为":
        return _wei(plan, index)
    if char == "重":
        return "chong2" if _tag(after)[:1] == "v" else "zhong4"  # 重上讲台; 太重了, 很重
    if char in "种只行":  # measure words after a numeral or a demonstrative: 两种, 一只, 几行
        previous = plan.text[position - 1 : position]
        counted = bool(previous) and (previous in NUMERALS or previous in DEMONSTRATIVES)
        return {"种": ("zhong3", "zhong4"), "只": ("zhi1", "zhi3"), "行": ("hang2", "xing2")}[char][
            0 if counted else 1
        ]
    return None


def _tag(word: str) -> str:
    return dictionaries().tags.get(word, "") if word else ""


def _verbal(word: str) -> bool:
    """A verb, or a verb-object phrase jieba files as a noun (办实事, 献爱心, 做贡献)."""
    return _tag(word)[:1] == "v" or (len(word) >= 3 and _tag(word[0])[:1] == "v")


def _wei(plan: _Plan, index: int) -> str:
    """为 wéi (as, to be: 以…为…, 成为, 分为…) or wèi (for, in order to: 为群众服务)."""
    words = plan.words
    clause_start = index
    while clause_start > 0 and READABLE.match(words[clause_start - 1][-1:]):
        clause_start -= 1
    before = words[clause_start:index]
    if "以" in before or "被" in before or (before and before[-1][-1] in WEI2_BEFORE):
        return "wei2"
    clause_end = index + 1
    while clause_end < len(words) and READABLE.match(words[clause_end][:1]):
        clause_end += 1
    after = words[index + 1 : clause_end]
    if len(after) <= 1:
        return "wei2"  # 为支撑、 为主导、: 为 with only a noun or a bare verb after it
    if "而" in after or any(_verbal(w) for w in after):
        return "wei4"  # 为 + someone + a verb: for them, in order to
    return "wei2"  # 为 + a noun phrase and no verb: is, becomes


def _sandhi(text: str, readings_: list[Reading | None], words: list[str]) -> list[Reading | None]:
    """一 and 不 as said before the next syllable (dictionary words may carry either form)."""
    out = list(readings_)
    ends = set()
    position = 0
    for word in words:
        position += len(word)
        if len(word) > 1:
            ends.add(position - 1)  # the last character of a word of two or more
    for k, reading in enumerate(out):
        if reading is None or reading.char not in "一不" or reading.source == "lexicon":
            continue
        ends_word = k in ends or bool(
            k and word_readings(text[k - 1 : k + 1]) and not word_readings(text[k : k + 2])
        )
        said = _yi(text, out, k, ends_word) if reading.char == "一" else _bu(text, out, k)
        if said != reading.syllable:
            out[k] = Reading(reading.char, said, reading.source, reading.sure, reading.others)
    return out


def _next_tone(readings_: list[Reading | None], k: int) -> str | None:
    nxt = readings_[k + 1] if k + 1 < len(readings_) else None
    return tone(nxt.syllable) if nxt else None


def _yi(text: str, readings_: list[Reading | None], k: int, ends_word: bool) -> str:
    before, after = text[k - 1 : k], text[k + 1 : k + 2]
    if readings_[k] and readings_[k].syllable == "yi5":
        return "yi5"
    if before and before == after:
        return "yi5"  # 看一看
    if not after or not READABLE.match(after) or ends_word:
        return "yi1"  # alone, last in a word or before a pause: 统一, 之一, 第一。
    if before == "第" or after in ORDINAL_AFTER_YI:
        return "yi1"  # ordinals: 第一名, 一等奖
    if after in NUMERALS and after not in PLACES:
        return "yi1"  # read digit by digit: 一九八一, 一一
    if before and before in NUMERALS and after not in PLACES:
        return "yi1"  # the last digit of a number: 十一个, 二十一名
    following = _next_tone(readings_, k)
    if following is None:
        return "yi1"
    return "yi2" if following == "4" or after == "个" else "yi4"


def _bu(text: str, readings_: list[Reading | None], k: int) -> str:
    current = readings_[k]
    if current and current.syllable == "bu5":
        return "bu5"  # a dictionary's neutral 不: 对不起, 差不多
    before, after = text[k - 1 : k], text[k + 1 : k + 2]
    if before and before == after:
        return "bu5"  # 是不是, 好不好
    return "bu2" if _next_tone(readings_, k) == "4" else "bu4"


def read_lines(lines: Sequence[str], reader: Reader) -> list[list[str | None]]:
    """For each line (one sentence), the syllable the offline voice says for each of its
    characters, or None where a character is not read as itself (digits, Latin letters,
    punctuation, text the normaliser or a respelling of another length replaced)."""
    steps = []
    for line in lines:
        prepared = for_speech(line)
        respelled, moved = reader.lexicon.apply_mapped(prepared)
        steps.append((line, prepared, respelled, moved, normalize(respelled)))
    found = reader.read_all([spoken for *_, spoken in steps])
    out = []
    for (line, prepared, respelled, moved, spoken), readings_ in zip(steps, found, strict=True):
        to_prepared = _matches(line, prepared)
        to_spoken = _matches(respelled, spoken)
        said: list[str | None] = [None] * len(line)
        for i, char in enumerate(line):
            j = to_prepared.get(i)
            j = moved[j] if j is not None else None
            j = to_spoken.get(j) if j is not None else None
            reading = readings_[j] if j is not None else None
            if reading is not None and READABLE.match(char):
                said[i] = reading.syllable
        out.append(said)
    return out


def _matches(before: str, after: str) -> dict[int, int]:
    """Where each character of `before` went in `after` (a rewrite of it that leaves most
    characters alone): unchanged runs, and replaced runs of the same length, char by char."""
    if before == after:
        return dict(zip(range(len(before)), range(len(after)), strict=True))
    found = {}
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
            found.update(zip(range(i1, i2), range(j1, j2), strict=True))
    return found
