"""The entry point: a PDF file in, a cleaned Document out, stage after stage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from localdigest.pdf.boilerplate import drop_boilerplate, find_body_size
from localdigest.pdf.document import Document, file_sha256
from localdigest.pdf.headings import find_title
from localdigest.pdf.hyphenation import Vocabulary
from localdigest.pdf.layout import order_page
from localdigest.pdf.lines import Page, page_lines
from localdigest.pdf.opening import check_usable, open_pdf, page_ranges
from localdigest.pdf.paragraphs import build_items, measure_layout
from localdigest.pdf.sections import sectionize

if TYPE_CHECKING:
    import pymupdf  # imported where used (load_pymupdf): cached reruns never need it


def _read_pages(doc: pymupdf.Document, limit: int) -> Iterator[Page]:
    for index in range(limit):
        page = doc.load_page(index)
        yield page_lines(page, index + 1)
        del page  # only the compact line records are kept


def extract(path: Path, *, password: str | None = None, max_pages: int | None = None) -> Document:
    """Read a PDF into a cleaned Document, or raise PdfError saying what is wrong."""
    path = Path(path)
    doc, repaired = open_pdf(path, password)
    warnings: list[str] = []
    try:
        total = doc.page_count
        limit = total if max_pages is None else max(1, min(max_pages, total))
        if limit < total:
            warnings.append(f"only the first {limit} of {total} pages were read (max_pages)")
        pages = list(_read_pages(doc, limit))
    finally:
        doc.close()
    blank = [p.number for p in pages if p.chars < 10]
    for page in pages:
        order_page(page)
    body_size = find_body_size(pages)
    drop_boilerplate(pages, body_size)
    title, title_ids = find_title(pages, body_size)
    vocab = Vocabulary()
    for page in pages:
        vocab.add_lines(ln.text for ln in page.lines)
    items = build_items(pages, measure_layout(pages, body_size), title_ids, vocab)
    sections = sectionize(items, bool(title))
    abstract = "\n\n".join(s.text for s in sections if s.kind == "abstract").strip()
    if blank:
        pages_word = "page" if len(blank) == 1 else "pages"
        verb = "has" if len(blank) == 1 else "have"
        warnings.append(f"{pages_word} {page_ranges(blank)} {verb} no text")
    if repaired:
        warnings.append("the file is damaged and was repaired when opened; text may be missing")
    result = Document(path, file_sha256(path), total, title, abstract, sections, warnings)
    check_usable(result, blank, limit, repaired)
    if not title:
        warnings.append("no title found")
    if not abstract:
        warnings.append("no abstract found")
    return result
