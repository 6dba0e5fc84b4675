"""arXiv as configured: the one place the workflows and commands read its settings, which
``sources`` then takes as arguments (endpoints, delay, filters)."""

from __future__ import annotations

from collections.abc import Sequence

from localdigest import config
from localdigest.sources.arxiv.client import ArxivClient, Endpoints
from localdigest.sources.arxiv.meta import Filters


def client() -> ArxivClient:
    """The process's polite client for the configured endpoints and delay."""
    return ArxivClient.shared(
        Endpoints(
            api=str(config.value("arxiv_api")),
            pdf=str(config.value("arxiv_pdf")),
            rss=str(config.value("arxiv_rss")),
            delay=float(config.value("arxiv_delay")),
        )
    )


def filters(
    categories: Sequence[str] | None = None,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> Filters:
    """The given filters; each one left as None comes from the configuration."""
    return Filters(
        tuple(config.value("categories") if categories is None else categories),
        tuple(config.value("include") if include is None else include),
        tuple(config.value("exclude") if exclude is None else exclude),
    )
