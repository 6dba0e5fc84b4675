"""Reader's labels on the corpus are right: each one is read off its page of the real PDF.

Two hand-made label sets measure what no summarizer output can be trusted to measure:

- ``fixtures/body_facts.json`` (issue 22): facts a reader gets only from a paper's body
  (the method's mechanism, results with their setting, limitations the authors state).
  Each is ``{"paper", "kind", "fact", "page", "match"}``.
- ``fixtures/questions.json`` (issue 23): questions whose answer sits in a paper's body,
  ``{"question", "paper", "pages", "answer", "match"}``, and questions that no corpus paper
  answers (``"paper": null``, ``"pages": []``).

``match`` says what a text must contain to state the fact or hold the answer:
``{"all": [terms], "any": [[synonyms], ...]}``: every ``all`` term, and one member of each
``any`` group. A term matches the way ``matches`` below reads it:

- case-insensitive, ligatures and Unicode forms normalised (NFKC), punctuation, hyphens and
  spaces all separate words, so "English-to-German" matches "English to German";
- a number matches a whole number as printed ("28.4" is not in "128.4" nor "28.45");
  thousands commas are dropped ("30,871" matches "30871");
- a term of several words matches them in a row; its last word, when it is letters, may
  be the start of a longer word ("head" matches "heads", "synchroni" matches both
  spellings of "synchronized"), or when shorter than four letters, that word with an "s"
  ("GAN" matches "GANs", "FID" does not match "Fidler").

A scorer (body-facts recall in the eval, recall@3 for ``ask``) reads a summary sentence or
a retrieved passage the same way: ``localdigest.eval.labels`` (``has_term``, ``matches``)
is the whole rule, in one place. Here each label is checked against its own page(s) of the
real PDF: PyMuPDF's plain text, with a word broken at a line end read both joined
("repre-/sentation") and hyphenated ("English-/to-German"). Pages are numbered as a PDF
viewer does (page index + 1), with no page±1 slack: every listed page holds the whole
match by itself, so a passage from any of them counts. A body fact is also held by one
sentence of its page (the summarizer's own sentence rule), so the paper's own sentence,
quoted by an extractive summary, states it; a table has no sentence ends, so a fact read
off a table is held by the table's text.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from localdigest.eval.labels import Match, Tokens, has_term, matches, tokens
from localdigest.pdf.cleaning import normalize_text
from localdigest.pdf.mupdf import load_pymupdf
from localdigest.text import split_sentences

FIXTURES = Path(__file__).parent / "fixtures"
BODY_FACTS = json.loads((FIXTURES / "body_facts.json").read_text())
QUESTIONS = json.loads((FIXTURES / "questions.json").read_text())
ANSWERABLE = [q for q in QUESTIONS if q["paper"] is not None]
UNANSWERABLE = [q for q in QUESTIONS if q["paper"] is None]
KINDS = {"method", "result", "limitation"}
DAMAGED = "1412.6980-corrupt"  # zeroed head, no title or abstract: nothing to label


def mended(text: str) -> tuple[str, str]:
    """``text`` with each line-end break joined ("repre-\\nsentation") and kept as a hyphen
    ("English-\\nto-German"): PDF text does not say which one the author meant."""
    text = normalize_text(text)
    return re.sub(r"-\n\s*", "", text), re.sub(r"-\n\s*", "-", text)


def readings(text: str) -> tuple[Tokens, Tokens]:
    """The words of both mended forms of ``text``."""
    joined, hyphenated = mended(text)
    return tokens(joined), tokens(hyphenated)


def sentences(text: str) -> list[tuple[Tokens]]:
    """The words of each sentence of both mended forms of ``text``."""
    return [(tokens(s),) for form in mended(text) for s in split_sentences(form)]


@cache
def pages(pdf: Path) -> tuple[str, ...]:
    """The text of every page of ``pdf`` (index 0 is page 1, as a PDF viewer numbers them)."""
    pymupdf = load_pymupdf()
    with pymupdf.open(pdf) as doc:
        return tuple(page.get_text() for page in doc)


@pytest.fixture(scope="module")
def papers(corpus: Path, expected: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The corpus by file stem: its pages and its abstract as ``expected.json`` prints it."""
    found = {}
    for record in expected:
        stem = Path(record["file"]).stem
        texts = pages(corpus / record["file"])
        found[stem] = {
            "texts": texts,
            "pages": tuple(readings(t) for t in texts),
            "abstract": tokens(normalize_text(record.get("abstract_clean") or "")),
        }
    return found


def label_id(label: dict[str, Any]) -> str:
    return f"{label['paper']}:{(label.get('fact') or label['question'])[:40]}"


# ----------------------------------------------------------------------------- the format


def _check_match(match: Match) -> None:
    assert set(match) == {"all", "any"}
    assert match["all"], "at least one term every text stating it must contain"
    terms = [*match["all"], *(t for group in match["any"] for t in group)]
    assert all(group for group in match["any"]), "an empty synonym group"
    for term in terms:
        words = tokens(term) if isinstance(term, str) else ()
        assert words, f"term {term!r} has no word or number"
        # A lone letter ("D", "k") matches too much; it belongs inside a longer term ("k = 1").
        assert not (len(words) == 1 and len(words[0]) == 1 and words[0].isalpha()), term


