"""One HTTP client for everything localdigest sends: arXiv, model servers, the model hub.

httpx, asynchronous, on one event loop in a background thread (started on first use);
callers stay synchronous and wait on their request's future. That gives, without patching
any library's sockets:

* one overall deadline per request, headers and body: ``asyncio.wait_for`` cancels it and
  closes its connection, so a server that drips a byte a second cannot hold a run (httpx's
  own timeouts, like those of requests and urllib, bound each read, not the whole);
* ``cancel_all``: every request of a client stops at once (Ctrl-C, a failed run), even
  one blocked in a read on another thread;
* one connection pool shared by every calling thread (a server's parallel calls).

One retry policy (``Policy``, sized by each caller): 408, 429 and 5xx answers, time-outs
and dropped connections are retried with exponential backoff, honouring ``Retry-After`` up
to ``max_wait``, within ``attempts`` tries and ``max_total`` seconds. A refused
connection, a failed DNS look-up or a connect time-out (offline, or the server is down)
gets one quick retry, then one line (exit 5). Any other answer comes back as a ``Reply``.
A client can also pace its requests (``interval``: arXiv asks for one every 3 seconds).

Downloads (``stream``) have the same deadline, a stall timeout (the longest wait for the
next bytes) and a size cap. Redirects are followed here, hop by hop, so a credential
(``Token``) is sent to the origin it was given for and to no other, and nothing but
http(s) is followed. No message of this module holds a token; proxy settings never apply
to loopback addresses.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import math
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Coroutine, Iterator, Mapping
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin, urlsplit

from localdigest import __version__
from localdigest.errors import NetworkError, UsageError

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
USER_AGENT = f"localdigest/{__version__}"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class CallsCancelled(Exception):
    """The request was cancelled by ``cancel_all`` (the run is stopping)."""


class Cut(NetworkError):
    """A download's body stopped early (the connection closed or stalled): worth resuming."""


@dataclass(frozen=True)
class Policy:
    """How long to wait and how often to try; each caller sizes its own."""

    attempts: int = 5  # tries in all, the first included
    backoff: float = 1.0  # seconds before the first retry, doubled for each next one
    max_wait: float = 60.0  # the longest wait between two tries, Retry-After included
    max_total: float = math.inf  # no retry that would end later than this after the first try
    offline_attempts: int = 2  # refused, no DNS, connect time-out: one quick retry
    deadline: float = 60.0  # seconds for one request, headers and body
    connect: float = 10.0  # seconds to open a connection (within the deadline)
    stall: float = 30.0  # a download's longest wait for its next bytes
    max_bytes: int = 64 << 20  # the largest answer read whole (downloads: see ``stream``)


@dataclass(frozen=True)
class Token:
    """A credential, sent as ``Authorization: <scheme> <value>`` to the origin of ``url``
    only."""

    value: str
    url: str  # where it was given for: its scheme, host and port
    source: str  # where it came from, for messages ("HF_TOKEN")
    scheme: str = "Bearer"  # or "Basic" (the user and password in a server URL)


def origin(url: str) -> str:
    """Scheme, host and port: what a credential is bound to."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        return ""
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def host_of(url: str) -> str:
    """Host and port, without a user or password: how messages name a server."""
    return urlsplit(url).netloc.rpartition("@")[2] or url


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def caused_by(
    error: BaseException, kinds: type[BaseException] | tuple[type[BaseException], ...]
) -> bool:
    """Whether ``error`` or anything behind it (causes, contexts, grouped errors) is one
    of ``kinds``: httpx wraps the operating system's error two or three times."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, kinds):
            return True
        todo += [e.__cause__, e.__context__, *getattr(e, "exceptions", ())]
    return False


# ----------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Reply:
    """An answer that is not retried: its status, headers and body."""

    status: int
    content: bytes
    headers: Mapping[str, str]
    url: str  # where it came from, after redirects

    @cached_property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    @cached_property
    def data(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.content)
        except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
            return None

    def error_message(self) -> str:
        """The server's own error message (OpenAI's ``error.message``, FastAPI's ``detail``)."""
        d = self.data
        if isinstance(d, dict):
            err = d.get("error")
            if isinstance(err, dict) and err.get("message"):
                return str(err["message"])
            if isinstance(err, str):
                return err
            for key in ("detail", "message"):
                if d.get(key):
                    return str(d[key])
        return self.text.strip()[:200]


@dataclass(frozen=True)
class Opt:
    """A field that may be absent or null (see ``shape_problem``)."""

    shape: Any


MAX_INT = 2**53  # counts beyond this are nonsense (and lose precision as floats)
_NAMES = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}


