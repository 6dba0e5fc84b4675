"""A real HTTP server on 127.0.0.1 playing the Hugging Face hub's file endpoints, with faults.

Routes (the tool is pointed here with ``HF_ENDPOINT``), as the hub answers them:

* ``HEAD|GET /<org>/<repo>/resolve/<revision>/<path>``: the file, with ``X-Repo-Commit``,
  ``ETag`` (the sha256, quoted), ``Content-Length`` and ``Accept-Ranges``; a GET with
  ``Range: bytes=N-`` gets 206 and ``Content-Range``. An unknown repo is a 404 with
  ``X-Error-Code: RepoNotFound``, an unknown file one with ``EntryNotFound``.
* ``GET /api/models/<org>/<repo>/tree/<revision>[/<folder>]``: the JSON list of files, each
  ``{"type", "oid", "size", "path", "lfs": {"oid": sha256, "size", "pointerSize"}}``.

Faults: ``cut_after`` (a GET sends that many bytes, then the connection is closed; set per
request count with ``cuts``), ``corrupt`` (one byte of the body is flipped), ``rate`` (bytes
per second, to interrupt a download mid-way), ``drip`` (seconds per byte), ``stall_after``
(that many bytes, then nothing), ``no_length`` (no Content-Length: the body ends when the
connection closes), a listed ``size`` other than the file's, and ``entries`` (raw listing
entries). With ``redirect``, ``/resolve`` answers 302 to ``cdn``, a second server on another
port (another origin) serving the same files, as the hub sends downloads to its CDN. Every
request is recorded (the CDN's in ``cdn.requests``).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class HubFile:
    path: str
    source: Path  # the bytes served
    sha256: str
    size: int  # what the listing says


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class FakeHub:
    url: str = ""
    repos: dict[str, dict[str, HubFile]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    cuts: int = 0  # how many of the next GETs are cut after cut_after bytes
    cut_after: int = 0
    corrupt: bool = False
    rate: float | None = None  # bytes per second
    drip: float | None = None  # seconds per byte
    stall_after: int | None = None  # bytes sent before the body stops coming
    no_length: bool = False
    redirect: bool = False  # /resolve answers 302 to the CDN
    cdn: FakeHub | None = None
    entries: list[Any] = field(default_factory=list)  # more listing entries, as they are

    def add(
        self,
        repo: str,
        path: str,
        source: Path,
        sha256: str | None = None,
        size: int | None = None,
    ) -> HubFile:
        digest = sha256 or sha256_of(source)
        entry = HubFile(path, source, digest, source.stat().st_size if size is None else size)
        self.repos.setdefault(repo, {})[path] = entry
        return entry

    def gets(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "GET" and "/resolve/" in r.path]


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        h = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
        _SHA_CACHE[key] = h.hexdigest()
    return _SHA_CACHE[key]


_RESOLVE = re.compile(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")
_TREE = re.compile(r"^/api/models/([^/]+/[^/]+)/tree/([^/]+)(?:/(.*))?$")


class Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _record(self) -> str:
        path = unquote(urlsplit(self.path).path)
        headers = {k.lower(): v for k, v in self.headers.items()}  # names are case-blind
        self.hub.requests.append(Recorded(self.command, path, headers))
        return path

    def _error(self, status: int, code: str) -> None:
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _file(self, path: str) -> HubFile | None:
        match = _RESOLVE.match(path)
        if match is None:
            self._error(404, "RepoNotFound")
            return None
        repo, _, file = match.groups()
        if repo not in self.hub.repos:
            self._error(404, "RepoNotFound")
            return None
        entry = self.hub.repos[repo].get(file)
        if entry is None:
            self._error(404, "EntryNotFound")
        return entry

    def _headers(self, entry: HubFile, status: int, start: int) -> None:
        size = entry.source.stat().st_size
        self.send_response(status)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", f'"{entry.sha256}"')
        self.send_header("Accept-Ranges", "bytes")
        if self.hub.no_length:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(size - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.end_headers()

    def _redirected(self, path: str) -> bool:
        """As the hub does for a file's bytes: 302 to its CDN, the commit on the answer."""
        if not (self.hub.redirect and self.hub.cdn):
            return False
        self.send_response(302)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("Location", f"{self.hub.cdn.url}{path}")
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True

    def do_HEAD(self) -> None:
        path = self._record()
        entry = self._file(path)
        if entry is not None and not self._redirected(path):
            self._headers(entry, 200, 0)

    def do_GET(self) -> None:
        path = self._record()
        tree = _TREE.match(path)
        if tree is not None:
            self._tree(*tree.groups())
            return
        entry = self._file(path)
        if entry is None or self._redirected(path):
            return
        start = 0
        ranged = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        if ranged:
            start = int(ranged.group(1))
        if start >= entry.source.stat().st_size and ranged:
            self.send_response(416)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._headers(entry, 206 if ranged else 200, start)
        cut = None
        if self.hub.cuts > 0:
            self.hub.cuts -= 1
            cut = self.hub.cut_after
        self._send_body(entry, start, cut)

    def _send_body(self, entry: HubFile, start: int, cut: int | None) -> None:
        sent = 0
        middle = entry.size // 2
        began = time.monotonic()
        hub = self.hub
        with entry.source.open("rb") as f:
            f.seek(start)
            pos = start
            while True:
                block = f.read(1 if hub.drip else 1 << 20)
                if hub.stall_after is not None:
                    block = block[: max(0, hub.stall_after - sent)]
                    if not block:
                        time.sleep(30)  # nothing more: the client's stall timeout ends it
                        return
                if hub.drip:
                    time.sleep(hub.drip)
                if not block:
                    break
                if self.hub.corrupt and pos <= middle < pos + len(block):
                    data = bytearray(block)
                    data[middle - pos] ^= 0xFF
                    block = bytes(data)
                if cut is not None and sent + len(block) > cut:
                    self.wfile.write(block[: cut - sent])
                    self.wfile.flush()
                    self.close_connection = True
                    return  # the handler's end closes the socket: a cut connection
                try:
                    self.wfile.write(block)
                    self.wfile.flush()
                except OSError:
                    return  # the client gave up (a deadline): that is the point
                sent += len(block)
                pos += len(block)
                if self.hub.rate:
                    ahead = sent / self.hub.rate - (time.monotonic() - began)
                    if ahead > 0:
                        time.sleep(ahead)

    def _tree(self, repo: str, revision: str, folder: str | None) -> None:
        if repo not in self.hub.repos:
            self._error(404, "RepoNotFound")
            return
        prefix = f"{folder.rstrip('/')}/" if folder else ""
        entries = [
            {
                "type": "file",
                "oid": hashlib.sha1(f.sha256.encode()).hexdigest(),
                "size": f.size,
                "path": f.path,
                "lfs": {"oid": f.sha256, "size": f.size, "pointerSize": 134},
            }
            for f in self.hub.repos[repo].values()
            if f.path.startswith(prefix)
        ]
        body = json.dumps([*entries, *self.hub.entries]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(hub: FakeHub) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"hub": hub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    hub = FakeHub()
    hub.cdn = FakeHub(repos=hub.repos)  # the same files, at another origin
    servers = [_serve(hub), _serve(hub.cdn)]
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    try:
        yield hub
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
