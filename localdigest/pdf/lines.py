"""Stage 1, lines: horizontal text lines with font size and style, one baseline each."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from localdigest.pdf.cleaning import ARXIV_STAMP_RE, TEX_MATH_FONTS, count_letters, normalize_text
from localdigest.pdf.mupdf import load_pymupdf

if TYPE_CHECKING:
    import pymupdf  # imported where used (load_pymupdf): cached reruns never need it


@dataclass
class Line:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float  # char-weighted font size
    max_size: float
    letters: int
    bold_letters: int
    italic_letters: int
    page: int  # 1-based
    block: int  # block id, unique within the page
    col: int = 0  # 0: full width / single column, 1: left, 2: right
    band: int = 0  # horizontal band on a two-column page

    # "Mostly" rather than "all": a heading like "LARGE z LIMIT" has an italic math letter.
    @property
    def bold(self) -> bool:
        return self.letters > 0 and self.bold_letters >= 0.8 * self.letters

    @property
    def italic(self) -> bool:
        return self.letters > 0 and self.italic_letters >= 0.8 * self.letters


@dataclass
class Page:
    number: int
    width: float
    height: float
    lines: list[Line]
    chars: int  # text characters (rotated included, arXiv stamp excluded)


_BOLD_FONT_RE = re.compile(r"bold|black|heavy|semibold|demi|medi|cmbx|cmb\d|-bd|bd$", re.I)
_ITALIC_FONT_RE = re.compile(r"ital|oblique|cmti|-it$", re.I)


def _span_style(span: dict[str, Any]) -> tuple[bool, bool]:
    font = span.get("font", "")
    bold = bool(span["flags"] & 16) or bool(_BOLD_FONT_RE.search(font))
    italic = bool(span["flags"] & 2) or bool(_ITALIC_FONT_RE.search(font))
    return bold, italic


def _span_text(span: dict[str, Any]) -> str:
    table = TEX_MATH_FONTS.get(span.get("font", "")[:4])
    text = str(span["text"])
    return text.translate(table) if table else text


def _make_line(spans: list[dict[str, Any]], bbox: Iterable[float], page: int, block: int) -> Line:
    text = normalize_text("".join(_span_text(s) for s in spans))
    weights: Counter[float] = Counter()
    letters = bold_letters = italic_letters = 0
    for span in spans:
        count = count_letters(span["text"])
        weights[round(span["size"], 1)] += len(span["text"].strip())
        bold, italic = _span_style(span)
        letters += count
        bold_letters += count if bold else 0
        italic_letters += count if italic else 0
    size = weights.most_common(1)[0][0] if weights else 0.0
    x0, y0, x1, y1 = bbox
    max_size = max((s["size"] for s in spans if s["text"].strip()), default=size)
    return Line(
        text, x0, y0, x1, y1, size, max_size, letters, bold_letters, italic_letters, page, block
    )


def _merge_baseline(lines: list[Line]) -> list[Line]:
    """Join pieces of one visual line ("1" + "Introduction") that MuPDF splits."""
    merged: list[Line] = []
    for line in lines:
        prev = merged[-1] if merged else None
        if prev is not None and _same_baseline(prev, line):
            gap = line.x0 - prev.x1
            joiner = " " if gap > 0.15 * max(line.size, 1.0) else ""
            prev.text = (prev.text.rstrip() + joiner + line.text.lstrip()).strip()
            prev.x1 = max(prev.x1, line.x1)
            prev.y0, prev.y1 = min(prev.y0, line.y0), max(prev.y1, line.y1)
            prev.max_size = max(prev.max_size, line.max_size)
            prev.letters += line.letters
            prev.bold_letters += line.bold_letters
            prev.italic_letters += line.italic_letters
        else:
            merged.append(line)
    return merged


def _same_baseline(a: Line, b: Line) -> bool:
    overlap = min(a.y1, b.y1) - max(a.y0, b.y0)
    height = min(a.y1 - a.y0, b.y1 - b.y0)
    return height > 0 and overlap > 0.5 * height and b.x0 >= a.x1 - 1.0


def page_lines(page: pymupdf.Page, number: int) -> Page:
    pymupdf = load_pymupdf()

    # No PRESERVE_LIGATURES (MuPDF then splits them) and no images (memory).
    flags = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
    data = page.get_text("dict", flags=flags)
    lines: list[Line] = []
    chars = 0
    for block_no, block in enumerate(data["blocks"]):
        block_lines: list[Line] = []
        for raw in block.get("lines", []):
            dx, dy = raw["dir"]
            spans = [s for s in raw["spans"] if s["text"]]
            if not spans:
                continue
            raw_text = "".join(s["text"] for s in spans)
            # The stamp does not count as text: a page holding only it is unreadable.
            chars += len(ARXIV_STAMP_RE.sub("", raw_text).strip())
            if abs(dy) > 0.05 or dx <= 0:
                continue  # rotated: the arXiv side stamp, axis labels
            line = _make_line(spans, raw["bbox"], number, block_no)
            line.text = ARXIV_STAMP_RE.sub("", line.text).strip()
            if line.text:
                block_lines.append(line)
        lines.extend(_merge_baseline(block_lines))
    rect = page.rect
    return Page(number, rect.width, rect.height, lines, chars)
