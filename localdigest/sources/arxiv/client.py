"""One polite HTTP client for everything sent to arXiv.

Politeness is the point (arXiv asks for it and blocks clients that ignore it):

* one ``ArxivClient`` per process (``get_client()``) with one ``requests.Session`` and a
  descriptive User-Agent;
* at least ``arxiv_delay`` seconds (default 3) between any two requests it sends;
* 429/5xx, read time-outs and dropped connections are retried with exponential back-off,
  honouring ``Retry-After`` up to ``max_retry_after``, within ``max_total`` seconds; a refused
  connection, a failed DNS look-up or a connect time-out (the network is off) fails after one
  quick retry, so an offline run ends in about a second (at most two connect time-outs);
* every request has an overall deadline (``deadline`` seconds for the API and the feeds,
  ``download_deadline`` for a PDF, headers and body together): a server that drips its
  answer a byte at a time cannot hold a run, since the read time-out only bounds the wait
  for each next byte. When it passes, a watchdog shuts the request's socket down and the
  request fails like a time-out (retried within ``max_total``, then exit 5).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from localdigest import __version__, config
from localdigest.errors import NetworkError

PROJECT_URL = "https://github.com/localdigest/localdigest"
USER_AGENT = f"localdigest/{__version__} (+{PROJECT_URL}; offline paper digests)"

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Endpoints:
    """Where arXiv is (settings, for tests or a mirror) and how long to wait between calls."""

    api: str
    pdf: str
    rss: str
    delay: float

    @classmethod
    def current(cls) -> Endpoints:
        """As configured now (read on every use, so one client serves the whole process)."""
        return cls(
            api=str(config.value("arxiv_api")),
            pdf=str(config.value("arxiv_pdf")),
            rss=str(config.value("arxiv_rss")).rstrip("/"),
            delay=float(config.value("arxiv_delay")),
        )


def host_of(url: str) -> str:
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


# ----------------------------------------------------------------------------- deadlines


class _Watchdog:
    """Shuts down the sockets of one request when its deadline passes (see the module
    docstring); ``fired`` says whether it did."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._lock = threading.Lock()
        self._done = False
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def start(self) -> _Watchdog:
        self._timer.start()
        return self

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
        if self.fired:  # the deadline passed while connecting
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()


_current = threading.local()  # the watchdog of the request this thread is sending


def _watched(connection: HTTPConnection) -> None:
    """Hand the connection's socket to the watchdog of this thread's request. (The socket,
    not the connection: http.client lets go of ``sock`` when a response will close it.)"""
    watchdog: _Watchdog | None = getattr(_current, "watchdog", None)
    if watchdog is not None:
        watchdog.watch(connection.sock)


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _watched(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is None:
            self.connect()  # connected here rather than inside send(): watched from now on
        _watched(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _watched(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is None:
            self.connect()
        _watched(self)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter, with connections a watchdog can find."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


# ----------------------------------------------------------------------------- the client


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
    deadline = 60.0  # one API or feed request, headers and body
    download_deadline = 600.0  # one PDF download (arXiv's PDFs run to tens of MB)

    def __init__(self, session: requests.Session | None = None) -> None:
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        for prefix in ("http://", "https://"):
            self.session.mount(prefix, _WatchedAdapter())
        self._lock = threading.Lock()
        self._last_request: float | None = None

    def _wait_turn(self) -> None:
        delay = Endpoints.current().delay
        if self._last_request is not None:
            remaining = self._last_request + delay - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)

    def get(self, url: str, *, what: str = "arXiv") -> requests.Response:
        """GET ``url`` politely, its whole body read within ``deadline`` seconds; return
        the response unless its status is worth a retry.

        Raises ``NetworkError`` once retrying stops making sense. ``what`` names the request
        in messages ("the arXiv API", "the PDF of 2405.04434").
        """
        response, watchdog = self._get(url, False, what, self.deadline)
        watchdog.stop()
        return response

    @contextlib.contextmanager
    def download(self, url: str, *, what: str) -> Iterator[requests.Response]:
        """GET ``url`` for streaming its body (``iter_content``) inside the block; headers
        and body must arrive within ``download_deadline`` seconds, else NetworkError."""
        response, watchdog = self._get(url, True, what, self.download_deadline)
        try:
            with response:
                yield response
        except Exception as e:
            if watchdog.fired:
                raise NetworkError(
                    f"{host_of(url)} did not send {what} within {watchdog.seconds:.0f} s "
                    "(a very slow connection or server) — try again later"
                ) from e
            raise
        finally:
            watchdog.stop()

    def _get(
        self, url: str, stream: bool, what: str, deadline: float
    ) -> tuple[requests.Response, _Watchdog]:
        started = time.monotonic()
        host = host_of(url)
        attempt = 0
        while True:
            attempt += 1
            watchdog = _Watchdog(deadline)
            try:
                response, problem, wait = self._attempt(url, stream, host, attempt, watchdog)
            except BaseException:
                watchdog.stop()
                raise
            if response is not None:
                return response, watchdog
            watchdog.stop()
            if attempt >= self.max_attempts or time.monotonic() - started + wait > self.max_total:
                raise NetworkError(
                    f"{host} {problem} for {what} ({attempt} tries) — arXiv may be busy or "
                    "down; try again in a few minutes"
                )
            time.sleep(wait)

    def _attempt(
        self, url: str, stream: bool, host: str, attempt: int, watchdog: _Watchdog
    ) -> tuple[requests.Response | None, str, float]:
        """One paced request: (response, "", 0) when done, else (None, problem, wait)."""
        with self._lock:
            self._wait_turn()
            _current.watchdog = watchdog.start()
            try:
                response = self.session.get(
                    url,
                    stream=stream,
                    timeout=(self.connect_timeout, self.read_timeout),
                    headers={"User-Agent": USER_AGENT},
                )
            except requests.RequestException as e:
                if watchdog.fired:  # the deadline passed: like a time-out
                    self._last_request = time.monotonic()
                    why = f"did not answer within {watchdog.seconds:.0f} s"
                    return None, why, self._backoff(attempt)
                if isinstance(e, requests.ConnectionError):  # includes ConnectTimeout
                    return self._connection_failed(e, host, attempt)
                if isinstance(e, requests.Timeout):  # the read timed out: there but slow
                    self._last_request = time.monotonic()
                    return None, "timed out", self._backoff(attempt)
                raise
            finally:
                _current.watchdog = None
            self._last_request = time.monotonic()
        if response.status_code not in RETRY_STATUSES:
            return response, "", 0.0
        hinted = _retry_after(response)
        response.close()
        wait = self._backoff(attempt) if hinted is None else min(hinted, self.max_retry_after)
        return None, f"answered HTTP {response.status_code}", wait

    def _connection_failed(
        self, e: requests.ConnectionError, host: str, attempt: int
    ) -> tuple[None, str, float]:
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

    def _backoff(self, attempt: int) -> float:
        return float(self.backoff_base * 2 ** (attempt - 1))


_client: ArxivClient | None = None
_client_lock = threading.Lock()


def get_client() -> ArxivClient:
    """The process-wide client (one session, one rate limit)."""
    global _client
    with _client_lock:
        if _client is None:
            _client = ArxivClient()
        return _client
