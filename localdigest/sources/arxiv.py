"""arXiv: ids, one polite HTTP client, search, the daily listing feed and paper metadata.

Politeness is the point of this module (arXiv asks for it and blocks clients that ignore it):

* one ``ArxivClient`` per process (``get_client()``) with one ``requests.Session`` and a
  descriptive User-Agent;
* at least ``arxiv_delay`` seconds (default 3) between any two requests it sends;
* 429/5xx, read time-outs and dropped connections are retried with exponential back-off,
  honouring ``Retry-After`` up to ``max_retry_after``, within ``max_total`` seconds; a refused
  connection, a failed DNS look-up or a connect time-out (the network is off) fails after one
  quick retry, so an offline run ends in about a second (at most two connect time-outs);
* id look-ups are batched into one ``id_list`` call.

The ``arxiv`` package builds the API queries, pages through results and parses both the 2016
and the 2026 Atom formats; this module only gives it a polite transport and turns its results
into ``PaperMeta``. The daily listing (``today``) comes from the RSS/Atom feed, which the
``arxiv`` package does not read, so it is parsed here.
"""

from __future__ import annotations

import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import arxiv
import requests

from localdigest import __version__, config
from localdigest.errors import InputError, NetworkError, UsageError

PROJECT_URL = "https://github.com/localdigest/localdigest"
USER_AGENT = f"localdigest/{__version__} (+{PROJECT_URL}; offline paper digests)"

Sort = Literal["submitted", "relevance"]

# ---------------------------------------------------------------------------------------------
# Identifiers
# ---------------------------------------------------------------------------------------------

# New-style ids (April 2007 on): YYMM.NNNN until 2014, YYMM.NNNNN from 2015.
_NEW_ID = r"(?P<yy>\d{2})(?P<mm>\d{2})\.(?P<num>\d{4,5})"
# Old-style ids: archive[.SUBJECT-CLASS]/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136.
_OLD_ID = r"(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.(?P<subj>[A-Z]{2}))?/(?P<omm>\d{4})(?P<onum>\d{3})"
_BASE_ID = rf"(?:{_NEW_ID}|{_OLD_ID})"
_VERSIONED = rf"(?P<base>{_BASE_ID})(?:v(?P<version>[1-9]\d{{0,3}}))?"
_ID_RE = re.compile(rf"(?:arxiv:)?{_VERSIONED}", re.IGNORECASE)
_URL_RE = re.compile(
    rf"(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/{_VERSIONED}(?:\.pdf)?/?"
    r"(?:[?#].*)?",
    re.IGNORECASE,
)
_BASE_ONLY_RE = re.compile(_BASE_ID)
_EXAMPLE = "use e.g. 2405.04434 or https://arxiv.org/abs/2405.04434"


@dataclass(frozen=True, order=True)
class ArxivId:
    """An arXiv identifier: the base id (``2405.04434``, ``hep-th/9901001``) and a version."""

    base: str
    version: int | None = None

    def __post_init__(self) -> None:
        # Validating here too means no ArxivId can carry "..", a backslash or an absolute path
        # into a file name, however it was built.
        if not _BASE_ONLY_RE.fullmatch(self.base) or not _valid_numbers(self.base):
            raise ValueError(f"not an arXiv base id: {self.base!r}")
        if self.version is not None and self.version < 1:
            raise ValueError(f"arXiv versions start at 1, got {self.version}")

    def __str__(self) -> str:
        return self.base if self.version is None else f"{self.base}v{self.version}"

    @property
    def safe_name(self) -> str:
        """A single path component for this paper: old-style ids lose their "/"."""
        return self.base.replace("/", "_")

    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self}"

    def pdf_url(self, base_url: str | None = None) -> str:
        """The PDF's URL under ``base_url`` (default: the configured ``arxiv_pdf``)."""
        root = (base_url or config.value("arxiv_pdf")).rstrip("/")
        return f"{root}/{self}"


