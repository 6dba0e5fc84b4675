"""A shared home is not trusted (issue 25, item 4): a figure or a library PDF replaced by a
link to a file elsewhere (a private key) is never published, nor is a figure that is no
image; the digest and the notes go on without it."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from conftest import user_paths
from digest_helpers import cache, make_summary
from typer.testing import CliRunner

from localdigest import fsutil
from localdigest.cli import app
from localdigest.errors import InputError
from localdigest.papers import PaperSummary
from localdigest.pdf.document import file_sha256
from localdigest.workflows import digest as workflow

runner = CliRunner()
SECRET = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    key = tmp_path / "outside" / "id_ed25519"
    key.parent.mkdir()
    key.write_bytes(SECRET)
    return key


def in_library(corpus: Path) -> PaperSummary:
    """Attention Is All You Need, kept in the library as <id>/paper.pdf and summarized."""
    folder = user_paths().library / "1706.03762"
    folder.mkdir(parents=True)
    pdf = folder / "paper.pdf"
    shutil.copyfile(corpus / "pdfs" / "1706.03762.pdf", pdf)
    s = make_summary(1, "Attention Is All You Need", arxiv_id="1706.03762", path=pdf)
    return dataclasses.replace(s, sha256=file_sha256(pdf))


def outside_library(corpus: Path) -> PaperSummary:
    pdf = corpus / "pdfs" / "1706.03762.pdf"
    s = make_summary(1, "Attention Is All You Need", arxiv_id="1706.03762", path=pdf)
    return dataclasses.replace(s, sha256=file_sha256(pdf))


def figure_file(paper: PaperSummary) -> Path:
    found = workflow.figures_of([paper], user_paths())
    return found[paper.sha256].path  # rendered once, where the home keeps it


@pytest.mark.parametrize("where", ["figures", "library"])
def test_a_figure_linked_out_of_the_home_is_not_embedded(
    corpus: Path, tmp_path: Path, secret: Path, where: str
) -> None:
    paper = outside_library(corpus) if where == "figures" else in_library(corpus)
    cache(paper)
    png = figure_file(paper)
    assert png.is_relative_to(user_paths().home)
    png.unlink()
    png.symlink_to(secret)
    out = tmp_path / "digest.html"
    result = runner.invoke(app, ["digest", "--last", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "<img" not in page and "Attention Is All You Need" in page
    assert "LS0tLS1CRUdJTi" not in page  # base64 of the key's first line

    vault = tmp_path / "vault"
    result = runner.invoke(app, ["export", "--notes", str(vault), "--copy-pdf", "--last", "1"])
    assert result.exit_code == 0, result.output
    assert all(SECRET not in f.read_bytes() for f in vault.rglob("*") if f.is_file())
    assert "![" not in next(vault.glob("*.md")).read_text()


def test_a_figure_that_is_no_image_is_not_embedded(corpus: Path, tmp_path: Path) -> None:
    paper = outside_library(corpus)
    cache(paper)
    figure_file(paper).write_bytes(SECRET)  # a plain file in the home, but no PNG
    out = tmp_path / "digest.html"
    result = runner.invoke(app, ["digest", "--last", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "<img" not in out.read_text()


def test_a_library_pdf_linked_out_of_the_home_is_not_copied(
    corpus: Path, tmp_path: Path, secret: Path
) -> None:
    paper = in_library(corpus)
    cache(paper)
    pdf = Path(paper.path)
    pdf.unlink()
    fake = secret.with_name("fake.pdf")
    fake.write_bytes(b"%PDF-1.4\n" + SECRET)  # even one that starts like a PDF
    pdf.symlink_to(fake)
    vault = tmp_path / "vault"
    result = runner.invoke(app, ["export", "--notes", str(vault), "--copy-pdf", "--no-figures"])
    assert result.exit_code == 0, result.output
    assert "is a link" in result.output or "leads outside" in result.output
    assert not any(SECRET in f.read_bytes() for f in vault.rglob("*") if f.is_file())


def test_a_cached_path_to_a_file_that_is_no_pdf_is_not_copied(tmp_path: Path, secret: Path) -> None:
    """The cache sits in the shared home too: its paths are not trusted either."""
    cache(make_summary(1, "Planted", path=secret))
    vault = tmp_path / "vault"
    result = runner.invoke(app, ["export", "--notes", str(vault), "--copy-pdf", "--no-figures"])
    assert result.exit_code == 0, result.output
    assert "is not a PDF" in result.output
    assert not (vault / "attachments").exists() or not any((vault / "attachments").iterdir())


def test_open_inside(tmp_path: Path, secret: Path) -> None:
    home = tmp_path / "home"
    (home / "a").mkdir(parents=True)
    (home / "a" / "ok.png").write_bytes(b"fine")
    assert fsutil.read_inside(home / "a" / "ok.png", home, 10) == b"fine"
    (home / "a" / "link.png").symlink_to(home / "a" / "ok.png")  # a link, even inside
    (home / "out").symlink_to(secret.parent)  # a linked folder that leads out
    for path in [home / "a" / "link.png", home / "out" / secret.name, home / "a"]:
        with pytest.raises(InputError):
            fsutil.read_inside(path, home, 100)
    with pytest.raises(InputError, match="over 2 bytes"):
        fsutil.read_inside(home / "a" / "ok.png", home, 2)
    linked_home = tmp_path / "linked-home"
    linked_home.symlink_to(home)  # the home itself may be a link
    assert fsutil.read_inside(linked_home / "a" / "ok.png", linked_home, 10) == b"fine"


def test_the_markdown_digest_does_not_link_a_figure_linked_out_of_the_home(
    corpus: Path, tmp_path: Path, secret: Path
) -> None:
    paper = outside_library(corpus)
    cache(paper)
    png = figure_file(paper)
    png.unlink()
    png.symlink_to(secret)
    out = tmp_path / "digest.md"
    result = runner.invoke(app, ["digest", "--last", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "![" not in out.read_text() and secret.name not in out.read_text()
