"""Ranking a question's candidate passages: BM25F over three fields, and whether the best
one answers at all. Pure functions over term counts; the store (``store.py``) gathers them.

A passage is scored against the question's terms with BM25F (Robertson and Zaragoza): each
field's term count is normalised by that field's length against its average over the
library, the fields are summed with their weights (the passage itself 1, its section's
heading and the paper's title 0.5 each: "a paper's title and section names weigh in"),
and the sum is saturated once per term (k1 1.2, FTS5's; b 0.5, under the usual 0.75:
passages and the windows over two of them differ twice in length, and full normalisation
put a window that holds the answer behind the shorter passages that hold half of it).

"Not found" is decided on the best passage: the share of the question's term weight (each
term weighs its IDF; a term no passage of the library uses weighs the most) that the
passage, its section and its title hold. Under ``ANSWERS_AT`` the library does not answer:
a question about the Transformer's English-to-Romanian BLEU finds the Transformer's BLEU
passages, but none of them says "Romanian", the question's heaviest term.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

K1 = 1.2
# Chosen on the even half of tests/fixtures/questions.json (0.4-0.6 all find the same
# questions there; 0.75 one fewer), checked on the odd half (docs/ask.md).
B = 0.5
FIELDS = ("body", "section", "title")
WEIGHTS = {"body": 1.0, "section": 0.5, "title": 0.5}
# The share of the question's term weight the best passage must hold to answer. Chosen on
# the even-numbered half of tests/fixtures/questions.json, checked on the odd half
# (docs/ask.md has both halves).
ANSWERS_AT = 0.4


@dataclass(frozen=True)
class Library:
    """What BM25 needs of the whole library: its size and each field's average length."""

    passages: int
    lengths: Mapping[str, float]  # field -> total terms over all passages

    def average(self, name: str) -> float:
        return self.lengths.get(name, 0.0) / self.passages if self.passages else 0.0


@dataclass(frozen=True)
class Candidate:
    """One passage's terms, field by field (each a Counter of terms)."""

    fields: Mapping[str, Counter[str]]

    def holds(self, term: str) -> bool:
        return any(counts[term] for counts in self.fields.values())


def idf(df: int, passages: int) -> float:
    """BM25's inverse document frequency; a term no passage uses (df 0) weighs the most."""
    return math.log(1 + (passages - df + 0.5) / (df + 0.5))


def bm25f(candidate: Candidate, terms: Sequence[str], df: Mapping[str, int], lib: Library) -> float:
    score = 0.0
    for term in terms:
        weighted = 0.0
        for name in FIELDS:
            count = candidate.fields[name][term]
            if count:
                length = sum(candidate.fields[name].values())
                average = lib.average(name) or 1.0
                weighted += WEIGHTS[name] * count / (1 - B + B * length / average)
        if weighted:
            score += idf(df.get(term, 0), lib.passages) * weighted * (K1 + 1) / (weighted + K1)
    return score


def coverage(
    candidate: Candidate, terms: Sequence[str], df: Mapping[str, int], lib: Library
) -> float:
    """The IDF-weighted share of ``terms`` that the passage (or its section, or its title)
    holds: 1.0 when it holds them all."""
    weights = {t: idf(df.get(t, 0), lib.passages) for t in terms}
    total = sum(weights.values())
    if not total:
        return 0.0
    return sum(w for t, w in weights.items() if candidate.holds(t)) / total
