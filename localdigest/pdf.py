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

import contextlib
import hashlib
import itertools
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localdigest.errors import PdfError

if TYPE_CHECKING:
    import pymupdf  # imported where used: it takes ~0.4 s, and cached reruns never need it

EXTRACTOR_VERSION = "1"

SECTION_KINDS = (
    "front",
    "abstract",
    "body",
    "contents",
    "acknowledgments",
    "references",
    "appendix",
)

_KEPT_KINDS = ("abstract", "body")


@dataclass(frozen=True)
class Section:
    heading: str  # e.g. "1 Introduction", "Abstract", "" for untitled front matter
    kind: str  # one of SECTION_KINDS
    text: str  # paragraphs separated by "\n\n", lines inside a paragraph joined with spaces
    page: int  # 1-based page where it starts


@dataclass
class Document:
    path: Path
    sha256: str
    pages: int
    title: str
    abstract: str
    sections: list[Section]
    warnings: list[str] = field(default_factory=list)

    def kept(self, include_appendix: bool = False) -> list[Section]:
        """The sections worth summarizing: abstract and body (and appendix if asked)."""
        kinds = (*_KEPT_KINDS, "appendix") if include_appendix else _KEPT_KINDS
        return [s for s in self.sections if s.kind in kinds]

    def skipped(self, include_appendix: bool = False) -> list[Section]:
        kept = self.kept(include_appendix)
        return [s for s in self.sections if s not in kept]

    @property
    def text(self) -> str:
        parts = [f"{s.heading}\n\n{s.text}" if s.heading else s.text for s in self.sections]
        return "\n\n".join(p for p in parts if p)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- text cleaning

_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
)
# Symbol-font glyphs that TeX PDFs map to the wrong code point (1212.5701: "*" -> "⇤").
_MISMAPPED = str.maketrans({"⇤": "*", "\u00ad": ""})
# TeX draws accents as separate spacing glyphs before the letter ("Teˇsanovi´c"); turning
# them into combining marks lets NFKC compose "š", "ć". NFKC alone would leave " ́c".
_SPACING_ACCENTS = {
    "´": "\u0301",
    "ˇ": "\u030c",
    "¨": "\u0308",
    "˜": "\u0303",
    "¸": "\u0327",
    "˘": "\u0306",
    "˙": "\u0307",
    "˚": "\u030a",
    "˝": "\u030b",
}
# Some pdfTeX builds embed Computer Modern math fonts whose glyphs come out as dingbats
# (1412.6980: "✓t = ✓t-1 - ↵ ..." for "θt = θt-1 - α ..."); the font tells which table.
_TEX_MATH_FONTS = {
    "CMMI": str.maketrans("↵✏⌘✓⇡⇢⌧⇣", "αεηθπρτζ"),
    "CMSY": str.maketrans({"⇤": "*", "⇥": "×", "⇠": "∼", "⇡": "≈"}),
    "CMEX": str.maketrans(dict.fromkeys("✓◆⇢⇣⌘", "")),  # big delimiters
}
_ACCENT_RE = re.compile("([" + "".join(_SPACING_ACCENTS) + r"])\s?([A-Za-zıȷ])")
_ARXIV_STAMP_RE = re.compile(
    r"arXiv:\s?\d{4}\.\d{4,5}(?:v\d+)?\s*\[[^\]]{2,30}\]\s*\d{1,2}\s+[A-Z][a-z]{2}\s+\d{4}"
)


def normalize_text(text: str) -> str:
    """Expand ligatures, fix TeX accents and symbol-font glyphs, then NFKC.

    NFKC also maps math-italic letters (𝐾 -> K) and full-width forms to plain ones.
    """
    text = text.translate(_LIGATURES).translate(_MISMAPPED)
    text = _ACCENT_RE.sub(
        lambda m: m.group(2).replace("ı", "i") + _SPACING_ACCENTS[m.group(1)], text
    )
    return unicodedata.normalize("NFKC", text)


# --------------------------------------------------------------------------- line records


@dataclass
class _Line:
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
class _Page:
    number: int
    width: float
    height: float
    lines: list[_Line]
    chars: int  # text characters (rotated included, arXiv stamp excluded)


_BOLD_FONT_RE = re.compile(r"bold|black|heavy|semibold|demi|medi|cmbx|cmb\d|-bd|bd$", re.I)
_ITALIC_FONT_RE = re.compile(r"ital|oblique|cmti|-it$", re.I)


def _span_style(span: dict[str, Any]) -> tuple[bool, bool]:
    font = span.get("font", "")
    bold = bool(span["flags"] & 16) or bool(_BOLD_FONT_RE.search(font))
    italic = bool(span["flags"] & 2) or bool(_ITALIC_FONT_RE.search(font))
    return bold, italic


def _span_text(span: dict[str, Any]) -> str:
    table = _TEX_MATH_FONTS.get(span.get("font", "")[:4])
    return span["text"].translate(table) if table else span["text"]


