"""Sentence breaks, shared by chunking, extraction, grounding and the guard."""

from __future__ import annotations

from localdigest.text import first_sentence, sentences


def test_a_sentence_ends_inside_its_closing_quote_or_bracket() -> None:
    # 1605.06065's abstract: the first two sentences were read as one (extract made them
    # one TL;DR, grounding one sentence)
    text = (
        "A persistent challenge is that of “one-shot learning.” Traditional networks "
        'need data. He said "no." Then (it works.) Done.'
    )
    assert sentences(text) == [
        "A persistent challenge is that of “one-shot learning.”",
        "Traditional networks need data.",
        'He said "no."',
        "Then (it works.)",
        "Done.",
    ]
    assert first_sentence(text) == "A persistent challenge is that of “one-shot learning.”"


def test_no_break_without_an_end_mark() -> None:
    assert sentences("“Quoted” words and (brackets) stay in one sentence.") == [
        "“Quoted” words and (brackets) stay in one sentence."
    ]
