"""Reading summaries where they are made: `show`/`summarize` print each paragraph after the
table, wrapped to the terminal, paged when long on a terminal and plain in a pipe."""

from __future__ import annotations

import os
import re
from pathlib import Path

from digest_helpers import cache, make_summary
from terminal import run_in_terminal
from typer.testing import CliRunner

from localdigest.cli import app

runner = CliRunner()
PARAGRAPH = (
    "The paper replaces recurrence with attention throughout an encoder-decoder model. "
    "On WMT 2014 English-to-German it reaches 28.4 BLEU, two points above the best "
    "ensembles, after 3.5 days of training on eight GPUs; the authors note that "
    "restricted attention for very long inputs is left for future work."
)
SECOND = "Attention weights also read as rough syntactic alignments between words."


def words(text: str) -> str:
    """The text without box drawing, one space between words."""
    return " ".join(re.sub(r"[│╭╮╰╯─┃━┏┓┗┛┡┩└┘┌┐├┤┼╇╈╋]", " ", text).split())


def cached_paper() -> str:
    summary = make_summary(7, "Attention Is All You Need", summary=f"{PARAGRAPH}\n\n{SECOND}")
    cache(summary)
    return summary.sha256[:10]


def test_show_prints_the_paragraph_after_the_table() -> None:
    key = cached_paper()
    result = runner.invoke(app, ["show", key])
    assert result.exit_code == 0, result.output
    text = words(result.stdout)
    assert "TL;DR" in text
    assert PARAGRAPH in text and SECOND in text
    assert text.index("Pages") < text.index(PARAGRAPH)  # the table first
    assert "\x1b[" not in result.stdout  # not a terminal: plain text


def test_brief_keeps_only_the_table() -> None:
    key = cached_paper()
    result = runner.invoke(app, ["show", key, "--brief"])
    assert result.exit_code == 0, result.output
    text = words(result.stdout)
    assert "Paper 7 in one sentence." in text
    assert PARAGRAPH not in text and "BLEU" not in text


def test_long_output_on_a_terminal_goes_to_the_pager(tmp_path: Path) -> None:
    key = cached_paper()
    paged = tmp_path / "paged.txt"
    env = {**os.environ, "PAGER": f"cat > {paged}", "TERM": "xterm-256color"}
    env.pop("COLUMNS", None), env.pop("LINES", None)
    screen = run_in_terminal(["show", key], env, rows=12, cols=60)
    assert "BLEU" not in screen  # it went to the pager, not straight to the screen
    text = paged.read_text()
    assert PARAGRAPH in words(re.sub(r"\x1b\[[0-9;]*m", "", text))
    plain_lines = re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()
    assert max(len(line) for line in plain_lines) <= 60  # wrapped to the window


def test_short_output_or_no_pager_prints_directly(tmp_path: Path) -> None:
    key = cached_paper()
    paged = tmp_path / "paged.txt"
    env = {**os.environ, "PAGER": f"cat > {paged}", "TERM": "xterm-256color"}
    env.pop("COLUMNS", None), env.pop("LINES", None)
    tall = run_in_terminal(["show", key], env, rows=200, cols=100)
    assert "BLEU" in tall and not paged.exists()
    flag = run_in_terminal(["show", key, "--no-pager"], env, rows=12, cols=100)
    assert "BLEU" in flag and not paged.exists()
