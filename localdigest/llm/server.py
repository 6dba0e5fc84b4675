"""The server backend: every model call goes to an OpenAI-compatible ``/v1/chat/completions``.

Any engine that speaks that API works: llama.cpp's ``llama-server`` (parallel slots,
continuous batching, the same GGUF files), vLLM, Ollama, LM Studio, llama-cpp-python's own
server. The server applies the model's chat template; localdigest keeps the reading plan,
the chunk budget, the guard and the cache.

``connect`` asks the server what it is before any paper is read (so a wrong URL, a missing
model or a dead server stops the run at once): which models it serves (``/v1/models``), and,
where the engine says, its context per request, its parallel slots, its model file and its
build (llama-server's ``/props``; vLLM's ``max_model_len``; Ollama's ``/api/show`` and
``/api/tags``; LM Studio's ``/api/v0/models``). That makes the backend's identity, the
``fingerprint`` the cache keys hold: engine, model, model file and build, so summaries from
different servers or models never mix, and a server run and a local run of the same GGUF
never share a key (a local fingerprint is a file hash, never ``server/...``). When an
engine names neither file nor build, the server's address is part of the identity.

What differs between engines (probes, sampling names, token counts, grammars) is in
``llm.engines``, one class per engine. Sampling is sent in full on every request (servers'
defaults differ: llama-cpp-python's server repeats at 1.1, llama-server at 1.0, vLLM
samples at temperature 1.0). Requests are not streamed: llama-cpp-python's server cuts a
streamed answer short when another request arrives, and a whole answer carries its token
counts (and llama-server's timings). The HTTP is ``localdigest.net``'s: retries, the
deadline of each request, the API key sent to this server only and never shown.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from localdigest.errors import ModelError, NetworkError, UsageError
from localdigest.llm.base import Generation, GenerationSettings, TokenCallback
from localdigest.llm.engines import COMPLETION, MODELS, Api, ServerInfo, detect, file_name
from localdigest.llm.tokens import TokenCounter
from localdigest.models import ModelChoice
from localdigest.net import Client, Policy, Reply, Token
from localdigest.text import listing

# The context assumed when the server reports none and --n-ctx is not given: the default
# of llama-cpp-python's server and of older Ollama releases.
UNKNOWN_SERVER_CTX = 2048
DEFAULT_PARALLEL = 4  # calls in flight when the server reports no slot count
# A server that read far fewer prompt tokens than were sent cut the prompt (Ollama and
# old llama-server builds shift the context silently instead of failing).
TRUNCATED_BELOW = 0.8
CONTEXT_ERROR = re.compile(
    r"context[ _](length|size|window)|exceeds? the (available )?context|maximum context",
    re.IGNORECASE,
)


API_KEY = "LOCALDIGEST_API_KEY"  # the environment variable of the server's key


@dataclass(frozen=True)
class ServerSettings:
    url: str
    model: str | None = None  # --server-model: which of the server's models
    n_ctx: int | None = None  # --n-ctx: tokens per request (at most what the server has)
    local_model: ModelChoice | None = None  # --model: the same GGUF here, for token counts
    api_key: str | None = None  # LOCALDIGEST_API_KEY
    timeout: float = 600.0  # seconds one request may take in all
    retries: int = 5
    backoff: float = 1.0  # seconds before the first retry


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


def open_api(settings: ServerSettings) -> Api:
    """The server's API under the settings' retries and deadline (nothing is sent yet)."""
    base, root, where = split_url(settings.url)
    client = Client(
        name=f"The server at {where}",
        advice="check that it is running and reachable, then run the same command again: "
        "finished work is kept",
        policy=Policy(
            attempts=max(1, settings.retries + 1),
            backoff=settings.backoff,
            deadline=settings.timeout,
        ),
        token=server_token(settings),
    )
    return Api(client, base, root, where)


def server_token(settings: ServerSettings) -> Token | None:
    """The credential for the server: ``LOCALDIGEST_API_KEY`` as a bearer token, or the
    user and password in the URL (``http://user:pass@host``) as HTTP Basic auth, which is
    what such a URL means to every HTTP client (a proxy in front of the server, say).
    Both at once would leave one unused: refused."""
    parts = urlsplit(settings.url.strip())
    if parts.username is None and parts.password is None:
        return Token(settings.api_key, settings.url, API_KEY) if settings.api_key else None
    if settings.api_key:
        raise UsageError(
            f"--server {_clean_url(settings.url)!r} holds a user and password and "
            f"{API_KEY} is set too — give one of them"
        )
    pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    basic = base64.b64encode(pair.encode("utf-8")).decode("ascii")
    return Token(basic, settings.url, "the user and password in --server", scheme="Basic")


class ServerBackend:
    """A model served over HTTP; ``complete`` is safe to call from many threads at once."""

    supports_concurrency = True

    def __init__(
        self,
        api: Api,
        info: ServerInfo,
        counter: TokenCounter,
        n_ctx: int,
        *,
        parallel: int,
    ) -> None:
        self.api = api
        self.info = info
        self.counter = counter
        self.n_ctx = n_ctx
        self.parallel_slots = parallel
        self.parameters: int | None = info.details.get("n_params")  # llama-server reports it
        self.takes_grammar = info.engine.takes_grammar  # --structured-notes needs it
        self.where = api.where
        host = api.where.split("://", 1)[1]
        self.name = f"{file_name(info.model)} ({info.kind} at {host})"
        blob = json.dumps(info.identity(api.where), sort_keys=True)
        self.fingerprint = "server/" + hashlib.sha256(blob.encode()).hexdigest()[:24]

    # -- tokens

    def count_tokens(self, text: str) -> int:
        return self.counter.count(text)

    def prompt_tokens(self, system: str, user: str) -> int:
        return self.counter.prompt(system, user)

    # -- calls

    def cancel_calls(self) -> None:
        self.api.client.cancel_all()

    def complete(
        self,
        system: str,
        user: str,
        settings: GenerationSettings,
        on_token: TokenCallback | None = None,
    ) -> Generation:
        expected = self.prompt_tokens(system, user)
        room = self.n_ctx - expected
        if room < 1:
            raise ModelError(
                f"The prompt needs {expected} tokens but the context holds {self.n_ctx} — "
                "raise --n-ctx (and the server's context)"
            )
        body = {
            "model": self.info.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            "max_tokens": min(settings.max_tokens, room),
            "stream": False,
            **self.info.engine.sampling(settings),
        }
        if settings.grammar is not None:
            body["grammar"] = self._grammar(settings.grammar)
        if self.info.engine.template_kwargs:
            body["chat_template_kwargs"] = dict(self.info.engine.template_kwargs)
        start = time.perf_counter()
        reply = self.api.post("/chat/completions", body)
        elapsed = time.perf_counter() - start
        if reply.status != 200:
            raise self._refused(reply)
        g = self._generation(reply, system, user, expected, elapsed)
        if on_token is not None and g.completion_tokens:
            on_token(g.completion_tokens, elapsed)
        return g

    def _grammar(self, grammar: str) -> str:
        """A GBNF grammar as llama.cpp's servers read it; other engines: an error."""
        if not self.takes_grammar:
            raise ModelError(
                f"The server at {self.where} ({self.info.kind}) takes no llama.cpp grammar, "
                "which --structured-notes needs — use llama-server, or drop --structured-notes"
            )
        return grammar

    def _generation(
        self, reply: Reply, system: str, user: str, expected: int, elapsed: float
    ) -> Generation:
        where = self.where
        data = reply.data
        if not (isinstance(data, dict) and data.get("choices")):
            raise ModelError(
                f"The server at {where} answered without a completion (no choices) — check "
                "its log; is it an OpenAI-compatible chat API?"
            )
        data = self.api.checked(reply, COMPLETION, "/chat/completions")
        choices = data["choices"]
        answered = data.get("model") or ""
        if answered and not _same_model(answered, self.info.model):
            raise ModelError(
                f"The server at {where} answered with model '{answered}', not "
                f"'{self.info.model}' — check which models it serves (--server-model)"
            )
        choice = choices[0]
        message = choice.get("message") or {}
        text = message.get("content")
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if not text and reasoning:
            raise ModelError(
                f"The server at {where} returned an empty completion: model "
                f"'{self.info.model}' spent its tokens reasoning — use a model without a "
                "thinking mode, or turn thinking off on the server"
            )
        if text is None:
            raise ModelError(
                f"The server at {where} returned a completion without text (finish reason "
                f"{choice.get('finish_reason')!r}) — check its log"
            )
        usage = data.get("usage") or {}
        timings = data.get("timings") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or expected)
        # The prompt's texts are counted (a request to the server) only when the answer
        # looks short against the whole prompt: ``expected`` holds them and the template.
        short = data.get("truncated") or prompt_tokens < TRUNCATED_BELOW * expected
        if short and self.counter.exact:  # an estimate is too rough to tell a cut prompt
            texts = self.count_tokens(system) + self.count_tokens(user)
            if data.get("truncated") or prompt_tokens < TRUNCATED_BELOW * texts:
                raise ModelError(
                    f"The server at {where} read only {prompt_tokens} of the prompt's {texts}+ "
                    f"tokens: its context is smaller than {self.n_ctx} — pass a smaller "
                    "--n-ctx, or give the server a larger context"
                )
        completion = usage.get("completion_tokens")
        if completion is None:
            completion = self.count_tokens(text) if text else 0
        finish = str(choice.get("finish_reason") or "stop")
        prompt_ms = timings.get("prompt_ms")
        cached = timings.get("cache_n")
        if cached is None:
            cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
        return Generation(
            text=str(text).strip(),
            prompt_tokens=prompt_tokens,
            completion_tokens=int(completion),
            finish_reason="length" if finish == "length" else "stop",
            prompt_seconds=min(elapsed, float(prompt_ms) / 1000) if prompt_ms else 0.0,
            seconds=elapsed,
            reused_tokens=int(cached or 0),
        )

    def _refused(self, reply: Reply) -> Exception:
        """The error for an answer that is neither a completion nor retried."""
        message = self.api.client.clean(reply.error_message())
        where, status = self.where, reply.status
        code = ""
        if isinstance(reply.data, dict) and isinstance(reply.data.get("error"), dict):
            err = reply.data["error"]
            code = f"{err.get('code', '')} {err.get('type', '')}"
        if status in (400, 413) and (
            "context" in code or "exceed" in code or CONTEXT_ERROR.search(message)
        ):
            return ModelError(
                f"The server at {where} says the prompt does not fit its context ({message}) — "
                f"pass a smaller --n-ctx (now {self.n_ctx}), or give the server a larger one"
            )
        if status in (401, 403):
            return NetworkError(_auth_message(where, status, message))
        if status == 404:
            return ModelError(
                f"The server at {where} has no model '{self.info.model}' ({message}) — "
                f"it serves: {listing(self.info.models)} (pick with --server-model)"
            )
        return ModelError(
            f"The server at {where} rejected the request ({status}: {message or 'no reason'})"
            " — check its log"
        )


