"""Nothing from a paper, its metadata or a file name reaches the terminal as a control
sequence: `summarize`, `show`, `digest` and error messages show ESC, OSC, CR and bidi
overrides as visible escapes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import FakeBackend
from digest_helpers import cache, make_summary
from samplepaper import write_sample_paper
from typer.testing import CliRunner

from localdigest.cli import app
from localdigest.render import console
from localdigest.workflows import summarize as summarize_workflow

runner = CliRunner()
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\rEvil \u202etxt.exe\x9b31m"
CONTROLS = ("\x1b", "\x07", "\r", "\u202e", "\x9b")


def clean(text: str) -> None:
    for c in CONTROLS:
        assert c not in text, (c, text)


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> FakeBackend:
    fake = FakeBackend()
    monkeypatch.setattr(summarize_workflow, "backend_factory", lambda *a, **k: lambda: fake)
    return fake


def test_summarize_shows_a_hostile_file_name_escaped(
    tmp_path: Path, fake_model: FakeBackend
) -> None:
    path = write_sample_paper(tmp_path / f"paper{HOSTILE}.pdf")
    missing = tmp_path / f"missing{HOSTILE}.pdf"
    result = runner.invoke(app, ["summarize", str(path), str(missing)])
    assert result.exit_code == 3, result.output
    clean(result.output)
    assert "\\x1b]0;pwned\\x07" in result.output  # shown, not acted on
    for fmt in ("markdown", "json"):
        out = runner.invoke(app, ["summarize", str(path), "--format", fmt])
        assert out.exit_code == 0
        clean(out.stdout)


def test_show_and_digest_show_hostile_metadata_escaped() -> None:
    s = make_summary(1, f"Title {HOSTILE}", authors=[HOSTILE])
    cache(s)
    for args in (
        ["show"],
        ["show", "1", "--full"],
        ["show", "--format", "table"],
        ["show", "--format", "json"],
        ["show", "--format", "markdown"],
        ["digest", "--last", "1"],
        ["digest", "--last", "1", "--format", "json"],
        ["digest", "--last", "1", "--format", "html"],
    ):
        result = runner.invoke(app, args, env={"COLUMNS": "300"})
        assert result.exit_code == 0, (args, result.output)
        clean(result.output)
        assert "Title" in result.output


def test_the_consoles_escape_text_rich_never_saw_as_a_string() -> None:
    from rich.text import Text

    with console.out.capture() as captured:
        console.out.print(Text(f"direct {HOSTILE}"))
        console.out.print(f"markup {HOSTILE}")
    clean(captured.get())
    assert captured.get().count("\\x1b") == 4


def test_a_non_utf8_name_in_an_error_is_shown_not_a_crash(tmp_path: Path) -> None:
    name = os.fsdecode(b"missing\xff\x1b[31m.pdf")
    result = runner.invoke(app, ["summarize", str(tmp_path / name)])
    assert result.exit_code == 3
    clean(result.output)
    assert "\\xff" in result.output


def test_a_5000_character_title_is_cut_in_tables() -> None:
    """Issue 25, item 13: at most ~300 characters of a title in a table row."""
    cache(make_summary(1, "Endless " * 625))
    result = runner.invoke(app, ["show", "--format", "table"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "…" in result.output and result.output.count("Endless") < 60
