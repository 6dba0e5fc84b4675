"""Stage 4, items: lines become headings and paragraphs."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass

from localdigest.pdf.boilerplate import CAPTION_RE
from localdigest.pdf.cleaning import count_letters
from localdigest.pdf.headings import (
    RUN_IN_ABSTRACT_RE,
    RUN_IN_THANKS_RE,
    Heading,
    heading_candidate,
    is_caps,
)
from localdigest.pdf.hyphenation import Vocabulary, join_lines
from localdigest.pdf.lines import Line, Page


@dataclass
class Item:
    lines: list[Line]
    heading: Heading | None = None
    text: str = ""

    @property
    def page(self) -> int:
        return self.lines[0].page


@dataclass
class _Layout:
    """Per-document measurements that paragraph splitting compares against."""

    body_size: float
    para_gap: float  # a vertical gap larger than this starts a new paragraph
    col_left: dict[tuple[int, int, int], float]  # (page, band, col) -> left edge
    col_right: dict[tuple[int, int, int], float]


def measure_layout(pages: list[Page], body_size: float) -> _Layout:
    gaps: list[float] = []
    lefts: dict[tuple[int, int, int], list[float]] = {}
    rights: dict[tuple[int, int, int], list[float]] = {}
    for page in pages:
        prev = None
        for line in page.lines:
            key = (line.page, line.band, line.col)
            lefts.setdefault(key, []).append(line.x0)
            rights.setdefault(key, []).append(line.x1)
            if prev and (prev.band, prev.col) == (line.band, line.col):
                gap = line.y0 - prev.y1
                if 0 <= gap < 2 * body_size and abs(line.size - body_size) < 0.6:
                    gaps.append(gap)
            prev = line
    typical = statistics.median(gaps) if gaps else 0.3 * body_size
    return _Layout(
        body_size,
        max(1.8 * typical, typical + 0.4 * body_size),
        {k: min(v) for k, v in lefts.items()},
        {k: sorted(v)[int(0.9 * (len(v) - 1))] for k, v in rights.items()},
    )


_SENTENCE_END_RE = re.compile(r"[.!?:]['\")\]]?$")


def _continues(prev: Line, line: Line, layout: _Layout) -> bool:
    """Does `line` continue the paragraph whose last line is `prev`?"""
    if abs(line.size - prev.size) > 0.9:
        return False
    size = max(line.size, 1.0)
    key = (line.page, line.band, line.col)
    ended = bool(_SENTENCE_END_RE.search(prev.text))
    short_prev = (
        prev.x1 < layout.col_right.get((prev.page, prev.band, prev.col), prev.x1) - 2 * size
    )
    if (prev.page, prev.band, prev.col) != key:
        # Column or page break: a sentence that is not finished runs on.
        # Lowercase only: a figure at the top of the next column must not be glued on.
        starts_para = line.x0 > layout.col_left.get(key, line.x0) + 0.6 * size
        lower = line.text[:1].islower()
        return lower and (prev.text.endswith("-") or not (ended or short_prev or starts_para))
    gap = line.y0 - prev.y1
    indented = line.x0 - prev.x0 > 0.6 * size
    if gap > layout.para_gap or gap < -0.5 * size:
        return False
    if line.block != prev.block:
        return not (indented or (short_prev and ended))
    return not (indented and (short_prev or ended))


def build_items(
    pages: list[Page], layout: _Layout, title_ids: set[int], vocab: Vocabulary
) -> list[Item]:
    items: list[Item] = []
    current: list[Line] = []

    def flush() -> None:
        if current:
            items.append(Item(list(current)))
            current.clear()

    lines = [ln for page in pages for ln in page.lines]
    top_size = _top_heading_size(lines, layout.body_size)
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = None
        if id(line) not in title_ids:
            heading = heading_candidate(line, layout.body_size) or _unnumbered_heading(
                line, top_size
            )
        run_in = _run_in_heading(line, items)
        if id(line) in title_ids:
            if current and id(current[-1]) not in title_ids:
                flush()
            current.append(line)  # the title's lines form one paragraph, however centred
        elif heading:
            flush()
            parts = [line]
            while i + 1 < len(lines) and _heading_continues(parts[-1], lines[i + 1], layout):
                i += 1
                parts.append(lines[i])
            heading.text = " ".join(ln.text for ln in parts)
            items.append(Item(parts, heading, heading.text))
        elif run_in:
            flush()
            items.append(Item([line], run_in[0], run_in[0].text))
            line.text = run_in[1]
            current.append(line)
        else:
            if current and (
                id(current[-1]) in title_ids or not _continues(current[-1], line, layout)
            ):
                flush()
            current.append(line)
        i += 1
    flush()
    for item in items:
        if item.heading is None:
            item.text = join_lines([ln.text for ln in item.lines], vocab)
    return _rejoin([it for it in items if it.heading or not _is_noise(it)], vocab)


def _rejoin(items: list[Item], vocab: Vocabulary) -> list[Item]:
    """Mend paragraphs that a figure or table cut in two ("model-" ... "ing and ...").

    A caption found in the cut is moved after the mended paragraph.
    """
    out: list[Item] = []
    deferred: list[Item] = []
    for item in items:
        prev = out[-1] if out else None
        open_para = prev is not None and prev.heading is None and _unfinished(prev.text)
        if open_para and item.heading is None and CAPTION_RE.match(item.text):
            deferred.append(item)
        elif open_para and prev and item.heading is None and item.text[:1].islower():
            prev.lines.extend(item.lines)
            prev.text = join_lines([prev.text, item.text], vocab)
        else:
            out.extend(deferred)
            deferred.clear()
            out.append(item)
    return out + deferred


def _unfinished(text: str) -> bool:
    return text.endswith("-") or not _SENTENCE_END_RE.search(text)


def _top_heading_size(lines: list[Line], body_size: float) -> float | None:
    """The font size of bold numbered top-level headings ("1 Introduction"), if larger."""
    sizes: Counter[float] = Counter()
    for line in lines:
        heading = heading_candidate(line, body_size)
        top_level = heading and heading.scheme in ("arabic", "roman") and "." not in heading.number
        if top_level and line.bold and line.max_size >= body_size + 0.8:
            sizes[round(line.max_size, 1)] += 1
    return sizes.most_common(1)[0][0] if sizes else None


def _unnumbered_heading(line: Line, top_size: float | None) -> Heading | None:
    """An unnumbered line styled exactly like the numbered top-level headings.

    This finds appendix titles such as "Attention Visualizations" (1706.03762).
    """
    text = line.text.strip()
    if (
        top_size is None
        or not line.bold
        or abs(line.max_size - top_size) > 0.3
        or len(text.split()) > 10
        or not text[:1].isupper()
        or _SENTENCE_END_RE.search(text)
        or count_letters(text) < 0.7 * len(text.replace(" ", ""))
    ):
        return None
    return Heading(text, "", "", None)


def _run_in_heading(line: Line, items: list[Item]) -> tuple[Heading, str] | None:
    """A heading that starts a paragraph's first line, and the text after it."""
    if match := RUN_IN_ABSTRACT_RE.match(line.text):
        kind = "abstract"
    elif (match := RUN_IN_THANKS_RE.match(line.text)) and line.bold_letters >= len(match["name"]):
        kind = "acknowledgments"
    else:
        return None
    if any(it.heading and it.heading.named == kind for it in items):
        return None  # only the first one: later matches are ordinary sentences
    return Heading(match["name"], "", "", kind), match["rest"]


def _heading_continues(prev: Line, nxt: Line, layout: _Layout) -> bool:
    """A heading wrapped onto a second line has the same style right below it."""
    return (
        (nxt.page, nxt.band, nxt.col) == (prev.page, prev.band, prev.col)
        and 0 <= nxt.y0 - prev.y1 < 0.8 * nxt.size
        and abs(nxt.max_size - prev.max_size) < 0.5
        and nxt.bold == prev.bold
        and (nxt.bold or (is_caps(nxt.text) and is_caps(prev.text)))
        and len(nxt.text) < 80
        and heading_candidate(nxt, layout.body_size) is None
    )


def _is_noise(item: Item) -> bool:
    """Figure axis labels, tick numbers and table cells: short numeric fragments."""
    text = item.text
    if not text:
        return True
    words = text.split()
    letters = count_letters(text)
    if len(words) < 3 and len(text) < 25 and not _SENTENCE_END_RE.search(text):
        return True
    if letters < 0.35 * len(text.replace(" ", "")) and len(words) < 60:
        return True
    mean_len = sum(len(ln.text) for ln in item.lines) / len(item.lines)
    return len(item.lines) >= 4 and mean_len < 10
