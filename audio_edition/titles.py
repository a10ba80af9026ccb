"""How an episode is titled: the edition's date as Chinese readers write it, and the edition's name,
put together by the publication's title template (config key `episode_title`).

Fields of the template: {date} `12月2日 星期三`, {year} `2020年`, {name} the edition's name
(the build's --title, else the pages printed on it: `第5版`; empty when neither is known), and
{publication}. An empty field drops out with the spaces and separators around it. Podcast
apps and our pages show the year beside the title (the item's date), so the title leaves it
out; where a title stands alone (the MP3's own tag, the spoken intro) the year goes before
the date unless the template places {year} itself.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Sequence

DEFAULT_TEMPLATE = "{date} {name}"
FIELDS = ("date", "year", "name", "publication")
WEEKDAYS = "一二三四五六日"
MAX_LISTED_PAGES = 3  # more pages than this are named by their range: 第1版至第8版
SEPARATORS = " ·-|—:：，、"  # left dangling at an end by an empty field: removed


def chinese_date(date: dt.date, *, year: bool = True, weekday: bool = True) -> str:
    """`2020年12月2日 星期三`, or without the year `12月2日 星期三`, or the weekday."""
    text = (f"{date.year}年" if year else "") + f"{date.month}月{date.day}日"
    return text + (f" 星期{WEEKDAYS[date.weekday()]}" if weekday else "")


def check_template(template: str) -> str | None:
    """What is wrong with a title template, or None when it is usable."""
    try:
        names = _fields(template)
    except ValueError as e:
        return f"is not a valid template ({e}); write fields as {{date}}, {{name}}"
    unknown = [n for n in names if n not in FIELDS]
    if unknown:
        return f"has an unknown field {{{unknown[0]}}} (known: {', '.join(FIELDS)})"
    if "date" not in names:
        return "must contain {date}, or every edition would have the same title"
    return None


def episode_title(
    template: str, publication: str, date: dt.date, name: str, *, standalone: bool = False
) -> str:
    """The title of an edition by `template` (see the module docstring); `standalone` adds the
    year to the date unless the template has {year}."""
    with_year = standalone and "year" not in _fields(template)
    text = template.format(
        date=chinese_date(date, year=with_year),
        year=f"{date.year}年",
        name=name.strip(),
        publication=publication.strip(),
    )
    return " ".join(text.split()).strip(SEPARATORS)


def page_names(pages: Sequence[str]) -> str:
    """The name of an edition made of the printed pages `pages`: `第5版`, `第5版、第6版`, or
    `第1版至第8版` for more than MAX_LISTED_PAGES."""
    unique = list(dict.fromkeys(pages))
    if len(unique) > MAX_LISTED_PAGES:
        return f"{unique[0]}至{unique[-1]}"
    return "、".join(unique)


def _fields(template: str) -> list[str]:
    return [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
