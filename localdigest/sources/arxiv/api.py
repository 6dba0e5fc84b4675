"""The arXiv API, through the ``arxiv`` package, with our polite transport.

The ``arxiv`` package builds the API queries (``Search``), pages through results
(``Client.results``) and parses both the 2016 and the 2026 Atom formats into ``Result``s:
its public API. This module hands it the polite client (the one private hook, in ``_api``)
and turns its results into ``PaperMeta``. Id look-ups are batched into one ``id_list`` call.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import arxiv

from localdigest.errors import InputError, NetworkError, ServerError, UsageError
from localdigest.net import host_of
from localdigest.sources.arxiv.client import ArxivClient
from localdigest.sources.arxiv.ids import ArxivId, parse_arxiv_id
from localdigest.sources.arxiv.meta import Filters, PaperMeta, check_categories
from localdigest.text import one_line

Sort = Literal["submitted", "relevance"]
ATOM = "{http://www.w3.org/2005/Atom}"
# The package logs its own warnings ("Malformed feed; consider handling") straight to
# stderr; our checks say what went wrong in one line instead.
_log = logging.getLogger("arxiv")
_log.addHandler(logging.NullHandler())
_log.propagate = False


def _api_error_text(root: ET.Element) -> str | None:
    """The message of arXiv's error feed (one entry titled "Error"), if this is one."""
    for entry in root.iter(f"{ATOM}entry"):
        title = (entry.findtext(f"{ATOM}title") or "").strip()
        entry_id = entry.findtext(f"{ATOM}id") or ""
        # A paper could be titled "Error"; only the error entry lacks <published>.
        is_paper = entry.find(f"{ATOM}published") is not None
        if "/api/errors" in entry_id or (title == "Error" and not is_paper):
            return one_line(entry.findtext(f"{ATOM}summary") or title)
    return None


def _entry_problem(entry: ET.Element) -> str | None:
    """Why an entry of a feed is no usable paper (its id is no arXiv id, a date does not
    parse), or None. The ``arxiv`` package would abort the whole page on a bad date."""
    raw_id = (entry.findtext(f"{ATOM}id") or "").strip()
    try:
        parse_arxiv_id(raw_id)
    except InputError:
        return f"the id {raw_id[:80]!r} is not an arXiv id"
    for tag in ("published", "updated"):
        raw = (entry.findtext(f"{ATOM}{tag}") or "").strip()
        try:
            datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return f"its {tag} date {raw[:40]!r} does not parse"
    return None


@dataclass(frozen=True)
class _Page:
    """What ``arxiv.Client`` reads of an answer."""

    status_code: int
    content: bytes


class _ApiTransport:
    """Stands in for the ``requests.Session`` of ``arxiv.Client``: every API call goes
    through the polite client and comes back as a checked Atom feed, or raises.

    Checked means: HTTP 200, well-formed XML all the way to its end (a cut-off or garbled
    answer is a server error, exit 5, never "no such paper" or a listing shown as complete),
    an Atom feed (not a proxy's page), and no entry that is not a usable paper: those are
    dropped from the feed (their reasons kept in ``dropped``) so one bad entry from the
    server costs only itself.
    """

    def __init__(self, client: ArxivClient) -> None:
        self._client = client
        self.dropped: list[str] = []

    def get(self, url: str, **_ignored: Any) -> _Page:
        reply = self._client.http.request("GET", url, what="the arXiv API")
        setting = f"LOCALDIGEST_ARXIV_API / arxiv_api ({self._client.endpoints.api})"
        try:
            root = ET.fromstring(reply.content)
        except ET.ParseError as e:
            if reply.status != 200:
                raise NetworkError(
                    f"The arXiv API answered HTTP {reply.status} — try again later"
                ) from e
            raise NetworkError(
                f"{host_of(url)} sent an answer that is cut off or not XML ({e}) — try again "
                f"later, or check {setting}"
            ) from e
        error = _api_error_text(root)
        if error:
            raise NetworkError(f"arXiv rejected the query: {error} — check the terms or ids")
        if reply.status != 200:
            raise NetworkError(f"The arXiv API answered HTTP {reply.status} — try again later")
        if root.tag != f"{ATOM}feed":
            # arxiv.Client would read a captive portal or proxy page as "no results".
            raise NetworkError(
                f"{host_of(url)} did not answer with an arXiv feed — check {setting}"
            )
        bad = [(e, why) for e in root.findall(f"{ATOM}entry") if (why := _entry_problem(e))]
        for entry, why in bad:
            root.remove(entry)
            self.dropped.append(why)
        content = ET.tostring(root, encoding="utf-8") if bad else reply.content
        return _Page(reply.status, content)


def _api(client: ArxivClient, page_size: int) -> tuple[arxiv.Client, _ApiTransport]:
    # The package's own pacing and retries are off: our transport does both, with back-off
    # and Retry-After, which arxiv.Client lacks.
    api = arxiv.Client(page_size=page_size, delay_seconds=0.0, num_retries=0)
    endpoint = client.endpoints.api.replace("{", "{{").replace("}", "}}")
    api.query_url_format = endpoint + "?{}"
    transport = _ApiTransport(client)
    # The one private hook into the package: arxiv.Client fetches each page with
    # ``self._session.get(url, headers=...)`` and reads ``status_code`` and ``content`` of
    # the answer, and no public API takes a transport. A release that changes this fails
    # tests/sources/test_arxiv.py::test_the_arxiv_packages_transport_hook_still_holds.
    api._session = transport
    return api, transport


