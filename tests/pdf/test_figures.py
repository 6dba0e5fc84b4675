"""The key figure: found above its caption in real corpus papers, rendered once, reused."""

from __future__ import annotations

import shutil
import statistics
from pathlib import Path

import pymupdf
import pytest
from samplepaper import write_sample_paper

from localdigest import config
from localdigest.pdf import figures
from localdigest.pdf.document import file_sha256

# Every readable corpus paper with a "Figure 1" / "Fig. 1" / "FIG. 1" caption in its body.
WITH_FIGURE_1 = [
    "1111.2011v2.pdf",
    "1212.5701.pdf",
    "1406.2661.pdf",
    "1411.3715.pdf",
    "1412.6980.pdf",
    "1605.06065.pdf",
    "1606.01039.pdf",
    "1609.09430.pdf",
    "1706.03762.pdf",
    "1810.04805.pdf",
]
NO_FIGURE = "1503.02531.pdf"  # Distilling the Knowledge: tables only


def kept_in() -> tuple[Path, Path]:
    """(library, figures folder) of the user's home (LOCALDIGEST_HOME, per test)."""
    paths = config.load().paths
    return paths.library, paths.figures


def key_figure(pdf: Path) -> figures.KeyFigure | None:
    library, folder = kept_in()
    return figures.key_figure(pdf, library=library, figures=folder)


def pixel_spread(png: Path) -> tuple[int, int, float, float]:
    """(width, height, standard deviation of grey levels, share of non-white pixels)."""
    pix = pymupdf.Pixmap(str(png))
    if pix.n != 1:
        pix = pymupdf.Pixmap(pymupdf.csGRAY, pix)
    samples = pix.samples
    step = max(1, len(samples) // 50_000)
    grey = samples[::step]
    return pix.width, pix.height, statistics.pstdev(grey), sum(g < 230 for g in grey) / len(grey)


@pytest.mark.parametrize("name", WITH_FIGURE_1)
def test_figure_1_is_found_and_rendered(corpus: Path, name: str) -> None:
    figure = key_figure(corpus / "pdfs" / name)
    assert figure is not None, f"no figure found in {name}"
    assert figure.number == 1
    assert figure.caption and figure.page >= 1
    width, height, spread, inked = pixel_spread(figure.path)
    assert (width, height) == (figure.width, figure.height)
    assert max(width, height) <= figures.MAX_SIDE
    assert max(width, height) >= 300 and min(width, height) >= 100  # not a sliver
    assert figure.path.stat().st_size < 800_000
    assert spread > 20  # a picture, not a blank or flat patch
    assert 0.01 < inked < 0.9  # something drawn, with a background around it


def test_the_transformer_gets_its_architecture(corpus: Path) -> None:
    figure = key_figure(corpus / "pdfs" / "1706.03762.pdf")
    assert figure is not None
    assert figure.label == "Figure 1: The Transformer - model architecture."
    assert figure.page == 3
    assert figure.height > figure.width  # the tall encoder-decoder diagram, not a strip


def test_a_paper_without_figures_gets_none_and_it_is_remembered(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pdf = corpus / "pdfs" / NO_FIGURE
    assert key_figure(pdf) is None
    png, info = figures.figure_paths(pdf, file_sha256(pdf), *kept_in())
    assert info.is_file() and not png.exists()

    def no_second_look(*_: object, **__: object) -> None:
        raise AssertionError("the PDF was searched again")

    monkeypatch.setattr(figures, "find_key_figure", no_second_look)
    assert key_figure(pdf) is None


def test_rendered_once_then_reused(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = corpus / "pdfs" / "1810.04805.pdf"
    first = key_figure(pdf)
    assert first is not None
    assert first.path == kept_in()[1] / f"{file_sha256(pdf)}.png"

    def no_render(*_: object, **__: object) -> bytes:
        raise AssertionError("rendered twice")

    monkeypatch.setattr(figures, "render_region", no_render)
    monkeypatch.setattr(figures, "find_key_figure", no_render)
    again = key_figure(pdf)
    assert again == first


def test_library_papers_keep_it_beside_the_pdf(corpus: Path, isolated_home: Path) -> None:
    folder = isolated_home / "library" / "1706.03762"
    folder.mkdir(parents=True)
    pdf = folder / "paper.pdf"
    shutil.copyfile(corpus / "pdfs" / "1706.03762.pdf", pdf)
    figure = key_figure(pdf)
    assert figure is not None
    assert figure.path == folder / "figure.png"
    assert (folder / "figure.json").is_file()
    assert not (isolated_home / "figures").exists()


def test_a_replaced_pdf_gets_a_new_figure(corpus: Path, isolated_home: Path) -> None:
    folder = isolated_home / "library" / "1706.03762"
    folder.mkdir(parents=True)
    pdf = folder / "paper.pdf"
    shutil.copyfile(corpus / "pdfs" / "1706.03762.pdf", pdf)
    assert key_figure(pdf) is not None
    shutil.copyfile(corpus / "pdfs" / NO_FIGURE, pdf)  # another version, no figure
    assert key_figure(pdf) is None
    assert not (folder / "figure.png").exists()  # the old version's figure is gone


def drawn_paper(path: Path, *, with_graphic: bool) -> Path:
    """A page of body text, then a box diagram (or nothing) above a "Figure 1:" caption."""
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    body = "We describe the method in detail and report results on three benchmarks. " * 6
    page.insert_textbox(pymupdf.Rect(72, 72, 540, 200), body, fontsize=10, fontname="tiro")
    if with_graphic:
        shape = page.new_shape()
        for n in range(3):
            x = 110 + n * 140
            shape.draw_rect(pymupdf.Rect(x, 240, x + 100, 320))
            if n < 2:
                shape.draw_line((x + 100, 280), (x + 140, 280))
        shape.finish(color=(0, 0, 0.6), fill=(0.8, 0.9, 1.0), width=1.5)
        shape.commit()
        for n, word in enumerate(["Reader", "Encoder", "Writer"]):
            page.insert_text((130 + n * 140, 285), word, fontsize=11)
    caption = "Figure 1: Overview of the system: a reader, an encoder and a writer."
    page.insert_textbox(pymupdf.Rect(72, 340, 540, 370), caption, fontsize=9, fontname="tiro")
    page.insert_textbox(pymupdf.Rect(72, 390, 540, 520), body, fontsize=10, fontname="tiro")
    doc.save(path)
    return path


def test_a_drawn_diagram_is_found_without_the_corpus(tmp_path: Path) -> None:
    figure = key_figure(drawn_paper(tmp_path / "drawn.pdf", with_graphic=True))
    assert figure is not None
    assert figure.caption.startswith("Overview of the system")
    width, height, spread, _ = pixel_spread(figure.path)
    assert 2.5 < width / height < 8  # the row of three boxes, not the page
    assert spread > 20


def test_a_caption_without_a_graphic_is_no_figure(tmp_path: Path) -> None:
    assert key_figure(drawn_paper(tmp_path / "plain.pdf", with_graphic=False)) is None
    assert key_figure(write_sample_paper(tmp_path / "sample.pdf")) is None


@pytest.mark.parametrize("content", [b"", b"<html>not a pdf</html>", b"%PDF-1.7\n garbage"])
def test_unreadable_files_have_no_figure(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.pdf"
    path.write_bytes(content)
    assert key_figure(path) is None
    assert key_figure(tmp_path / "missing.pdf") is None


def test_the_damaged_corpus_copy_does_not_crash(corpus: Path) -> None:
    figure = key_figure(corpus / "pdfs" / "1412.6980-corrupt.pdf")
    assert figure is None or figure.path.is_file()
