"""`localdigest eval --questions`: the question set asked of the real corpus, scored with
the labels' own matching rule; the numbers docs/ask.md reports, kept from falling back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from localdigest.cli import app
from localdigest.eval.questions import QuestionReport, run_questions

QUESTIONS = Path(__file__).resolve().parents[1] / "fixtures" / "questions.json"
runner = CliRunner()


@pytest.fixture(scope="module")
def report(corpus: Path) -> QuestionReport:
    return run_questions(QUESTIONS, corpus / "pdfs")


def test_every_readable_paper_is_asked(report: QuestionReport) -> None:
    assert report.papers == 11 and report.passages > 500
    assert [s.split(":")[0] for s in report.skipped] == ["1412.6980-corrupt.pdf"]
    assert len(report.rows) == 70
    assert {r.half for r in report.rows} == {"even", "odd"}


def test_the_scores_do_not_fall_back(report: QuestionReport) -> None:
    # Measured (docs/ask.md): recall@3 0.767, MRR 0.663, "not found" 9 of 10 (0.617 and
    # 0.532 before the windows and the folded stems). Lexical retrieval misses the
    # questions worded unlike their answer; these floors catch a change that loses the
    # ones it finds.
    every = report.scores()
    assert every["recall_at_3"] >= 0.7 and every["mrr"] >= 0.6
    assert every["not_found"] >= 0.8  # the target: 4 probes of 5
    assert every["false_not_found"] <= 0.1
    held_out = report.scores("odd")
    assert held_out["recall_at_3"] >= 0.68 and held_out["not_found"] >= 0.8


def test_a_rank_is_the_first_passage_on_the_page_holding_the_answer(
    report: QuestionReport,
) -> None:
    heads = next(r for r in report.rows if r.question.startswith("How many attention heads"))
    assert heads.rank is not None and heads.rank <= 3
    assert "1706.03762 p. 5" in heads.shown[: heads.rank]
    probes = [r for r in report.rows if r.paper is None]
    assert all(r.rank is None for r in probes)


def test_the_command_writes_both_halves(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "ask-eval.json"
    args = ["eval", "--questions", str(QUESTIONS), "--pdfs", str(corpus / "pdfs"), "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "recall@3" in result.stdout and "odd (held out)" in result.stdout
    data = json.loads(out.read_text())
    assert set(data["halves"]) == {"even", "odd"}
    assert data["overall"]["answerable"] == 60 and data["overall"]["unanswerable"] == 10


def test_a_questions_file_that_is_not_one(tmp_path: Path, corpus: Path) -> None:
    bad = tmp_path / "q.json"
    bad.write_text('{"question": "not a list"}')
    args = ["eval", "--questions", str(bad), "--pdfs", str(corpus / "pdfs")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "not a list of" in result.output
