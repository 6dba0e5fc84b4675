"""The reader's library as ranking input, and a listing ranked by it (``search``, ``run``).

The library is every paper in the paper library (its arXiv title and abstract) and every
cached summary (title, abstract, TL;DR, summary), one document per paper: a paper both
fetched and summarized is one document, dated by the later of the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from localdigest.cache import Store, cached_summaries
from localdigest.config import Paths, RunConfig
from localdigest.sources.arxiv.meta import PaperMeta
from localdigest.sources.ranking import LibraryPaper, Ranking, Score, rank

EMPTY_LIBRARY = (
    "Your library is empty, so the list keeps arXiv's order — fetch or summarize papers "
    "you like (or set `interests` in the config) and listings are ranked by them"
)


def _when(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def library_papers(paths: Paths) -> list[LibraryPaper]:
    """One document per paper the reader fetched or summarized."""
    from localdigest.sources.library import Library  # the arXiv stack: only to rank

    texts: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    dates: dict[str, datetime] = {}
    ids: dict[str, str | None] = {}

    def add(
        key: str, title: str, parts: Sequence[str], when: datetime | None, aid: str | None
    ) -> None:
        known = texts.setdefault(key, [])
        known += [p for p in parts if p and p not in known]
        titles.setdefault(key, title)
        ids[key] = ids.get(key) or aid
        if when is not None and (key not in dates or when > dates[key]):
            dates[key] = when

    for entry in Library(paths.library).list_entries():
        meta = entry.meta
        add(meta.arxiv_id, meta.title, [meta.abstract], entry.fetched_at, meta.arxiv_id)
    store = Store(paths.cache)
    try:
        rows = cached_summaries(store)
    finally:
        store.close()
    for row in rows:
        s = row.summary
        key = s.arxiv_id or s.sha256
        add(key, s.title, [s.abstract, s.tldr, s.summary], _when(s.created), s.arxiv_id)
    return [
        LibraryPaper(key, titles[key], "\n".join(parts), dates.get(key), ids.get(key))
        for key, parts in texts.items()
    ]


def rank_listing(papers: Sequence[PaperMeta], cfg: RunConfig) -> Ranking:
    """Score a listing against the library and the ``interests`` setting."""
    return rank(papers, library_papers(cfg.paths), cfg.interests)


def by_relevance(
    papers: Sequence[PaperMeta], ranking: Ranking
) -> tuple[list[PaperMeta], list[Score]]:
    """The listing and its scores, most relevant first (as listed when nothing ranks it)."""
    if ranking.empty:
        return list(papers), []
    order = ranking.order()
    return [papers[i] for i in order], [ranking.scores[i] for i in order]


@dataclass
class Ranker:
    """Ranks a listing once (``arrange``: most relevant first if asked) and remembers each
    paper's score, so a listing cut after ranking keeps the scores it was ranked by."""

    cfg: RunConfig
    by_relevance: bool = False
    scores: dict[str, Score] = field(default_factory=dict)

    def arrange(self, papers: list[PaperMeta]) -> list[PaperMeta]:
        ranking = rank_listing(papers, self.cfg)
        arranged, scores = (
            by_relevance(papers, ranking)
            if self.by_relevance
            else (
                list(papers),
                ranking.scores,
            )
        )
        self.scores.update(zip((p.arxiv_id for p in arranged), scores, strict=False))
        return arranged

    def scores_of(self, papers: Sequence[PaperMeta]) -> list[Score]:
        """The scores of these papers, in their order; none when nothing ranked them."""
        if not self.scores:
            return []
        return [self.scores[p.arxiv_id] for p in papers]
