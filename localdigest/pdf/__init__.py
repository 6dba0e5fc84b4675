"""PDF extraction and cleaning: PyMuPDF text -> a Document of titled, classified sections.

The pipeline, page by page (only compact line records are kept, never page objects):

1. lines: horizontal text lines with font size/style; rotated text (the arXiv side stamp,
   rotated axis labels) is dropped, spans on one baseline are merged.
2. reading order: two-column pages are read column by column inside horizontal bands that
   full-width blocks (title, wide figures) separate.
3. boilerplate: running headers/footers, page numbers, footnotes and dot-leader lines go.
4. items: lines become headings and paragraphs; hyphens at line ends are joined or kept
   using the document's own vocabulary.
5. sections: headings split the items; each section gets a kind (front, abstract, body,
   contents, acknowledgments, references, appendix).
6. checks: no text, symbol soup or a damaged file raise PdfError instead of returning noise.
"""

from __future__ import annotations

from localdigest.errors import PdfError
from localdigest.pdf.cleaning import normalize_text
from localdigest.pdf.document import (
    EXTRACTOR_VERSION,
    SECTION_KINDS,
    Document,
    Section,
    file_sha256,
)
from localdigest.pdf.extract import extract

__all__ = [
    "EXTRACTOR_VERSION",
    "SECTION_KINDS",
    "Document",
    "PdfError",
    "Section",
    "extract",
    "file_sha256",
    "normalize_text",
]
