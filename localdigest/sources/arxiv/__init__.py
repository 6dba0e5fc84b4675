"""arXiv: ids, one polite HTTP client, the API (search, metadata) and the daily feed.

Nothing here writes anything: the library (``sources.library``) stores PDFs and remembers
what was listed, ``sources.listing`` combines the two.
"""

from __future__ import annotations

from localdigest.sources.arxiv.api import Sort, build_query, fetch_metadata, search
from localdigest.sources.arxiv.client import USER_AGENT, ArxivClient, Endpoints, get_client
from localdigest.sources.arxiv.feed import parse_listing_feed, today
from localdigest.sources.arxiv.ids import ArxivId, looks_like_arxiv, parse_arxiv_id
from localdigest.sources.arxiv.meta import Filters, PaperMeta, check_categories

__all__ = [
    "USER_AGENT",
    "ArxivClient",
    "ArxivId",
    "Endpoints",
    "Filters",
    "PaperMeta",
    "Sort",
    "build_query",
    "check_categories",
    "fetch_metadata",
    "get_client",
    "looks_like_arxiv",
    "parse_arxiv_id",
    "parse_listing_feed",
    "search",
    "today",
]
