"""The title and heading candidates: which lines name the paper or a section."""

from __future__ import annotations

import re
from dataclasses import dataclass

from localdigest.pdf.cleaning import count_letters
from localdigest.pdf.lines import Line, Page

_TITLE_MARKS_RE = re.compile(r"[\s*∗†‡§¶]+$")


def find_title(pages: list[Page], body_size: float) -> tuple[str, set[int]]:
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
        picked: list[Line] = []
        for ln in page.lines:
            if abs(ln.max_size - biggest) <= 0.6 and ln in upper:
                # Authors in the title's size differ in weight or case (1212.5701, 1609.09430).
                if picked and (
                    ln.y0 - picked[-1].y1 > biggest
                    or ln.bold != picked[0].bold
                    or is_caps(ln.text) != is_caps(picked[0].text)
                ):
                    break
                picked.append(ln)
            elif picked:
                break
        title = _TITLE_MARKS_RE.sub("", " ".join(ln.text for ln in picked))
        return re.sub(r"\s+", " ", title).strip(), {id(ln) for ln in picked}
    return "", set()


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
RUN_IN_ABSTRACT_RE = re.compile(r"^(?P<name>Abstract|ABSTRACT)\s*[—–:.-]\s*(?P<rest>\S.*)$")
RUN_IN_THANKS_RE = re.compile(
    r"^(?P<name>Acknowledge?ments?|ACKNOWLEDGE?MENTS?)\s*[—–:.]?\s+(?P<rest>\S.*)$"
)


@dataclass
class Heading:
    text: str  # as printed, e.g. "2.1 Unsupervised Feature-based Approaches"
    number: str  # "2.1", "A", "IV", "" when unnumbered
    scheme: str  # "arabic", "roman", "letter", ""
    named: str | None  # kind implied by the name ("references", ...), None if not a known name


def is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters)


def _named_kind(title: str) -> str | None:
    key = re.sub(r"\s+", " ", title.strip(" .:").lower())
    if key in _NAMED_KINDS:
        return _NAMED_KINDS[key]
    if _APPENDIX_PREFIX_RE.match(key):
        return "appendix"
    return "body" if key in _NAMED_BODY else None


def heading_candidate(line: Line, body_size: float) -> Heading | None:
    """A heading by its numbering or name and its style (bold, larger, small caps...)."""
    text = line.text.strip()
    if len(text) > 120 or len(text.split()) > 16 or text[-1] in ",;":
        return None
    larger = line.max_size >= body_size + 0.8
    styled = line.bold or larger or is_caps(text) or line.italic
    if not styled:
        return None
    named = _named_kind(text)
    if named:
        return Heading(text, "", "", named)
    match = _NUMBERED_RE.match(text)
    if not match:
        return None
    title = match["title"]
    number = match["num"].rstrip(".")
    if not title[0].isupper() or count_letters(title) < 2:
        return None
    if count_letters(title) < 0.5 * len(title.replace(" ", "")):
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
    if line.italic and not (line.bold or larger or is_caps(title)) and scheme == "arabic":
        return None
    return Heading(text, number, scheme, _named_kind(title))
