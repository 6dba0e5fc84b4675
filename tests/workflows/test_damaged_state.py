"""Damaged state files mean "start afresh" with a warning, never a traceback: the run plan
(a list, a string, picks out of range or negative, an id that is no arXiv id, a digest path
that is a folder) and the digest state (a date without a time zone)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import user_paths
from digest_helpers import cache, make_summary
from typer.testing import CliRunner

from localdigest import config
from localdigest.cli import app
from localdigest.workflows import digest, weekly

runner = CliRunner()


def meta(n: int, arxiv_id: str = "", version: object = 1) -> dict[str, Any]:
    aid = arxiv_id or f"2405.0443{n}"
    return {
        "arxiv_id": aid,
        "version": version,
        "title": f"Paper {n}",
        "authors": ["A. Author"],
        "abstract": "About it.",
        "categories": ["cs.CL"],
        "primary_category": "cs.CL",
        "published": "2024-05-07T10:00:00+00:00",
        "updated": None,
        "abs_url": f"https://arxiv.org/abs/{aid}",
        "pdf_url": f"https://arxiv.org/pdf/{aid}",
    }


def plan(**changes: Any) -> dict[str, Any]:
    data = {
        "format": weekly.PLAN_FORMAT,
        "started": "2024-05-07T10:00:00+00:00",
        "papers": [meta(1), meta(2)],
        "picks": [1, 2],
        "digest_path": None,
        "done": False,
    }
    data.update(changes)
    return data


DAMAGED = {
    "a list": [1, 2, 3],
    "a string": "plan",
    "not JSON": b"{\x00\xff",
    "picks out of range": plan(picks=[3]),
    "picks zero": plan(picks=[0]),
    "picks negative": plan(picks=[-1]),
    "picks not numbers": plan(picks=["1"]),
    "an invalid arXiv id": plan(papers=[meta(1, arxiv_id="../../etc"), meta(2)]),
    "non-ASCII digits": plan(papers=[meta(1, arxiv_id="２４０５.０４４３４"), meta(2)]),
    "version zero": plan(papers=[meta(1, version=0), meta(2)]),
    "version a text": plan(papers=[meta(1, version="2"), meta(2)]),
    "authors a text": plan(papers=[{**meta(1), "authors": "A. Author"}, meta(2)]),
    "a bad date": plan(papers=[{**meta(1), "published": "last Tuesday"}, meta(2)]),
    "paper a list": plan(papers=[[1], meta(2)]),
}


@pytest.mark.parametrize("damage", list(DAMAGED), ids=list(DAMAGED))
def test_a_damaged_run_plan_means_start_afresh(damage: str) -> None:
    path = weekly.plan_path(user_paths())
    path.parent.mkdir(parents=True, exist_ok=True)
    content = DAMAGED[damage]
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    warnings: list[str] = []
    assert weekly.load_unfinished(user_paths(), on_damage=warnings.append) is None
    [warning] = warnings
    assert "run-plan.json is damaged" in warning and "starting afresh" in warning
    assert not path.exists() and path.with_name("run-plan.json.damaged").exists()


def test_a_sound_plan_still_loads() -> None:
    weekly.plan_path(user_paths()).parent.mkdir(parents=True, exist_ok=True)
    weekly.plan_path(user_paths()).write_text(json.dumps(plan()))
    loaded = weekly.load_unfinished(user_paths())
    assert loaded is not None and [p.title for p in loaded.chosen] == ["Paper 1", "Paper 2"]


def test_run_command_with_a_damaged_plan_warns_and_goes_on(tmp_path: Path) -> None:
    weekly.plan_path(user_paths()).parent.mkdir(parents=True, exist_ok=True)
    weekly.plan_path(user_paths()).write_text(json.dumps(plan(picks=[0])))
    # Not interactive and nothing chosen: it stops (exit 2) before searching, but it got
    # past the damaged plan with a warning instead of a traceback.
    result = runner.invoke(app, ["run", "--out-dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "is damaged" in result.output and "Traceback" not in result.output


def test_a_digest_path_that_became_a_folder_gets_a_new_file(tmp_path: Path) -> None:
    folder = tmp_path / "digest-2024-05-12.md"
    folder.mkdir()
    p = weekly.RunPlan.from_dict(plan(digest_path=str(folder)))
    p.path = weekly.plan_path(user_paths())
    cfg = config.load(digest_dir=tmp_path)
    path = weekly.finish(cfg, p, [make_summary(1, "Paper 1")], {}, dt.date(2024, 5, 12))
    assert path.is_file() and path != folder


def test_a_digest_state_without_a_time_zone_is_read_as_utc() -> None:
    cache(make_summary(1, "Old", created=dt.datetime(2024, 5, 1, tzinfo=dt.UTC)))
    cache(make_summary(2, "New", created=dt.datetime(2024, 5, 9, tzinfo=dt.UTC)))
    digest.state_path(user_paths()).parent.mkdir(parents=True, exist_ok=True)
    digest.state_path(user_paths()).write_text(json.dumps({"last_digest": "2024-05-05T00:00:00"}))
    result = runner.invoke(app, ["digest", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [p["title"] for p in json.loads(result.stdout)["papers"]] == ["New"]


@pytest.mark.parametrize("content", ['"2024"', "[1]", '{"last_digest": 5}', "{nope"])
def test_a_damaged_digest_state_starts_afresh(content: str) -> None:
    cache(make_summary(1, "Paper"))
    digest.state_path(user_paths()).parent.mkdir(parents=True, exist_ok=True)
    digest.state_path(user_paths()).write_text(content)
    result = runner.invoke(app, ["digest"])
    assert result.exit_code == 0, result.output
    assert "is damaged" in result.output and "# Paper" in result.stdout