def _valid_numbers(base: str) -> bool:
    """Month 01-12, and the 4/5-digit serial number that matches the year."""
    new = re.fullmatch(_NEW_ID, base)
    if new:
        yymm = int(new["yy"] + new["mm"])
        if not 1 <= int(new["mm"]) <= 12 or yymm < 704:
            return False
        return len(new["num"]) == (4 if yymm < 1501 else 5)
    old = re.fullmatch(_OLD_ID, base)
    return bool(old) and 1 <= int(old["omm"][2:]) <= 12


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse an arXiv id or abs/pdf URL; raise ``InputError`` for anything else.

    Accepted: ``2405.04434``, ``2405.04434v2``, ``arXiv:2405.04434``, ``hep-th/9901001``,
    ``math.GT/0309136``, ``https://arxiv.org/abs/2405.04434v2``,
    ``http://arxiv.org/pdf/2405.04434.pdf``, the same on ``export.arxiv.org``.
    """
    cleaned = text.strip()
    match = _URL_RE.fullmatch(cleaned) or _ID_RE.fullmatch(cleaned)
    if match:
        base = match["base"]
        if base[0].isalpha():  # old-style: archive names are lower case, subject class upper
            archive, _, rest = base.partition("/")
            name, dot, subj = archive.partition(".")
            base = f"{name.lower()}{dot}{subj.upper()}/{rest}"
        version = int(match["version"]) if match["version"] else None
        try:
            return ArxivId(base, version)
        except ValueError:
            pass
    raise InputError(f"{text!r} is not an arXiv id or URL — {_EXAMPLE}")


def looks_like_arxiv(text: str) -> bool:
    """True if ``text`` is meant as an arXiv reference rather than a file path.

    That is a valid id or URL, and also anything that starts with ``arXiv:`` or is an
    arxiv.org URL, so that a mistyped one gets the arXiv error instead of "no such file".
    """
    cleaned = text.strip()
    try:
        parse_arxiv_id(cleaned)
        return True
    except InputError:
        pass
    lowered = cleaned.lower()
    return lowered.startswith("arxiv:") or bool(
        re.match(r"(?:https?://)?(?:www\.|export\.)?arxiv\.org/", lowered)
    )


# ---------------------------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperMeta:
    """What localdigest knows about one paper, whichever feed it came from."""

    arxiv_id: str  # base id, no version: the key for de-duplication
    version: int | None
    title: str
    authors: tuple[str, ...]
    abstract: str
    categories: tuple[str, ...]
    primary_category: str
    published: datetime | None
    updated: datetime | None
    abs_url: str
    pdf_url: str
    doi: str | None = None
    comment: str | None = None
    journal_ref: str | None = None
    announce_type: str | None = None  # only from the daily feed: new / cross / replace

    @property
    def id(self) -> ArxivId:
        return ArxivId(self.arxiv_id, self.version)

    @property
    def versioned_id(self) -> str:
        return str(self.id)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["authors"] = list(self.authors)
        data["categories"] = list(self.categories)
        for key in ("published", "updated"):
            value = data[key]
            data[key] = value.isoformat() if value else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PaperMeta:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        values["authors"] = tuple(values.get("authors") or ())
        values["categories"] = tuple(values.get("categories") or ())
        for key in ("published", "updated"):
            raw = values.get(key)
            values[key] = datetime.fromisoformat(raw) if raw else None
        return cls(**values)

    @classmethod
    def from_result(cls, result: arxiv.Result) -> PaperMeta:
        """Convert one ``arxiv.Result`` (2016 or 2026 API format)."""
        aid = parse_arxiv_id(result.entry_id)
        return cls(
            arxiv_id=aid.base,
            version=aid.version,
            title=_clean(result.title),
            authors=tuple(_clean(a.name) for a in result.authors),
            # 2016 abstracts are hard-wrapped at 80 columns and start with two spaces.
            abstract=_clean(result.summary),
            categories=tuple(result.categories),
            primary_category=result.primary_category
            or (result.categories[0] if result.categories else ""),
            published=result.published,
            updated=result.updated,
            # Canonical https links: the 2016 format gives http://.
            abs_url=aid.abs_url,
            pdf_url=f"https://arxiv.org/pdf/{aid}",
            doi=result.doi or None,
            comment=_clean(result.comment) if result.comment else None,
            journal_ref=_clean(result.journal_ref) if result.journal_ref else None,
        )


def _one_line(text: str) -> str:
    return " ".join(text.split())


# "Ã" + a continuation byte read as Latin-1: UTF-8 text decoded twice ("RamÃ­rez"), as in
# the recorded 2026 API response. Such pairs practically never occur in real text.
_MOJIBAKE_RE = re.compile("[\u00c2-\u00f4][\u0080-\u00bf]")


def _clean(text: str) -> str:
    """One line, with doubly-decoded UTF-8 repaired when the whole text allows it."""
    text = _one_line(text)
    if _MOJIBAKE_RE.search(text):
        try:
            return text.encode("latin-1").decode("utf-8")
        except UnicodeError:
            pass  # not mojibake after all (or mixed with other characters): keep it
    return text


def matches_filters(meta: PaperMeta, include: Sequence[str], exclude: Sequence[str]) -> bool:
    """Case-insensitive phrase filters over title + abstract: any include, no exclude."""
    haystack = f"{meta.title} {meta.abstract}".casefold()
    phrases = [_one_line(p).casefold() for p in include if p.strip()]
    if phrases and not any(p in haystack for p in phrases):
        return False
    return not any(_one_line(p).casefold() in haystack for p in exclude if p.strip())


# ---------------------------------------------------------------------------------------------
# The polite client
# ---------------------------------------------------------------------------------------------

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _is_offline(error: requests.ConnectionError) -> bool:
    """Connection refused or DNS failure: urllib3 reports both as NewConnectionError."""
    from urllib3.exceptions import NewConnectionError

    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        exc = todo.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        if isinstance(exc, NewConnectionError):
            return True
        todo.extend([getattr(exc, "reason", None), exc.__cause__, exc.__context__])
        todo.extend(a for a in exc.args if isinstance(a, BaseException))
    return False


def _retry_after(response: requests.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class ArxivClient:
    """One session, one rate limit, one retry policy for every request sent to arXiv.

    Endpoints and the delay are read from the configuration on every call, so the client can
    live for the whole process. The class attributes are the policy; tests shrink them.
    """

    max_attempts = 5
    backoff_base = 2.0  # seconds; doubles on each retry
    max_retry_after = 30.0  # never wait longer than this on one Retry-After
    max_total = 90.0  # give up when retrying would take longer than this in all
    offline_attempts = 2  # connection refused / DNS failure: one quick retry only
    connect_timeout = 10.0
    read_timeout = 30.0

    def __init__(self, session: requests.Session | None = None) -> None:
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self._lock = threading.Lock()
        self._last_request: float | None = None

    def _wait_turn(self) -> None:
        delay = float(config.value("arxiv_delay"))
        if self._last_request is not None:
            remaining = self._last_request + delay - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)

    def get(self, url: str, *, stream: bool = False, what: str = "arXiv") -> requests.Response:
        """GET ``url`` politely; return the response unless its status is worth a retry.

        Raises ``NetworkError`` once retrying stops making sense. ``what`` names the request
        in messages ("the arXiv API", "the PDF of 2405.04434").
        """
        started = time.monotonic()
        host = _host(url)
        attempt = 0
        while True:
            attempt += 1
            response, problem, wait = self._attempt(url, stream, host, attempt)
            if response is not None:
                return response
            if attempt >= self.max_attempts or time.monotonic() - started + wait > self.max_total:
                raise NetworkError(
                    f"{host} {problem} for {what} ({attempt} tries) — arXiv may be busy or "
                    "down; try again in a few minutes"
                )
            time.sleep(wait)

    def _attempt(
        self, url: str, stream: bool, host: str, attempt: int
    ) -> tuple[requests.Response | None, str, float]:
        """One paced request: (response, "", 0) when done, else (None, problem, wait)."""
        with self._lock:
            self._wait_turn()
            try:
                response = self.session.get(
                    url,
                    stream=stream,
                    timeout=(self.connect_timeout, self.read_timeout),
                    headers={"User-Agent": USER_AGENT},
                )
            except requests.ConnectionError as e:  # includes ConnectTimeout
                if not (isinstance(e, requests.ConnectTimeout) or _is_offline(e)):
                    self._last_request = time.monotonic()
                    return None, "dropped the connection", self._backoff(attempt)
                # Nothing reached arXiv, so no pacing is owed: retry once, soon, then stop.
                if attempt >= self.offline_attempts:
                    why = "timed out" if isinstance(e, requests.Timeout) else "refused or no DNS"
                    raise NetworkError(
                        f"Cannot reach {host} (connection {why}) — check your network; "
                        "papers already fetched still work offline"
                    ) from e
                return None, "is unreachable", min(0.5, self.backoff_base)
            except requests.Timeout:  # the read timed out: arXiv is there but slow
                self._last_request = time.monotonic()
                return None, "timed out", self._backoff(attempt)
            self._last_request = time.monotonic()
        if response.status_code not in RETRY_STATUSES:
            return response, "", 0.0
        hinted = _retry_after(response)
        response.close()
        wait = self._backoff(attempt) if hinted is None else min(hinted, self.max_retry_after)
        return None, f"answered HTTP {response.status_code}", wait

    def _backoff(self, attempt: int) -> float:
        return self.backoff_base * 2 ** (attempt - 1)


_client: ArxivClient | None = None
_client_lock = threading.Lock()


def get_client() -> ArxivClient:
    """The process-wide client (one session, one rate limit)."""
    global _client
    with _client_lock:
        if _client is None:
            _client = ArxivClient()
        return _client


# ---------------------------------------------------------------------------------------------
# The API, through the arxiv package
# ---------------------------------------------------------------------------------------------

_ATOM = "{http://www.w3.org/2005/Atom}"


def _api_error_text(body: bytes) -> str | None:
    """The message of arXiv's error feed (one entry titled "Error"), if this is one."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    for entry in root.iter(f"{_ATOM}entry"):
        title = (entry.findtext(f"{_ATOM}title") or "").strip()
        entry_id = entry.findtext(f"{_ATOM}id") or ""
        # A paper could be titled "Error"; only the error entry lacks <published>.
        is_paper = entry.find(f"{_ATOM}published") is not None
        if "/api/errors" in entry_id or (title == "Error" and not is_paper):
            return _one_line(entry.findtext(f"{_ATOM}summary") or title)
    return None


