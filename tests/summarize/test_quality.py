"""Scoring functions on hand-made cases and on the real abstracts of the corpus."""

from __future__ import annotations

from typing import Any

import pytest

from localdigest.eval import scoring
from localdigest.summarize import quality
from localdigest.text import sentences

LOOP = (
    "The model uses a convolutional network. The results show that the network is "
    "the best. The network is the best network. The network is the best network. "
    "The network is the best network for audio."
)
PAPER = (
    "We train a convolutional network on 70M videos with 30,871 labels. The ResNet-50 "
    "model reaches an AUC of 0.959 and a d-prime of 2.44 on the evaluation set."
)


def test_a_looping_text_is_degenerate() -> None:
    d = quality.degeneration(LOOP)
    assert d.degenerate
    assert d.max_ngram_repeats >= quality.REPEAT_LIMIT
    assert d.sentence_run == 2


def test_a_word_loop_inside_one_sentence_is_degenerate() -> None:
    d = quality.degeneration("We propose " + "the model of the " * 12 + "end.")
    assert d.degenerate and d.sentence_run == 1
    assert d.distinct_2 < quality.MIN_DISTINCT_2


def test_a_sentence_said_twice_in_other_words_is_degenerate() -> None:
    # A real SmolLM2 output: the second sentence restates the first almost word for word.
    text = (
        "The proposed algorithm is based on hand-crafted digitization and has been compared "
        "with other methods, including ADADELTA. The algorithm is based on hand-crafted "
        "digitization and has been compared with other methods, including ADADELTA in terms "
        "of its performance."
    )
    d = quality.degeneration(text)
    assert d.degenerate and d.near_duplicates == 1 and d.sentence_run == 1
    assert trim_repetition(text).count("hand-crafted") == 1


def test_a_plain_paragraph_is_not_degenerate() -> None:
    assert not quality.degeneration(PAPER).degenerate


def test_real_abstracts_are_not_degenerate(expected: list[dict[str, Any]]) -> None:
    # The threshold must not fire on what authors actually write.
    for entry in expected:
        if entry["abstract_clean"]:
            assert not quality.degeneration(entry["abstract_clean"]).degenerate, entry["file"]


def test_an_invented_number_is_caught() -> None:
    summary = "The ResNet-50 model reaches an AUC of 0.959 on 70M videos and 97.3% accuracy."
    share, invented = quality.number_faithfulness(summary, PAPER)
    assert invented == ["97.3"]
    assert share == pytest.approx(3 / 4)  # 50, 0.959 and 70 are in the paper


def test_numbers_are_normalized_and_none_is_faithful() -> None:
    assert quality.numbers("30,871 labels, 0.959 AUC, 12.") == ["30871", "0.959", "12"]
    assert quality.number_faithfulness("No numbers here.", PAPER) == (1.0, [])


def test_on_topic_share() -> None:
    assert quality.on_topic("A convolutional network trained on videos.", PAPER) == 1.0
    off = "Bananas ripen quickly in tropical greenhouses during monsoon weather."
    assert quality.on_topic(off, PAPER) < 0.6


def trim_repetition(text: str) -> str:
    return " ".join(s for _, s in quality.trim_units(sentences(text)))


def test_trim_repetition_keeps_the_text_before_the_loop() -> None:
    trimmed = trim_repetition(LOOP)
    assert trimmed.startswith("The model uses a convolutional network.")
    assert not quality.degeneration(trimmed).degenerate
    assert trimmed.count("The network is the best network") <= 1


def test_rouge_and_score() -> None:
    assert scoring.rouge(PAPER, PAPER)["rougeL"] == 1.0
    s = scoring.score("We train a network on 71M videos.", PAPER, PAPER, seconds=1.234)
    assert 0 < s.rouge1 < 1
    assert s.invented_numbers == ["71"]
    assert s.seconds == 1.23 and s.words == 7
