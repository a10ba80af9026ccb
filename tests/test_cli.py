"""Every command explains itself, and bad invocations fail in one line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from audio_edition.cli import cli

COMMANDS = sorted(cli.commands)


def test_the_commands_the_readme_names_exist():
    assert {"build", "backfill", "plan", "parse", "script", "voices", "init", "serve"} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    assert f"audio-edition {name}" in result.output.split("Example:")[1]


@pytest.mark.parametrize("name", ["build", "plan"])
def test_a_missing_input_is_one_line_and_exit_code_2(name, tmp_path):
    missing = tmp_path / "no-such-page.txt"
    result = CliRunner().invoke(cli, [name, str(missing), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "no-such-page.txt" in lines[0], result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "feed.xml").exists()