def shape_problem(value: Any, shape: Any, path: str = "") -> str | None:
    """Why a JSON answer is not of the shape the code reads, or None when it is.

    A shape is ``str``, ``int`` (a whole number from 0 to 2**53), ``float`` (any finite
    number), ``bool``, ``object`` (anything), a dict of fields (others are ignored), a
    one-item list (a list of that), ``Opt(shape)`` (absent or null allowed) or a tuple of
    alternatives. The answer says where: ``choices[0].message is a string, not an object``.
    """
    name = path or "the answer"
    if isinstance(shape, Opt):
        return None if value is None else shape_problem(value, shape.shape, path)
    if isinstance(shape, tuple):
        problems = [shape_problem(value, s, path) for s in shape]
        return None if None in problems else problems[0]
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{name} is {_kind(value)}, not an object"
        for key, sub in shape.items():
            if key not in value and not isinstance(sub, Opt):
                return f"{name} has no {key!r}"
            problem = shape_problem(value.get(key), sub, f"{path}.{key}" if path else key)
            if problem:
                return problem
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{name} is {_kind(value)}, not a list"
        for i, item in enumerate(value):
            if problem := shape_problem(item, shape[0], f"{path}[{i}]"):
                return problem
        return None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    fits = {
        object: True,
        str: isinstance(value, str),
        bool: isinstance(value, bool),
        int: number and isinstance(value, int) and 0 <= value <= MAX_INT,
        float: number and math.isfinite(value),
    }[shape]
    return None if fits else f"{name} is {_kind(value)}, not {_NAMES[shape]}"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return f"the number {value!r}"[:40] if math.isfinite(value) else "an infinite number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


# ----------------------------------------------------------------------------- the client

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _event_loop() -> asyncio.AbstractEventLoop:
    """The one event loop every client's requests run on, in a daemon thread."""
    global _loop
    with _loop_lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="localdigest-http", daemon=True).start()
            _loop = loop
        return _loop


