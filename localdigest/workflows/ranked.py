"""The reader's library as ranking input, and a listing ranked by it (``search``, ``run``).

The library is every paper in the paper library (its arXiv title and abstract) and every
cached summary (title, abstract, TL;DR, summary), one document per paper: a paper both
fetched and summarized is one document, dated by the later of the two; and every item the
reader imported (``library import``: title, abstract, authors, keywords). The followed
authors and keywords (settings ``authors``, ``keywords``) lift the papers that have them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from localdigest.cache import Store, cached_summaries
from localdigest.config import Paths, RunConfig
from localdigest.sources.arxiv.meta import PaperMeta
from localdigest.sources.ranking import Follow, LibraryPaper, Ranking, Score, rank

EMPTY_LIBRARY = (
    "Your library is empty, so the list keeps arXiv's order — import yours (`localdigest "
    "library import refs.bib`), follow authors or keywords (`localdigest follow`), or "
    "fetch and summarize papers you like, and listings are ranked by them"
)


def _when(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def library_papers(paths: Paths) -> list[LibraryPaper]:
    """One document per paper the reader fetched or summarized, and the imported ones."""
    from localdigest.sources.imported import ImportedLibrary
    from localdigest.sources.library import Library  # the arXiv stack: only to rank

    texts: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    dates: dict[str, datetime] = {}
    ids: dict[str, str | None] = {}
    people: dict[str, Sequence[str]] = {}

    def add(
        key: str,
        title: str,
        parts: Sequence[str],
        when: datetime | None,
        aid: str | None,
        authors: Sequence[str],
    ) -> None:
        known = texts.setdefault(key, [])
        known += [p for p in parts if p and p not in known]
        titles.setdefault(key, title)
        people[key] = people.get(key) or authors
        ids[key] = ids.get(key) or aid
        if when is not None and (key not in dates or when > dates[key]):
            dates[key] = when

    for entry in Library(paths.library).list_entries():
        meta = entry.meta
        add(
            meta.arxiv_id,
            meta.title,
            [meta.abstract],
            entry.fetched_at,
            meta.arxiv_id,
            meta.authors,
        )
    store = Store(paths.cache)
    try:
        rows = cached_summaries(store)
    finally:
        store.close()
    for row in rows:
        s = row.summary
        key = s.arxiv_id or s.sha256
        parts = [s.abstract, s.tldr, s.summary]
        add(key, s.title, parts, _when(s.created), s.arxiv_id, s.authors)
    own = [
        LibraryPaper(
            key, titles[key], "\n".join(parts), dates.get(key), ids.get(key), tuple(people[key])
        )
        for key, parts in texts.items()
    ]
    return own + ImportedLibrary(paths.data).papers()


def rank_listing(papers: Sequence[PaperMeta], cfg: RunConfig) -> Ranking:
    """Score a listing against the library, the ``interests`` setting and what the reader
    follows."""
    follow = Follow(cfg.authors, cfg.keywords)
    return rank(papers, library_papers(cfg.paths), cfg.interests, follow)


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