def _auth_message(where: str, status: int, message: str) -> str:
    return (
        f"The server at {where} refused the request ({status}: {message or 'unauthorized'}) — "
        f"set {API_KEY} to its API key, or put user:password@ in the --server URL"
    )


def _same_model(answered: str, asked: str) -> bool:
    a, b = answered.strip().lower(), asked.strip().lower()
    return a == b or file_name(a) == file_name(b) or a.endswith(b) or b.endswith(a)


# ----------------------------------------------------------------------------- connecting


def connect(settings: ServerSettings) -> ServerBackend:
    """Ask the server what it serves and how; the backend that sends it every call."""
    api = open_api(settings)
    info = probe(api, settings.model)
    if settings.n_ctx is not None and info.n_ctx is not None and settings.n_ctx > info.n_ctx:
        raise UsageError(
            f"--n-ctx {settings.n_ctx} is more than the {info.n_ctx} tokens per request the "
            f"server at {api.where} has — pass --n-ctx {info.n_ctx} or less"
        )
    n_ctx = settings.n_ctx or info.n_ctx or UNKNOWN_SERVER_CTX
    counter = info.engine.counter(api, info, settings.local_model)
    return ServerBackend(api, info, counter, n_ctx, parallel=info.slots or DEFAULT_PARALLEL)


