"""Downloads show a progress bar with size and speed on a terminal (a pseudo-terminal here,
against the loopback arXiv stand-in), and nothing but results when output is not one."""

from __future__ import annotations

import os
import re

from arxiv_server import FakeArxiv, arxiv_server_fixture  # noqa: F401
from terminal import run_in_terminal
from typer.testing import CliRunner

from localdigest.cli import app

PAPER = "2202.12139v1"  # in the recorded search page; served by the stand-in


def screen_text(raw: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw)


def test_fetch_shows_a_download_bar_on_a_terminal(arxiv_server: FakeArxiv) -> None:
    arxiv_server.slow_next(seconds=1.5)
    screen = screen_text(run_in_terminal(["fetch", PAPER], dict(os.environ)))
    assert "asking arXiv" in screen  # while the metadata is looked up
    assert re.search(r"2202\.12139v1\s+━+", screen)  # the PDF's bar...
    assert re.search(r"\d+(\.\d+)?/106\.6 kB", screen)  # ...with its size
    assert re.search(r"\d+(\.\d+)? kB/s", screen)  # ...and speed
    assert f"{PAPER}  fetched" in screen


def test_no_bar_without_a_terminal(arxiv_server: FakeArxiv) -> None:
    result = CliRunner().invoke(app, ["fetch", PAPER])
    assert result.exit_code == 0, result.output
    assert "━" not in result.output and "kB" not in result.output
    assert result.stdout.startswith(f"{PAPER}  fetched")
