"""The reading plan: what is skipped, what is read in part, on made-up and real papers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from localdigest import pdf
from localdigest.pdf import Section
from localdigest.summarize import reading


def words(text: str) -> int:
    return len(text.split())


def para(n: int, word: str = "word") -> str:
    return " ".join([word] * n)


def test_table_residue_is_mostly_numbers() -> None:
    assert reading.is_table_residue("BLEU 27.3 28.4 25.8 26.0 EN-DE 41.0 38.1 (2.3) 1.0")
    assert not reading.is_table_residue("We train for 100 epochs with a batch size of 32 each.")
    assert not reading.is_table_residue("1 2 3")  # too short to judge


def test_related_work_and_its_subsections_are_skipped() -> None:
    sections = [
        Section("Abstract", "abstract", para(900), 1),
        Section("1 Introduction", "body", para(50), 1),
        Section("2 Related Work", "body", para(50), 2),
        Section("2.1 Older models", "body", para(50), 2),
        Section("3 Method", "body", para(50), 3),
        Section("3.1 Background on tensors", "body", para(50), 3),
    ]
    p = reading.plan(sections, words, 100)
    assert p.skipped == ["2 Related Work", "2.1 Older models", "3.1 Background on tensors"]
    assert [s.heading for s in p.sections] == ["Abstract", "1 Introduction", "3 Method"]
    assert p.sections[0].text == sections[0].text  # the abstract is read whole


def test_long_sections_are_read_up_to_their_leading_paragraphs() -> None:
    body = "\n\n".join(para(40, f"p{i}") for i in range(6))  # 240 words
    table = "Model 27.3 28.4 25.8 26.0 41.0 38.1 2.3 1.0"
    sections = [
        Section("1 Introduction", "body", body, 1),
        Section("3 Method", "body", f"{table}\n\n{body}", 2),
        Section("4 Short", "body", para(30), 3),
        Section("6 Conclusion", "body", body, 4),
    ]
    p = reading.plan(sections, words, 100)
    read = {s.heading: s.text for s in p.sections}
    assert words(read["3 Method"]) == 80 and "27.3" not in read["3 Method"]  # 2 paragraphs
    assert words(read["1 Introduction"]) == 200  # twice as far: 5 paragraphs
    assert words(read["6 Conclusion"]) == 200
    assert read["4 Short"] == para(30)
    assert p.shortened == ["1 Introduction", "3 Method", "6 Conclusion"]
    assert reading.plan(sections, words, 0).sections == sections  # --read-all


def test_one_long_paragraph_keeps_its_leading_sentences() -> None:
    text = " ".join(f"Sentence number {i} says something new." for i in range(100))
    p = reading.plan([Section("3 Method", "body", text, 1)], words, 60)
    kept = p.sections[0].text
    assert kept.startswith("Sentence number 0 ") and kept.endswith(".")
    assert 30 <= words(kept) <= 60
    assert p.shortened == ["3 Method"]  # read in part, and said so


# ----------------------------------------------------------------------------- real papers

SURVEY = re.compile(r"related work|background|prior work|previous work", re.I)


def test_on_the_corpus_only_surveys_are_skipped_and_key_parts_are_read(corpus: Path) -> None:
    checked = 0
    for path in sorted((corpus / "pdfs").glob("*.pdf")):
        if "corrupt" in path.name:
            continue
        doc = pdf.extract(path)
        kept = doc.kept()
        p = reading.plan(kept, words)
        survey_numbers = {
            h.split()[0].rstrip(".") for h in (s.heading for s in kept) if SURVEY.search(h)
        }
        for heading in p.skipped:  # each skipped one is a survey or inside one
            top = heading.split()[0].rstrip(".").split(".")[0] if heading else ""
            assert SURVEY.search(heading) or top in survey_numbers, (path.name, heading)
        read = [s.heading for s in p.sections]
        for s in kept:
            if re.search(r"introduction|conclusion", s.heading, re.I):
                assert s.heading in read, (path.name, s.heading)
            if s.kind == "abstract":
                assert s in p.sections, path.name
        read_tokens = sum(words(s.text) for s in p.sections)
        assert read_tokens < sum(words(s.text) for s in kept), path.name  # it reads less
        checked += 1
    assert checked >= 10


def test_the_attention_paper_skips_background_and_its_tables(corpus: Path) -> None:
    path = corpus / "pdfs" / "1706.03762.pdf"
    if not path.exists():
        pytest.skip(f"{path.name} not in the corpus")
    doc = pdf.extract(path)
    p = reading.plan(doc.kept(), words)
    assert p.skipped == ["2 Background"]
    assert any("Introduction" in s.heading for s in p.sections)
    assert not any(reading.is_table_residue(q) for s in p.sections for q in s.text.split("\n\n"))