def probe(api: Api, wanted: str | None) -> ServerInfo:
    """What kind of server this is, its models, and what it reports about the chosen one."""
    reply = api.get("/models")
    where = api.where
    if reply.status in (401, 403):
        message = api.client.clean(reply.error_message())
        raise NetworkError(_auth_message(where, reply.status, message))
    if reply.status != 200:
        raise UsageError(
            f"{where} is not an OpenAI-compatible API (GET {api.base}/models: "
            f"{reply.status}) — pass the server's base URL, e.g. http://127.0.0.1:8080/v1"
        )
    cards = [c for c in api.checked(reply, MODELS, "/models")["data"] if c["id"]]
    models = [c["id"] for c in cards]
    model = _choose(models, wanted, where)
    card = next(c for c in cards if c["id"] == model)
    return detect(api, model, models, card)


def _choose(models: list[str], wanted: str | None, where: str) -> str:
    if wanted:
        for m in models:
            if m == wanted:
                return m
        close = [m for m in models if _same_model(m, wanted)]
        if len(close) == 1:
            return close[0]
        raise ModelError(
            f"The server at {where} has no model '{wanted}' — it serves: "
            f"{listing(models)} (pick one with --server-model)"
        )
    if not models:
        raise ModelError(f"The server at {where} serves no model — load one there first")
    if len(models) > 1:
        raise ModelError(
            f"The server at {where} serves {len(models):,} models ({listing(models)}) — "
            "pick one with --server-model"
        )
    return models[0]
