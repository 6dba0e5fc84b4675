"""What the model reads of a paper: a reading plan over the extracted sections.

On a laptop CPU every token fed to the model costs time, so localdigest skims the way a
reader does. Of the sections worth summarizing (abstract and body; references, contents,
acknowledgments and appendices are already left out by ``pdf``):

- related work / background surveys are skipped: they describe other papers;
- paragraphs that are mostly numbers (table cells PyMuPDF printed as text) are dropped;
- each body section is read up to ``section_tokens`` of its leading paragraphs, where
  authors state what the section does; the introduction and the conclusion (the parts
  that carry the paper's claims) get twice that. The abstract is always read whole.

``ReadingPlan.skipped`` and ``.shortened`` name what was left out, so the summary says so.
``section_tokens=0`` reads every kept section whole (``--read-all``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from localdigest.pdf import Section
from localdigest.text import split_sentences

SECTION_TOKENS = 512
KEY_SECTION_FACTOR = 2  # introduction and conclusion: read this many times as far

_NUMBER_RE = re.compile(r"^[-+±(\[]?[\d.,]*\d[\d.,%×x]*[)\]]?$")
NUMERIC_SHARE = 0.3  # a paragraph with more numbers than this among its words is a table
NUMERIC_MIN_WORDS = 8
_SURVEY_RE = re.compile(
    r"\b(related work|background|prior work|previous work|literature review|related research)",
    re.I,
)
_KEY_RE = re.compile(r"\b(introduction|conclusions?|concluding|summary|discussion)\b", re.I)
_NUMBER_PREFIX_RE = re.compile(r"^\s*([0-9]+|[IVX]+)(?:\.|\s)")


@dataclass
class ReadingPlan:
    sections: list[Section]  # what the model reads, in paper order
    skipped: list[str] = field(default_factory=list)  # headings not read at all
    shortened: list[str] = field(default_factory=list)  # headings read in part


def is_table_residue(paragraph: str) -> bool:
    """A paragraph that is mostly numbers: the cells of a table extracted as text."""
    words = paragraph.split()
    if len(words) < NUMERIC_MIN_WORDS:
        return False
    numeric = sum(bool(_NUMBER_RE.match(w.strip(",;:"))) for w in words)
    return numeric / len(words) > NUMERIC_SHARE


def is_survey(heading: str) -> bool:
    return bool(_SURVEY_RE.search(heading))


def leading_sentences(text: str, limit: int, count_tokens: Callable[[str], int]) -> str:
    """The first sentences of ``text`` (whitespace normalized) that fit in ``limit`` tokens
    together; "" when even the first one does not."""
    kept: list[str] = []
    for sentence in split_sentences(" ".join(text.split())):
        if count_tokens(" ".join([*kept, sentence])) > limit:
            break
        kept.append(sentence)
    return " ".join(kept)


def _top_number(heading: str) -> str | None:
    m = _NUMBER_PREFIX_RE.match(heading)
    return m.group(1) if m else None


def plan(
    sections: Sequence[Section],
    count_tokens: Callable[[str], int],
    section_tokens: int = SECTION_TOKENS,
) -> ReadingPlan:
    """The reading plan of ``sections`` (see the module docstring)."""
    if section_tokens <= 0:
        return ReadingPlan(list(sections))
    out = ReadingPlan([])
    skipped_numbers: set[str] = set()  # "2" for "2 Related Work": "2.1 ..." goes too
    for s in sections:
        number = _top_number(s.heading)
        if s.kind == "body" and (is_survey(s.heading) or number in skipped_numbers):
            out.skipped.append(s.heading)
            if number and is_survey(s.heading):
                skipped_numbers.add(number)
            continue
        paragraphs = [(p, pages) for p, pages in s.paragraphs() if p.strip()]
        if s.kind != "body" or not paragraphs:  # the abstract; a heading over subsections
            out.sections.append(s)
            continue
        limit = section_tokens * (KEY_SECTION_FACTOR if _KEY_RE.search(s.heading) else 1)
        kept: list[tuple[str, tuple[int, int]]] = []
        used = 0
        shortened = False
        for p, pages in paragraphs:
            if is_table_residue(p):
                continue
            n = count_tokens(p)
            if used + n > limit:
                if not kept:  # one long paragraph: its leading sentences (one at least)
                    lead = leading_sentences(p, limit, count_tokens)
                    kept.append((lead or split_sentences(p, maxsplit=1)[0], pages))
                shortened = True
                break
            kept.append((p, pages))
            used += n
        if not kept:  # nothing but table cells
            out.skipped.append(s.heading)
            continue
        if shortened:
            out.shortened.append(s.heading)
        out.sections.append(s.with_paragraphs(kept))
    return out