class _ApiTransport:
    """Stands in for the ``requests.Session`` of ``arxiv.Client``: every API call goes
    through the polite client and comes back as a checked Atom feed, or raises."""

    def __init__(self, client: ArxivClient) -> None:
        self._client = client

    def get(self, url: str, **_ignored: Any) -> requests.Response:
        response = self._client.get(url, what="the arXiv API")
        body = response.content
        error = _api_error_text(body) if b"Error" in body else None
        if error:
            raise NetworkError(f"arXiv rejected the query: {error} — check the terms or ids")
        if response.status_code != 200:
            raise NetworkError(
                f"The arXiv API answered HTTP {response.status_code} — try again later"
            )
        if b"<feed" not in body[:4096]:
            # arxiv.Client would read a captive portal or proxy page as "no results".
            raise NetworkError(
                f"{_host(url)} did not answer with an arXiv feed — check "
                f"LOCALDIGEST_ARXIV_API / arxiv_api ({config.value('arxiv_api')})"
            )
        return response


def _api(page_size: int) -> arxiv.Client:
    # The package's own pacing and retries are off: our transport does both, with back-off
    # and Retry-After, which arxiv.Client lacks.
    api = arxiv.Client(page_size=page_size, delay_seconds=0.0, num_retries=0)
    endpoint = str(config.value("arxiv_api")).replace("{", "{{").replace("}", "}}")
    api.query_url_format = endpoint + "?{}"
    api._session = _ApiTransport(get_client())  # type: ignore[assignment]  # duck-typed
    return api


