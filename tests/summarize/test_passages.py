"""Passages for ``ask``: paragraph-sized, one page (or saying which pages), never from the
back matter, and searched with the grounding's stemming."""

from __future__ import annotations

from pathlib import Path

import pytest

from localdigest import pdf
from localdigest.summarize import passages
from localdigest.summarize.grounding import terms as grounding_terms
from localdigest.text import words


def doc(tmp_path: Path, sections: list[pdf.Section]) -> pdf.Document:
    path = tmp_path / "p.pdf"
    path.write_bytes(b"%PDF-1.7 test")
    return pdf.Document(path, pdf.file_sha256(path), 9, "A Title", "", sections)


def sentence(n: int, words_each: int = 10) -> str:
    return f"Word{n} " + " ".join(f"w{n}x{i}" for i in range(words_each - 2)) + " ends."


def paragraphs_of(found: list[passages.Passage]) -> list[passages.Passage]:
    """The paragraph-passages, without the windows over two of them."""
    return [p for p in found if p.span[0] == p.span[1]]


def test_short_paragraphs_join_only_on_the_same_pages(tmp_path: Path) -> None:
    paragraphs = [
        (sentence(1), (1, 1)),
        (sentence(2), (1, 1)),  # joins: the first had 10 words
        (sentence(3), (2, 2)),  # another page: a passage of its own
        (sentence(4, 50), (2, 3)),  # runs onto page 3: says so
    ]
    section = pdf.Section("1 Intro", "body", "", 1).with_paragraphs(paragraphs)
    found = passages.passages(doc(tmp_path, [section]))
    assert [(p.first_page, p.last_page) for p in paragraphs_of(found)] == [(1, 1), (2, 2), (2, 3)]
    assert found[0].text == f"{sentence(1)} {sentence(2)}"
    assert all(p.section == "1 Intro" for p in found)
    # the window: the two passages that meet on page 2, not the ones of pages 1 and 2
    assert [(p.span, p.first_page, p.last_page) for p in found[3:]] == [((1, 2), 2, 3)]
    assert found[3].text == f"{sentence(3)} {sentence(4, 50)}"
    assert found[3].terms == f"{found[1].terms} {found[2].terms}"


def test_a_window_stays_in_its_section_and_under_its_size(tmp_path: Path) -> None:
    one = pdf.Section("1 Intro", "body", "", 1).with_paragraphs([(sentence(1, 45), (1, 1))])
    two = pdf.Section("2 Method", "body", "", 1).with_paragraphs(
        [(sentence(2, 45), (1, 1)), (sentence(3, 180), (1, 1)), (sentence(4, 200), (1, 1))]
    )
    found = passages.passages(doc(tmp_path, [one, two]))
    assert [p.span for p in found] == [
        (0, 0),
        (1, 1),
        (2, 2),
        (3, 3),
        (1, 2),
    ]  # 380 words: no (2, 3)
    assert all(len(p.text.split()) <= passages.WINDOW_WORDS for p in found)


def test_a_long_paragraph_is_cut_at_sentence_ends(tmp_path: Path) -> None:
    long = " ".join(sentence(n, 20) for n in range(30))  # 600 words
    section = pdf.Section("2 Method", "body", long, 4, ((4, 4),))
    found = passages.passages(doc(tmp_path, [section]))
    pieces = paragraphs_of(found)
    assert len(pieces) > 3
    assert all(len(p.text.split()) <= passages.MAX_WORDS for p in pieces)
    assert all(p.text.endswith("ends.") for p in found)
    assert " ".join(p.text for p in pieces) == long  # nothing lost, nothing repeated


def test_back_matter_is_not_a_passage(tmp_path: Path) -> None:
    kinds = ["front", "abstract", "body", "contents", "acknowledgments", "references", "appendix"]
    sections = [pdf.Section(k.title(), k, sentence(i, 45), 1) for i, k in enumerate(kinds)]
    found = passages.passages(doc(tmp_path, sections))
    assert [p.section for p in found] == ["Abstract", "Body", "Appendix"]  # no window either


def test_terms_are_the_groundings_and_more() -> None:
    text = "Attention heads were trained with warmup steps."
    assert passages.terms(text) == grounding_terms(text)
    # a possessive and a hyphenated word: also the word and its parts
    said = passages.terms("BERT's learning-rate")
    assert {"bert", "learningrat", "learn", "rat"} <= set(said)
    assert all(t.isalnum() for t in said)  # FTS5 tokens


@pytest.mark.parametrize(
    ("asked", "printed"),
    [
        ("decay rate", "decay rates"),
        ("fine-tune", "fine-tuning"),
        ("strategy", "strategies"),
        ("stop", "stopping"),
        ("overfit", "overfitting"),
        ("estimate", "estimated"),
        ("betas and epsilon", "β1 = 0.9, \N{GREEK LUNATE EPSILON SYMBOL} = 1e-8"),
        ("alpha", "\N{MATHEMATICAL ITALIC SMALL ALPHA} = 0.001"),
    ],
)
def test_a_question_meets_the_words_as_papers_print_them(asked: str, printed: str) -> None:
    assert set(passages.query(asked).terms) <= set(passages.terms(printed))


def test_stems_that_differ_stay_apart() -> None:
    assert passages.terms("small buzz") == ["small", "buzz"]  # ll, zz kept
    assert passages.terms("rate") != passages.terms("ratio")
    assert passages.terms("key day") == ["key", "day"]  # a y after a vowel stays


def test_a_question_and_what_it_names() -> None:
    q = passages.query("How many heads does the Transformer use on WMT English-to-Romanian?")
    assert "many" not in q.terms and "man" not in q.terms and "how" not in q.terms
    assert {"head", "transformer", "wmt", "romanian"} <= set(q.terms)
    assert set(q.named) == {"transformer", "wmt", "english", "romanian"}
    assert passages.query("BERT uses what?").named == ("bert",)  # named at the start too
    assert passages.query("What is it?").terms == ()


def test_matched_words_are_the_words_as_printed() -> None:
    q = passages.query("How many attention heads are there?")
    text = "We use h = 8 parallel attention layers, or heads; self-attention too."
    assert passages.matched_words(text, q) == ("attention", "heads", "self-attention")


def test_a_real_paper(corpus: Path) -> None:
    document = pdf.extract(corpus / "pdfs" / "1706.03762.pdf")
    found = passages.passages(document)
    pieces = paragraphs_of(found)
    assert 40 < len(pieces) < 120 and len(pieces) < len(found) < 2 * len(pieces)
    kinds = {s.heading: s.kind for s in document.sections}
    assert {kinds[p.section] for p in found} <= set(passages.KINDS)
    assert "References" not in {p.section for p in found}
    assert all(1 <= p.first_page <= p.last_page <= document.pages for p in found)
    assert all(p.last_page - p.first_page <= 1 for p in found)
    sizes = [len(words(p.text)) for p in pieces]
    assert max(sizes) <= passages.MAX_WORDS + 60  # one sentence may run past the cut
    assert all(len(p.text.split()) <= passages.WINDOW_WORDS for p in found)
    heads = [p for p in found if "h = 8" in p.text]
    assert heads and heads[0].section == "3.2.2 Multi-Head Attention"
    assert (heads[0].first_page, heads[0].last_page) == (5, 5)


@pytest.mark.parametrize("question", ["", "   ", "??", "What is it?"])
def test_a_question_without_words_has_no_terms(question: str) -> None:
    assert passages.query(question).terms == ()
