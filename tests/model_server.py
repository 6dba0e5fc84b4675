"""Real OpenAI-compatible servers on 127.0.0.1 for the server backend's tests.

* ``LlamaCppServer``: llama-cpp-python's own server (``python -m llama_cpp.server``, from its
  ``server`` extra) running the embedded default model in a child process on a free port.
  It logs one access line per request, so tests count the calls it served.
* ``StandIn``: a small OpenAI-compatible server in a thread, for the HTTP paths a real
  engine does not produce on demand: it answers like ``conftest.FakeBackend`` (a reply
  that depends on the request only, after a random delay, so calls finish out of order),
  and plays faults queued with ``fail_next`` (a status with Retry-After, a delay past the
  deadline, a dropped connection). It can pose as llama-server (``/props``, ``/tokenize``)
  or as another engine (``owned_by``). Every request is recorded with its headers and body.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from conftest import call_kind


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes] | None, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before listening")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {seconds} s")


# ----------------------------------------------------------------------------- llama-cpp-python


class LlamaCppServer:
    """``python -m llama_cpp.server`` with ``model`` on 127.0.0.1:``port``."""

    def __init__(
        self,
        model: Path,
        log: Path,
        *,
        port: int | None = None,
        n_ctx: int = 2048,
        api_key: str | None = None,
    ) -> None:
        self.model = model
        self.port = port or free_port()
        self.log = log
        self.url = f"http://127.0.0.1:{self.port}/v1"
        cmd = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(n_ctx),
            "--n_threads",
            "1",
            "--n_threads_batch",
            "1",
            # scores of every token (n_ctx x n_vocab floats) are for logprobs only
            "--logits_all",
            "false",
            # the default cuts a streamed answer short when another request comes in
            "--interrupt_requests",
            "false",
            "--verbose",
            "false",
        ]
        if api_key:
            cmd += ["--api_key", api_key]
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            cmd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            wait_listening(self.port, self.proc, 120)
        except RuntimeError:
            self.stop()
            raise RuntimeError(
                f"llama_cpp.server did not start: {log.read_text()[-2000:]}"
            ) from None

    def completions(self) -> int:
        """Chat completions it answered so far (its access log)."""
        text = self.log.read_text(errors="replace")
        return sum(
            1
            for line in text.splitlines()
            if "POST /v1/chat/completions" in line and " 200" in line
        )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self._log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()


# ----------------------------------------------------------------------------- the stand-in


@dataclass
class Fault:
    kind: str  # "status", "delay", "drop", "trickle" (the answer a byte at a time)
    path: str  # applies to requests whose path starts with this
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    error: dict[str, Any] | None = None  # the error object of a "status" answer


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float


_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def fake_reply(user: str) -> str:
    """What the stand-in writes: depends on the prompt alone (like FakeBackend's kinds)."""
    kind = call_kind(user)
    # Letters only: a hex tag such as "01883d" reads as a number the paper does not hold,
    # and grounding cuts the sentence (it did when the reduce prompt's text changed).
    tag = hashlib.sha256(user.encode()).hexdigest()[:6].translate(_LETTERS)
    if kind == "reduce":
        return f"The paper proposes a method {tag}. It improves accuracy by 3 points."
    if kind == "tldr":
        return f"A method {tag} that improves accuracy."
    return f"- {kind} note {tag}: the method improves accuracy."


@dataclass
class StandIn:
    models: list[str] = field(default_factory=lambda: ["stand-in.gguf"])
    owned_by: str = "llamacpp"
    props: dict[str, Any] | None = None  # llama-server's /props (None: 404, not llama-server)
    ollama: dict[str, Any] | None = None  # pose as Ollama: {"digest": ..., "num_ctx": ...}
    lmstudio: dict[str, Any] | None = None  # pose as LM Studio: its /api/v0/models card
    meta: dict[str, Any] | None = None  # llama-server's "meta" of each /v1/models card
    card: dict[str, Any] | None = None  # more fields of each card (vLLM's root and length)
    max_delay: float = 0.05  # seconds of random delay before each completion
    min_delay: float = 0.0
    answer_model: str | None = None  # the model named in answers (default: the one asked)
    content: str | bool | None = True  # True: fake_reply; otherwise this content (None: null)
    reasoning: str | None = None
    api_key: str | None = None  # answer 401 without this bearer token
    authorization: str | None = None  # answer 401 without this Authorization header
    raw: dict[str, bytes] = field(default_factory=dict)  # path -> this 200 body, as it is
    faults: list[Fault] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""
    port: int = 0
    in_flight: int = 0
    most_in_flight: int = 0

    def fail_next(
        self, kind: str, path: str = "/v1/chat/completions", times: int = 1, **kw: Any
    ) -> None:
        with self._lock:
            self.faults.extend(Fault(kind, path, **kw) for _ in range(times))

    def completions(self) -> list[Seen]:
        return [s for s in self.seen if s.path == "/v1/chat/completions"]

    # -- serving

    def start(self) -> StandIn:
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once: no 40 ms ACK wait

            def log_message(self, *args: Any) -> None: ...

            def do_GET(self) -> None:
                stand_in._handle(self, "GET")

            def do_POST(self) -> None:
                stand_in._handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _fault(self, path: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if path.startswith(f.path):
                    self.faults.remove(f)
                    return f
        return None

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        path = h.path.split("?")[0]
        with self._lock:
            self.seen.append(Seen(method, path, dict(h.headers.items()), body, time.monotonic()))
        fault = self._fault(path)
        if fault is not None:
            if fault.kind == "drop":
                h.close_connection = True
                h.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.kind == "delay":
                time.sleep(fault.seconds)
            if fault.kind == "trickle":
                self._trickle(h, fault.seconds)
                return
            if fault.kind == "status":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                error = fault.error or {
                    "code": fault.status,
                    "message": "busy",
                    "type": "unavailable_error",
                }
                self._send(h, fault.status, {"error": error}, headers)
                return
        given = h.headers.get("Authorization") or ""
        wanted = self.authorization or (f"Bearer {self.api_key}" if self.api_key else "")
        if wanted and given != wanted:
            # as some servers do: the error quotes what it was given
            error = {"message": f"Invalid API Key: {given}", "type": "authentication_error"}
            self._send(h, 401, {"error": error})
            return
        if path in self.raw:
            self._send(h, 200, None, raw=self.raw[path])
            return
        try:
            status, answer = self._route(method, path, body)
        except Exception as e:  # a bug in a test's stand-in: say so in the answer
            status, answer = 500, {"error": {"message": f"stand-in: {e!r}"}}
        self._send(h, status, answer)

    def _route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/v1/models":
            cards = [{"id": m, "object": "model", "owned_by": self.owned_by} for m in self.models]
            for card in cards if self.meta is not None else []:
                card["meta"] = dict(self.meta)
            for card in cards:
                card.update(self.card or {})
            return 200, {"object": "list", "data": cards}
        if method == "GET" and path == "/props":
            return (200, self.props) if self.props is not None else (404, {"error": "not found"})
        if method == "POST" and path == "/tokenize" and self.props is not None:
            return 200, {"tokens": list(range(len(str(body["content"]).split())))}
        if method == "POST" and path == "/tokenize" and self.owned_by == "vllm":
            n = len(str(body["prompt"]).split())
            return 200, {"count": n, "tokens": list(range(n)), "max_model_len": 8192}
        if method == "POST" and path == "/v1/chat/completions":
            return 200, self._complete(body)
        if self.ollama is not None and path == "/api/version":
            return 200, {"version": "0.12.3"}
        if self.ollama is not None and path == "/api/tags":
            tags = [{"name": m, "model": m, "digest": self.ollama["digest"]} for m in self.models]
            return 200, {"models": tags}
        if self.ollama is not None and path == "/api/show":
            return 200, {"parameters": f"stop <|im_end|>\nnum_ctx {self.ollama['num_ctx']}"}
        if self.lmstudio is not None and path == "/api/v0/models":
            return 200, {"data": [{"id": m, **self.lmstudio} for m in self.models]}
        return 404, {"error": {"message": f"no route {method} {path}", "code": 404}}

    def _complete(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(random.uniform(self.min_delay, max(self.min_delay, self.max_delay)))
            user = body["messages"][-1]["content"]
            text: Any = fake_reply(user) if self.content is True else self.content
            message: dict[str, Any] = {"role": "assistant", "content": text}
            if self.reasoning:
                message["reasoning_content"] = self.reasoning
            prompt = sum(len(m["content"].split()) for m in body["messages"])
            return {
                "object": "chat.completion",
                "model": self.answer_model or body.get("model"),
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": len(str(text or "").split()),
                },
            }
        finally:
            with self._lock:
                self.in_flight -= 1

    @staticmethod
    def _trickle(h: BaseHTTPRequestHandler, seconds: float) -> None:
        """A 200 whose body comes one byte every 0.1 s for ``seconds``: no single read
        waits long, only the whole answer does."""
        payload = b" " * int(seconds / 0.1) + b"{}"
        try:
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(payload)))
            h.end_headers()
            for i in range(len(payload)):
                h.wfile.write(payload[i : i + 1])
                h.wfile.flush()
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler,
        status: int,
        data: Any,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> None:
        payload = json.dumps(data).encode() if raw is None else raw
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(payload)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a deadline): nothing to answer


LLAMA_SERVER_PROPS = {
    "total_slots": 3,
    "default_generation_settings": {"n_ctx": 4096},
    "model_path": "/srv/models/stand-in.gguf",
    "build_info": "b1234-abcdef0",
}