def _make_line(spans: list[dict[str, Any]], bbox: Iterable[float], page: int, block: int) -> _Line:
    text = normalize_text("".join(_span_text(s) for s in spans))
    weights: Counter[float] = Counter()
    letters = bold_letters = italic_letters = 0
    for span in spans:
        count = _letters(span["text"])
        weights[round(span["size"], 1)] += len(span["text"].strip())
        bold, italic = _span_style(span)
        letters += count
        bold_letters += count if bold else 0
        italic_letters += count if italic else 0
    size = weights.most_common(1)[0][0] if weights else 0.0
    x0, y0, x1, y1 = bbox
    max_size = max((s["size"] for s in spans if s["text"].strip()), default=size)
    return _Line(
        text, x0, y0, x1, y1, size, max_size, letters, bold_letters, italic_letters, page, block
    )


def _merge_baseline(lines: list[_Line]) -> list[_Line]:
    """Join pieces of one visual line ("1" + "Introduction") that MuPDF splits."""
    merged: list[_Line] = []
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


def _same_baseline(a: _Line, b: _Line) -> bool:
    overlap = min(a.y1, b.y1) - max(a.y0, b.y0)
    height = min(a.y1 - a.y0, b.y1 - b.y0)
    return height > 0 and overlap > 0.5 * height and b.x0 >= a.x1 - 1.0


def _page_lines(page: pymupdf.Page, number: int) -> _Page:
    pymupdf = _pymupdf()

    # No PRESERVE_LIGATURES (MuPDF then splits them) and no images (memory).
    flags = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
    data = page.get_text("dict", flags=flags)
    lines: list[_Line] = []
    chars = 0
    for block_no, block in enumerate(data["blocks"]):
        block_lines: list[_Line] = []
        for raw in block.get("lines", []):
            dx, dy = raw["dir"]
            spans = [s for s in raw["spans"] if s["text"]]
            if not spans:
                continue
            raw_text = "".join(s["text"] for s in spans)
            # The stamp does not count as text: a page holding only it is unreadable.
            chars += len(_ARXIV_STAMP_RE.sub("", raw_text).strip())
            if abs(dy) > 0.05 or dx <= 0:
                continue  # rotated: the arXiv side stamp, axis labels
            line = _make_line(spans, raw["bbox"], number, block_no)
            line.text = _ARXIV_STAMP_RE.sub("", line.text).strip()
            if line.text:
                block_lines.append(line)
        lines.extend(_merge_baseline(block_lines))
    rect = page.rect
    return _Page(number, rect.width, rect.height, lines, chars)


# --------------------------------------------------------------------------- reading order


def _order_page(page: _Page) -> None:
    """Put the page's lines in reading order, in place, and tag columns."""
    mid = page.width / 2
    slack = 0.1 * page.width  # a line must cross the gutter by this much to be full width

    def side(x0: float, x1: float) -> int:
        if x1 <= mid + 2:
            return 1
        if x0 >= mid - 2:
            return 2
        return 0 if (x0 < mid - slack and x1 > mid + slack) else (1 if (x0 + x1) / 2 < mid else 2)

    chars = Counter[int]()
    for line in page.lines:
        chars[side(line.x0, line.x1)] += len(line.text)
    total = sum(chars.values()) or 1
    two_columns = chars[1] > 0.2 * total and chars[2] > 0.2 * total and chars[0] < 0.5 * total
    groups = _group_blocks(page.lines)
    if not two_columns:
        groups.sort(key=lambda g: (round(g[0].y0), g[0].x0))
        page.lines = [line for group in groups for line in group]
        return
    # Split blocks that straddle the gutter line by line, then classify each part.
    parts: list[tuple[int, list[_Line]]] = []
    for group in groups:
        by_side: dict[int, list[_Line]] = {}
        for line in group:
            by_side.setdefault(side(line.x0, line.x1), []).append(line)
        if 1 in by_side and 2 in by_side:
            parts.extend(by_side.items())  # MuPDF merged blocks across the gutter
        else:
            whole = side(min(ln.x0 for ln in group), max(ln.x1 for ln in group))
            parts.append((whole, group))
    parts.sort(key=lambda p: min(line.y0 for line in p[1]))
    ordered: list[_Line] = []
    band = 0
    columns: dict[int, list[list[_Line]]] = {1: [], 2: []}

    def flush() -> None:
        for col in (1, 2):
            for part in sorted(columns[col], key=lambda p: p[0].y0):
                for line in part:
                    line.col, line.band = col, band
                    ordered.append(line)
            columns[col] = []

    cuts = _balanced_cuts(parts)
    for col, part in parts:
        if cuts and part[0].y0 >= cuts[0]:
            cuts.pop(0)
            flush()
            band += 1
        if col == 0:
            flush()
            band += 1
            for line in part:
                line.col, line.band = 0, band
            ordered.extend(part)
            band += 1
        else:
            columns[col].append(part)
    flush()
    page.lines = ordered


