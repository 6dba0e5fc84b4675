"""PDF extraction: real arXiv papers from the shared corpus, the sample paper, broken files."""

from __future__ import annotations

import difflib
import random
import re
from pathlib import Path
from typing import Any

import pymupdf
import pytest
from samplepaper import (
    SAMPLE_ABSTRACT,
    SAMPLE_TITLE,
    write_paper_pdf,
    write_sample_paper,
)

from localdigest.errors import PdfError
from localdigest.pdf import (
    EXTRACTOR_VERSION,
    SECTION_KINDS,
    Document,
    Section,
    extract,
    file_sha256,
    normalize_text,
)

REPO = Path(__file__).resolve().parents[2]
GOOD_PAPERS = [
    "1706.03762.pdf",
    "1810.04805.pdf",
    "1406.2661.pdf",
    "1412.6980.pdf",
    "1212.5701.pdf",
    "1503.02531.pdf",
    "1605.06065.pdf",
    "1609.09430.pdf",
    "1606.01039.pdf",
    "1411.3715.pdf",
    "1111.2011v2.pdf",
]
LIGATURES = "ﬀﬁﬂﬃﬄ"
STAMP_RE = re.compile(r"arXiv:\d{4}\.\d{4,5}v\d+\s*\[")


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, squash(a), squash(b), autojunk=False).ratio()


@pytest.fixture(scope="session")
def papers(corpus: Path) -> dict[str, Document]:
    """Every good corpus paper, extracted once for the whole session."""
    return {name: extract(corpus / "pdfs" / name) for name in GOOD_PAPERS}