class Client:
    """Requests under one policy (see the module docstring); safe to use from many threads.

    ``name`` names the remote in messages ("The server at http://...", default: the host
    of each URL); ``advice`` ends a message once retrying stopped making sense, and
    ``offline_advice`` one about a network that seems off.
    """

    def __init__(
        self,
        *,
        advice: str,
        offline_advice: str | None = None,
        name: str | None = None,
        policy: Policy | None = None,
        headers: Mapping[str, str] | None = None,
        token: Token | None = None,
        interval: float = 0.0,
    ) -> None:
        if token is not None and not re.fullmatch(r"[!-~]+", token.value):
            raise UsageError(
                f"{token.source} holds a space, a line break or a non-ASCII character, which "
                "an HTTP header cannot carry — set it to the key alone"
            )
        self.name = name
        self.advice = advice
        self.offline_advice = offline_advice or advice
        self.policy = policy or Policy()
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self.token = token
        self.interval = interval  # seconds from an answer to the next request
        self._next_start = 0.0  # pacing: touched on the loop only
        self._gate: asyncio.Lock | None = None
        self._http: dict[bool, httpx.AsyncClient] = {}  # by "to a loopback address"
        self._lock = threading.Lock()
        self._pending: set[Future[Any]] = set()
        self._cancelled = False

    def clean(self, text: str) -> str:
        """Text from a server, safe to show: the token removed, one line, not too long."""
        if self.token is not None:
            text = text.replace(self.token.value, "***")
        return " ".join(text.split())[:300]

    def where(self, url: str) -> str:
        return self.name or host_of(url)

    # -- running on the loop

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._cancelled:
            coro.close()
            raise CallsCancelled()
        future = asyncio.run_coroutine_threadsafe(coro, _event_loop())
        with self._lock:
            self._pending.add(future)
        try:
            return future.result()
        except CancelledError:
            raise CallsCancelled() from None
        except BaseException:
            future.cancel()  # Ctrl-C while waiting: stop the request too
            raise
        finally:
            with self._lock:
                self._pending.discard(future)

    def cancel_all(self) -> None:
        """Cancel every request in flight and refuse new ones (the run is stopping)."""
        with self._lock:
            self._cancelled = True
            pending = list(self._pending)
        for f in pending:
            f.cancel()

    def _client(self, url: str) -> httpx.AsyncClient:
        import httpx  # on first use: `localdigest --help` never loads it

        loopback = (urlsplit(url).hostname or "") in LOOPBACK
        if loopback not in self._http:
            self._http[loopback] = httpx.AsyncClient(
                trust_env=not loopback,  # proxy variables are for the world outside
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            )
        return self._http[loopback]

    def _headers(self, url: str, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {**self.headers, **(extra or {})}
        if self.token is not None and origin(url) == origin(self.token.url):
            headers["Authorization"] = f"{self.token.scheme} {self.token.value}"
        return headers

    # -- requests

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        what: str = "",
        attempts: int | None = None,
        deadline: float | None = None,
        follow: bool = True,
    ) -> Reply:
        """``method`` ``url``, retried while the failure is transient; the answer, read
        whole, unless it is larger than ``policy.max_bytes``. ``what`` names the request
        in messages ("the arXiv API"); ``follow``: follow redirects."""
        call = _Call(method, url, json, headers, what, attempts, deadline, follow)
        reply = self._run(self._tries(call, None))
        assert isinstance(reply, Reply)
        return reply

    @contextlib.contextmanager
    def stream(
        self,
        url: str,
        *,
        what: str,
        headers: Mapping[str, str] | None = None,
        deadline: float | None = None,
        stall: float | None = None,
        max_bytes: int | None = None,
    ) -> Iterator[Download]:
        """GET ``url`` to read its body in pieces (``Download.chunks``) inside the block:
        all of it within ``deadline`` seconds, no wait for the next bytes longer than
        ``stall``, no more than ``max_bytes``."""
        call = _Call("GET", url, None, headers, what, None, deadline, True, stall)
        until = time.monotonic() + call.limit(self.policy)
        response = self._run(self._tries(call, until))
        assert not isinstance(response, Reply)
        try:
            yield Download(self, response, call, until, max_bytes)
        finally:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(response.aclose(), _event_loop()).result(5)

    async def _tries(self, call: _Call, until: float | None) -> Reply | httpx.Response:
        """Try ``call`` under the policy: the answer, or NetworkError once it is no use."""
        import httpx

        policy = self.policy
        attempts = call.attempts or policy.attempts
        started = time.monotonic()
        for attempt in range(1, attempts + 1):
            if self._cancelled:
                raise asyncio.CancelledError
            limit = call.limit(policy) if until is None else until - time.monotonic()
            hint: float | None = None
            offline = False
            gate = await self._turn()
            try:
                if limit <= 0:
                    raise TimeoutError
                answer = await asyncio.wait_for(self._send(call, until is None, limit), limit)
            except (TimeoutError, httpx.TransportError) as e:
                failure, offline = self._failure(e, call)
            else:
                status = answer.status if isinstance(answer, Reply) else answer.status_code
                if status not in RETRY_STATUSES:
                    return answer
                hint = retry_after(answer.headers.get("retry-after"))
                failure = f"answered HTTP {status}"
                if isinstance(answer, Reply) and answer.data is not None:  # a web page: no
                    failure += f" ({self.clean(answer.error_message()) or 'no reason'})"
                elif not isinstance(answer, Reply):
                    await answer.aclose()
            finally:
                if gate is not None:
                    if not offline:  # when nothing reached the server, no pause is owed
                        self._next_start = time.monotonic() + self.interval
                    gate.release()
            tries = "once" if attempt == 1 else "twice" if attempt == 2 else f"{attempt} times"
            where, about = self.where(call.url), f" for {call.what}" if call.what else ""
            if offline:
                if attempt >= min(attempts, policy.offline_attempts):
                    raise NetworkError(f"{where} {failure} (tried {tries}) — {self.offline_advice}")
                wait = min(0.5, policy.backoff)
            else:
                backoff = policy.backoff * 2 ** (attempt - 1) * random.uniform(0.9, 1.1)
                wait = min(policy.max_wait, max(backoff, hint or 0.0))
                if attempt >= attempts or time.monotonic() - started + wait > policy.max_total:
                    raise NetworkError(f"{where} {failure}{about} (tried {tries}) — {self.advice}")
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover - the last try raises

    async def _turn(self) -> asyncio.Lock | None:
        """With an ``interval``: wait for this client's turn, ``interval`` seconds after its
        last answer, one request at a time; the lock to release once answered."""
        if not self.interval:
            return None
        if self._gate is None:
            self._gate = asyncio.Lock()
        await self._gate.acquire()
        try:
            await asyncio.sleep(max(0.0, self._next_start - time.monotonic()))
        except BaseException:
            self._gate.release()
            raise
        return self._gate

    async def _send(self, call: _Call, read: bool, limit: float) -> Reply | httpx.Response:
        """One try: the request, its redirects followed, and (``read``) its body."""
        import httpx

        stall = call.stall or self.policy.stall
        timeout = httpx.Timeout(
            limit, connect=min(self.policy.connect, limit), read=limit if read else stall
        )
        method, url, body = call.method, call.url, call.json
        for _ in range(MAX_REDIRECTS + 1):
            client = self._client(url)
            request = client.build_request(
                method, url, json=body, headers=self._headers(url, call.headers), timeout=timeout
            )
            response = await client.send(request, stream=True)
            location = response.headers.get("location")
            if not (call.follow and response.status_code in REDIRECTS and location):
                break
            await response.aclose()
            url = urljoin(url, location)
            if urlsplit(url).scheme not in ("http", "https"):
                raise NetworkError(
                    f"{self.where(call.url)} redirected to {urlsplit(url).scheme or 'a'}: "
                    "address, which is not followed — check the address you gave"
                )
            if response.status_code == 303 or (response.status_code < 307 and method == "POST"):
                method, body = "GET", None
        else:
            raise NetworkError(
                f"{self.where(call.url)} redirected more than {MAX_REDIRECTS} times — check "
                "the address you gave"
            )
        if not read:
            return response
        try:
            content = await self._read(response, call)
        finally:
            await response.aclose()
        return Reply(response.status_code, content, response.headers, str(response.url))

    async def _read(self, response: httpx.Response, call: _Call) -> bytes:
        cap = self.policy.max_bytes
        pieces: list[bytes] = []
        size = 0
        async for piece in response.aiter_bytes():
            size += len(piece)
            if size > cap:
                raise NetworkError(
                    f"{self.where(call.url)} sent more than {cap >> 20} MB"
                    f"{f' for {call.what}' if call.what else ''} — that is no answer it should "
                    "send; check the address you gave"
                )
            pieces.append(piece)
        return b"".join(pieces)

    def _failure(self, e: BaseException, call: _Call) -> tuple[str, bool]:
        """What a failed try says, and whether the network looks off (nothing reached)."""
        import httpx

        if isinstance(e, TimeoutError):
            return f"did not answer within {call.limit(self.policy):g} s", False
        if isinstance(e, httpx.ConnectTimeout):
            return f"did not accept a connection within {self.policy.connect:g} s", True
        if isinstance(e, httpx.ConnectError) and not caused_by(e, ssl.SSLError):
            if caused_by(e, socket.gaierror):
                return "could not be found in DNS", True
            if caused_by(e, ConnectionRefusedError):
                return "refused the connection", True
            return "could not be reached", True
        if isinstance(e, httpx.TimeoutException):
            return "timed out", False
        if isinstance(e, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
            return "dropped the connection", False
        if isinstance(e, httpx.UnsupportedProtocol | httpx.InvalidURL):
            raise UsageError(
                f"{self.clean(call.url)} is not an http(s) URL — check the setting that gave it"
            ) from None
        return f"failed ({type(e).__name__}: {self.clean(str(e))})", False


@dataclass(frozen=True)
class _Call:
    method: str
    url: str
    json: Any
    headers: Mapping[str, str] | None
    what: str
    attempts: int | None
    deadline: float | None
    follow: bool
    stall: float | None = None

    def limit(self, policy: Policy) -> float:
        return self.deadline or policy.deadline


class Download:
    """An answer whose body is read in pieces (see ``Client.stream``)."""

    def __init__(
        self,
        client: Client,
        response: httpx.Response,
        call: _Call,
        until: float,
        max_bytes: int | None,
    ) -> None:
        self.status = response.status_code
        self.headers: Mapping[str, str] = response.headers
        self._client = client
        self._response = response
        self._call = call
        self._until = until
        self._max_bytes = max_bytes

    def chunks(self) -> Iterator[bytes]:
        """The body, piece by piece; ``Cut`` when it stops early or stalls, NetworkError
        when the deadline passes or more than ``max_bytes`` arrive."""
        import httpx

        client, call = self._client, self._call
        stall = call.stall or client.policy.stall
        about = f" {call.what}" if call.what else " the answer"
        where = client.where(call.url)
        pieces = self._response.aiter_bytes()
        got = 0
        while True:
            left = self._until - time.monotonic()
            try:
                piece = client._run(_next(pieces, min(stall, left)))
            except TimeoutError:
                if left <= stall:
                    raise NetworkError(
                        f"{where} did not send{about} within {call.limit(client.policy):g} s "
                        f"(a very slow connection or server) — {client.advice}"
                    ) from None
                raise Cut(f"{where} sent nothing for {stall:g} s") from None
            except (httpx.TransportError, httpx.StreamError) as e:
                raise Cut(f"{where} closed the connection early ({type(e).__name__})") from None
            if piece is None:
                return
            got += len(piece)
            if self._max_bytes is not None and got > self._max_bytes:
                raise NetworkError(
                    f"{where} sent more than {self._max_bytes} bytes for{about} — stopped "
                    "there; try again later"
                )
            yield piece


async def _next(pieces: Any, timeout: float) -> bytes | None:
    try:
        piece: bytes = await asyncio.wait_for(anext(pieces), max(timeout, 0.0))
    except StopAsyncIteration:
        return None
    return piece
