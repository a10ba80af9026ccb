"""Thin click commands: parse options, call the library, turn AudioEditionErrors into one line."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from audio_edition import __version__
from audio_edition.errors import AudioEditionError
from audio_edition.model import ENGINES, SPLIT_MODES

F = TypeVar("F", bound=Callable[..., Any])
# Paths only: whether a file exists and is readable is the library's to say, in one line.
INPUT = click.Path(path_type=Path)
FILE = click.Path(dir_okay=False, path_type=Path)


class CommandError(click.ClickException):
    """A library error shown as `Error: <message>` with the error's own exit code."""

    def __init__(self, error: AudioEditionError) -> None:
        super().__init__(str(error))
        self.exit_code = error.exit_code


def reports_errors(command: F) -> F:
    """Turn library errors raised by a command into one-line messages and exit codes."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AudioEditionError as e:
            raise CommandError(e) from None

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="audio-edition")
def cli() -> None:
    """Turn a newspaper's articles into an accessible Mandarin audio edition and podcast feed.

    \b
    Example:
      audio-edition build samples/000_aa4cbc5942cc5dc6.txt -o output/
    """


def main() -> None:
    cli(prog_name="audio-edition")


@cli.command()
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...", type=INPUT)
@click.option("--json", "as_json", is_flag=True, help="Print the edition as JSON.")
@reports_errors
def parse(inputs, as_json):
    """Show the articles found in INPUT... (e-paper page text, .md or .json), in order, and
    the spots the page parser was unsure of (file:line), to check before publishing.

    \b
    Example:
      audio-edition parse samples/000_aa4cbc5942cc5dc6.txt
      audio-edition parse samples/000_aa4cbc5942cc5dc6.txt --json > edition.json
    """
    from audio_edition.ingest import read_edition
    from audio_edition.ingest.outline import outline

    edition = read_edition(inputs)
    if as_json:
        print_json({**edition.to_dict(), "warnings": [w.to_dict() for w in edition.warnings]})
        return
    click.echo("\n".join(outline(edition)))


def _build_options(
    inputs: tuple[Path, ...], engine: str, date: dt.datetime | None, **extra: Any
) -> Any:
    # Imported here, not at the top: the pipeline pulls in numpy, LiteRT and ffmpeg helpers,
    # which `--help` and the light commands should not pay for.
    from audio_edition.build import BuildOptions

    return BuildOptions(
        inputs=inputs,
        engine=engine,
        date=date.date() if date else dt.date.today(),
        **extra,
    )


engine_option = click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="offline",
    show_default=True,
    help="Speech engine: offline (no network) or edge (Microsoft neural voices).",
)
settings_options = [
    click.option("--config", "config_path", type=FILE, help="Publication config TOML."),
    click.option(
        "--profile",
        "profile_path",
        type=FILE,
        help="Voice profile TOML [default: the config's profile, else the built-in one].",
    ),
    click.option(
        "--lexicon",
        "lexicon_path",
        type=FILE,
        help="Pronunciation lexicon TOML [default: the config's lexicon, else the built-in one].",
    ),
]
edition_options = [
    click.argument("inputs", nargs=-1, required=True, metavar="INPUT...", type=INPUT),
    engine_option,
    click.option(
        "--date", type=click.DateTime(["%Y-%m-%d"]), help="The edition's date [default: today]."
    ),
    click.option("--title", help="The edition's name [default: the first page's title]."),
    *settings_options,
]
publish_options = [  # how a build or a backfill synthesises and publishes
    click.option("--base-url", help="Absolute URL where the output directory is served."),
    click.option("--concurrency", type=click.IntRange(1, 32), help="Clips synthesised at once."),
    click.option(
        "--fallback",
        type=click.Choice(ENGINES),
        help="Engine that reads a sentence the main engine still fails on after retries.",
    ),
    click.option(
        "--cluster",
        metavar="ADDRESS",
        envvar="AUDIO_EDITION_CLUSTER",
        show_envvar=True,
        help="Dask scheduler (tcp://HOST:8786) whose workers synthesise the offline voice's "
        "clips (docs/scaling.md).",
    ),
]
out_option = click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="output",
    show_default=True,
    help="Output directory.",
)


def with_options(options: list[Callable[[F], F]]) -> Callable[[F], F]:
    def decorate(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


with_edition_options = with_options(edition_options)


@cli.command()
@with_edition_options
@out_option
@with_options(publish_options)
@click.option("--note", help="Editor's note for the episode description, e.g. a correction.")
@click.option(
    "--split",
    type=click.Choice(SPLIT_MODES),
    default="edition",
    show_default=True,
    help="One episode per edition, or one per article (for players without chapters).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@reports_errors
def build(inputs, engine, date, as_json, **extra):
    """Build the audio edition of INPUT... (the pages of one day, in order) and its feed.

    \b
    Example:
      audio-edition build samples/000_aa4cbc5942cc5dc6.txt -o output/ --date 2026-11-29
    """
    from audio_edition.build import build as build_edition

    summary = build_edition(_build_options(inputs, engine, date, **extra))
    if as_json:  # the summary lists the page parser's warnings
        print_json(summary.to_dict())
        return
    print_summary(summary)


def print_summary(summary: Any) -> None:
    """The episodes a build made, its clips, and the clips to check."""
    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)
    for episode in summary.episodes:
        minutes, seconds = divmod(round(episode.duration_ms / 1000), 60)
        click.echo(f"{episode.title}: {episode.audio_file} ({minutes}:{seconds:02d})")
    click.echo(
        f"clips: {summary.synthesized} synthesised, {summary.reused} reused, "
        f"{summary.retried} retried; feed: {summary.feed}"
    )
    for text in summary.fallbacks:
        click.echo(f"read by the fallback voice: {text}")
    for text in summary.suspect:
        click.echo(f"check this clip, its length looks wrong: {text}")


@cli.command()
@click.argument("archive", type=click.Path(path_type=Path))
@out_option
@engine_option
@with_options(settings_options)
@with_options(publish_options)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@reports_errors
def backfill(archive, as_json, **options):
    """Publish an archive: every folder of ARCHIVE named by its date (2024-03-15/) holds that
    day's pages, read in file-name order, and becomes that day's edition.

    All days' clips are synthesised at once (with --cluster, on a Dask cluster's workers), each
    day is published as soon as its clips are in, and the feed is written once at the end. A day
    whose pages cannot be read is reported and skipped. Running it again resumes: days already
    published from the same inputs are left as they are.

    \b
    Example:
      audio-edition backfill archive/ -o output/ --cluster tcp://10.0.0.5:8786
    """
    from audio_edition.build.backfill import BackfillOptions
    from audio_edition.build.backfill import backfill as run_backfill

    summary = run_backfill(BackfillOptions(archive=archive, **options))
    if as_json:
        print_json(summary.to_dict())
        return
    for name, reason in summary.skipped:
        click.echo(f"skipped {name}: {reason}")
    if summary.unchanged:
        click.echo(f"{len(summary.unchanged)} editions already published, unchanged")
    print_summary(summary.build)


@cli.command()
@with_edition_options
@out_option
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@reports_errors
def plan(inputs, engine, date, as_json, **extra):
    """Show what a build of INPUT... would change, without touching anything.

    \b
    Example:
      audio-edition plan samples/000_aa4cbc5942cc5dc6.txt -o output/ --date 2026-11-29
    """
    from audio_edition.build import plan as plan_edition

    result = plan_edition(_build_options(inputs, engine, date, **extra))
    if as_json:
        print_json(result.to_dict())
        return
    for episode in result.episodes:
        state = "new episode" if episode.is_new else "update"
        click.echo(f"{episode.title} ({state})")
        for title, sentences in episode.changed.items():
            click.echo(f"  changed: {title}")
            for sentence in sentences:
                click.echo(f"    + {sentence}")
        for title in episode.removed:
            click.echo(f"  removed: {title}")
    click.echo(f"{result.to_synthesize} of {result.total_clips} clips to synthesise")


@cli.command()
@click.argument("path", default="audio-edition.toml", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@reports_errors
def init(path, force):
    """Write a commented starter publication config to PATH (default: audio-edition.toml).

    Edit it (title, owner e-mail, base URL where the output is served), then build.

    \b
    Example:
      audio-edition init
      audio-edition build samples/000_aa4cbc5942cc5dc6.txt --config audio-edition.toml
    """
    from audio_edition.config import starter_config_text
    from audio_edition.errors import ConfigError
    from audio_edition.fsutil import atomic_write_text

    target = Path(path)
    if target.exists() and not force:
        raise ConfigError(f"{path} already exists; edit it, or pass --force to overwrite it")
    atomic_write_text(target, starter_config_text())
    click.echo(f"wrote {path}: set owner_email and base_url before publishing")


@cli.command()
@click.argument("directory", default="output", type=click.Path(file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@reports_errors
def serve(directory, host, port):
    """Serve the output DIRECTORY (default: output) over HTTP until Ctrl+C.

    Podcast players can seek (HTTP Range requests); nothing outside DIRECTORY is served.
    Build with `--base-url http://HOST:PORT` so the feed's links point here.

    \b
    Example:
      audio-edition serve output/ --port 8000
    """
    from audio_edition.publish.serve import serve as serve_directory

    def ready(url: str) -> None:
        click.echo(f"serving {directory} at {url}/ (feed: {url}/feed.xml); Ctrl+C stops")

    serve_directory(directory, host, port, on_ready=ready)


@cli.command()
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="offline",
    show_default=True,
    help="Whose voices: offline (no network) or edge (asks Microsoft's service).",
)
@click.option("--language", help="Only locales under this language, e.g. zh or zh-CN.")
@click.option("--json", "as_json", is_flag=True, help="Print the voices as JSON.")
@reports_errors
def voices(engine, language, as_json):
    """List the voices an engine offers, for the voice profile (voices/*.toml).

    Columns: name, gender, locale, what the voice suits, and its status when not GA.

    \b
    Example:
      audio-edition voices --engine edge --language zh
    """
    from audio_edition.synth.catalog import list_voices

    found = list_voices(engine, language)
    if as_json:
        print_json([v.to_dict() for v in found])
        return
    width = max(len(v.name) for v in found)
    for v in found:
        status = "" if v.status == "GA" else f"  ({v.status})"
        line = f"{v.name:<{width}}  {v.gender:<6}  {v.locale:<10}  {', '.join(v.categories)}"
        click.echo(line.rstrip() + status)


@cli.command()
@with_edition_options
@click.option("--json", "as_json", is_flag=True, help="Print the running order as JSON.")
@reports_errors
def script(inputs, engine, date, as_json, **extra):
    """Show the running order of INPUT...: every segment with its voice role, pause after it,
    text, and what the engine is given when that differs.

    \b
    Example:
      audio-edition script samples/000_aa4cbc5942cc5dc6.txt
      audio-edition script samples/000_aa4cbc5942cc5dc6.txt --engine edge --json
    """
    from audio_edition.build import prepare
    from audio_edition.script import outline

    ((_, running_order),) = prepare(_build_options(inputs, engine, date, **extra)).parts
    if as_json:
        print_json(running_order.to_dict())
        return
    click.echo("\n".join(outline(running_order)))


def with_page_options(command: F) -> F:
    """The edition options of `build` but the engine (and the pages optional)."""
    for option in reversed(edition_options[2:]):
        command = option(command)
    return click.argument("inputs", nargs=-1, metavar="INPUT...", type=INPUT)(command)


@cli.command()
@with_page_options
@click.option(
    "--lines",
    "lines_file",
    type=click.File("r", encoding="utf-8"),
    metavar="FILE",
    help="Read FILE (- for stdin) as one sentence per line instead of pages.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (JSON Lines with --lines).")
@reports_errors
def pinyin(inputs, lines_file, date, as_json, lexicon_path, **extra):
    """Show the syllables the offline voice says for INPUT... (or each line of --lines FILE):
    the polyphone choices least sure first, each with the lexicon line that would change it,
    then every sentence with its polyphones' readings.

    \b
    Example:
      audio-edition pinyin samples/000_aa4cbc5942cc5dc6.txt
      audio-edition pinyin --lines sentences.txt --json > readings.jsonl
    """
    from audio_edition.config import load_config
    from audio_edition.errors import ConfigError
    from audio_edition.text.lexicon import load_lexicon

    # the lexicon the build would use: --lexicon, else the config's, else the built-in one
    lexicon = load_lexicon(lexicon_path or load_config(extra["config_path"]).lexicon)
    if lines_file is not None:
        if inputs:
            raise ConfigError("give either INPUT pages or --lines FILE, not both")
        _print_line_readings(lines_file, lexicon, as_json)
        return
    if not inputs:
        raise ConfigError("give the pages to review (INPUT...) or --lines FILE")
    from audio_edition.build import prepare
    from audio_edition.review import outline, review

    options = _build_options(inputs, "offline", date, lexicon_path=lexicon_path, **extra)
    parts = prepare(options).parts
    results = [review(running_order, lexicon) for _, running_order in parts]
    if as_json:
        print_json([r.to_dict() for r in results] if len(results) > 1 else results[0].to_dict())
        return
    for result in results:
        click.echo("\n".join(outline(result)))


LINES_BATCH = 2000  # lines read per batch by `pinyin --lines`: output streams, memory stays flat


def _print_line_readings(lines_file, lexicon, as_json: bool) -> None:
    from itertools import islice

    from audio_edition.text.g2p import Reader, read_lines

    reader = Reader(lexicon)
    stream = (line.rstrip("\r\n") for line in lines_file)
    while batch := list(islice(stream, LINES_BATCH)):
        for line, said in zip(batch, read_lines(batch, reader), strict=True):
            if as_json:
                click.echo(json.dumps({"text": line, "pinyin": said}, ensure_ascii=False))
            else:
                click.echo(" ".join(s or "-" for s in said))