@pytest.fixture(scope="session")
def records(expected: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {Path(r["file"]).name: r for r in expected}


def headings(doc: Document) -> dict[str, str]:
    return {s.heading: s.kind for s in doc.sections}


# --------------------------------------------------------------------------- real papers


@pytest.mark.parametrize("name", GOOD_PAPERS)
def test_corpus_title_pages_abstract(
    name: str, papers: dict[str, Document], records: dict[str, dict[str, Any]]
) -> None:
    doc, record = papers[name], records[name]
    assert doc.pages == record["pages"]
    assert doc.sha256 == record["sha256"]
    assert squash(doc.title) == squash(record["title"])
    assert similarity(doc.abstract, record["abstract_clean"]) >= 0.95
    assert [s.kind for s in doc.sections if s.kind == "abstract"] == ["abstract"]
    assert all(s.kind in SECTION_KINDS for s in doc.sections)
    assert doc.warnings == []


@pytest.mark.parametrize("name", GOOD_PAPERS)
def test_corpus_text_is_clean(name: str, papers: dict[str, Document]) -> None:
    text = papers[name].text
    assert not set(LIGATURES) & set(text)
    assert not STAMP_RE.search(text)
    assert "⇤" not in text  # symbol-font footnote mark (1212.5701) comes out as "*"
    kinds = [s.kind for s in papers[name].sections]
    assert "references" in kinds
    body = [s for s in papers[name].kept()]
    assert sum(len(s.text.split()) for s in body) > 1500


def test_damaged_copy_raises(corpus: Path) -> None:
    with pytest.raises(PdfError, match=r"1412\.6980-corrupt\.pdf is damaged: 4 of 15 pages"):
        extract(corpus / "pdfs" / "1412.6980-corrupt.pdf")


KNOWN_HEADINGS = {
    "1706.03762.pdf": {
        "1 Introduction": "body",
        "3.2.2 Multi-Head Attention": "body",
        "Acknowledgements": "acknowledgments",
        "References": "references",
        "Attention Visualizations": "appendix",
    },
    "1810.04805.pdf": {
        "3.1 Pre-training BERT": "body",
        "References": "references",
        "A Additional Details for BERT": "appendix",
        "C.2 Ablation for Different Masking Procedures": "appendix",
    },
    "1412.6980.pdf": {
        "1 INTRODUCTION": "body",
        "9 ACKNOWLEDGMENTS": "acknowledgments",
        "REFERENCES": "references",
        "10 APPENDIX": "appendix",
        "10.1 CONVERGENCE PROOF": "appendix",
    },
    "1605.06065.pdf": {
        "4.2. Omniglot Classification": "body",
        "6. Acknowledgements": "acknowledgments",
        "References": "references",
        "Supplementary Information": "appendix",
        "9. Parameters": "appendix",
    },
    "1411.3715.pdf": {
        "I. INTRODUCTION": "body",
        "A. Features": "body",
        "REFERENCES": "references",
        "APPENDIX": "appendix",
        "B. GMMs": "appendix",
    },
    "1111.2011v2.pdf": {
        "II. SELF-CONSISTENT ACTION IN THE LARGE z LIMIT": "body",
        "A. Ordered Phase": "body",
        "ACKNOWLEDGMENTS": "acknowledgments",
        "References": "references",  # REVTeX prints none; found from the numbered list
    },
    "1212.5701.pdf": {"3. ADADELTA METHOD": "body", "6. REFERENCES": "references"},
    "1609.09430.pdf": {"4.2. Label Set Size": "body", "7. REFERENCES": "references"},
}


@pytest.mark.parametrize("name", sorted(KNOWN_HEADINGS))
def test_sections_are_classified(name: str, papers: dict[str, Document]) -> None:
    found = headings(papers[name])
    for heading, kind in KNOWN_HEADINGS[name].items():
        assert found.get(heading) == kind, heading


def test_appendix_is_skipped_unless_asked(papers: dict[str, Document]) -> None:
    doc = papers["1810.04805.pdf"]
    assert {s.kind for s in doc.kept()} == {"abstract", "body"}
    assert any(s.kind == "appendix" for s in doc.kept(include_appendix=True))
    assert {s.kind for s in doc.skipped()} >= {"front", "references", "appendix"}
    assert len(doc.kept()) + len(doc.skipped()) == len(doc.sections)


def test_two_column_sentences_read_continuously(papers: dict[str, Document]) -> None:
    # Left column bottom -> right column top on page 1 of the REVTeX paper.
    revtex = squash(papers["1111.2011v2.pdf"].text)
    assert "the self-consistent equations can be solved in closed form" in revtex
    # Page break with a full-width figure (and its caption) in between: BERT 2.2.
    bert = squash(papers["1810.04805.pdf"].text)
    assert "left-to-right language modeling and auto-encoder objectives" in bert
    # Column order on page 1: left column, then the right one, then page 2.
    spots = [
        bert.index("de meulder, 2003; rajpurkar et al., 2016)"),
        bert.index("there are two existing strategies"),
        bert.index("we argue that current techniques"),
        bert.index("there is a long history of pre-training"),
    ]
    assert spots == sorted(spots)


def test_revtex_references_start_after_acknowledgments(papers: dict[str, Document]) -> None:
    sections = papers["1111.2011v2.pdf"].sections
    refs = next(s for s in sections if s.kind == "references")
    assert refs.text.startswith("1 D. C. Johnston")
    assert sections[-1] is refs  # the second column band did not end up in the body


def test_hyphens_joined_but_compounds_kept(papers: dict[str, Document]) -> None:
    transformer = papers["1706.03762.pdf"].text
    assert "English-to-German" in transformer  # broken as "English-\nto-German"
    assert "Englishto" not in transformer
    bert = papers["1810.04805.pdf"].text
    for joined in ("language representation model", "Radford et al.", "downstream tasks"):
        assert joined in bert
    for kept in ("task-specific", "left-to-right", "pre-trained"):
        assert kept in bert
    assert not re.search(r"\b(repre|addi|archi|espe)-? (sentation|tional|tectures|cially)", bert)
    scene = papers["1411.3715.pdf"].text
    assert "significantly outperform" in scene


def test_running_headers_footers_and_page_numbers_dropped(papers: dict[str, Document]) -> None:
    one_shot = papers["1605.06065.pdf"].text.lower()
    assert one_shot.count("one-shot learning with memory-augmented neural networks") == 1
    scene = papers["1411.3715.pdf"]
    assert "DRAFT" not in scene.text
    assert scene.sections[0].page == 2  # the near-empty cover page gives nothing
    assert not any(re.fullmatch(r"\d+", p) for s in scene.sections for p in s.text.split("\n\n"))


def test_tex_glyph_repairs(papers: dict[str, Document]) -> None:
    assert "Tešanović" in papers["1111.2011v2.pdf"].text  # "Teˇsanovi´c" in the PDF
    adam = papers["1412.6980.pdf"].text
    assert "↵" not in adam and "✓" not in adam  # CMMI glyphs read as dingbats
    assert "α" in adam and "θ" in adam


def test_normalize_text() -> None:
    assert normalize_text("signiﬁcantly ﬂow eﬀect ﬃne ﬄe") == "significantly flow effect ffine ffle"
    assert normalize_text("Teˇsanovi´c") == "Tešanović"
    assert normalize_text("top-𝐾") == "top-K"


def test_max_pages_reads_only_the_start(corpus: Path) -> None:
    doc = extract(corpus / "pdfs" / "1810.04805.pdf", max_pages=2)
    assert doc.pages == 16
    assert doc.title.startswith("BERT")
    assert max(s.page for s in doc.sections) <= 2
    assert any("first 2 of 16 pages" in w for w in doc.warnings)


# --------------------------------------------------------------------------- sample paper


@pytest.fixture(scope="module")
def sample_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_paper(tmp_path_factory.mktemp("sample") / "sample.pdf")


def test_sample_paper_round_trip(sample_pdf: Path) -> None:
    doc = extract(sample_pdf)
    assert doc.pages == 2
    assert doc.title == SAMPLE_TITLE
    assert doc.abstract == SAMPLE_ABSTRACT
    assert [(s.heading, s.kind) for s in doc.sections] == [
        ("", "front"),
        ("Abstract", "abstract"),
        ("1 Introduction", "body"),
        ("2 Method", "body"),
        ("3 Experiments", "body"),
        ("4 Conclusion", "body"),
        ("References", "references"),
    ]
    experiments = next(s for s in doc.sections if s.heading == "3 Experiments")
    assert "average score of 84.9" in experiments.text
    assert experiments.text.count("\n\n") == 2  # three paragraphs
    assert doc.warnings == []
    assert 650 <= len(doc.text.split()) <= 950
    assert doc.sha256 == file_sha256(sample_pdf)


def test_committed_example_matches_generator() -> None:
    example = REPO / "examples" / "sample-paper.pdf"
    doc = extract(example)
    assert doc.title == SAMPLE_TITLE
    assert [s.kind for s in doc.kept()] == ["abstract", "body", "body", "body", "body"]


def test_max_pages_on_sample(sample_pdf: Path) -> None:
    doc = extract(sample_pdf, max_pages=1)
    assert doc.pages == 2
    assert "References" not in [s.heading for s in doc.sections]
    assert doc.warnings == ["only the first 1 of 2 pages were read (max_pages)"]


def test_section_is_frozen() -> None:
    section = Section("1 Intro", "body", "text", 1)
    with pytest.raises(AttributeError):
        section.text = "changed"  # type: ignore[misc]
    assert EXTRACTOR_VERSION


# --------------------------------------------------------------------------- broken input


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PdfError, match="not found"):
        extract(tmp_path / "nope.pdf")


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(PdfError, match=r"empty\.pdf is empty"):
        extract(path)