def _results(api: arxiv.Client, query: arxiv.Search) -> Iterator[arxiv.Result]:
    """Iterate lazily (stopping early stops paging), mapping the package's errors."""
    try:
        yield from api.results(query)
    except arxiv.UnexpectedEmptyPageError:
        # arXiv sometimes ends a listing with an empty page; what came before is valid.
        return
    except arxiv.ArxivError as e:
        raise NetworkError(f"The arXiv API failed: {e.message} — try again later") from e


def fetch_metadata(ids: Iterable[ArxivId]) -> dict[str, PaperMeta]:
    """Look up several papers in one ``id_list`` call (100 per call); keyed by base id.

    Ids arXiv does not know are simply absent from the result.
    """
    wanted = list(dict.fromkeys(ids))
    found: dict[str, PaperMeta] = {}
    for start in range(0, len(wanted), 100):
        batch = wanted[start : start + 100]
        query = arxiv.Search(id_list=[str(i) for i in batch], max_results=len(batch))
        for result in _results(_api(len(batch)), query):
            meta = PaperMeta.from_result(result)
            found.setdefault(meta.arxiv_id, meta)
    return found


_FIELD_RE = re.compile(r"^(ti|au|abs|co|jr|cat|rn|id|all|submittedDate):", re.IGNORECASE)
_CATEGORY_RE = re.compile(r"[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?")


