"""Without the `local` extra (llama-cpp-python): extract mode runs with estimated token
counts, and a command that needs the in-process model says in one line how to add it.
(tests/test_wheel.py runs the same in a fresh virtualenv where the package is absent.)"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from localdigest.cli import app
from localdigest.errors import ExitCode

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample-paper.pdf"
runner = CliRunner()


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """`import llama_cpp` fails, and find_spec finds nothing: as without the extra."""
    monkeypatch.setitem(sys.modules, "llama_cpp", None)


def test_extract_mode_needs_no_engine(no_engine: None) -> None:
    result = runner.invoke(app, ["summarize", str(SAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    [paper] = json.loads(result.stdout)
    assert paper["mode"] == "extract"
    assert paper["stats"]["llm_calls"] == 0
    assert paper["tldr"] and len(paper["summary"].split()) > 30
    assert sys.modules["llama_cpp"] is None  # nothing got past the block


@pytest.mark.model
def test_estimated_counts_are_another_identity(no_engine: None) -> None:
    """A summary planned on estimated counts is not served to a run with the real
    tokenizer (the reading plan may differ), nor the other way round."""
    estimated = runner.invoke(app, ["summarize", str(SAMPLE), "--format", "json"])
    assert estimated.exit_code == 0, estimated.output
    del sys.modules["llama_cpp"]  # the engine is back
    exact = runner.invoke(app, ["summarize", str(SAMPLE), "--format", "json"])
    assert exact.exit_code == 0, exact.output
    [first], [second] = json.loads(estimated.stdout), json.loads(exact.stdout)
    assert second["cached"] is False
    assert first["key"] != second["key"]


@pytest.mark.parametrize("args", [["--mode", "write"], ["--mode", "rewrite"]])
def test_a_command_that_needs_the_engine_says_how(no_engine: None, args: list[str]) -> None:
    result = runner.invoke(app, ["summarize", str(SAMPLE), *args])
    assert result.exit_code == ExitCode.MODEL
    assert "pip install 'localdigest[local]'" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 2  # one line (wrapped at most once)
