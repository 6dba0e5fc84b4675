"""For the eval: keep the authors' abstract away from the model.

The abstract section is dropped, and every other sentence that mostly repeats a sentence of
the abstract (as detected, or as given: the reference) is removed, so that it cannot leak
through an introduction that restates it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from localdigest.pdf import Document, Section
from localdigest.text import alnum_runs, split_sentences

LEAK_SHARE = 0.5  # a sentence sharing this much of its word trigrams with the abstract leaks


def _trigrams(text: str) -> set[tuple[str, ...]]:
    w = alnum_runs(text)
    return {tuple(w[i : i + 3]) for i in range(len(w) - 2)}


def withhold_abstract(sections: Sequence[Section], *texts: str) -> list[Section]:
    """The sections without the abstract: the abstract section is dropped, and every other
    sentence that mostly repeats a sentence of ``texts`` (the abstract, as detected or as
    given) is removed, so that it cannot leak through an introduction that restates it."""
    grams: set[tuple[str, ...]] = set()
    for t in texts:
        grams |= _trigrams(t)
    kept = []
    for section in sections:
        if section.kind == "abstract":
            continue
        paragraphs = []
        for para, pages in section.paragraphs():
            sentences = []
            for sentence in split_sentences(para):
                own = _trigrams(sentence)
                if own and len(own & grams) / len(own) >= LEAK_SHARE:
                    continue
                sentences.append(sentence)
            if sentences:
                paragraphs.append((" ".join(sentences), pages))
        kept.append(section.with_paragraphs(paragraphs))
    return kept


def withheld_document(document: Document, reference: str) -> Document:
    """The document as the eval hands it to the summarizer: no abstract (neither as
    detected nor as ``reference`` gives it, in any section), and saying what was withheld
    (a summary's cache key holds it)."""
    sections = withhold_abstract(document.sections, document.abstract, reference)
    return replace(document, abstract="", sections=sections, withheld=reference)
