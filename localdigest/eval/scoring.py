"""Scoring a summary in the eval: against the reference abstract (ROUGE, its key facts) and
against the paper (numbers found in it, every sentence traced to a page, no scaffolding).

ROUGE needs an optional package (``rouge-score``, the ``eval`` extra).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from localdigest.errors import UsageError
from localdigest.eval.labels import matches, tokens
from localdigest.summarize.facts import Fact, stated
from localdigest.summarize.grounding import PageIndex, ground_text, share_supported
from localdigest.summarize.hygiene import scaffolding_in
from localdigest.summarize.parts import is_contribution
from localdigest.summarize.quality import degeneration, number_faithfulness, on_topic, overlap_pairs
from localdigest.text import sentences

EVAL_EXTRA_HINT = "pip install 'localdigest[eval]'"


def rouge(summary: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2/L and ROUGE-Lsum F1 (rouge-score, Porter stemming; Lsum over sentences)."""
    try:
        from rouge_score import rouge_scorer
    except ImportError as e:
        raise UsageError(f"ROUGE needs the eval extra ({e}) — run `{EVAL_EXTRA_HINT}`") from e
    kinds = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    scorer = rouge_scorer.RougeScorer(kinds, use_stemmer=True)
    scores = scorer.score("\n".join(sentences(reference)), "\n".join(sentences(summary)))
    return {k: round(v.fmeasure, 4) for k, v in scores.items()}


@dataclass
class SummaryScore:
    """Everything measured about one summary of one paper."""

    rouge1: float
    rouge2: float
    rougeL: float  # the metric's usual name
    rougeLsum: float
    facts: float  # share of the reference's key facts the summary states
    facts_missing: list[str]
    scaffolding: list[str]  # pieces of our own prompts found in it
    grounded: float  # share of its sentences found on a page of the paper
    numbers_without_page: list[str]
    degenerate: bool
    max_ngram_repeats: int
    distinct_2: float
    sentence_run: int
    number_faithfulness: float
    invented_numbers: list[str]
    on_topic: float
    words: int
    seconds: float
    # Issue 22: the share of the paper's labelled body facts (tests/fixtures/body_facts.json)
    # the summary states (None: no labels for it), the pairs of its sentences saying the same
    # thing (quality.OVERLAP), whether the TL;DR states the contribution (None: no TL;DR).
    body_facts: float | None = None
    body_facts_missing: list[str] = field(default_factory=list)
    overlap_pairs: int = 0
    tldr_contribution: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def score(
    summary: str,
    reference: str,
    paper_text: str,
    seconds: float = 0.0,
    facts: Sequence[Fact] = (),
    pages: PageIndex | None = None,
    tldr: str | None = None,
    body_facts: Sequence[dict[str, Any]] = (),
) -> SummaryScore:
    """Everything measured about ``summary``: ``reference`` is the authors' abstract and
    ``facts`` its key facts; ``paper_text`` and ``pages`` the paper as the system read it;
    ``body_facts`` the reader's labels of what only the body says (``eval/labels.py``)."""
    said = [tokens(summary)]
    missing_body = [f["fact"] for f in body_facts if not matches(f["match"], said)]
    r = rouge(summary, reference)
    d = degeneration(summary)
    faithful, invented = number_faithfulness(summary, paper_text)
    facts_share, missing = stated(summary, facts)
    grounding = ground_text(summary, pages) if pages is not None else []
    return SummaryScore(
        rouge1=r["rouge1"],
        rouge2=r["rouge2"],
        rougeL=r["rougeL"],
        rougeLsum=r["rougeLsum"],
        facts=facts_share,
        facts_missing=[f.text for f in missing],
        scaffolding=scaffolding_in(summary),
        grounded=share_supported(grounding) if pages is not None else 1.0,
        numbers_without_page=[n for g in grounding for n in g.unsupported_numbers],
        degenerate=d.degenerate,
        max_ngram_repeats=d.max_ngram_repeats,
        distinct_2=d.distinct_2,
        sentence_run=d.sentence_run,
        number_faithfulness=faithful,
        invented_numbers=invented,
        on_topic=on_topic(summary, paper_text),
        words=d.words,
        seconds=round(seconds, 2),
        body_facts=round(1 - len(missing_body) / len(body_facts), 4) if body_facts else None,
        body_facts_missing=missing_body,
        overlap_pairs=overlap_pairs(summary),
        tldr_contribution=is_contribution(tldr) if tldr else None,
    )
