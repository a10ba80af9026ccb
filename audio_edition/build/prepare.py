"""Read a build's inputs and make the running order of each episode, writing nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

from audio_edition.build.options import BuildOptions, Stopwatch
from audio_edition.config import PublicationConfig, load_config
from audio_edition.ingest import read_edition
from audio_edition.model import Edition, EditionInfo, ParseWarning, Script
from audio_edition.profile import VoiceProfile, load_profile
from audio_edition.text.clean import clean
from audio_edition.text.lexicon import load_lexicon
from audio_edition.titles import episode_title, page_names


@dataclass(frozen=True)
class Prepared:
    """The running order of every episode a build makes, and what it needs to publish them."""

    config: PublicationConfig
    profile: VoiceProfile
    parts: tuple[tuple[EditionInfo, Script], ...]  # one per episode
    warnings: tuple[ParseWarning, ...] = ()  # what the page parser was unsure of


def prepare(
    options: BuildOptions,
    watch: Stopwatch | None = None,
    inputs_read: Callable[[], None] | None = None,
) -> Prepared:
    """Read the inputs and make the running order of each episode; bad input fails here. What
    the text stage works out is kept in the user's cache folder (text/memo.py).

    `inputs_read` is called once every input has been read and checked, before the (slower)
    script stage: the build starts loading its voice then."""
    watch = watch or Stopwatch()
    config = load_config(options.config_path, base_url=options.base_url)
    profile = load_profile(options.profile_path or config.profile)
    with watch.stage("ingest"):
        edition = read_edition(options.inputs)
        lexicon = load_lexicon(options.lexicon_path or config.lexicon)
    if inputs_read is not None:
        inputs_read()
    # imported once the voice is loading: the text stage's modules take 0.1 s to import
    from audio_edition.script import build_script
    from audio_edition.text.memo import text_memo

    with watch.stage("script"), text_memo() as memo:
        if options.split == "articles":
            parts = []
            for number, article in enumerate(edition.articles, start=1):
                headline = clean(article.headline, title=True)
                info = edition_info(config, options.date, headline)
                info = replace(info, pages=(f"a{number:02d}",))
                single = Edition(title=edition.title, articles=(article,), pages=edition.pages)
                script = build_script(single, info, profile, options.engine, lexicon, memo)
                parts.append((info, script))
        else:
            info = edition_info(config, options.date, options.title or page_names(edition.pages))
            parts = [(info, build_script(edition, info, profile, options.engine, lexicon, memo))]
    return Prepared(config=config, profile=profile, parts=tuple(parts), warnings=edition.warnings)


def edition_info(config: PublicationConfig, date: dt.date, name: str) -> EditionInfo:
    """An edition's identity and titles by the config's template; `name` is the edition's
    name: the build's --title, the pages printed on it, or a headline when split by article."""

    def title(standalone: bool) -> str:
        return episode_title(
            config.episode_title, config.publication, date, name, standalone=standalone
        )

    return EditionInfo(config.publication, date, title(False), full_title=title(True))
