"""The daily listing: arXiv's RSS/Atom feed per category, which the ``arxiv`` package
does not read, parsed here."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Container
from datetime import datetime

from localdigest.errors import InputError, NetworkError, UsageError
from localdigest.sources.arxiv.api import ATOM
from localdigest.sources.arxiv.client import ArxivClient
from localdigest.sources.arxiv.ids import parse_arxiv_id
from localdigest.sources.arxiv.meta import Filters, PaperMeta, check_categories
from localdigest.text import one_line

_ARXIV_NS = "{http://arxiv.org/schemas/atom}"
_DC_NS = "{http://purl.org/dc/elements/1.1/}"
_ANNOUNCE_RE = re.compile(r"^arXiv:\S+\s+Announce Type:\s*\S+\s*(?:Abstract:\s*)?", re.IGNORECASE)


def parse_listing_feed(body: bytes, category: str) -> list[PaperMeta]:
    """Parse one ``rss.arxiv.org/atom/<category>`` feed.

    A feed that is not well-formed XML (a cut-off download) raises ``NetworkError``: listing
    part of a day without saying so would be worse than asking the user to try again.
    """
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise NetworkError(
            f"arXiv's listing feed for {category} is incomplete or not XML ({e}) — "
            "try again in a minute"
        ) from e
    if root.tag != f"{ATOM}feed":
        raise NetworkError(f"arXiv's listing for {category} is not an Atom feed — check arxiv_rss")
    papers = []
    for entry in root.iter(f"{ATOM}entry"):
        meta = _listing_entry(entry)
        if meta is not None:
            papers.append(meta)
    return papers


def _listing_entry(entry: ET.Element) -> PaperMeta | None:
    raw_id = (entry.findtext(f"{ATOM}id") or "").strip()
    try:
        aid = parse_arxiv_id(raw_id.removeprefix("oai:arXiv.org:"))
    except InputError:
        return None
    cats = tuple(c.get("term", "") for c in entry.iter(f"{ATOM}category") if c.get("term"))
    creators = entry.findtext(f"{_DC_NS}creator") or ""
    authors = tuple(a for a in (one_line(x) for x in creators.split(",")) if a)
    summary = _ANNOUNCE_RE.sub("", (entry.findtext(f"{ATOM}summary") or "").strip())

    def when(tag: str) -> datetime | None:
        raw = entry.findtext(f"{ATOM}{tag}")
        try:
            return datetime.fromisoformat(raw.strip()) if raw else None
        except ValueError:
            return None

    return PaperMeta(
        arxiv_id=aid.base,
        version=aid.version,
        title=one_line(entry.findtext(f"{ATOM}title") or ""),
        authors=authors,
        abstract=one_line(summary),
        categories=cats,
        primary_category=cats[0] if cats else "",
        published=when("published"),
        updated=when("updated"),
        abs_url=aid.abs_url,
        pdf_url=aid.pdf_url(),
        announce_type=(entry.findtext(f"{_ARXIV_NS}announce_type") or "").strip() or None,
    )


def today(
    client: ArxivClient,
    filters: Filters,
    seen: Container[str] | None = None,
    max_results: int | None = None,
) -> list[PaperMeta]:
    """Today's announcements in the filters' categories, new and cross-listed.

    Replacements (new versions of older papers) are left out, and with ``seen`` the papers
    listed before. One feed request per category; papers listed in several categories
    appear once. Nothing is written here: ``sources.listing`` remembers what was listed.
    """
    cats = check_categories(filters.categories)
    if not cats:
        raise UsageError("--today needs at least one category — pass -c cs.CL")
    root = client.endpoints.rss.rstrip("/")
    papers: list[PaperMeta] = []
    listed: set[str] = set()
    for cat in cats:
        reply = client.http.request("GET", f"{root}/{cat}", what=f"the {cat} listing")
        if reply.status == 404:
            raise UsageError(f"arXiv has no listing feed for {cat!r} — check the category name")
        if reply.status != 200:
            raise NetworkError(
                f"arXiv's listing feed for {cat} answered HTTP {reply.status} — try again later"
            )
        for meta in parse_listing_feed(reply.content, cat):
            if meta.announce_type and meta.announce_type.startswith("replace"):
                continue
            if meta.arxiv_id in listed or (seen is not None and meta.arxiv_id in seen):
                continue
            if not filters.keeps(meta):
                continue
            papers.append(meta)
            listed.add(meta.arxiv_id)
    if max_results is not None:
        papers = papers[:max_results]
    return papers