def test_html_named_pdf(tmp_path: Path) -> None:
    path = tmp_path / "paper.pdf"
    path.write_text("<!DOCTYPE html><html><body>Rate limited</body></html>")
    with pytest.raises(PdfError, match=r"paper\.pdf is not a PDF \(it holds HTML"):
        extract(path)


@pytest.mark.parametrize("header", [b"", b"%PDF-1.7\n"])
def test_random_bytes(tmp_path: Path, header: bytes) -> None:
    path = tmp_path / "noise.pdf"
    path.write_bytes(header + random.Random(7).randbytes(20_000))
    with pytest.raises(PdfError, match=r"noise\.pdf is not a"):
        extract(path)


def test_truncated_pdf(tmp_path: Path, sample_pdf: Path) -> None:
    data = sample_pdf.read_bytes()
    path = tmp_path / "half.pdf"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(PdfError, match=r"half\.pdf is (damaged|not a)"):
        extract(path)


def test_encrypted_pdf(tmp_path: Path, sample_pdf: Path) -> None:
    path = tmp_path / "locked.pdf"
    with pymupdf.open(sample_pdf) as doc:
        doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", user_pw="secret")
    with pytest.raises(PdfError, match=r"locked\.pdf is password-protected — pass --password"):
        extract(path)
    with pytest.raises(PdfError, match="wrong password"):
        extract(path, password="guess")
    doc = extract(path, password="secret")
    assert doc.title == SAMPLE_TITLE


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    with pymupdf.open() as doc:
        for _ in range(2):
            page = doc.new_page()
            page.draw_rect(pymupdf.Rect(72, 72, 300, 300), color=(0, 0, 0), fill=(0.8, 0.8, 0.8))
            pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 64, 64), False)
            pix.clear_with(200)
            page.insert_image(pymupdf.Rect(100, 400, 300, 600), pixmap=pix)
        doc.save(path)
    with pytest.raises(PdfError, match=r"scan\.pdf has no text layer \(scanned\?\) — run OCR"):
        extract(path)