def _balanced_cuts(parts: list[tuple[int, list[_Line]]]) -> list[float]:
    """Heights where both columns end together and restart together after a gap.

    REVTeX balances the columns and then starts the bibliography as a new pair of columns
    below them; reading column by column down the whole page would mix the two.
    """
    spans: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    for col, part in parts:
        if col:
            spans[col].append((min(ln.y0 for ln in part), max(ln.y1 for ln in part)))
    gaps: dict[int, list[tuple[float, float]]] = {}
    for col, items in spans.items():
        items.sort()
        gaps[col] = []
        bottom = None
        for top, low in items:
            if bottom is not None and top - bottom > 15:
                gaps[col].append((bottom, top))
            bottom = low if bottom is None else max(bottom, low)
    cuts = []
    for a_end, a_start in gaps[1]:
        for b_end, b_start in gaps[2]:
            if abs(a_end - b_end) < 12 and abs(a_start - b_start) < 12:
                cuts.append(min(a_start, b_start) - 1)
    return sorted(cuts)


def _group_blocks(lines: list[_Line]) -> list[list[_Line]]:
    groups: dict[int, list[_Line]] = {}
    for line in lines:
        groups.setdefault(line.block, []).append(line)
    return list(groups.values())


# --------------------------------------------------------------------------- boilerplate

_PAGE_NUMBER_RE = re.compile(
    r"^(?:page\s*)?[-–(]?\s*(?:\d{1,4}|[ivxlc]{1,6})\s*[-–)]?(?:\s*(?:of|/)\s*\d{1,4})?$", re.I
)
_DOT_LEADER_RE = re.compile(r"(?:\.\s?){5,}\s*\d+\s*$|(?:\.\s?){5,}")
_CAPTION_RE = re.compile(r"^(?:Figure|Fig\.|Table|Algorithm)\s*[A-Z]?\d+[.:]", re.I)
# "*Equal contribution", "†Work done at...", "1https://..." - but not "[1] A. Author" or
# "1 D. C. Johnston" (reference lists are small print at the bottom too).
_FOOTNOTE_MARK_RE = re.compile(r"^(?:[*∗†‡§¶]|\d{1,2}(?=[A-Za-z]))")


def _margin(line: _Line, page: _Page) -> str:
    if line.y1 < 0.1 * page.height:
        return "top"
    if line.y0 > 0.9 * page.height:
        return "bottom"
    return ""


def _drop_boilerplate(pages: list[_Page], body_size: float) -> None:
    """Drop running headers/footers, page numbers, dot-leader lines and footnotes."""
    seen: Counter[tuple[str, str]] = Counter()
    for page in pages:
        keys = {(_margin(ln, page), re.sub(r"\d+", "#", ln.text.lower())) for ln in page.lines}
        seen.update(k for k in keys if k[0])
    threshold = max(3, 0.25 * len(pages))
    running = {key for key, count in seen.items() if count >= threshold}

    def is_boilerplate(line: _Line, page: _Page) -> bool:
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
        page.lines = [
            ln for ln in page.lines if ln.block not in footnotes and not is_boilerplate(ln, page)
        ]


def _footnote_blocks(page: _Page, body_size: float) -> set[int]:
    """Small-font blocks in the lower half, below the last body-size line of their column,
    that start with a footnote mark.

    Footnotes would otherwise cut a sentence that runs on to the next page or column.
    """
    lowest_body: dict[int, float] = {}
    for line in page.lines:
        if abs(line.size - body_size) <= 0.6 and len(line.text) > 20:
            lowest_body[line.col] = max(lowest_body.get(line.col, 0.0), line.y1)
    found: set[int] = set()
    for group in _group_blocks(page.lines):
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


def _body_size(pages: list[_Page]) -> float:
    sizes: Counter[float] = Counter()
    for page in pages:
        for line in page.lines:
            sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


# --------------------------------------------------------------------------- title

_TITLE_MARKS_RE = re.compile(r"[\s*∗†‡§¶]+$")


def _find_title(pages: list[_Page], body_size: float) -> tuple[str, set[int]]:
    """The largest text near the top of the first page with real text (a cover is skipped).

    Returns the title and the ids of its lines, so they are not taken for headings.
    """
    for page in pages[:3]:
        if sum(len(ln.text) for ln in page.lines) < 200:
            continue  # a near-empty cover page (1411.3715) or an unreadable one
        upper = [
            ln
            for ln in page.lines
            if ln.y0 < 0.5 * page.height and sum(c.isalpha() for c in ln.text) >= 3
        ]
        if not upper:
            return "", set()
        biggest = max(ln.max_size for ln in upper)
        if biggest < body_size + 1.0:
            return "", set()
        picked: list[_Line] = []
        for ln in page.lines:
            if abs(ln.max_size - biggest) <= 0.6 and ln in upper:
                # Authors in the title's size differ in weight or case (1212.5701, 1609.09430).
                if picked and (
                    ln.y0 - picked[-1].y1 > biggest
                    or ln.bold != picked[0].bold
                    or _is_caps(ln.text) != _is_caps(picked[0].text)
                ):
                    break
                picked.append(ln)
            elif picked:
                break
        title = _TITLE_MARKS_RE.sub("", " ".join(ln.text for ln in picked))
        return re.sub(r"\s+", " ", title).strip(), {id(ln) for ln in picked}
    return "", set()