def check_categories(categories: Sequence[str]) -> list[str]:
    for cat in categories:
        if not _CATEGORY_RE.fullmatch(cat):
            raise UsageError(f"{cat!r} is not an arXiv category — use e.g. cs.CL or stat.ML")
    return list(dict.fromkeys(categories))


def build_query(terms: Sequence[str], categories: Sequence[str], since: date | None) -> str:
    """The API ``search_query``: all terms (AND), any category (OR), submitted since."""
    parts: list[str] = []
    for term in terms:
        term = _one_line(term.replace('"', " "))
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
    terms: Sequence[str] = (),
    categories: Sequence[str] | None = None,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    since: date | None = None,
    only_new: bool = False,
    max_results: int = 20,
    sort: Sort = "submitted",
) -> list[PaperMeta]:
    """Search arXiv; return up to ``max_results`` papers and remember them as seen.

    ``categories``/``include``/``exclude`` default to the configuration. ``include`` and
    ``exclude`` are case-insensitive phrases matched against title + abstract. With
    ``only_new``, papers listed by an earlier search or ``today`` are left out, and (sorted
    by submission date, newest first) paging stops at the first one already seen.
    """
    from localdigest import library  # library imports this module; import late

    if max_results < 1:
        raise UsageError(f"--max must be at least 1, got {max_results}")
    cats = list(config.value("categories") if categories is None else categories)
    include = list(config.value("include") if include is None else include)
    exclude = list(config.value("exclude") if exclude is None else exclude)
    query = build_query(terms, cats, since)
    if not query:
        raise UsageError("Nothing to search for — give search terms or --category")

    filtering = bool(include or exclude or since) or (only_new and sort != "submitted")
    scan_limit = min(max(max_results * 10, 200), 2000) if filtering else max_results
    page_size = min(100 if filtering else max_results, 2000)
    criterion = (
        arxiv.SortCriterion.SubmittedDate if sort == "submitted" else arxiv.SortCriterion.Relevance
    )
    request = arxiv.Search(query=query, max_results=scan_limit, sort_by=criterion)

    seen = library.seen_store()
    papers: list[PaperMeta] = []
    listed: set[str] = set()
    for result in _results(_api(page_size), request):
        meta = PaperMeta.from_result(result)
        if only_new and meta.arxiv_id in seen:
            if sort == "submitted":
                break  # newest first: everything below was listed before
            continue
        if meta.arxiv_id in listed or not matches_filters(meta, include, exclude):
            continue
        if since and meta.published and meta.published.date() < since:
            continue
        papers.append(meta)
        listed.add(meta.arxiv_id)
        if len(papers) >= max_results:
            break
    seen.add(p.arxiv_id for p in papers)
    return papers


