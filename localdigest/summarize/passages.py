"""Passages for ``ask``: a paper cut into paragraph-sized passages, a question into terms.

A pure stage: ``passages(document)`` -> the passages the index stores, ``query(question)``
-> what the index searches with. Both use the grounding's terms (``grounding.terms``:
content words, ``quality.stem``), so a question is matched the way a summary sentence is
traced to its page, with additions that only widen what matches, the same on both sides:
a hyphenated word is also its parts ("learning-rate" is "learning" and "rate" too), a
possessive loses its "'s" ("BERT's" is "BERT"), a Greek letter is its name ("β1" is
"beta", as a question writes it), and a stem loses a last "e", a "y" after a consonant and
a doubled consonant, so that the stem's own forms meet ("rate" and "rates", "tune" and
"tuning", "strategy" and "strategies", "stop" and "stopping").

A passage is a paragraph of the abstract, the body or an appendix, as the PDF's extraction
cut it, joined with the paragraphs after it on the same page(s) and in the same section
while it has fewer than ``MIN_WORDS`` words, and cut at sentence ends when longer than
``MAX_WORDS``. It never joins paragraphs printed on different pages; a paragraph that runs
from one page onto the next is one passage that says so (its first and last page). Two
neighbouring passages of a section that meet on a page are also stored together, as a
window (up to ``WINDOW_WORDS``): an answer said across a paragraph break (a setting, and
its result in the next paragraph; a table's caption and its rows) is then in one passage.
Each passage says which of the paper's paragraph-passages it spans, so the search shows no
text twice. Front matter (title, authors), contents pages, acknowledgments and reference
lists are not passages.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterator

from localdigest import pdf
from localdigest.index import IndexedPaper, Passage, PassageIndex, Query
from localdigest.papers import PaperInput
from localdigest.sources.local import display_path
from localdigest.summarize.grounding import terms as grounding_terms
from localdigest.text import split_sentences, words

MIN_WORDS = 40
MAX_WORDS = 180
WINDOW_WORDS = 2 * MAX_WORDS  # two neighbouring passages stored together, up to this long
SHORTEST = 8  # a remainder with fewer words joins the passage before it (same pages)
KINDS = ("abstract", "body", "appendix")
# Words that only say what kind of answer is wanted ("how many ...", "which kind of ..."):
# they are in no answer. (What, which, how, does... are stop words already.)
QUESTION_WORDS = frozenset({"many", "kind", "kinds", "type", "types", "way", "ways"})
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")
_HYPHENATED = re.compile(r"\w+(?:-\w+)+")
_TOKEN = re.compile(r"[^a-z0-9]")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*")
# Greek letters (after NFKC, which also makes mathematical italics plain) -> their names.
_GREEK = re.compile("[\u0391-\u03a9\u03b1-\u03c9]")
_VOWELS = frozenset("aeiou")


def terms(text: str) -> list[str]:
    """The searchable terms of ``text``: grounding's terms, a hyphenated word also as its
    parts, a possessive without its "'s", a Greek letter as its name, each stem folded
    (``_fold``); written as FTS5 tokens (letters and digits)."""
    text = _GREEK.sub(_greek_name, unicodedata.normalize("NFKC", _POSSESSIVE.sub("", text)))
    parts = " ".join(m.replace("-", " ") for m in _HYPHENATED.findall(text))
    return [t for w in words(f"{text} {parts}" if parts else text) for t in _word_terms(w)]


@functools.lru_cache(maxsize=1 << 16)
def _word_terms(word: str) -> tuple[str, ...]:
    """One word's terms (none, or one): papers repeat their words, so each is made once."""
    return tuple(
        _fold(f if f.isalnum() else _TOKEN.sub("", f))
        for f in grounding_terms(word)
        if f.strip("'’-")
    )


def _greek_name(letter: re.Match[str]) -> str:
    """ "β" -> " beta " (GREEK SMALL LETTER BETA)."""
    name = unicodedata.name(letter.group(0), "").split()
    return f" {name[-1].lower()} " if name else " "


def _fold(stem: str) -> str:
    """A stem without the endings ``quality.stem`` leaves on only some forms of a word: a
    last "e" ("rate", and "rates" -> "rat"), a "y" after a consonant ("strategy", and
    "strategies" -> "strateg"), a doubled consonant ("stopping" -> "stopp")."""
    if len(stem) < 4:
        return stem
    last, before = stem[-1], stem[-2]
    if last == "e" or (last == "y" and before not in _VOWELS):
        return stem[:-1]
    if last == before and last.isalpha() and last not in _VOWELS and last not in "lsz":
        return stem[:-1]
    return stem


def query(question: str) -> Query:
    """The question's terms (each once, in its order) and the ones it names: a word with
    a capital past its first letter ("BERT", "mini-ImageNet"), with a digit, or capitalised
    anywhere but at the start ("the Transformer")."""
    asking = set(terms(" ".join(QUESTION_WORDS)))
    wanted = [t for t in dict.fromkeys(terms(question)) if t not in asking]
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
    """The document's passages in reading order, then its windows (see the module's
    docstring)."""
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
    return _with_windows(out)


def _with_windows(found: list[Passage]) -> list[Passage]:
    """The passages, then the windows over two neighbours of a section that meet on a
    page."""
    out = list(found)
    for i, (a, b) in enumerate(itertools.pairwise(found)):
        if (
            a.section == b.section
            and a.last_page == b.first_page
            and len(a.text.split()) + len(b.text.split()) <= WINDOW_WORDS
        ):
            text, body = f"{a.text} {b.text}", f"{a.terms} {b.terms}"
            out.append(
                Passage(
                    a.section, a.first_page, b.last_page, text, body, a.section_terms, (i, i + 1)
                )
            )
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
    at = (len(out), len(out))
    out.append(Passage(heading, *pages, text, " ".join(terms(text)), heading_terms, at))


def index_document(
    index: PassageIndex, paper: PaperInput, document: pdf.Document, title: str
) -> None:
    """Store ``document``'s passages as ``paper`` (replacing an earlier reading of it)."""
    record = IndexedPaper(
        document.sha256, title, display_path(paper.path.resolve()), paper.arxiv_id
    )
    index.add(record, passages(document), " ".join(terms(title)))
