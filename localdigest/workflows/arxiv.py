"""arXiv as configured: the client and the filters a run's config gives ``sources``, and
``listing``: a search or today's announcements, ranked by the library (``search``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from localdigest.config import RunConfig
from localdigest.sources.arxiv.client import ArxivClient, Endpoints
from localdigest.sources.arxiv.meta import Filters, PaperMeta
from localdigest.sources.ranking import Score


def client(cfg: RunConfig) -> ArxivClient:
    """The process's polite client for the configured endpoints and delay."""
    return ArxivClient.shared(
        Endpoints(cfg.arxiv_api, cfg.arxiv_pdf, cfg.arxiv_rss, cfg.arxiv_delay)
    )


def filters(cfg: RunConfig) -> Filters:
    """The categories, include and exclude phrases of the run's config."""
    return Filters(cfg.categories, cfg.include, cfg.exclude)


@dataclass(frozen=True)
class Listing:
    """Papers listed, each one's relevance (none: nothing ranked them) and what the
    library holds of it."""

    papers: list[PaperMeta]
    scores: list[Score]
    states: dict[str, Literal["summarized", "fetched"] | None]


def listing(
    cfg: RunConfig,
    terms: Sequence[str],
    *,
    since: dt.date | None,
    only_new: bool,
    max_results: int | None,
    sort: Literal["submitted", "relevance", "arxiv"],
    today: bool,
) -> Listing:
    """Search arXiv (or list today's announcements) as configured; every paper listed is
    remembered as seen. ``sort``: newest first, by the reader's library, or arXiv's own
    relevance to the terms."""
    from localdigest.sources import listing as sources
    from localdigest.sources.library import seen_store
    from localdigest.workflows import ranked

    ranker = ranked.Ranker(cfg, by_relevance=sort == "relevance")
    seen = seen_store(cfg.paths.state)
    if today:
        found = sources.today(
            client(cfg), seen, filters(cfg), only_new, max_results, ranker.arrange
        )
    else:
        found = ranker.arrange(
            sources.search(
                client(cfg),
                seen,
                terms,
                filters(cfg),
                since,
                only_new,
                20 if max_results is None else max_results,
                "relevance" if sort == "arxiv" else "submitted",
            )
        )
    return Listing(found, ranker.scores_of(found), local_states(cfg, found))


def local_states(
    cfg: RunConfig, papers: Sequence[PaperMeta]
) -> dict[str, Literal["summarized", "fetched"] | None]:
    """What the library holds of each listed paper: summarized, fetched or nothing."""
    from localdigest.sources.library import Library  # the arXiv stack: only when listing

    library = Library(cfg.paths.library)
    return {p.arxiv_id: library.local_state(p.arxiv_id) for p in papers}
