"""Thin click commands: parse options, call the library, turn AudioEditionErrors into one line."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from audio_edition import __version__
from audio_edition.errors import AudioEditionError

F = TypeVar("F", bound=Callable[..., Any])


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
