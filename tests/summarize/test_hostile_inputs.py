"""Reproductions of the adversarial pass on the summarize path, with real PDFs (written
here with PyMuPDF) and the fake backend: a file name that is not UTF-8 must not cost the
batch, a PDF without headings is summarized, a cached summary takes the arXiv metadata."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pymupdf
import pytest
from conftest import FakeBackend, fake_summarizer
from samplepaper import _Layout, write_sample_paper
from typer.testing import CliRunner

from localdigest import cache as cache_mod
from localdigest.cache import Store
from localdigest.cli import app
from localdigest.papers import PaperInput, PaperSummary
from localdigest.publish import formats
from localdigest.summarize import Summarizer
from localdigest.workflows import summarize as summarize_workflow

PLAIN = [
    "Sparse attention lets a model read long documents at a fraction of the cost. " * 3,
    "We measured a 41.3 percent speed-up on the benchmark with no loss in accuracy. " * 3,
    "The method prunes heads whose scores stay below a threshold during training. " * 3,
]
runner = CliRunner()


def plain_pdf(path: Path) -> Path:
    """One page of plain paragraphs: no title, no headings, no abstract."""
    doc = pymupdf.open()
    layout = _Layout(doc)
    for para in PLAIN:
        layout.paragraph(para)
    layout.finish()
    data = doc.tobytes()
    doc.close()
    with open(os.fsencode(path), "wb") as f:  # the name may not be UTF-8
        f.write(data)
    return path


def summarizer(tmp_path: Path, fake: FakeBackend) -> Summarizer:
    return fake_summarizer(tmp_path / "cache", fake)


def test_a_file_name_that_is_not_utf8_costs_nothing(tmp_path: Path) -> None:
    odd = plain_pdf(tmp_path / os.fsdecode(b"notitle\xff.pdf"))
    sample = write_sample_paper(tmp_path / "sample.pdf")
    results = summarizer(tmp_path, FakeBackend()).run(
        [PaperInput(str(odd), odd), PaperInput(str(sample), sample)]
    )
    assert all(isinstance(r, PaperSummary) for r in results), results
    assert results[0].title == "notitle\\xff"  # type: ignore[union-attr]
    for fmt in ("json", "markdown"):
        formats.to_text(results, fmt).encode("utf-8")  # -o can write it


def test_a_pdf_without_headings_is_summarized_as_one_body_section(tmp_path: Path) -> None:
    path = plain_pdf(tmp_path / "note.pdf")
    fake = FakeBackend()
    result = summarizer(tmp_path, fake).summarize(PaperInput(str(path), path))
    maps = [u for k, u in fake.calls if k == "map"]
    assert maps and "41.3 percent speed-up" in maps[0]
    assert result.summary


def test_a_cached_summary_takes_the_arxiv_metadata_known_now(tmp_path: Path) -> None:
    path = write_sample_paper(tmp_path / "paper.pdf")
    s = summarizer(tmp_path, FakeBackend())
    local = s.summarize(PaperInput(str(path), path))
    assert local.arxiv_id is None
    as_arxiv = PaperInput(
        "2405.04434",
        path,
        title="The arXiv Title",
        authors=["A. Author", "B. Author"],
        url="https://arxiv.org/abs/2405.04434v1",
        arxiv_id="2405.04434",
    )
    fake = FakeBackend()
    hit = summarizer(tmp_path, fake).summarize(as_arxiv)
    assert fake.calls == [] and hit.cached
    assert (hit.title, hit.authors, hit.url, hit.arxiv_id) == (
        "The arXiv Title",
        ["A. Author", "B. Author"],
        "https://arxiv.org/abs/2405.04434v1",
        "2405.04434",
    )
    assert hit.summary == local.summary
    # ... and the cache remembers it, so digest and export link the paper on arXiv.
    [row] = cache_mod.cached_summaries(Store(tmp_path / "cache"))
    assert row.summary.arxiv_id == "2405.04434" and row.summary.title == "The arXiv Title"


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> FakeBackend:
    fake = FakeBackend()
    monkeypatch.setattr(summarize_workflow, "backend_factory", lambda *a, **k: lambda: fake)
    return fake


def test_summarize_command_with_a_non_utf8_name_writes_every_output(
    tmp_path: Path, fake_model: FakeBackend
) -> None:
    odd = plain_pdf(tmp_path / os.fsdecode(b"notitle\xff.pdf"))
    sample = write_sample_paper(tmp_path / "sample.pdf")
    out = tmp_path / os.fsdecode(b"out\xff.json")
    result = runner.invoke(app, ["summarize", str(odd), str(sample), "-o", str(out)])
    assert result.exit_code == 0, result.output
    papers = json.loads(Path(out).read_bytes())
    assert papers[0]["title"] == "notitle\\xff"
    assert "notitle\\xff" in papers[0]["source"]
    table = runner.invoke(app, ["summarize", str(odd), str(sample)])
    assert table.exit_code == 0 and "notitle\\xff" in table.stdout


@pytest.mark.parametrize("place", ["folder", "under-a-file"])
def test_an_unusable_output_path_fails_before_any_work(
    tmp_path: Path, fake_model: FakeBackend, place: str
) -> None:
    sample = write_sample_paper(tmp_path / "sample.pdf")
    (tmp_path / "file.txt").write_text("x")
    output = tmp_path if place == "folder" else tmp_path / "file.txt" / "out.md"
    result = runner.invoke(app, ["summarize", str(sample), "-o", str(output)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and fake_model.calls == []


def test_a_full_disk_after_the_work_is_exit_6_not_a_traceback(
    tmp_path: Path, fake_model: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    sample = write_sample_paper(tmp_path / "sample.pdf")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    result = runner.invoke(app, ["summarize", str(sample), "-o", str(tmp_path / "out.md")])
    assert result.exit_code == 6, result.output
    assert "No space left on device" in result.output and result.exception is not None
    assert not isinstance(result.exception, OSError)
