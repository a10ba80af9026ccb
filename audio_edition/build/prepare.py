"""Read a build's inputs and make the running order of each episode, writing nothing."""

from __future__ import annotations

from dataclasses import dataclass, replace

from audio_edition.build.options import BuildOptions, Stopwatch
from audio_edition.config import PublicationConfig, load_config
from audio_edition.ingest import read_edition
from audio_edition.model import Edition, EditionInfo, Script
from audio_edition.profile import VoiceProfile, load_profile
from audio_edition.script import build_script
from audio_edition.text.lexicon import load_lexicon


@dataclass(frozen=True)
class Prepared:
    """The running order of every episode a build makes, and what it needs to publish them."""

    config: PublicationConfig
    profile: VoiceProfile
    parts: tuple[tuple[EditionInfo, Script], ...]  # one per episode


def prepare(options: BuildOptions, watch: Stopwatch | None = None) -> Prepared:
    """Read the inputs and make the running order of each episode; bad input fails here."""
    watch = watch or Stopwatch()
    config = load_config(options.config_path, base_url=options.base_url)
    profile = load_profile(options.profile_path)
    with watch.stage("ingest"):
        edition = read_edition(options.inputs)
    with watch.stage("script"):
        lexicon = load_lexicon(options.lexicon_path)
        info = EditionInfo(
            publication=config.publication,
            date=options.date,
            title=options.title or edition.title or config.title,
        )
        if options.split == "articles":
            parts = tuple(
                (
                    replace(info, title=article.headline, pages=(f"a{number:02d}",)),
                    build_script(
                        Edition(title=info.title, articles=(article,)),
                        info,
                        profile,
                        options.engine,
                        lexicon,
                    ),
                )
                for number, article in enumerate(edition.articles, start=1)
            )
        else:
            parts = ((info, build_script(edition, info, profile, options.engine, lexicon)),)
    return Prepared(config=config, profile=profile, parts=parts)
