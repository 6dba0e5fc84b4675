"""Stage 3, boilerplate: running headers and footers, page numbers, footnotes."""

from __future__ import annotations

import itertools
import re
from collections import Counter

from localdigest.pdf.layout import group_blocks
from localdigest.pdf.lines import Line, Page

_PAGE_NUMBER_RE = re.compile(
    r"^(?:page\s*)?[-–(]?\s*(?:\d{1,4}|[ivxlc]{1,6})\s*[-–)]?(?:\s*(?:of|/)\s*\d{1,4})?$", re.I
)
_DOT_LEADER_RE = re.compile(r"(?:\.\s?){5,}\s*\d+\s*$|(?:\.\s?){5,}")
# A contents entry printed without dot leaders: "2.1 Multi-Head Latent Attention 6".
_CONTENTS_ENTRY_RE = re.compile(
    r"^(?:(?P<num>\d{1,2}(?:\.\d{1,2})*\.?|[A-Z](?:\.\d{1,2})+\.?|[A-Z]|[IVX]{1,5}\.)\s+)?"
    r"[A-Z][^.!?]{1,120}?\s(?P<page>\d{1,4})$"
)
CONTENTS_MIN_ENTRIES = 5
CAPTION_RE = re.compile(r"^(?:Figure|Fig\.|Table|Algorithm)\s*[A-Z]?\d+[.:]", re.I)
# "*Equal contribution", "†Work done at...", "1https://..." - but not "[1] A. Author" or
# "1 D. C. Johnston" (reference lists are small print at the bottom too).
_FOOTNOTE_MARK_RE = re.compile(r"^(?:[*∗†‡§¶]|\d{1,2}(?=[A-Za-z]))")


def _margin(line: Line, page: Page) -> str:
    if line.y1 < 0.1 * page.height:
        return "top"
    if line.y0 > 0.9 * page.height:
        return "bottom"
    return ""


def drop_boilerplate(pages: list[Page], body_size: float) -> None:
    """Drop running headers/footers, page numbers, dot-leader lines and footnotes."""
    seen: Counter[tuple[str, str]] = Counter()
    for page in pages:
        keys = {(_margin(ln, page), re.sub(r"\d+", "#", ln.text.lower())) for ln in page.lines}
        seen.update(k for k in keys if k[0])
    threshold = max(3, 0.25 * len(pages))
    running = {key for key, count in seen.items() if count >= threshold}

    def is_boilerplate(line: Line, page: Page) -> bool:
        where = _margin(line, page)
        if where and (
            (where, re.sub(r"\d+", "#", line.text.lower())) in running
            or _PAGE_NUMBER_RE.match(line.text)
        ):
            return True
        # Tiny print is figure labels and detached sub/superscripts, not prose.
        return line.max_size < 0.75 * body_size or bool(_DOT_LEADER_RE.search(line.text))

    for page in pages:
        footnotes = _footnote_blocks(page, body_size)
        contents = _contents_entries(page, len(pages))
        page.lines = [
            ln
            for ln in page.lines
            if ln.block not in footnotes and id(ln) not in contents and not is_boilerplate(ln, page)
        ]


def _contents_entries(page: Page, total_pages: int) -> set[int]:
    """The lines of a table of contents printed without dot leaders ("1 Introduction 4"):
    at least CONTENTS_MIN_ENTRIES entries on the page, most of them numbered, whose page
    numbers never go down and stay within the document (a results table does neither)."""
    entries = []
    for line in page.lines:
        match = _CONTENTS_ENTRY_RE.match(line.text.strip())
        if match:
            entries.append((line, match))
    if len(entries) < CONTENTS_MIN_ENTRIES:
        return set()
    numbers = [int(m["page"]) for _, m in entries]
    numbered = sum(1 for _, m in entries if m["num"])
    ascending = all(a <= b for a, b in itertools.pairwise(numbers))
    if not ascending or numbers[-1] > total_pages + 10 or numbered < 0.6 * len(entries):
        return set()
    return {id(line) for line, _ in entries}


def _footnote_blocks(page: Page, body_size: float) -> set[int]:
    """Small-font blocks in the lower half, below the last body-size line of their column,
    that start with a footnote mark.

    Footnotes would otherwise cut a sentence that runs on to the next page or column.
    """
    lowest_body: dict[int, float] = {}
    for line in page.lines:
        if abs(line.size - body_size) <= 0.6 and len(line.text) > 20:
            lowest_body[line.col] = max(lowest_body.get(line.col, 0.0), line.y1)
    found: set[int] = set()
    for group in group_blocks(page.lines):
        first = group[0]
        bottom_of_body = lowest_body.get(first.col, lowest_body.get(0, 0.0))
        if (
            bottom_of_body > 0
            and max(ln.size for ln in group) < body_size - 0.9
            and first.y0 > max(bottom_of_body - 1, 0.5 * page.height)
            and _FOOTNOTE_MARK_RE.match(first.text)
        ):
            found.add(first.block)
    return found


def find_body_size(pages: list[Page]) -> float:
    sizes: Counter[float] = Counter()
    for page in pages:
        for line in page.lines:
            sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0
