"""A real HTTP server on 127.0.0.1 that plays arXiv from the recorded corpus, with faults.

Routes (the tool is pointed here with LOCALDIGEST_ARXIV_API / _PDF / _RSS):

* ``/api/query``: ``id_list=abc`` (or a search for abc) -> the recorded HTTP 400 error feed;
  ``id_list=1111.2011v2`` -> the recorded 2016 response, byte for byte; other id lists -> the
  recorded entries with those ids (from the 2016 and 2026 files) in one feed, or the recorded
  empty result when none is known; a ``search_query`` -> the recorded 2026 search page at
  start=0 and the recorded empty result after it.
* ``/pdf/<id>``: the corpus PDF of that id, or the smallest corpus PDF as a stand-in for ids
  the corpus lacks.
* ``/rss/<category>``: the file in ``server.rss[category]`` (cs.AI -> the 86-entry feed).

Faults are queued with ``fail_next`` (503/429, optional Retry-After), ``truncate_next`` (a
larger Content-Length than the body), ``html_next`` (a web page where a PDF belongs),
``slow_next`` (the body in small pieces with pauses, to watch a progress bar), ``body_next``
(these bytes instead of the answer, with a matching Content-Length) and ``drip_next`` (the
right headers, then the body one byte per ``interval`` seconds). Every
request is recorded with its path, query, headers and arrival time.

Test modules import ``arxiv_server_fixture`` (registered as the ``arxiv_server`` fixture).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from localdigest.sources.arxiv.client import POLICY, ArxivClient, Endpoints

FEED_HEAD = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
    'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
    "  <id>https://arxiv.org/api/fake</id>\n"
    "  <title>arXiv Query: id_list={ids}</title>\n"
    "  <updated>2026-04-12T22:09:26Z</updated>\n"
    "  <opensearch:itemsPerPage>{n}</opensearch:itemsPerPage>\n"
    "  <opensearch:totalResults>{n}</opensearch:totalResults>\n"
    "  <opensearch:startIndex>0</opensearch:startIndex>\n"
)
HTML_PAGE = b"<!DOCTYPE html><html><head><title>arXiv</title></head><body>Sorry</body></html>"
STAND_IN_PDF = "1503.02531.pdf"


@dataclass
class Recorded:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival


@dataclass
class Fault:
    kind: str  # "status", "truncate", "html", "body", "drip"
    remaining: int
    prefix: str
    status: int = 503
    retry_after: str | None = None
    body: bytes = b""
    interval: float = 1.0
    delay: float = 0.0


@dataclass
class FakeArxiv:
    corpus: Path
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    rss: dict[str, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        api = self.corpus / "arxiv-api"
        self.search_page = (api / "api-2026-search-testing-start0-max10.xml").read_bytes()
        self.id_2016 = (api / "api-2016-id_list-1111.2011v2.xml").read_bytes()
        self.empty = (api / "api-2026-id_list-0000.0000-empty.xml").read_bytes()
        self.error400 = (api / "api-2026-id_list-abc-error400.xml").read_bytes()
        self.rss = {"cs.AI": api / "rss-atom-cs.AI-2025-08-20.86entries.xml"}
        self.truncated_rss = api / "rss-atom-cs.AI-2025-08-20.truncated.xml"
        self.entries: dict[str, str] = {}
        for body in (self.id_2016, self.search_page):
            for entry in re.findall(r"<entry>.*?</entry>", body.decode(), re.DOTALL):
                base = re.search(r"<id>https?://arxiv\.org/abs/(.+?)(?:v\d+)?</id>", entry)
                assert base, entry[:200]
                self.entries[base[1]] = entry

    @cached_property
    def client(self) -> ArxivClient:
        """A client of this server, as ``workflows.arxiv`` makes one for the commands, with
        no delay and back-offs of 0.05 s instead of 2 s."""
        return ArxivClient(
            Endpoints(
                api=f"{self.url}/api/query",
                pdf=f"{self.url}/pdf",
                rss=f"{self.url}/rss",
                delay=0.0,
                policy=replace(POLICY, backoff=0.05),
            )
        )

    # -- scripting -------------------------------------------------------------------------

    def fail_next(
        self, n: int = 1, status: int = 503, retry_after: str | None = None, prefix: str = "/"
    ) -> None:
        self.faults.append(Fault("status", n, prefix, status, retry_after))

    def truncate_next(self, n: int = 1, prefix: str = "/pdf") -> None:
        self.faults.append(Fault("truncate", n, prefix))

    def html_next(self, n: int = 1, prefix: str = "/pdf") -> None:
        self.faults.append(Fault("html", n, prefix))

    def body_next(self, body: bytes, n: int = 1, prefix: str = "/api") -> None:
        self.faults.append(Fault("body", n, prefix, body=body))

    def drip_next(self, n: int = 1, prefix: str = "/api", interval: float = 1.0) -> None:
        self.faults.append(Fault("drip", n, prefix, interval=interval))

    def slow_next(self, n: int = 1, prefix: str = "/pdf", seconds: float = 1.0) -> None:
        """Send the next bodies in 16 pieces over about ``seconds``."""
        self.faults.append(Fault("slow", n, prefix, delay=seconds / 16))

    def to(self, prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    @property
    def search_ids(self) -> list[str]:
        """The versioned ids of the recorded 2026 search page, in order."""
        return re.findall(r"<id>http://arxiv\.org/abs/(.+?)</id>", self.search_page.decode())

    # -- routing ---------------------------------------------------------------------------

    def take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.remaining > 0 and path.startswith(fault.prefix):
                fault.remaining -= 1
                return fault
        return None

    def route(self, path: str, query: dict[str, str]) -> tuple[int, str, bytes]:
        if path == "/api/query":
            return self.api(query)
        if path.startswith("/pdf/"):
            return 200, "application/pdf", self.pdf(path.removeprefix("/pdf/"))
        if path.startswith("/rss/"):
            feed = self.rss.get(path.removeprefix("/rss/"))
            if feed is None:
                return 404, "text/plain", b"no such feed"
            return 200, "application/atom+xml", feed.read_bytes()
        return 404, "text/plain", b"not found"

    def api(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        atom = "application/atom+xml; charset=utf-8"
        ids = [i for i in query.get("id_list", "").split(",") if i]
        if "abc" in ids or "all:abc" in query.get("search_query", ""):
            return 400, atom, self.error400
        if ids:
            if ids in (["1111.2011v2"], ["1111.2011"]):
                return 200, atom, self.id_2016
            found = [
                self.entries[b] for b in (re.sub(r"v\d+$", "", i) for i in ids) if b in self.entries
            ]
            if not found:
                return 200, atom, self.empty
            head = FEED_HEAD.format(ids=",".join(ids), n=len(found))
            return 200, atom, (head + "\n".join(found) + "\n</feed>\n").encode()
        if int(query.get("start", "0")) == 0:
            return 200, atom, self.search_page
        return 200, atom, self.empty

    def pdf(self, paper: str) -> bytes:
        pdfs = self.corpus / "pdfs"
        base = re.sub(r"v\d+$", "", paper)
        for name in (f"{paper}.pdf", f"{base}.pdf"):
            if "/" not in name and (pdfs / name).is_file():
                return (pdfs / name).read_bytes()
        return (pdfs / STAND_IN_PDF).read_bytes()


def _handler(fake: FakeArxiv) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            fake.requests.append(Recorded(path, query, dict(self.headers), time.monotonic()))
            fault = fake.take_fault(path)
            if fault and fault.kind == "status":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return self.send(fault.status, "text/plain", b"busy", headers)
            if fault and fault.kind == "html":
                return self.send(200, "text/html; charset=utf-8", HTML_PAGE)
            if fault and fault.kind == "body":
                return self.send(200, "application/atom+xml", fault.body)
            status, ctype, body = fake.route(path, query)
            if fault and fault.kind == "truncate":
                return self.send(status, ctype, body[: len(body) // 2], length=len(body))
            if fault and fault.kind == "drip":
                return self.drip(status, ctype, body, fault.interval)
            if fault and fault.kind == "slow":
                return self.send(status, ctype, body, delay=fault.delay)
            self.send(status, ctype, body)

        def drip(self, status: int, ctype: str, body: bytes, interval: float) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(interval)
            except OSError:
                pass  # the client gave up: that is the point

        def send(
            self,
            status: int,
            ctype: str,
            body: bytes,
            headers: dict[str, str] | None = None,
            length: int | None = None,
            delay: float = 0.0,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if not delay:
                self.wfile.write(body)
                return
            piece = max(1, len(body) // 16)
            for start in range(0, len(body), piece):
                self.wfile.write(body[start : start + piece])
                self.wfile.flush()
                time.sleep(delay)

    return Handler


@pytest.fixture(name="arxiv_server")
def arxiv_server_fixture(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArxiv]:
    """The fake arXiv, running; the commands' settings point at it, with no delay."""
    fake = FakeArxiv(corpus)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("LOCALDIGEST_ARXIV_API", f"{fake.url}/api/query")
    monkeypatch.setenv("LOCALDIGEST_ARXIV_PDF", f"{fake.url}/pdf")
    monkeypatch.setenv("LOCALDIGEST_ARXIV_RSS", f"{fake.url}/rss")
    monkeypatch.setenv("LOCALDIGEST_ARXIV_DELAY", "0")
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
