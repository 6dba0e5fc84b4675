"""Opening a PDF and stage 6, the checks: unreadable, empty or garbage files raise PdfError."""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from localdigest.errors import PdfError
from localdigest.pdf.document import Document
from localdigest.pdf.mupdf import load_pymupdf

if TYPE_CHECKING:
    import pymupdf  # imported where used (load_pymupdf): cached reruns never need it


def _utf8_name(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def open_pdf(path: Path, password: str | None) -> tuple[pymupdf.Document, bool]:
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
    pymupdf = load_pymupdf()

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


def page_ranges(numbers: list[int]) -> str:
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


@functools.cache
def _kind(ch: str) -> str:
    """What a character is to the quality check: ``L`` a letter or mark of any script,
    ``D`` a digit, ``S`` a space or punctuation (they end a word), ``X`` what a broken font
    encoding leaves (private-use, unassigned, replacement and control characters), ``O``
    anything else (symbols)."""
    category = unicodedata.category(ch)
    if ch.isspace() or category[0] == "P":
        return "S"
    if category[0] in "LM":
        return "L"
    if category == "Nd":
        return "D"
    if category in ("Co", "Cn", "Cc", "Cs") or ch == "\ufffd":
        return "X"
    return "O"


def _quality(text: str) -> tuple[float, float, float]:
    """(share of letters among visible characters, share of word-like tokens, share of
    broken characters), by Unicode categories: letters of every script count, so clean
    Chinese or Russian text passes. A token is what lies between spaces and punctuation
    (so a Chinese clause is one); it is word-like when it is all letters and, in a cased
    script, no capital follows its first letter; tokens of digits alone are left out."""
    kinds = "".join(map(_kind, text))
    visible = len(kinds) - kinds.count("S")
    if not visible:
        return 0.0, 0.0, 0.0
    tokens = wordlike = 0
    for match in re.finditer(r"[^S]+", kinds):
        if set(match[0]) == {"D"}:
            continue
        tokens += 1
        if set(match[0]) == {"L"}:
            word = text[match.start() + 1 : match.end()]
            wordlike += word == word.lower()
    letters = kinds.count("L") / visible
    return letters, wordlike / max(tokens, 1), kinds.count("X") / visible


def check_usable(doc: Document, blank: list[int], read: int, repaired: bool) -> None:
    name = doc.path.name
    if len(blank) == read:
        if repaired:
            raise PdfError(f"{name} is damaged: no page has readable text — download it again")
        raise PdfError(f"{name} has no text layer (scanned?) — run OCR first")
    letter_share, word_share, broken_share = _quality(doc.text)
    if letter_share < 0.5 or word_share < 0.3 or broken_share > 0.05:
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
