"""Rank a listing of papers by what the reader already reads: BM25 (``bm25s``), offline.

The reader's library is a few documents: each paper fetched or summarized (title, abstract
and summary) and the ``interests`` text of the config. Every listed paper (title and
abstract) is scored against each of them::

    relevance(p) = listed_age(p) * max_i  library_age(i) * BM25(i -> p) / BM25(i -> i)

BM25(i -> p) scores the listed paper ``p`` as a document for the library paper ``i``'s
terms as the query, over an index of the listing plus the library (so a term common in
this week's listing weighs little, a rare one much); dividing by the library paper's score
against itself puts it between 0 (nothing shared) and about 1 (as close as the paper to
itself). Two recency weights: papers read recently count fully and older ones less
(``1 / (1 + log10(1 + rank))``, newest first, as zotero-arxiv-daily weighs a library), and
a listed paper loses half its score per three years it is older than the newest one listed
(a weekly listing is not affected; a search across years leans to the recent without
burying an old paper that matches well). A listed paper
is never matched with itself when it is already in the library.

Why bm25s: it imports in ~0.2 s with numpy only (scikit-learn's TF-IDF pulls in scipy:
~0.7 s before any work), and scores a thousand papers in a few hundredths of a second.
It is imported on the first ranking, never by ``--help``.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from localdigest.sources.arxiv.meta import PaperMeta

INTERESTS = "your interests"
MATCHED_TERMS = 4
HALF_LIFE_DAYS = 3 * 365.0
# Words of two letters or more; hyphens split ("self-attention" also matches "attention").
TOKEN_PATTERN = r"(?u)\b\w\w+\b"
# Words every abstract uses: matching on them says nothing about what a paper is about.
_ACADEMIC = """
able achieve achieved achieves across additional al allow allows also analysis approach
approaches based best better called can create created current demonstrate demonstrates
design designed despite different effective efficient et existing experiment experiments
extensive first framework furthermore general generally hence however improve improved
improvement improves include includes including introduce key large main make makes
making many method methods model models much need needs new novel obtain obtained often
one paper papers performance possible present previous prior problem propose proposed
provide range recent recently require requires result results set several show shows
significant significantly simple small specific state-of-the-art study successfully task
tasks therefore three thus two typically unlike use used using various via well whereas
wide within without work works
pre non multi semi sub co re art performing requiring improving single
"""
ACADEMIC_STOPWORDS = frozenset(_ACADEMIC.split())


@dataclass(frozen=True)
class LibraryPaper:
    """One paper the reader has (fetched or summarized), as text to match against."""

    key: str  # arXiv id (base) or the PDF's sha256
    title: str
    text: str  # title, abstract, TL;DR and summary
    when: datetime | None = None  # last fetched or summarized
    arxiv_id: str | None = None


@dataclass(frozen=True)
class Score:
    relevance: float
    matched_terms: tuple[str, ...] = ()
    similar_to: str | None = None  # the title of the library paper it is most like

    def to_dict(self) -> dict[str, Any]:
        return {
            "relevance": round(self.relevance, 4),
            "matched_terms": list(self.matched_terms),
            "similar_to": self.similar_to,
        }


@dataclass
class Ranking:
    """One score per listed paper (in the listing's order); none when the library is empty."""

    scores: list[Score] = field(default_factory=list)
    library_size: int = 0

    @property
    def empty(self) -> bool:
        return not self.scores

    def order(self) -> list[int]:
        """Indices of the listing, most relevant first (ties keep the listing's order)."""
        if self.empty:
            return []
        return sorted(range(len(self.scores)), key=lambda n: -self.scores[n].relevance)

    def top(self, count: int) -> list[int]:
        return self.order()[:count]


def _fold(words: list[str]) -> list[str]:
    """A light stemmer: English plurals to singular, so "transformers" meets "transformer"
    and the matched terms stay readable words."""
    folded = []
    for w in words:
        if len(w) > 4 and w.endswith("ies"):
            w = w[:-3] + "y"
        elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "ics")):
            w = w[:-1]
        folded.append(w)
    return folded