# --------------------------------------------------------------------------- headings

_NUMBERED_RE = re.compile(
    r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3}\.?|[IVX]{1,5}\.|[A-Z](?:\.\d{1,2}){0,3}\.?)"
    r"\s+(?P<title>\S.*)$"
)
_NAMED_KINDS = {
    "abstract": "abstract",
    "acknowledgments": "acknowledgments",
    "acknowledgements": "acknowledgments",
    "acknowledgment": "acknowledgments",
    "acknowledgement": "acknowledgments",
    "references": "references",
    "reference": "references",
    "bibliography": "references",
    "literature cited": "references",
    "works cited": "references",
    "contents": "contents",
    "table of contents": "contents",
    "index terms": "front",
    "keywords": "front",
    "key words": "front",
    "appendix": "appendix",
    "appendices": "appendix",
}
_NAMED_BODY = {
    "introduction",
    "related work",
    "background",
    "preliminaries",
    "method",
    "methods",
    "methodology",
    "approach",
    "experiments",
    "experimental results",
    "results",
    "evaluation",
    "discussion",
    "conclusion",
    "conclusions",
    "summary",
    "future work",
    "limitations",
}
_APPENDIX_PREFIX_RE = re.compile(r"^(appendix|appendices|supplementary|supplemental)\b", re.I)
# Headings printed at the start of their paragraph: IEEE "Abstract—We ...", NeurIPS
# "Acknowledgements We thank ..." (there the word is bold, the text is not).
_RUN_IN_ABSTRACT_RE = re.compile(r"^(?P<name>Abstract|ABSTRACT)\s*[—–:.-]\s*(?P<rest>\S.*)$")
_RUN_IN_THANKS_RE = re.compile(
    r"^(?P<name>Acknowledge?ments?|ACKNOWLEDGE?MENTS?)\s*[—–:.]?\s+(?P<rest>\S.*)$"
)


@dataclass
class _Heading:
    text: str  # as printed, e.g. "2.1 Unsupervised Feature-based Approaches"
    number: str  # "2.1", "A", "IV", "" when unnumbered
    scheme: str  # "arabic", "roman", "letter", ""
    named: str | None  # kind implied by the name ("references", ...), None if not a known name


def _letters(text: str) -> int:
    return sum(c.isalpha() for c in text)


def _is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters)


def _named_kind(title: str) -> str | None:
    key = re.sub(r"\s+", " ", title.strip(" .:").lower())
    if key in _NAMED_KINDS:
        return _NAMED_KINDS[key]
    if _APPENDIX_PREFIX_RE.match(key):
        return "appendix"
    return "body" if key in _NAMED_BODY else None


def _heading_candidate(line: _Line, body_size: float) -> _Heading | None:
    """A heading by its numbering or name and its style (bold, larger, small caps...)."""
    text = line.text.strip()
    if len(text) > 120 or len(text.split()) > 16 or text[-1] in ",;":
        return None
    larger = line.max_size >= body_size + 0.8
    styled = line.bold or larger or _is_caps(text) or line.italic
    if not styled:
        return None
    named = _named_kind(text)
    if named:
        return _Heading(text, "", "", named)
    match = _NUMBERED_RE.match(text)
    if not match:
        return None
    title = match["title"]
    number = match["num"].rstrip(".")
    if not title[0].isupper() or _letters(title) < 2:
        return None
    if _letters(title) < 0.5 * len(title.replace(" ", "")):
        return None
    if number[0].isdigit():
        scheme = "arabic"
        if int(number.split(".")[0]) > 30:
            return None
    elif match["num"].endswith(".") and set(number) <= set("IVX") and len(number) > 0:
        scheme = "roman"
    else:
        scheme = "letter"
        if "." not in match["num"] and not (line.bold or larger):
            return None  # "A Study of ..." in plain italics is a sentence, not a heading
    if line.italic and not (line.bold or larger or _is_caps(title)) and scheme == "arabic":
        return None
    return _Heading(text, number, scheme, _named_kind(title))


# --------------------------------------------------------------------------- hyphenation