def test_body_facts_are_well_formed() -> None:
    for fact in BODY_FACTS:
        assert set(fact) == {"paper", "kind", "fact", "page", "match"}, fact
        assert fact["kind"] in KINDS, fact
        assert fact["paper"] != DAMAGED
        assert isinstance(fact["page"], int) and fact["page"] >= 1
        assert fact["fact"].endswith("."), fact["fact"]
        _check_match(fact["match"])
    per_paper = Counter(f["paper"] for f in BODY_FACTS)
    assert len(per_paper) >= 8, per_paper
    assert all(4 <= n <= 8 for n in per_paper.values()), per_paper
    kinds = Counter(f["kind"] for f in BODY_FACTS)
    assert all(kinds[k] for k in KINDS), kinds


def test_questions_are_well_formed() -> None:
    for q in QUESTIONS:
        assert set(q) == {"question", "paper", "pages", "answer", "match"}, q
        assert q["question"].endswith("?"), q["question"]
        if q["paper"] is None:
            assert q["pages"] == [] and q["answer"] is None, q
        else:
            assert q["paper"] != DAMAGED
            assert q["pages"] and all(isinstance(p, int) and p >= 1 for p in q["pages"]), q
            assert q["answer"], q
        _check_match(q["match"])
    assert len({q["question"] for q in QUESTIONS}) == len(QUESTIONS), "a question twice"
    assert len(ANSWERABLE) >= 30 and len(UNANSWERABLE) >= 8
    assert len({q["paper"] for q in ANSWERABLE}) >= 8


# ----------------------------------------------------------------------------- the labels


@pytest.mark.parametrize("fact", BODY_FACTS, ids=label_id)
def test_a_body_fact_is_on_its_page_and_not_in_the_abstract(
    papers: dict[str, dict[str, Any]], fact: dict[str, Any]
) -> None:
    paper = papers[fact["paper"]]
    assert fact["page"] <= len(paper["pages"]), f"{fact['paper']} has {len(paper['pages'])} pages"
    assert matches(fact["match"], paper["pages"][fact["page"] - 1]), (
        f"page {fact['page']} of {fact['paper']} does not state: {fact['fact']}"
    )
    said = sentences(paper["texts"][fact["page"] - 1])
    assert any(matches(fact["match"], s) for s in said), (
        f"no one sentence on page {fact['page']} of {fact['paper']} holds {fact['match']}"
    )
    terms = fact["match"]["all"]
    assert not all(has_term(paper["abstract"], t) for t in terms), (
        f"the abstract already says {terms}: not a body fact"
    )


@pytest.mark.parametrize("question", ANSWERABLE, ids=label_id)
def test_an_answer_is_on_each_of_its_pages_and_not_in_the_abstract(
    papers: dict[str, dict[str, Any]], question: dict[str, Any]
) -> None:
    paper = papers[question["paper"]]
    for page in question["pages"]:
        assert page <= len(paper["pages"]), f"{question['paper']} has {len(paper['pages'])}"
        assert matches(question["match"], paper["pages"][page - 1]), (
            f"page {page} of {question['paper']} does not answer: {question['question']}"
        )
    terms = question["match"]["all"]
    assert not all(has_term(paper["abstract"], t) for t in terms), (
        f"the abstract already answers with {terms}"
    )


@pytest.mark.parametrize("question", UNANSWERABLE, ids=lambda q: q["question"][:50])
def test_an_unanswerable_question_has_no_page_anywhere(
    papers: dict[str, dict[str, Any]], question: dict[str, Any]
) -> None:
    terms = question["match"]["all"]
    for stem, paper in papers.items():
        for number, variants in enumerate(paper["pages"], start=1):
            together = all(any(has_term(v, t) for v in variants) for t in terms)
            assert not together, f"{stem} page {number} has all of {terms}"


# ----------------------------------------------------------------------------- the reading


def test_the_reading_of_terms() -> None:
    page = readings("It scores 28.4 BLEU on the English-\nto-German task with repre-\nsentations")
    assert matches({"all": ["28.4", "English-to-German"], "any": [["BLEU"]]}, page)
    assert matches({"all": ["English to German", "representation"], "any": []}, page)
    assert not matches({"all": ["28"], "any": []}, page)  # a number matches whole
    assert not matches({"all": ["8.4"], "any": []}, page)
    assert not matches({"all": ["BLEU score"], "any": []}, page)  # words in a row
    assert not matches({"all": ["28.4"], "any": [["ROUGE", "F1"]]}, page)
    assert matches({"all": ["30,871"], "any": []}, readings("30871 labels"))
    assert not matches({"all": ["glish"], "any": []}, page)  # a term starts a word
    assert matches({"all": ["GAN", "represent"], "any": []}, readings("GANs represent"))
    assert not matches({"all": ["FID"], "any": []}, readings("Sanja Fidler"))
