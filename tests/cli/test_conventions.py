"""What every command does the same way: its help shows how it is used (an "Example:" or
"Examples:" with a command line of its own), and what it reports comes as JSON with
``--format json`` too."""

from __future__ import annotations

from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from localdigest.cli import app

runner = CliRunner()


# Commands without --format json: the top level and the groups that only hold subcommands,
# and `eval`, whose report is a JSON file (-o) anyway.
NO_JSON = {(), ("cache",), ("schedule",), ("eval",)}


def command_paths() -> list[list[str]]:
    """Every command and group, as the words that name it (``["models", "pull"]``; ``[]``:
    ``localdigest`` itself)."""
    found: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        found.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "localdigest")
def test_every_help_has_an_example(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Example" in text, f"`localdigest {' '.join(path)} --help` shows no example"
    after = text[text.index("Example") :]
    assert " ".join(["localdigest", *path]) in " ".join(after.split()), after


def _commands() -> dict[tuple[str, ...], Any]:
    found: dict[tuple[str, ...], Any] = {}

    def walk(command: Any, path: tuple[str, ...]) -> None:
        found[path] = command
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


@pytest.mark.parametrize("path", sorted(_commands()), ids=lambda p: " ".join(p) or "localdigest")
def test_every_command_that_reports_takes_format_json(path: tuple[str, ...]) -> None:
    command = _commands()[path]
    formats = [p for p in command.params if "--format" in p.opts]
    if path in NO_JSON:
        assert not formats, f"{path} takes --format: take it off NO_JSON"
        return
    assert formats, f"`localdigest {' '.join(path)}` has no --format"
    [option] = formats
    assert "json" in option.type.choices
