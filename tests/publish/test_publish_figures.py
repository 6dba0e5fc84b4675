"""Key figures in what people read: the HTML digest embeds them, Markdown and notes link them."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

from conftest import user_paths
from digest_helpers import build_issue, cache, export, make_summary
from typer.testing import CliRunner

from localdigest.cli import app
from localdigest.papers import PaperSummary
from localdigest.pdf.document import file_sha256
from localdigest.publish import digest
from localdigest.workflows import digest as workflow

runner = CliRunner()
TODAY = dt.date(2024, 5, 12)


def corpus_summaries(corpus: Path) -> list[PaperSummary]:
    """Attention (a Figure 1) and Distilling (no figure), as cached summaries of the real PDFs."""
    out = []
    for n, (name, title, arxiv_id) in enumerate(
        [
            ("1706.03762.pdf", "Attention Is All You Need", "1706.03762"),
            ("1503.02531.pdf", "Distilling the Knowledge in a Neural Network", "1503.02531"),
        ],
        1,
    ):
        pdf = corpus / "pdfs" / name
        s = make_summary(n, title, arxiv_id=arxiv_id, path=pdf)
        out.append(dataclasses.replace(s, sha256=file_sha256(pdf)))
    return out


def test_markdown_and_json_link_the_figure(corpus: Path) -> None:
    papers = corpus_summaries(corpus)
    issue = build_issue(papers, today=TODAY)
    md = digest.to_markdown(issue)
    attention, distilling = md.split("\n# ")[1:]
    figure = issue.figure(papers[0])
    assert figure is not None and issue.figure(papers[1]) is None
    link = f"![Figure 1: The Transformer - model architecture.](<{figure.path.as_uri()}>)"
    assert link in attention
    assert attention.index(link) < attention.index("**TL;DR:**")
    assert "![" not in distilling

    data = json.loads(digest.to_json(issue))
    first, second = data["papers"]
    assert first["figure"]["caption"] == "The Transformer - model architecture."
    assert first["figure"]["number"] == 1 and first["figure"]["page"] == 3
    assert Path(first["figure"]["path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert second["figure"] is None


def test_html_embeds_the_figure_as_a_data_uri(corpus: Path) -> None:
    papers = corpus_summaries(corpus)
    issue = build_issue(papers, today=TODAY)
    page = digest.to_html(issue)
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)"', page)
    assert len(images) == 1
    figure = issue.figure(papers[0])
    assert figure is not None
    assert base64.b64decode(images[0][0]) == figure.path.read_bytes()
    assert images[0][1] == "Figure 1: The Transformer - model architecture."
    assert "<figcaption>Figure 1: The Transformer - model architecture.</figcaption>" in page
    assert "file://" not in page.split("<body>")[1].split("<img")[0]  # nothing to load

    plain = digest.to_html(build_issue(papers, today=TODAY, figures=False))
    assert "<img" not in plain and "<figure" not in plain


def test_digest_command_no_figures(corpus: Path, tmp_path: Path) -> None:
    cache(*corpus_summaries(corpus))
    with_figures = tmp_path / "with.html"
    result = runner.invoke(app, ["digest", "--last", "2", "-o", str(with_figures)])
    assert result.exit_code == 0, result.output
    assert with_figures.read_text().count("<img ") == 1
    without = tmp_path / "without.html"
    result = runner.invoke(app, ["digest", "--last", "2", "--no-figures", "-o", str(without)])
    assert result.exit_code == 0, result.output
    assert "<img" not in without.read_text()


def test_notes_link_the_figure_and_copy_it_with_copy_pdf(corpus: Path, tmp_path: Path) -> None:
    papers = corpus_summaries(corpus)
    vault = tmp_path / "vault"
    linked = export(papers, vault)
    attention = linked[0].path.read_text()
    figure = workflow.figures_of(papers, user_paths())[papers[0].sha256]
    assert f"![Figure 1: The Transformer - model architecture.](<{figure.path.as_uri()}>)" in (
        attention
    )
    assert "![" not in linked[1].path.read_text()

    copied = export(papers, vault, copy_pdf=True)
    note = copied[0].path
    png = vault / "attachments" / f"{note.stem}-figure.png"
    assert png.read_bytes() == figure.path.read_bytes()
    assert f"](<attachments/{png.name}>)" in note.read_text()

    bare = export(papers, tmp_path / "bare", figures=False)
    assert "![" not in bare[0].path.read_text()


def test_papers_whose_pdf_is_gone_have_no_figure(tmp_path: Path) -> None:
    gone = make_summary(1, "Gone", path=tmp_path / "gone.pdf")
    issue = build_issue([gone], today=TODAY)
    assert issue.figures == {}
    assert "<img" not in digest.to_html(issue)
