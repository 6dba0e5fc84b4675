"""The digest state keeps which papers each issue held, for ``ask --digest``."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from digest_helpers import make_summary

from localdigest.config import RunConfig
from localdigest.errors import UsageError
from localdigest.workflows import digest


def test_each_issue_remembers_its_papers(cfg: RunConfig) -> None:
    first = [make_summary(1, "One"), make_summary(2, "Two")]
    second = [make_summary(3, "Three")]
    made = dt.datetime(2024, 5, 6, 12, 0, tzinfo=dt.UTC)
    digest.remember_digest(cfg.paths, first, when=made)
    digest.remember_digest(cfg.paths, second, when=made + dt.timedelta(days=7))
    assert digest.issue_papers(cfg.paths, "latest") == [second[0].sha256]
    day = (made + dt.timedelta(days=7)).astimezone().date().isoformat()
    assert digest.issue_papers(cfg.paths, day) == [second[0].sha256]
    earlier = made.astimezone().date().isoformat()
    assert digest.issue_papers(cfg.paths, earlier) == [p.sha256 for p in first]
    assert digest.last_digest_time(cfg.paths) == made + dt.timedelta(days=7)
    with pytest.raises(UsageError, match="No digest was made on 2001-01-01"):
        digest.issue_papers(cfg.paths, "2001-01-01")
    with pytest.raises(UsageError, match="not 'latest' or a date"):
        digest.issue_papers(cfg.paths, "yesterday")


def test_a_state_from_before_issues_were_kept_is_its_last_issue(cfg: RunConfig) -> None:
    old = {"last_digest": "2024-05-06T12:00:00+00:00", "papers": ["a" * 64]}
    state = digest.state_path(cfg.paths)
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps(old))
    assert digest.issue_papers(cfg.paths, "latest") == ["a" * 64]
    digest.remember_digest(cfg.paths, [make_summary(3, "Three")])
    assert digest.issue_papers(cfg.paths, "latest") == [make_summary(3, "Three").sha256]
    kept = json.loads(state.read_text())["issues"]
    assert [i["papers"] for i in kept] == [["a" * 64], [make_summary(3, "Three").sha256]]


def test_no_digest_yet(cfg: RunConfig) -> None:
    with pytest.raises(UsageError, match="no digest was made yet"):
        digest.issue_papers(cfg.paths, "latest")
