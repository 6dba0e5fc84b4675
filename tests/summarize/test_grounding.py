"""Grounding on real corpus PDFs: which pages support a sentence, without the model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localdigest import pdf
from localdigest.eval.withhold import withhold_abstract
from localdigest.publish.formats import marked as grounding_marked
from localdigest.summarize.grounding import PageIndex, ground_text, share_supported
from localdigest.text import page_mark, sentences, strip_page_marks


@pytest.fixture(scope="module")
def corpus_docs(corpus: Path) -> dict[str, tuple[pdf.Document, dict[str, Any]]]:
    entries = json.loads((corpus / "expected.json").read_text())
    return {
        Path(e["file"]).stem: (pdf.extract(corpus / e["file"]), e)
        for e in entries
        if e.get("abstract_clean")
    }


def test_a_sentence_copied_from_a_page_is_traced_to_it(corpus_docs: Any) -> None:
    doc, _ = corpus_docs["1706.03762"]
    index = PageIndex.of_sections(doc.kept())
    conclusion = next(s for s in doc.kept() if "Conclusion" in s.heading)
    sentence = sentences(conclusion.text)[0]
    g = index.ground(sentence)
    assert g.supported and conclusion.page in g.pages and g.support >= 0.9


def test_a_number_the_paper_does_not_hold_has_no_support(corpus_docs: Any) -> None:
    doc, _ = corpus_docs["1706.03762"]
    index = PageIndex.of_sections(doc.kept())
    true = index.ground(
        "The Transformer achieves 28.4 BLEU on the WMT 2014 English-to-German task."
    )
    assert true.supported and true.unsupported_numbers == []
    false = index.ground(
        "The Transformer achieves 31.7 BLEU on the WMT 2014 English-to-German task."
    )
    assert not false.supported and false.unsupported_numbers == ["31.7"]


def test_a_link_the_paper_does_not_give_has_no_support(corpus_docs: Any) -> None:
    """Seen in a write-mode summary of 1706.03762: the paper's sentence about its code with
    a made-up address. Its words are the paper's; the address is not."""
    doc, _ = corpus_docs["1706.03762"]
    index = PageIndex.of_sections(doc.kept())
    said = "The code used to train and evaluate our models is available at {}."
    true = index.ground(said.format("https://github.com/tensorflow/tensor2tensor"))
    assert true.supported and true.unsupported_links == []
    made_up = "https://github.com/Lingua-Techs/Transformer_2019_EnglishToGermanAndWMT"
    false = index.ground(said.format(made_up))
    assert false.support >= 0.3  # the words alone would pass
    assert not false.supported and false.unsupported_links == [made_up]


def test_an_invented_sentence_has_no_support(corpus_docs: Any) -> None:
    doc, _ = corpus_docs["1810.04805"]
    index = PageIndex.of_sections(doc.kept())
    invented = (
        "The autonomous agent plans with human-like precision and DALLASCAN 70B Chat "
        "reinforcement rewards across robotic kitchens."
    )
    assert not index.ground(invented).supported


def test_other_papers_sentences_rarely_pass_own_paraphrases_mostly_do(
    corpus_docs: Any,
) -> None:
    """The threshold as measured: another paper's abstract sentences are unsupported; the
    paper's own abstract (a paraphrase of its body, which is all the index holds) mostly
    is."""
    other = own = other_passed = own_passed = 0
    for stem, (doc, entry) in corpus_docs.items():
        withheld = withhold_abstract(doc.kept(), doc.abstract, entry["abstract_clean"])
        index = PageIndex.of_sections(withheld)
        for g in ground_text(entry["abstract_clean"], index):
            own += 1
            own_passed += g.supported
        for other_stem, (_, other_entry) in corpus_docs.items():
            if other_stem != stem:
                for s in sentences(other_entry["abstract_clean"])[:2]:
                    other += 1
                    other_passed += index.ground(s).supported
    assert other_passed / other <= 0.05
    assert own_passed / own >= 0.6


def test_page_marks() -> None:
    assert page_mark([15, 2]) == "[p. 2, 15]"
    assert page_mark([3, 4, 5, 9]) == "[p. 3–5, 9]"
    assert page_mark([]) == ""
    assert strip_page_marks("It works. [p. 2, 15] Fast. [p. 3–5]") == "It works. Fast."


def test_marked_text_and_share(corpus_docs: Any) -> None:
    doc, _ = corpus_docs["1406.2661"]
    index = PageIndex.of_sections(doc.kept())
    body = next(s for s in doc.kept() if s.kind == "body")
    copied = sentences(body.text)[1]
    text = f"{copied} Pigs fly over the quantum kitchen daily."
    grounding = ground_text(text, index)
    assert [g.supported for g in grounding] == [True, False]
    assert share_supported(grounding) == 0.5
    marked = grounding_marked(text, grounding)
    assert marked.startswith(copied) and "[p. " in marked and marked.endswith("[?]")


def test_title_terms_are_stemmed_as_the_judge_stems_the_output() -> None:
    """A title word in -ly ("Efficiently") counts when the output uses it: the facts and
    the grounding share one stem (they had drifted, and the guard called it off-title)."""
    from localdigest.summarize.facts import title_fact
    from localdigest.summarize.grounding import SupportJudge

    page = "We show how to learn sparse models efficiently with a greedy solver on many tasks."
    index = PageIndex({1: page})
    fact = title_fact("Learning Sparse Models Efficiently")
    assert fact is not None and fact.stated_in(page)
    only = "The greedy solver works efficiently on many tasks, as we show here."
    assert SupportJudge(index, fact.forms).problem(only) is None
