"""Every command's help shows how it is used: an "Example:" (or "Examples:") with a
command line of its own."""

from __future__ import annotations

from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from localdigest.cli import app

runner = CliRunner()


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