_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")
# Without evidence from the document, a break after these prefixes or before these
# suffixes is more often a real compound ("self-attention", "task-specific").
# A word list reads best as words, hence str.split over list literals (SIM905).
_COMPOUND_PREFIXES = frozenset(
    """self non cross multi semi well quasi pseudo anti meta half one two three four five
    first second third end state high low large small long short real fine top zero few
    many data model domain word sentence token character left right full open closed""".split()  # noqa: SIM905
)
_COMPOUND_SUFFIXES = frozenset(
    """based level specific wise like free aware dependent independent driven oriented
    scale grained trained tuned art time world order side step shot off up out valued
    dimensional sized layer agnostic friendly efficient only""".split()  # noqa: SIM905
)


class _Vocabulary:
    """Word counts of the document itself, to decide how to mend "repre-" + "sentation"."""

    def __init__(self) -> None:
        self.words: Counter[str] = Counter()
        self.pairs: Counter[tuple[str, str]] = Counter()  # adjacent parts of "a-b" compounds

    def add_lines(self, lines: Iterable[str]) -> None:
        broken = False
        for text in lines:
            tokens = _WORD_RE.findall(text)
            if broken and tokens:
                tokens = tokens[1:]  # the tail of a word broken on the line before
            broken = text.rstrip().endswith("-")
            if broken and tokens:
                tokens = tokens[:-1]
            for token in tokens:
                token = token.lower().strip("'-")
                self.words[token] += 1
                parts = token.split("-")
                self.pairs.update(itertools.pairwise(parts))

    def count(self, word: str) -> int:
        return sum(self.words[w] for w in _inflections(word))

    def pair_count(self, left: str, right: str) -> int:
        return sum(self.pairs[(left, w)] for w in _inflections(right))


def _inflections(word: str) -> set[str]:
    forms = {word, word + "s", word + "es", word + "ed", word + "d", word + "ing", word + "ly"}
    for suffix in ("s", "es", "ed", "ing", "ly"):
        if word.endswith(suffix) and len(word) > len(suffix) + 3:
            forms.add(word[: -len(suffix)])
    return forms


def _keep_hyphen(left: str, right: str, vocab: _Vocabulary) -> bool:
    """Should "left-" at a line end and "right" on the next line stay hyphenated?"""
    lp, rp = left.split("-")[-1].lower(), right.split("-")[0].lower()
    as_compound = vocab.pair_count(lp, rp) + vocab.words[f"{left}-{right}".lower()]
    as_word = vocab.count(lp + rp)
    if as_compound != as_word:
        return as_compound > as_word
    if "-" in left or "-" in right or not right[0].islower():
        return True  # "English-" + "to-German", "state-of-the-" + "art", "Bi-" + "LSTM"
    if lp in _COMPOUND_PREFIXES or rp in _COMPOUND_SUFFIXES:
        return True
    # Two words the document uses on their own ("memory-" + "augmented") form a compound;
    # a fragment ("repre-") does not.
    return len(lp) >= 4 and len(rp) >= 4 and vocab.words[lp] > 0 and vocab.words[rp] > 0


_LEFT_PART_RE = re.compile(r"([A-Za-z][A-Za-z-]*)-$")
_RIGHT_PART_RE = re.compile(r"^([A-Za-z][A-Za-z-]*[A-Za-z]|[A-Za-z])")


def _join_lines(lines: list[str], vocab: _Vocabulary) -> str:
    """Lines of one paragraph -> one string, mending words broken at line ends."""
    out = ""
    for text in lines:
        text = text.strip()
        if not out:
            out = text
            continue
        left = _LEFT_PART_RE.search(out)
        right = _RIGHT_PART_RE.match(text)
        if left and right:
            keep = _keep_hyphen(left.group(1), right.group(1), vocab)
            out = out + text if keep else out[:-1] + text
        elif out.endswith(("—", "–", "/")):
            out += text
        else:
            out += " " + text
    return re.sub(r"\s+", " ", out).strip()


# --------------------------------------------------------------------------- paragraphs


@dataclass
class _Item:
    lines: list[_Line]
    heading: _Heading | None = None
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


def _measure(pages: list[_Page], body_size: float) -> _Layout:
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


def _continues(prev: _Line, line: _Line, layout: _Layout) -> bool:
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


