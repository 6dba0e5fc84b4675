"""`run` lists the week ranked by the reader's library, and `--top N` takes the N best."""

from __future__ import annotations

from pathlib import Path

import pytest
from arxiv_server import FakeArxiv, arxiv_server_fixture  # noqa: F401
from conftest import user_paths
from typer.testing import CliRunner

from localdigest import config
from localdigest.cli import app
from localdigest.cli import run as run_command
from localdigest.papers import Result
from localdigest.sources.listing import SearchSpec
from localdigest.workflows import weekly

runner = CliRunner()
FUZZING = "Active Fuzzing for Testing and Securing Cyber-Physical Systems"


@pytest.fixture
def interests(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        'interests = """\nFuzzing and securing cyber-physical systems: attacks on industrial\n'
        'control, water treatment testbeds, anomaly detection.\n"""\n'
    )


def test_search_ranks_the_plan(arxiv_server: FakeArxiv, interests: None) -> None:
    plan = weekly.search(config.load(), SearchSpec(terms=["testing"], only_new=False))
    assert plan.papers[0].title == FUZZING
    values = [s.relevance for s in plan.scores]
    assert values == sorted(values, reverse=True) and len(values) == len(plan.papers) == 10
    assert plan.top(1) == [1]
    again = weekly.load_unfinished(user_paths())
    assert again is not None  # saved with the plan, scores to four decimals
    assert [s.matched_terms for s in again.scores] == [s.matched_terms for s in plan.scores]
    assert [s.relevance for s in again.scores] == pytest.approx(values, abs=1e-4)

    listed = weekly.search(
        config.load(), SearchSpec(terms=["testing"], only_new=False), sort="submitted"
    )
    fuzzing = next(n for n, p in enumerate(listed.papers, 1) if p.title == FUZZING)
    assert fuzzing != 1  # arXiv's order
    assert listed.top(1) == [fuzzing]  # --top still takes the most relevant
    assert listed.top(3) == sorted(listed.top(3)) and fuzzing in listed.top(3)


def no_summaries(sources: object, cfg: object, quiet: bool = False) -> list[Result]:
    return []


def test_run_top_picks_by_relevance_and_shows_why(
    arxiv_server: FakeArxiv, interests: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(run_command, "summarize_with_progress", no_summaries)
    result = runner.invoke(
        app, ["run", "testing", "--top", "1", "--sort", "submitted", "--out-dir", str(tmp_path)]
    )
    assert result.exit_code == 3, result.output  # nothing summarized: no digest
    assert "rel" in result.stdout.splitlines()[0] and "fuzzing" in result.stdout
    plan = weekly.load_unfinished(user_paths())
    assert plan is not None and [p.title for p in plan.chosen] == [FUZZING]


def test_run_with_an_empty_library_keeps_arxivs_order(
    arxiv_server: FakeArxiv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(run_command, "summarize_with_progress", no_summaries)
    result = runner.invoke(app, ["run", "testing", "--top", "2", "--out-dir", str(tmp_path)])
    assert "library is empty" in result.stderr
    plan = weekly.load_unfinished(user_paths())
    assert plan is not None and plan.picks == [1, 2] and plan.scores == []
    ids = [p.versioned_id for p in plan.papers]
    assert ids == arxiv_server.search_ids
