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


def test_abbreviations_and_initials_do_not_end_a_sentence() -> None:
    # issue 22: "Prof. Hinton et al. (2006)" split in three, "U.S. Army" and "i.e. BERT" in two
    text = (
        "Prof. Hinton et al. (2006) trained it layer by layer. The U.S. Army uses it, "
        "i.e. BERT, as in Fig. 3 and Eq. (2) of Sec. 4, vs. G. E. Hinton's e.g. Dropout. "
        "It is 2.5 points better."
    )
    assert sentences(text) == [
        "Prof. Hinton et al. (2006) trained it layer by layer.",
        "The U.S. Army uses it, i.e. BERT, as in Fig. 3 and Eq. (2) of Sec. 4, vs. "
        "G. E. Hinton's e.g. Dropout.",
        "It is 2.5 points better.",
    ]


def test_et_al_and_an_initial_end_a_sentence_before_a_sentence_opener() -> None:
    text = "This was shown by Smith et al. We then add a head. See Appendix A. The rest holds."
    assert sentences(text) == [
        "This was shown by Smith et al.",
        "We then add a head.",
        "See Appendix A.",
        "The rest holds.",
    ]


def test_a_lower_case_word_or_a_digit_does_not_start_a_sentence() -> None:
    assert sentences("We use approx. ten runs. it stays 3. 4 more.") == [
        "We use approx. ten runs. it stays 3. 4 more."
    ]
    assert sentences("Done! Really? Yes.") == ["Done!", "Really?", "Yes."]