def _build_items(
    pages: list[_Page], layout: _Layout, title_ids: set[int], vocab: _Vocabulary
) -> list[_Item]:
    items: list[_Item] = []
    current: list[_Line] = []

    def flush() -> None:
        if current:
            items.append(_Item(list(current)))
            current.clear()

    lines = [ln for page in pages for ln in page.lines]
    top_size = _top_heading_size(lines, layout.body_size)
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = None
        if id(line) not in title_ids:
            heading = _heading_candidate(line, layout.body_size) or _unnumbered_heading(
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
            items.append(_Item(parts, heading, heading.text))
        elif run_in:
            flush()
            items.append(_Item([line], run_in[0], run_in[0].text))
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
            item.text = _join_lines([ln.text for ln in item.lines], vocab)
    return _rejoin([it for it in items if it.heading or not _is_noise(it)], vocab)


def _rejoin(items: list[_Item], vocab: _Vocabulary) -> list[_Item]:
    """Mend paragraphs that a figure or table cut in two ("model-" ... "ing and ...").

    A caption found in the cut is moved after the mended paragraph.
    """
    out: list[_Item] = []
    deferred: list[_Item] = []
    for item in items:
        prev = out[-1] if out else None
        open_para = prev is not None and prev.heading is None and _unfinished(prev.text)
        if open_para and item.heading is None and _CAPTION_RE.match(item.text):
            deferred.append(item)
        elif open_para and prev and item.heading is None and item.text[:1].islower():
            prev.lines.extend(item.lines)
            prev.text = _join_lines([prev.text, item.text], vocab)
        else:
            out.extend(deferred)
            deferred.clear()
            out.append(item)
    return out + deferred


def _unfinished(text: str) -> bool:
    return text.endswith("-") or not _SENTENCE_END_RE.search(text)


def _top_heading_size(lines: list[_Line], body_size: float) -> float | None:
    """The font size of bold numbered top-level headings ("1 Introduction"), if larger."""
    sizes: Counter[float] = Counter()
    for line in lines:
        heading = _heading_candidate(line, body_size)
        top_level = heading and heading.scheme in ("arabic", "roman") and "." not in heading.number
        if top_level and line.bold and line.max_size >= body_size + 0.8:
            sizes[round(line.max_size, 1)] += 1
    return sizes.most_common(1)[0][0] if sizes else None


def _unnumbered_heading(line: _Line, top_size: float | None) -> _Heading | None:
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
        or _letters(text) < 0.7 * len(text.replace(" ", ""))
    ):
        return None
    return _Heading(text, "", "", None)


def _run_in_heading(line: _Line, items: list[_Item]) -> tuple[_Heading, str] | None:
    """A heading that starts a paragraph's first line, and the text after it."""
    if match := _RUN_IN_ABSTRACT_RE.match(line.text):
        kind = "abstract"
    elif (match := _RUN_IN_THANKS_RE.match(line.text)) and line.bold_letters >= len(match["name"]):
        kind = "acknowledgments"
    else:
        return None
    if any(it.heading and it.heading.named == kind for it in items):
        return None  # only the first one: later matches are ordinary sentences
    return _Heading(match["name"], "", "", kind), match["rest"]


def _heading_continues(prev: _Line, nxt: _Line, layout: _Layout) -> bool:
    """A heading wrapped onto a second line has the same style right below it."""
    return (
        (nxt.page, nxt.band, nxt.col) == (prev.page, prev.band, prev.col)
        and 0 <= nxt.y0 - prev.y1 < 0.8 * nxt.size
        and abs(nxt.max_size - prev.max_size) < 0.5
        and nxt.bold == prev.bold
        and (nxt.bold or (_is_caps(nxt.text) and _is_caps(prev.text)))
        and len(nxt.text) < 80
        and _heading_candidate(nxt, layout.body_size) is None
    )


def _is_noise(item: _Item) -> bool:
    """Figure axis labels, tick numbers and table cells: short numeric fragments."""
    text = item.text
    if not text:
        return True
    words = text.split()
    letters = _letters(text)
    if len(words) < 3 and len(text) < 25 and not _SENTENCE_END_RE.search(text):
        return True
    if letters < 0.35 * len(text.replace(" ", "")) and len(words) < 60:
        return True
    mean_len = sum(len(ln.text) for ln in item.lines) / len(item.lines)
    return len(item.lines) >= 4 and mean_len < 10


# --------------------------------------------------------------------------- sections

_REF_ENTRY_RE = re.compile(r"^\[?(\d{1,3})[\].]?\s+\S")


def _looks_like_reference_list(item: _Item) -> bool:
    """Lines numbered 1, 2, 3... : a bibliography without a heading (REVTeX)."""
    numbers = [int(m[1]) for ln in item.lines if (m := _REF_ENTRY_RE.match(ln.text))]
    return len(numbers) >= 3 and numbers[:3] == [1, 2, 3]


_KEYWORDS_RE = re.compile(r"^(Index Terms|Keywords|Key words)\b", re.I)


def _item_size(item: _Item) -> float:
    sizes: Counter[float] = Counter()
    for line in item.lines:
        sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0]


