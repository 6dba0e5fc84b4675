"""`localdigest run`: the weekly routine end to end against the local fake arXiv, with the REAL
default model on short PDFs the test makes itself; plus its pure parts."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from arxiv_server import FakeArxiv, arxiv_server_fixture  # noqa: F401
from conftest import user_paths
from digest_helpers import make_summary
from samplepaper import write_paper_pdf
from typer.testing import CliRunner

from localdigest import config
from localdigest.cli import app
from localdigest.cli import common as cli_common
from localdigest.cli.options import parse_selection
from localdigest.errors import InputError, NetworkError, UsageError
from localdigest.llm import llamacpp
from localdigest.papers import PaperFailure
from localdigest.sources import library
from localdigest.sources.library import FetchResult
from localdigest.workflows import summarize as summarize_workflow
from localdigest.workflows import weekly

runner = CliRunner()


def short_pdf(tmp_path: Path, n: int) -> bytes:
    """A one-page paper, different for each n (so each has its own summary)."""
    topic = ["fuzzing", "test prioritisation", "REST API testing"][n % 3]
    path = write_paper_pdf(
        tmp_path / f"short-{n}.pdf",
        title=f"A Short Study of {topic.title()} Number {n}",
        authors=["Ada Tester"],
        abstract=f"We study {topic} on {n + 3} open-source projects and find that simple "
        f"baselines detect {20 + n}% more faults than the previous state of the art.",
        sections=[
            (
                "1 Method",
                f"We ran each tool for one hour on each project and counted the faults "
                f"found by {topic}. The simple baseline found {40 + n} faults, the best "
                f"prior tool {30 + n}.",
            )
        ],
        references=[],
    )
    return path.read_bytes()


@pytest.fixture
def fake(arxiv_server: FakeArxiv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeArxiv:
    """The fake arXiv, serving a short PDF of our own for every paper."""
    pdfs = {
        re.sub(r"v\d+$", "", i): short_pdf(tmp_path, n)
        for n, i in enumerate(arxiv_server.search_ids)
    }
    monkeypatch.setattr(arxiv_server, "pdf", lambda paper: pdfs[re.sub(r"v\d+$", "", paper)])
    return arxiv_server


def headings(markdown: str) -> list[str]:
    return re.findall(r"^# (.+)$", markdown, flags=re.MULTILINE)


def title_of(versioned_id: str) -> str:
    entry = library.Library(user_paths().library).find_entry(versioned_id)
    assert entry is not None
    return entry.meta.title


@pytest.mark.model
def test_run_end_to_end_resumes_and_reuses(
    fake: FakeArxiv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One thread: llama.cpp's spinning worker threads crawl on a busy shared CI machine.
    monkeypatch.setenv("LOCALDIGEST_THREADS", "1")
    out = tmp_path / "digests"
    today = dt.date.today().isoformat()
    ids = fake.search_ids

    # 1. Interactive pick (a wrong answer first), then Ctrl-C while summarizing.
    monkeypatch.setattr(cli_common, "interactive", lambda: True)

    def interrupted(self: summarize_workflow.SummarizeJob, reporter: object = None) -> list:
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(summarize_workflow.SummarizeJob, "run", interrupted)
        first = runner.invoke(app, ["run", "--out-dir", str(out)], input="7-99\n1,2\n")
    assert first.exit_code == 130, first.output
    assert "between 1 and 10" in first.output
    assert ids[0] in first.output  # the numbered list was shown
    assert len(fake.to("/pdf")) == 2 and not out.exists()

    # 2. Run again with no terminal and no --pick: it resumes the same run, no new request.
    monkeypatch.setattr(cli_common, "interactive", lambda: False)
    before = len(fake.requests)
    second = runner.invoke(app, ["run", "--out-dir", str(out), "--max-tokens", "32"])
    assert second.exit_code == 0, second.output
    assert "Resuming" in second.output
    assert len(fake.requests) == before
    digest_file = out / f"digest-{today}.md"
    text = digest_file.read_text()
    assert headings(text) == [title_of(ids[0]), title_of(ids[1])]
    # The default (extract) mode: no model wrote the summaries, and the byline says so.
    assert f"summaries were chosen from each paper on {today}: no model wrote them." in text
    assert "SmolLM2" not in text
    base0 = re.sub(r"v\d+$", "", ids[0])
    assert f"[arXiv:{base0}](<https://arxiv.org/abs/{ids[0]}>)" in text
    assert "**In this issue:**" in text
    sections = text.split("\n# ")[1:]
    assert all(len(s.split()) > 20 for s in sections)  # each has a real summary

    # 3. Everything listed has been seen: a new run finds nothing new and writes nothing.
    third = runner.invoke(app, ["run", "--out-dir", str(out), "--all"])
    assert third.exit_code == 0, third.output
    assert "No new papers" in third.output
    assert sorted(p.name for p in out.iterdir()) == [digest_file.name, "feed.xml"]

    # 4. Listing seen papers again: PDFs and summaries are reused, the model is not loaded.
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the model was loaded although everything was cached")

    monkeypatch.setattr(llamacpp.LlamaCppBackend, "__init__", refuse)
    pdf_requests = len(fake.to("/pdf"))
    vault = tmp_path / "vault"
    to_dirs = ["--out-dir", str(out), "--notes", str(vault)]
    short = ["--max-tokens", "32"]
    # arXiv's order (--sort submitted): the numbers 2,1 are the papers summarized above; by
    # default the list is ranked by the library, which now holds those two.
    fourth = runner.invoke(
        app,
        ["run", "--include-seen", "--sort", "submitted", "--pick", "2,1", *short, *to_dirs],
    )
    assert fourth.exit_code == 0, fourth.output
    assert len(fake.to("/pdf")) == pdf_requests
    again = out / f"digest-{today}-2.md"
    assert headings(again.read_text()) == [title_of(ids[1]), title_of(ids[0])]
    notes = sorted(vault.glob("*.md"))
    assert len(notes) == 2
    front = yaml.safe_load(notes[0].read_text().split("---\n")[1])
    assert front["categories"] and front["arxiv_id"] in {re.sub(r"v\d+$", "", i) for i in ids}


@pytest.mark.model
def test_run_json_is_the_only_thing_on_stdout(fake: FakeArxiv, tmp_path: Path) -> None:
    out = tmp_path / "digests"
    result = runner.invoke(app, ["run", "--top", "1", "--out-dir", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # the numbered list went to stderr
    assert fake.search_ids[0] in result.stderr
    [paper] = report["papers"]
    assert paper["title"] == title_of(paper["arxiv_id"]) and paper["summary"]
    assert Path(report["digest"]).parent == out and Path(report["digest"]).is_file()
    assert report["failed"] == [] and report["notes"] == [] and report["error"] is None
    atom = "{http://www.w3.org/2005/Atom}"
    [entry] = ET.parse(out / "feed.xml").getroot().findall(f"{atom}entry")  # beside the digest
    assert entry.find(f"{atom}link").get("href") == Path(report["digest"]).name

    nothing = runner.invoke(app, ["run", "--top", "1", "--out-dir", str(out), "-f", "json"])
    assert nothing.exit_code == 0, nothing.output
    assert json.loads(nothing.stdout) == weekly.NOTHING_DONE


def test_no_terminal_and_no_choice_is_a_usage_error(fake: FakeArxiv) -> None:
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert "--pick" in result.output and "--all" in result.output and "--top" in result.output
    assert fake.requests == []  # refused before searching (nothing marked as seen)
    both = runner.invoke(app, ["run", "--all", "--top", "2"])
    assert both.exit_code == 2


@pytest.mark.parametrize("answer", ["none\n", ""])  # "none", and the end of the input
def test_choosing_none_closes_the_run(
    fake: FakeArxiv, tmp_path: Path, monkeypatch, answer: str
) -> None:
    monkeypatch.setattr(cli_common, "interactive", lambda: True)
    result = runner.invoke(app, ["run", "--out-dir", str(tmp_path / "d")], input=answer)
    assert result.exit_code == 0, result.output
    assert "Nothing chosen" in result.output
    assert weekly.load_unfinished(user_paths()) is None
    assert fake.to("/pdf") == [] and not (tmp_path / "d").exists()


def test_bad_pick_is_a_usage_error(fake: FakeArxiv) -> None:
    result = runner.invoke(app, ["run", "--pick", "1,42"])
    assert result.exit_code == 2
    assert "between 1 and 10" in result.output
    # The listing is kept: the next run resumes at the choice, without searching again.
    plan = weekly.load_unfinished(user_paths())
    assert plan is not None and plan.picks is None and len(plan.papers) == 10


# ----------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    ("spec", "numbers"),
    [
        ("1,4,7", [1, 4, 7]),
        (" 2-4 ", [2, 3, 4]),
        ("3, 1 3", [3, 1]),
        ("all", list(range(1, 11))),
        ("none", []),
        ("", []),
    ],
)
def test_parse_pick(spec: str, numbers: list[int]) -> None:
    assert parse_selection(spec, 10) == numbers


@pytest.mark.parametrize("spec", ["0", "11", "4-2", "a", "1;2", "-3"])
def test_parse_pick_rejects(spec: str) -> None:
    if spec == "0":
        assert parse_selection(spec, 10) == []  # "0" reads as "none"
        return
    with pytest.raises(UsageError):
        parse_selection(spec, 10)


def test_exit_error_prefers_network() -> None:
    ok = make_summary(1, "Fine")
    failed = PaperFailure("x", "broken PDF", 3)
    net = NetworkError("arXiv is down")
    assert weekly.exit_error([], [ok]) is None
    assert isinstance(weekly.exit_error([], [ok, failed]), InputError)
    fetch_failed = FetchResult("2405.04434", "failed", error=net)
    assert weekly.exit_error([fetch_failed], [ok, failed]) is net


def test_finish_without_papers_writes_nothing(tmp_path: Path) -> None:
    plan = weekly.RunPlan(started="2024-05-12T10:00:00+00:00", papers=[], picks=[])
    cfg = config.load(digest_dir=tmp_path)
    with pytest.raises(InputError, match="no digest"):
        weekly.finish(cfg, plan, [], {})
    assert list(tmp_path.iterdir()) == []