def _stopwords() -> list[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return sorted(set(STOPWORDS_EN_PLUS) | ACADEMIC_STOPWORDS)


def listed_text(paper: PaperMeta) -> str:
    return f"{paper.title}. {paper.title}. {paper.abstract}"


def _age_weights(library: Sequence[LibraryPaper]) -> list[float]:
    """1 / (1 + log10(1 + rank)), rank = how many library papers are more recent (so the
    newest weigh 1, the 10th most recent 0.5, the 100th 0.33); undated ones count as oldest."""
    stamps = [p.when.timestamp() if p.when else -math.inf for p in library]
    ascending = sorted(stamps)
    newer = [len(ascending) - bisect.bisect_right(ascending, s) for s in stamps]
    return [1.0 / (1.0 + math.log10(1 + n)) for n in newer]


def _listed_age_weights(papers: Sequence[PaperMeta]) -> list[float]:
    dates = [p.published for p in papers]
    known = [d for d in dates if d is not None]
    if not known:
        return [1.0] * len(papers)
    newest = max(known)
    return [
        0.5 ** (max((newest - d).days, 0) / HALF_LIFE_DAYS) if d is not None else 1.0 for d in dates
    ]


def rank(
    papers: Sequence[PaperMeta], library: Sequence[LibraryPaper], interests: str = ""
) -> Ranking:
    """Score every listed paper against the library (see the module docstring)."""
    readers = list(library)
    if interests.strip():
        readers.append(LibraryPaper(INTERESTS, INTERESTS, interests, datetime.now(UTC)))
    if not papers or not readers:
        return Ranking([], len(library))

    import bm25s
    import numpy as np

    docs = [listed_text(p) for p in papers] + [f"{r.title}. {r.text}" for r in readers]
    tokens = bm25s.tokenize(
        docs,
        token_pattern=TOKEN_PATTERN,
        stopwords=_stopwords(),
        stemmer=_fold,
        show_progress=False,
        allow_empty=True,
    )
    index = bm25s.BM25(csc_backend="numpy")
    index.index(tokens, show_progress=False)
    vocab: dict[int, str] = {i: t for t, i in tokens.vocab.items()}
    n = len(papers)
    weights = _age_weights(library) + ([1.0] if len(readers) > len(library) else [])
    listed_at = {p.arxiv_id: k for k, p in enumerate(papers)}
    best = np.zeros(n)
    best_reader = np.full(n, -1)
    for i, reader in enumerate(readers):
        query = [vocab[t] for t in dict.fromkeys(tokens.ids[n + i])]
        if not query:
            continue
        scores = index.get_scores(query)
        own = scores[n + i]
        if own <= 0:
            continue
        share = weights[i] * scores[:n] / own
        if reader.arxiv_id in listed_at:  # a paper you have is not its own reason
            share[listed_at[reader.arxiv_id]] = 0.0
        better = share > best
        best[better] = share[better]
        best_reader[better] = i

    idf = _idf(tokens.ids, len(vocab))
    listed_age = _listed_age_weights(papers)
    scores_out = []
    reader_counts: dict[int, Counter[int]] = {}
    for k in range(n):
        i = int(best_reader[k])
        if i < 0:
            scores_out.append(Score(0.0))
            continue
        if i not in reader_counts:
            reader_counts[i] = Counter(tokens.ids[n + i])
        terms = _matched(Counter(tokens.ids[k]), reader_counts[i], idf)
        scores_out.append(
            Score(
                float(best[k]) * listed_age[k],
                tuple(vocab[t] for t in terms),
                readers[i].title,
            )
        )
    return Ranking(scores_out, len(library))


def _matched(listed: Counter[int], reader: Counter[int], idf: Sequence[float]) -> list[int]:
    """The shared terms that weigh most: rare in the index, frequent in both texts."""

    def weight(t: int) -> float:
        return idf[t] * (1 + math.log(listed[t])) * (1 + math.log(reader[t]))

    shared = [t for t in listed if t in reader]
    return sorted(heapq.nlargest(MATCHED_TERMS, shared, key=weight), key=lambda t: -weight(t))


def _idf(ids: Sequence[Sequence[int]], size: int) -> list[float]:
    """Inverse document frequency of each token id over all the documents."""
    df = [0] * size
    for doc in ids:
        for t in set(doc):
            df[t] += 1
    total = len(ids)
    return [math.log(1 + (total - d + 0.5) / (d + 0.5)) for d in df]