class _Sectionizer:
    """Walks headings and paragraphs, deciding each section's kind from what came before."""

    def __init__(self, has_references_heading: bool) -> None:
        self.sections: list[Section] = []
        self.heading, self.kind, self.page = "", "front", 1
        self.paras: list[str] = []
        self.top_kind = "front"
        self.top_scheme = ""
        self.after_references = False
        self.seen_numbered = False
        self.has_references_heading = has_references_heading
        self.abstract_size: float | None = None

    def flush(self) -> None:
        if self.heading or self.paras:
            text = "\n\n".join(self.paras)
            self.sections.append(Section(self.heading, self.kind, text, self.page))
        self.paras = []

    def start(self, heading: str, kind: str, page: int) -> None:
        self.flush()
        self.heading, self.kind, self.page = heading, kind, page

    def add_heading(self, h: _Heading, page: int) -> None:
        guessed = (h.scheme == "letter" and "." not in h.number) or (
            not h.scheme and h.named is None
        )
        if guessed and not self.seen_numbered:
            self.add_paragraph(h.text, page)  # bold "A Study of..." or authors in the front
            return
        is_sub = "." in h.number or (h.scheme == "letter" and self.top_scheme == "roman")
        if h.named and h.named not in ("body",):
            kind = h.named
        elif self.after_references:
            kind = "appendix"
        elif is_sub:
            kind = self.top_kind if self.top_kind == "appendix" else "body"
        else:
            kind = "body"
        if kind == "references":
            self.after_references = True
        if h.scheme:
            self.seen_numbered = True
        if not is_sub:
            self.top_kind = kind
            self.top_scheme = h.scheme or self.top_scheme
        self.start(h.text, kind, page)

    def add_paragraph(self, text: str, page: int, item: _Item | None = None) -> None:
        if (
            item is not None
            and not self.has_references_heading
            and self.kind in ("body", "acknowledgments")
            and _looks_like_reference_list(item)
        ):
            self.has_references_heading = True
            self.after_references = True
            self.start("References", "references", page)
        if self.kind == "abstract" and _KEYWORDS_RE.match(text):
            self.start("Keywords", "front", page)  # "Index Terms— ..." closes the abstract
        elif self.kind == "abstract" and item is not None:
            size = _item_size(item)
            if self.abstract_size is None:
                self.abstract_size = size
            elif abs(size - self.abstract_size) > 0.6:
                # A footnote (smaller) or body text (when a heading was missed) follows.
                self.start("", "front" if size < self.abstract_size else "body", page)
        if not self.paras and not self.heading:
            self.page = page
        self.paras.append(text)


def _sectionize(items: list[_Item], has_title: bool) -> list[Section]:
    has_refs = any(it.heading and it.heading.named == "references" for it in items)
    walker = _Sectionizer(has_refs)
    for item in items:
        if item.heading:
            walker.add_heading(item.heading, item.page)
        else:
            walker.add_paragraph(item.text, item.page, item)
    walker.flush()
    # Without a title the first page is missing or unreadable: no front matter to search.
    return _split_abstract(walker.sections) if has_title else walker.sections


def _split_abstract(sections: list[Section]) -> list[Section]:
    """Find the abstract when no "Abstract" heading announced it (REVTeX) or trim it.

    REVTeX prints the abstract as the paragraph after "(Dated: ...)"; otherwise the
    longest front-matter paragraph of 60+ words is taken.
    """
    if any(s.kind == "abstract" for s in sections):
        return sections
    front = next((s for s in sections if s.kind == "front"), None)
    if front is None:
        return sections
    paras = front.text.split("\n\n")
    pick = None
    for i, para in enumerate(paras):
        if re.match(r"^\(?(Dated|Received|Date)[: ]", para) and i + 1 < len(paras):
            pick = i + 1
            break
    if pick is None:
        long = [i for i, p in enumerate(paras) if len(p.split()) >= 60]
        pick = max(long, key=lambda i: len(paras[i]), default=None)
    if pick is None:
        return sections
    index = sections.index(front)
    replaced = [
        Section(front.heading, "front", "\n\n".join(paras[:pick]), front.page),
        Section("Abstract", "abstract", paras[pick], front.page),
    ]
    if paras[pick + 1 :]:
        replaced.append(Section("", "front", "\n\n".join(paras[pick + 1 :]), front.page))
    return sections[:index] + [s for s in replaced if s.text or s.heading] + sections[index + 1 :]


# --------------------------------------------------------------------------- opening & checks


def _pymupdf() -> Any:
    """PyMuPDF, imported on first use, after llama.cpp's libraries.

    A CUDA build of llama.cpp segfaults while loading a model when MuPDF's libraries were
    loaded first (seen on an H100: crash in llama_model_load_from_file; the other order
    works), so llama_cpp goes first whenever it is installed.
    """
    with contextlib.suppress(ImportError):
        import llama_cpp  # noqa: F401
    import pymupdf

    # MuPDF prints repair messages ("syntax error: no XObject subtype") straight to the
    # terminal; what they mean for the user is said by our own checks and warnings.
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    return pymupdf