# ---------------------------------------------------------------------------------------------
# The daily listing (RSS/Atom feed)
# ---------------------------------------------------------------------------------------------

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
    if root.tag != f"{_ATOM}feed":
        raise NetworkError(f"arXiv's listing for {category} is not an Atom feed — check arxiv_rss")
    papers = []
    for entry in root.iter(f"{_ATOM}entry"):
        meta = _listing_entry(entry)
        if meta is not None:
            papers.append(meta)
    return papers


def _listing_entry(entry: ET.Element) -> PaperMeta | None:
    raw_id = (entry.findtext(f"{_ATOM}id") or "").strip()
    try:
        aid = parse_arxiv_id(raw_id.removeprefix("oai:arXiv.org:"))
    except InputError:
        return None
    cats = tuple(c.get("term", "") for c in entry.iter(f"{_ATOM}category") if c.get("term"))
    creators = entry.findtext(f"{_DC_NS}creator") or ""
    authors = tuple(a for a in (_one_line(x) for x in creators.split(",")) if a)
    summary = _ANNOUNCE_RE.sub("", (entry.findtext(f"{_ATOM}summary") or "").strip())

    def when(tag: str) -> datetime | None:
        raw = entry.findtext(f"{_ATOM}{tag}")
        try:
            return datetime.fromisoformat(raw.strip()) if raw else None
        except ValueError:
            return None

    return PaperMeta(
        arxiv_id=aid.base,
        version=aid.version,
        title=_one_line(entry.findtext(f"{_ATOM}title") or ""),
        authors=authors,
        abstract=_one_line(summary),
        categories=cats,
        primary_category=cats[0] if cats else "",
        published=when("published"),
        updated=when("updated"),
        abs_url=aid.abs_url,
        pdf_url=f"https://arxiv.org/pdf/{aid}",
        announce_type=(entry.findtext(f"{_ARXIV_NS}announce_type") or "").strip() or None,
    )


def today(
    categories: Sequence[str] | None = None,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
    only_new: bool = False,
    max_results: int | None = None,
) -> list[PaperMeta]:
    """Today's announcements in ``categories`` (default: configured), new and cross-listed.

    Replacements (new versions of older papers) are left out. One feed request per category;
    papers listed in several categories appear once. Listed papers are remembered as seen.
    """
    from localdigest import library  # library imports this module; import late

    cats = check_categories(list(config.value("categories") if categories is None else categories))
    if not cats:
        raise UsageError("--today needs at least one category — pass -c cs.CL")
    include = list(config.value("include") if include is None else include)
    exclude = list(config.value("exclude") if exclude is None else exclude)
    client = get_client()
    root = str(config.value("arxiv_rss")).rstrip("/")
    seen = library.seen_store()
    papers: list[PaperMeta] = []
    listed: set[str] = set()
    for cat in cats:
        response = client.get(f"{root}/{cat}", what=f"the {cat} listing")
        if response.status_code == 404:
            raise UsageError(f"arXiv has no listing feed for {cat!r} — check the category name")
        if response.status_code != 200:
            raise NetworkError(
                f"arXiv's listing feed for {cat} answered HTTP {response.status_code} — "
                "try again later"
            )
        for meta in parse_listing_feed(response.content, cat):
            if meta.announce_type and meta.announce_type.startswith("replace"):
                continue
            if meta.arxiv_id in listed or (only_new and meta.arxiv_id in seen):
                continue
            if not matches_filters(meta, include, exclude):
                continue
            papers.append(meta)
            listed.add(meta.arxiv_id)
    if max_results is not None:
        papers = papers[:max_results]
    seen.add(p.arxiv_id for p in papers)
    return papers
