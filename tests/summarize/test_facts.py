"""The key-facts extractor on the corpus abstracts, two of them checked by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localdigest.summarize.facts import key_facts, stated


@pytest.fixture(scope="module")
def abstracts(corpus: Path) -> dict[str, dict[str, Any]]:
    entries = json.loads((corpus / "expected.json").read_text())
    return {Path(e["file"]).stem: e for e in entries if e.get("abstract_clean")}


def test_attention_abstract_by_hand(abstracts: dict[str, dict[str, Any]]) -> None:
    e = abstracts["1706.03762"]
    facts = key_facts(e["abstract_clean"], e["title"])
    numbers = {f.forms[0] for f in facts if f.kind == "number"}
    names = {f.text for f in facts if f.kind == "name"}
    # 28.4 BLEU, "over 2 BLEU", 41.8 BLEU, 3.5 days; "2014" is a year, "eight" a word.
    assert numbers == {"28.4", "2", "41.8", "3.5"}
    assert {"Transformer", "WMT", "BLEU", "English-to-German", "English-to-French"} <= names
    assert next(f.kind for f in facts) == "title"  # "Attention Is All You Need": attention


def test_bert_abstract_by_hand(abstracts: dict[str, dict[str, Any]]) -> None:
    e = abstracts["1810.04805"]
    facts = key_facts(e["abstract_clean"], e["title"])
    numbers = {f.forms[0] for f in facts if f.kind == "number"}
    names = {f.text for f in facts if f.kind == "name"}
    assert numbers == {"80.5", "7.7", "86.7", "4.6", "93.2", "1.5", "83.1", "5.1"}
    assert {"BERT", "GLUE", "MultiNLI", "SQuAD"} <= names
    assert "Bidirectional Encoder Representations from Transformers" in names
    # The citation "(Peters et al., 2018a; Radford et al., 2018)" names no fact.
    assert not any("Peters" in n or "Radford" in n or "2018" in n for n in names | numbers)
    assert not any(f.kind == "title" for f in facts)  # "BERT: ..." names BERT, already there


def test_every_corpus_abstract_has_facts(abstracts: dict[str, dict[str, Any]]) -> None:
    for stem, e in abstracts.items():
        facts = key_facts(e["abstract_clean"], e["title"])
        assert len(facts) >= 2, stem
        assert stated(e["abstract_clean"] + " " + e["title"], facts) == (1.0, []), stem


def test_stated_counts_what_a_text_says() -> None:
    abstract = (
        "We introduce Neural Turing Machines (NTMs), which reach 93.2% on SQuAD. "
        "Our model is trained on 70M videos."
    )
    facts = key_facts(abstract, "Memory Machines")
    share, missing = stated("NTMs reach 93.2% accuracy.", facts)
    assert {f.text for f in missing} == {"70M", "SQuAD", "Memory Machines"}
    assert share == round(1 - 3 / len(facts), 4)
    # An acronym's expansion, a plural and a number written another way all count.
    assert stated("Neural Turing Machine ideas, 70 million videos", facts)[1] != facts
    assert stated("", []) == (1.0, [])