def _utf8_name(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _open(path: Path, password: str | None) -> tuple[pymupdf.Document, bool]:
    """Open the file or raise PdfError; also say whether its header was missing."""
    name = path.name
    if not path.exists():
        raise PdfError(f"{path}: file not found — check the path")
    if not path.is_file():
        raise PdfError(f"{path}: not a file — pass a PDF file")
    with path.open("rb") as fh:
        head = fh.read(1024)
    if not head:
        raise PdfError(f"{name} is empty (0 bytes) — download it again")
    has_header = b"%PDF-" in head
    if not has_header and head.lstrip()[:1] == b"<":
        raise PdfError(f"{name} is not a PDF (it holds HTML or XML) — download the PDF again")
    pymupdf = _pymupdf()

    try:
        if _utf8_name(path):
            doc = pymupdf.open(path, filetype="pdf")
        else:  # MuPDF can't open a name that isn't valid UTF-8: hand it the bytes
            doc = pymupdf.open(stream=path.read_bytes(), filetype="pdf")
    except Exception as exc:  # MuPDF raises several types for broken files
        raise PdfError(f"{name} is not a readable PDF ({exc}) — download it again") from exc
    if doc.page_count == 0:
        doc.close()
        what = "a damaged PDF" if has_header else "not a PDF"
        raise PdfError(f"{name} is {what} (no pages) — download it again")
    if doc.needs_pass:
        if password is None:
            doc.close()
            raise PdfError(f"{name} is password-protected — pass --password")
        if not doc.authenticate(password):
            doc.close()
            raise PdfError(f"{name}: wrong password — check --password")
    return doc, not has_header or bool(doc.is_repaired)


def _page_ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7] -> "1-3, 7"."""
    ranges: list[str] = []
    start = prev = None
    for n in [*numbers, None]:
        if start is not None and (n is None or prev is None or n != prev + 1):
            ranges.append(str(start) if start == prev else f"{start}-{prev}")
            start = None
        if n is not None and start is None:
            start = n
        prev = n
    return ", ".join(ranges)


def _quality(text: str) -> tuple[float, float]:
    """(share of letters among visible characters, share of word-like tokens)."""
    visible = [c for c in text if not c.isspace()]
    if not visible:
        return 0.0, 0.0
    letter_share = sum(c.isalpha() for c in visible) / len(visible)
    tokens = text.split()
    wordlike = sum(1 for t in tokens if re.fullmatch(r"[(\"'“]?[A-Za-z][a-z]*[.,;:)\"'”]?", t))
    return letter_share, wordlike / max(len(tokens), 1)


def _check_usable(doc: Document, blank: list[int], read: int, repaired: bool) -> None:
    name = doc.path.name
    if len(blank) == read:
        if repaired:
            raise PdfError(f"{name} is damaged: no page has readable text — download it again")
        raise PdfError(f"{name} has no text layer (scanned?) — run OCR first")
    letter_share, word_share = _quality(doc.text)
    if letter_share < 0.5 or word_share < 0.3:
        raise PdfError(
            f"{name} gives garbage text (broken font encoding?) — try another copy or OCR it"
        )
    missing = not doc.title and not doc.abstract
    # A repaired file with blank pages is a broken download (truncated, zeroed); blank
    # pages alone may be scans or figures, unless the front matter is gone too.
    if blank and (repaired or missing):
        found = "no title or abstract found" if missing else "the rest may be incomplete"
        raise PdfError(
            f"{name} is damaged: {len(blank)} of {read} pages unreadable, {found} "
            "— download it again"
        )
    if missing and repaired:
        raise PdfError(f"{name} is damaged: no title or abstract found — download it again")


# --------------------------------------------------------------------------- entry point


def _read_pages(doc: pymupdf.Document, limit: int) -> Iterator[_Page]:
    for index in range(limit):
        page = doc.load_page(index)
        yield _page_lines(page, index + 1)
        del page  # only the compact line records are kept


def extract(path: Path, *, password: str | None = None, max_pages: int | None = None) -> Document:
    """Read a PDF into a cleaned Document, or raise PdfError saying what is wrong."""
    path = Path(path)
    doc, repaired = _open(path, password)
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
        _order_page(page)
    body_size = _body_size(pages)
    _drop_boilerplate(pages, body_size)
    title, title_ids = _find_title(pages, body_size)
    vocab = _Vocabulary()
    for page in pages:
        vocab.add_lines(ln.text for ln in page.lines)
    items = _build_items(pages, _measure(pages, body_size), title_ids, vocab)
    sections = _sectionize(items, bool(title))
    abstract = "\n\n".join(s.text for s in sections if s.kind == "abstract").strip()
    if blank:
        pages_word = "page" if len(blank) == 1 else "pages"
        verb = "has" if len(blank) == 1 else "have"
        warnings.append(f"{pages_word} {_page_ranges(blank)} {verb} no text")
    if repaired:
        warnings.append("the file is damaged and was repaired when opened; text may be missing")
    result = Document(path, file_sha256(path), total, title, abstract, sections, warnings)
    _check_usable(result, blank, limit, repaired)
    if not title:
        warnings.append("no title found")
    if not abstract:
        warnings.append("no abstract found")
    return result
