"""Listing papers to choose from: an arXiv search or today's feed, minus what was seen.

Every paper listed here is remembered in the library's seen store, so that ``--new`` (and
the weekly ``run``) later shows only papers no earlier listing showed. The caller resolves
the filters (``workflows.arxiv``: the configured ones by default).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from localdigest.sources.arxiv import api, feed
from localdigest.sources.arxiv.api import Sort
from localdigest.sources.arxiv.client import ArxivClient
from localdigest.sources.arxiv.meta import Filters, PaperMeta
from localdigest.sources.library import SeenStore


@dataclass
class SearchSpec:
    """What to look for (the filters are the run's: categories, include, exclude)."""

    terms: list[str] = field(default_factory=list)
    since: dt.date | None = None
    only_new: bool = True


def search(
    client: ArxivClient,
    seen: SeenStore,
    terms: Sequence[str],
    filters: Filters,
    since: dt.date | None = None,
    only_new: bool = False,
    max_results: int = 20,
    sort: Sort = "submitted",
) -> list[PaperMeta]:
    """Search arXiv; return up to ``max_results`` papers and remember them as seen.

    ``filters``' include and exclude are case-insensitive phrases matched against title
    and abstract. With ``only_new``, papers listed by an earlier search or ``today`` are
    left out, and (sorted by submission date, newest first) paging stops at the first one
    already seen.
    """
    papers = api.search(
        client,
        terms,
        filters,
        since=since,
        max_results=max_results,
        sort=sort,
        seen=seen if only_new else None,
    )
    seen.add(p.arxiv_id for p in papers)
    return papers


def today(
    client: ArxivClient,
    seen: SeenStore,
    filters: Filters,
    only_new: bool = False,
    max_results: int | None = None,
    order: Callable[[list[PaperMeta]], list[PaperMeta]] | None = None,
) -> list[PaperMeta]:
    """Today's announcements in the filters' categories, new and cross-listed; remembered
    as seen.

    ``order`` (e.g. by relevance) sorts the whole day before it is cut to ``max_results``,
    so only the papers listed are remembered as seen."""
    papers = feed.today(
        client,
        filters,
        seen=seen if only_new else None,
        max_results=None if order else max_results,
    )
    if order is not None:
        papers = order(papers)[:max_results]
    seen.add(p.arxiv_id for p in papers)
    return papers
