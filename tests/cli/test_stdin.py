"""``summarize -``: a PDF piped into standard input, known by its bytes like a file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from localdigest.cli import app

runner = CliRunner()


@pytest.mark.model
def test_piped_pdf_is_summarized_and_shares_the_files_cache(
    corpus: Path, expected: list[dict[str, Any]]
) -> None:
    paper = corpus / "pdfs" / "1212.5701.pdf"
    data = paper.read_bytes()
    [facts] = [e for e in expected if e["file"] == f"pdfs/{paper.name}"]

    piped = runner.invoke(app, ["summarize", "-", "--format", "json", "-q"], input=data)
    assert piped.exit_code == 0, piped.output
    [summary] = json.loads(piped.stdout)
    assert summary["source"] == "-"
    assert summary["sha256"] == hashlib.sha256(data).hexdigest()
    assert summary["title"].casefold() == facts["title"].casefold()  # printed in capitals
    assert summary["cached"] is False
    # The bytes are kept (for `digest`'s figures and `ask`), named by their hash.
    assert Path(summary["path"]).read_bytes() == data

    # The same bytes, as a file, are the same paper: its summary comes from the cache.
    as_file = runner.invoke(app, ["summarize", str(paper), "--format", "json", "-q"])
    assert as_file.exit_code == 0, as_file.output
    [again] = json.loads(as_file.stdout)
    assert again["cached"] is True and again["key"] == summary["key"]


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"<html><body>Not found</body></html>", "Standard input is not a PDF"),
        (b"", "Standard input is empty"),
    ],
)
def test_piped_input_that_is_no_pdf_fails_alone_with_exit_3(
    data: bytes, said: str, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["summarize", "-", "--mode", "extract", "-q"], input=data)
    assert result.exit_code == 3, result.output
    assert said in result.stderr and "summarize - < paper.pdf" in result.stderr
    assert "Traceback" not in result.output


def test_ask_reads_a_piped_pdf_too(corpus: Path) -> None:
    data = (corpus / "pdfs" / "1212.5701.pdf").read_bytes()
    question = "What does ADADELTA adapt dynamically?"
    result = runner.invoke(
        app, ["ask", question, "-", "--mode", "extract", "-f", "json", "-q"], input=data
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["found"] and answer["passages"]
    # Cited by the name it is kept under: its hash.
    assert {p["paper"] for p in answer["passages"]} == {hashlib.sha256(data).hexdigest()[:16]}