def test_symbol_soup(tmp_path: Path) -> None:
    rng = random.Random(3)
    soup = "!#$%&*+<=>?@^_|~{}[]()/\\0123456789"
    path = tmp_path / "soup.pdf"
    with pymupdf.open() as doc:
        page = doc.new_page()
        for row in range(40):
            line = " ".join("".join(rng.choices(soup, k=rng.randint(2, 7))) for _ in range(9))
            page.insert_text((72, 72 + row * 16), line, fontname="helv", fontsize=10)
        doc.save(path)
    with pytest.raises(PdfError, match=r"soup\.pdf gives garbage text"):
        extract(path)


def test_tiny_paper_via_writer(tmp_path: Path) -> None:
    """Tests elsewhere build small PDFs with write_paper_pdf; check the contract holds."""
    path = write_paper_pdf(
        tmp_path / "tiny.pdf",
        title="A Tiny Test Paper About Nothing Much",
        authors=["Ada Example"],
        abstract="We study nothing in particular and report that it works well enough. " * 3,
        sections=[("1 Introduction", "Nothing is studied here. " * 20)],
        references=["A. Person. A reference. 2020."],
    )
    doc = extract(path)
    assert doc.title == "A Tiny Test Paper About Nothing Much"
    assert doc.abstract.startswith("We study nothing")
    assert [s.kind for s in doc.sections] == ["front", "abstract", "body", "references"]


def test_contents_without_dot_leaders_is_not_read_as_headings(tmp_path: Path) -> None:
    """A technical report's contents page printed as "2.1 Attention 3" (no dot leaders): its
    entries must not become sections (the DeepSeek-V2 report's did: "1 Introduction 4")."""
    body = "We describe the system in detail here and report what we measured. " * 12
    sections = [
        ("1 Introduction", body),
        ("2 Architecture", body),
        ("2.1 Attention", body),
        ("2.2 Experts", body),
        ("3 Results", body),
        ("4 Conclusion", body),
    ]
    contents = [("1 Introduction", 1), ("2 Architecture", 2), ("2.1 Attention", 2),
                ("2.2 Experts", 3), ("3 Results", 3), ("4 Conclusion", 4)]  # fmt: skip
    path = write_paper_pdf(
        tmp_path / "report.pdf",
        title="A Technical Report With A Table Of Contents",
        authors=["Ada Example"],
        abstract="We report on a system and what we measured about it in detail. " * 4,
        sections=sections,
        references=["A. Person. A reference. 2020."],
        contents=contents,
    )
    doc = extract(path)
    assert not [s.heading for s in doc.sections if re.search(r"\s\d+$", s.heading)]
    body_headings = [s.heading for s in doc.sections if s.kind == "body"]
    assert body_headings == [h for h, _ in sections]
    assert "Contents" not in " ".join(s.text for s in doc.kept())


def test_sections_know_the_pages_of_their_paragraphs(papers: dict[str, Document]) -> None:
    doc = papers["1706.03762.pdf"]
    for section in doc.sections:
        pairs = section.paragraphs()
        assert len(pairs) == len(section.text.split("\n\n")) if section.text else not pairs
        for _, (first, last) in pairs:
            assert section.page <= first <= last <= doc.pages
    conclusion = next(s for s in doc.sections if "Conclusion" in s.heading)
    assert {first for _, (first, _) in conclusion.paragraphs()} == {10}


def test_front_matter_read_as_body_keeps_each_paragraphs_pages() -> None:
    """A PDF without headings: its front matter becomes the body, and each paragraph still
    says which page it is on (grounding traces sentences by them)."""
    from localdigest.pdf.document import Section
    from localdigest.pdf.sections import _body_when_none

    front = Section("", "front", "", 1).with_paragraphs(
        [("A title line.", (1, 1)), ("Text on page three.", (3, 3))]
    )
    more = Section("", "front", "", 4).with_paragraphs([("Page four text.", (4, 5))])
    [body] = _body_when_none([front, more])
    assert body.kind == "body"
    assert body.paragraphs() == [
        ("A title line.", (1, 1)),
        ("Text on page three.", (3, 3)),
        ("Page four text.", (4, 5)),
    ]
