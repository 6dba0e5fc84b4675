"""HTTP to a model server: one client, an overall deadline per request, retries with backoff.

The client is httpx, not the ``openai`` package: importing httpx costs ~0.05 s and no
pydantic (openai: ~0.4 s), the server backend needs endpoints the OpenAI SDK does not model
(llama-server's ``/props`` and ``/tokenize``, vLLM's ``/tokenize``, Ollama's ``/api/show``),
and localdigest must decide itself what is retried (never a 400 "context exceeded") and how
long a request may take in all (httpx's timeouts, and the SDK's built on them, bound each
read, not the whole request).

Requests run on one asyncio event loop in a background thread, through one
``httpx.AsyncClient`` whose connection pool every calling thread shares. A caller's thread
waits on its request's future. That gives each request an overall deadline
(``asyncio.wait_for`` cancels it and closes its connection, so llama-server frees the slot),
and lets ``cancel_all`` stop every request in flight at once (Ctrl-C, or a failed run).

Retried, with exponential backoff (honouring ``Retry-After``): refused or dropped
connections, timeouts, 408, 429 (a full queue) and every 5xx (503: a model still loading,
Ollama's full queue). Once the attempts are spent: ``NetworkError`` (exit 5), one line naming
the server. Other statuses come back to the caller as a ``Reply``.

The API key is sent as a bearer token and appears in nothing this module says: messages
name the server by scheme, host and port only, and any text from the server is cleaned of
the key before it is quoted.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from localdigest.errors import NetworkError, UsageError

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
CONNECT_TIMEOUT = 10.0  # seconds to open a connection (a part of the overall deadline)
MAX_RETRY_WAIT = 60.0  # the longest wait between two attempts, Retry-After included
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


class CallsCancelled(Exception):
    """The request was cancelled by ``cancel_all`` (the run is stopping)."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # the first try and 5 retries
    backoff: float = 1.0  # seconds before the first retry, doubled for each next one


@dataclass(frozen=True)
class Reply:
    """An answer that is not retried: its status and its body (JSON, or None)."""

    status: int
    data: Any
    text: str

    def error_message(self) -> str:
        """The server's own error message (OpenAI's ``error.message``, FastAPI's ``detail``)."""
        d = self.data
        if isinstance(d, dict):
            err = d.get("error")
            if isinstance(err, dict) and err.get("message"):
                return str(err["message"])
            if isinstance(err, str):
                return err
            if d.get("detail"):
                return str(d["detail"])
            if d.get("message"):
                return str(d["message"])
        return self.text.strip()[:200]


def split_url(url: str) -> tuple[str, str, str]:
    """(base, root, where) of a server URL.

    ``base`` is the OpenAI-compatible API (``…/v1``: added when the URL has no path),
    ``root`` the server itself (``base`` without a trailing ``/v1``; llama-server's
    ``/props`` and ``/tokenize`` live there), ``where`` the scheme, host and port only: what
    messages name (no user, password or path).
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--server {_clean_url(url)!r} is not an http(s) URL — pass the server's base URL, "
            "e.g. http://127.0.0.1:8080/v1"
        )
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    path = parts.path.rstrip("/")
    if not path:
        path = "/v1"
    base = urlunsplit((parts.scheme, netloc, path, "", ""))
    root = base[: -len("/v1")] if path.endswith("/v1") else base
    return base, root, f"{parts.scheme}://{netloc}"


def _clean_url(url: str) -> str:
    """A URL without its user and password, for messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HttpClient:
    """Requests to one server (see the module's docstring); safe to use from many threads."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        timeout: float = 600.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base, self.root, self.where = split_url(url)
        self._key = api_key or None
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Any = None
        self._lock = threading.Lock()
        self._pending: set[Future[Any]] = set()
        self._cancelled = False

    # -- the loop

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                import httpx  # only when a server is used

                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="localdigest-http", daemon=True
                )
                thread.start()
                headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
                loopback = urlsplit(self.base).hostname in LOOPBACK

                async def make() -> Any:
                    return httpx.AsyncClient(
                        headers=headers,
                        # proxy variables are for the world outside, never for loopback
                        trust_env=not loopback,
                        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
                    )

                self._client = asyncio.run_coroutine_threadsafe(make(), loop).result()
                self._loop = loop
            return self._loop

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        loop = self._start()
        future = asyncio.run_coroutine_threadsafe(coro, loop)
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

    def close(self) -> None:
        with self._lock:
            loop, client, self._loop = self._loop, self._client, None
        if loop is None:
            return
        asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)

    # -- requests

    def get(self, path: str, *, root: bool = False, attempts: int | None = None) -> Reply:
        return self.request("GET", path, root=root, attempts=attempts)

    def post(
        self,
        path: str,
        body: dict[str, Any],
        *,
        root: bool = False,
        attempts: int | None = None,
        timeout: float | None = None,
    ) -> Reply:
        return self.request("POST", path, body, root=root, attempts=attempts, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        root: bool = False,
        attempts: int | None = None,
        timeout: float | None = None,
    ) -> Reply:
        """``method`` ``path`` (under the API base, or the server's root), retried while the
        failure is transient; an answer with any other status comes back as a ``Reply``."""
        url = (self.root if root else self.base) + path
        return self._run(  # type: ignore[no-any-return]
            self._attempts(method, url, body, attempts or self.retry.attempts, timeout)
        )

    async def _attempts(
        self,
        method: str,
        url: str,
        body: dict[str, Any] | None,
        attempts: int,
        timeout: float | None,
    ) -> Reply:
        import httpx

        deadline = timeout or self.timeout
        failure = ""
        for attempt in range(attempts):
            if self._cancelled:
                raise asyncio.CancelledError
            wait: float | None = None
            try:
                response = await asyncio.wait_for(self._send(method, url, body, deadline), deadline)
            except (TimeoutError, httpx.TimeoutException):
                failure = f"did not answer within {deadline:g} s"
            except httpx.ConnectError as e:
                failure = "refused the connection" if _refused(e) else "could not be reached"
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                failure = "dropped the connection"
            except httpx.TransportError as e:
                failure = f"failed ({type(e).__name__})"
            else:
                status, text, header = response
                reply = Reply(status, _json(text), text)
                if status not in RETRY_STATUSES:
                    return reply
                failure = f"answered {status} ({self.clean(reply.error_message()) or 'no reason'})"
                wait = retry_after(header)
            if attempt + 1 < attempts:
                backoff = self.retry.backoff * 2**attempt * random.uniform(0.9, 1.1)
                await asyncio.sleep(min(MAX_RETRY_WAIT, max(backoff, wait or 0.0)))
        tries = "once" if attempts == 1 else f"{attempts} times"
        raise NetworkError(
            f"The server at {self.where} {failure} (tried {tries}) — check that it is running "
            "and reachable, then run the same command again: finished work is kept"
        )

    async def _send(
        self, method: str, url: str, body: dict[str, Any] | None, deadline: float
    ) -> tuple[int, str, str | None]:
        import httpx

        timeout = httpx.Timeout(deadline, connect=min(CONNECT_TIMEOUT, deadline))
        response = await self._client.request(method, url, json=body, timeout=timeout)
        return response.status_code, response.text, response.headers.get("retry-after")

    def clean(self, text: str) -> str:
        """Text from the server, safe to show: the API key removed, one line, not too long."""
        if self._key:
            text = text.replace(self._key, "***")
        return " ".join(text.split())[:300]


def _refused(e: BaseException) -> bool:
    """Whether a connect error comes from a refused connection (anyio wraps the OS error)."""
    seen: BaseException | None = e
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