def _results(api: arxiv.Client, query: arxiv.Search) -> Iterator[arxiv.Result]:
    """Iterate lazily (stopping early stops paging), mapping the package's errors."""
    try:
        yield from api.results(query)
    except arxiv.UnexpectedEmptyPageError:
        # arXiv sometimes ends a listing with an empty page; what came before is valid.
        return
    except arxiv.ArxivError as e:
        raise NetworkError(f"The arXiv API failed: {e.message} — try again later") from e
    except ValueError as e:  # the package's parser on something our checks let through
        raise NetworkError(
            f"The arXiv API sent an entry it cannot read ({e}) — try again later"
        ) from e


def fetch_metadata(
    client: ArxivClient, ids: Iterable[ArxivId]
) -> dict[str, PaperMeta | ServerError]:
    """Look up several papers in one ``id_list`` call (100 per call); keyed by base id.

    Ids arXiv does not know are simply absent from the result. When the answer held
    entries that are no usable paper, the ids it then lacks map to a ``ServerError``
    (arXiv's fault, exit 5): the user's id may be fine.
    """
    wanted = list(dict.fromkeys(ids))
    found: dict[str, PaperMeta | ServerError] = {}
    for start in range(0, len(wanted), 100):
        batch = wanted[start : start + 100]
        query = arxiv.Search(id_list=[str(i) for i in batch], max_results=len(batch))
        api, transport = _api(client, len(batch))
        for result in _results(api, query):
            meta = PaperMeta.from_result(result)
            found.setdefault(meta.arxiv_id, meta)
        dropped = transport.dropped
        for aid in batch:
            if dropped and aid.base not in found:
                found[aid.base] = ServerError(
                    f"arXiv's answer for {aid} held no usable entry ({dropped[0]}) — try "
                    "again later"
                )
    return found


_FIELD_RE = re.compile(r"^(ti|au|abs|co|jr|cat|rn|id|all|submittedDate):", re.IGNORECASE)


def build_query(terms: Sequence[str], categories: Sequence[str], since: date | None) -> str:
    """The API ``search_query``: all terms (AND), any category (OR), submitted since."""
    parts: list[str] = []
    for term in terms:
        term = one_line(term.replace('"', " "))
        if not term:
            continue
        if _FIELD_RE.match(term):
            parts.append(term)  # the user wrote arXiv query syntax (au:hinton): keep it
        elif " " in term:
            parts.append(f'all:"{term}"')
        else:
            parts.append(f"all:{term}")
    cats = check_categories(categories)
    if cats:
        joined = " OR ".join(f"cat:{c}" for c in cats)
        parts.append(f"({joined})" if len(cats) > 1 else joined)
    if since:
        until = datetime.now(UTC).date() + timedelta(days=1)
        parts.append(f"submittedDate:[{since:%Y%m%d}0000 TO {until:%Y%m%d}0000]")
    return " AND ".join(parts)


def search(
    client: ArxivClient,
    terms: Sequence[str],
    filters: Filters,
    since: date | None = None,
    max_results: int = 20,
    sort: Sort = "submitted",
    seen: Container[str] | None = None,
) -> list[PaperMeta]:
    """Search arXiv; return up to ``max_results`` papers matching ``filters``.

    With ``seen`` (ids listed before), those papers are left out and (sorted by submission
    date, newest first) paging stops at the first one of them. Nothing is written here:
    ``sources.listing`` remembers what was listed.
    """
    if max_results < 1:
        raise UsageError(f"--max must be at least 1, got {max_results}")
    query = build_query(terms, filters.categories, since)
    if not query:
        raise UsageError("Nothing to search for — give search terms or --category")

    only_new = seen is not None
    filtering = bool(filters.include or filters.exclude or since) or (
        only_new and sort != "submitted"
    )
    scan_limit = min(max(max_results * 10, 200), 2000) if filtering else max_results
    page_size = min(100 if filtering else max_results, 2000)
    criterion = (
        arxiv.SortCriterion.SubmittedDate if sort == "submitted" else arxiv.SortCriterion.Relevance
    )
    request = arxiv.Search(query=query, max_results=scan_limit, sort_by=criterion)

    papers: list[PaperMeta] = []
    listed: set[str] = set()
    for result in _results(_api(client, page_size)[0], request):
        meta = PaperMeta.from_result(result)
        if seen is not None and meta.arxiv_id in seen:
            if sort == "submitted":
                break  # newest first: everything below was listed before
            continue
        if meta.arxiv_id in listed or not filters.keeps(meta):
            continue
        if since and meta.published and meta.published.date() < since:
            continue
        papers.append(meta)
        listed.add(meta.arxiv_id)
        if len(papers) >= max_results:
            break
    return papers
