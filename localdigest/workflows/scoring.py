"""Scoring a summary in the eval: ROUGE against the reference, plus the guard's checks.

ROUGE needs an optional package (``rouge-score``, the ``eval`` extra).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from localdigest.errors import UsageError
from localdigest.summarize.quality import degeneration, number_faithfulness, on_topic

EVAL_EXTRA_HINT = "pip install 'localdigest[eval]'"


def rouge(summary: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2/L F1 (rouge-score, Porter stemming)."""
    try:
        from rouge_score import rouge_scorer
    except ImportError as e:
        raise UsageError(f"ROUGE needs the eval extra ({e}) — run `{EVAL_EXTRA_HINT}`") from e
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    scores = scorer.score(reference, summary)
    return {k: round(v.fmeasure, 4) for k, v in scores.items()}


@dataclass
class Score:
    """Everything measured about one summary of one paper."""

    rouge1: float
    rouge2: float
    rougeL: float  # the metric's usual name
    degenerate: bool
    max_ngram_repeats: int
    distinct_2: float
    sentence_run: int
    number_faithfulness: float
    invented_numbers: list[str]
    on_topic: float
    words: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def score(summary: str, reference: str, paper_text: str, seconds: float = 0.0) -> Score:
    r = rouge(summary, reference)
    d = degeneration(summary)
    faithful, invented = number_faithfulness(summary, paper_text)
    return Score(
        rouge1=r["rouge1"],
        rouge2=r["rouge2"],
        rougeL=r["rougeL"],
        degenerate=d.degenerate,
        max_ngram_repeats=d.max_ngram_repeats,
        distinct_2=d.distinct_2,
        sentence_run=d.sentence_run,
        number_faithfulness=faithful,
        invented_numbers=invented,
        on_topic=on_topic(summary, paper_text),
        words=d.words,
        seconds=round(seconds, 2),
    )
