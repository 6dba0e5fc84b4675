"""Passages for ``ask``: a paper cut into paragraph-sized passages, a question into terms.

A pure stage: ``passages(document)`` -> the passages the index stores, ``query(question)``
-> what the index searches with. Both use the grounding's terms (``grounding.terms``:
content words, ``quality.stem``), so a question is matched the way a summary sentence is
traced to its page, with two additions that only widen what matches: a hyphenated word is
also its parts ("learning-rate" is "learning" and "rate" too) and a possessive loses its
"'s" ("BERT's" is "BERT").

A passage is a paragraph of the abstract, the body or an appendix, as the PDF's extraction
cut it, joined with the paragraphs after it on the same page(s) and in the same section
while it has fewer than ``MIN_WORDS`` words, and cut at sentence ends when longer than
``MAX_WORDS``. It never joins paragraphs printed on different pages; a paragraph that runs
from one page onto the next is one passage that says so (its first and last page). Front
matter (title, authors), contents pages, acknowledgments and reference lists are not
passages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from localdigest import pdf
from localdigest.index import IndexedPaper, Passage, PassageIndex, Query
from localdigest.papers import PaperInput
from localdigest.sources.local import display_path
from localdigest.summarize.grounding import terms as grounding_terms
from localdigest.text import split_sentences, words

MIN_WORDS = 40
MAX_WORDS = 180
SHORTEST = 8  # a remainder with fewer words joins the passage before it (same pages)
KINDS = ("abstract", "body", "appendix")
# Words that only say what kind of answer is wanted ("how many ...", "which kind of ..."):
# they are in no answer. (What, which, how, does... are stop words already.)
QUESTION_WORDS = frozenset({"many", "kind", "kinds", "type", "types", "way", "ways"})
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")
_HYPHENATED = re.compile(r"\w+(?:-\w+)+")
_TOKEN = re.compile(r"[^a-z0-9]")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*")


def terms(text: str) -> list[str]:
    """The searchable terms of ``text``: grounding's terms, a hyphenated word also as its
    parts, a possessive without its "'s"; written as FTS5 tokens (letters and digits)."""
    text = _POSSESSIVE.sub("", text)
    found = grounding_terms(text)
    parts = " ".join(m.replace("-", " ") for m in _HYPHENATED.findall(text))
    if parts:
        found += grounding_terms(parts)
    return [f if f.isalnum() else _TOKEN.sub("", f) for f in found if f.strip("'’-")]


def query(question: str) -> Query:
    """The question's terms (each once, in its order) and the ones it names: a word with
    a capital past its first letter ("BERT", "mini-ImageNet"), with a digit, or capitalised
    anywhere but at the start ("the Transformer")."""
    wanted = [t for t in dict.fromkeys(terms(question)) if t not in QUESTION_WORDS]
    named: list[str] = []
    for i, m in enumerate(_WORD.finditer(question)):
        word = m.group(0)
        if (
            any(c.isdigit() for c in word)
            or any(c.isupper() for c in word[1:])
            or (i > 0 and word[:1].isupper())
        ):
            named.extend(terms(word.replace("-", " ")))
    return Query(tuple(wanted), tuple(t for t in dict.fromkeys(named) if t in wanted))


def matched_words(text: str, asked: Query) -> tuple[str, ...]:
    """The words of ``text`` (as printed) that match one of the question's terms."""
    wanted = set(asked.terms)
    found = [m.group(0) for m in _WORD.finditer(text) if wanted.intersection(terms(m.group(0)))]
    return tuple(dict.fromkeys(found))


def passages(document: pdf.Document) -> list[Passage]:
    """The document's passages, in reading order (see the module's docstring)."""
    out: list[Passage] = []
    for section in document.sections:
        if section.kind not in KINDS:
            continue
        heading_terms = " ".join(terms(section.heading))
        pending: list[str] = []
        pages = (section.page, section.page)
        for text, where in section.paragraphs():
            for piece in _pieces(text):
                if pending and where != pages:
                    _flush(out, pending, section.heading, heading_terms, pages)
                pending.append(piece)
                pages = where
                if sum(len(p.split()) for p in pending) >= MIN_WORDS:
                    _flush(out, pending, section.heading, heading_terms, pages)
        _flush(out, pending, section.heading, heading_terms, pages)
    return out


def _pieces(paragraph: str) -> Iterator[str]:
    """A paragraph, or a long one cut at sentence ends into pieces of about MAX_WORDS."""
    if len(paragraph.split()) <= MAX_WORDS:
        if paragraph.strip():
            yield paragraph.strip()
        return
    piece: list[str] = []
    for sentence in split_sentences(paragraph):
        piece.append(sentence.strip())
        if sum(len(s.split()) for s in piece) >= MAX_WORDS * 0.6:
            yield " ".join(piece)
            piece = []
    if piece:
        yield " ".join(piece)


def _flush(
    out: list[Passage],
    pending: list[str],
    heading: str,
    heading_terms: str,
    pages: tuple[int, int],
) -> None:
    if not pending:
        return
    text = " ".join(pending)
    pending.clear()
    last = out[-1] if out else None
    if (
        last is not None
        and len(words(text)) < SHORTEST
        and (last.section, last.first_page, last.last_page) == (heading, *pages)
    ):
        text = f"{last.text} {text}"
        out.pop()
    out.append(Passage(heading, pages[0], pages[1], text, " ".join(terms(text)), heading_terms))


def index_document(
    index: PassageIndex, paper: PaperInput, document: pdf.Document, title: str
) -> None:
    """Store ``document``'s passages as ``paper`` (replacing an earlier reading of it)."""
    record = IndexedPaper(
        document.sha256, title, display_path(paper.path.resolve()), paper.arxiv_id
    )
    index.add(record, passages(document), " ".join(terms(title)))
