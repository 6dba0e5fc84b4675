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

Sampling is sent in full on every request (servers' defaults differ: llama-cpp-python's
server repeats at 1.1, llama-server at 1.0, vLLM samples at temperature 1.0), mapped onto
what each engine accepts: ``repeat_penalty`` for llama.cpp and LM Studio,
``repetition_penalty`` for vLLM, ``frequency_penalty`` elsewhere. Requests are not streamed:
llama-cpp-python's server cuts a streamed answer short when another request arrives, and
a whole answer carries its token counts (and llama-server's timings).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localdigest.errors import ModelError, NetworkError, UsageError
from localdigest.llm.base import Generation, GenerationSettings, TokenCallback
from localdigest.llm.http import HttpClient, Reply, RetryPolicy
from localdigest.llm.tokens import (
    EstimatedTokens,
    ExtrasTokens,
    LocalTokens,
    ServerTokens,
    TokenCounter,
)
from localdigest.models import ModelChoice

# The context assumed when the server reports none and --n-ctx is not given: the default
# of llama-cpp-python's server and of older Ollama releases.
UNKNOWN_SERVER_CTX = 2048
DEFAULT_PARALLEL = 4  # calls in flight when the server reports no slot count
# llama-cpp-python's default sampler chain, sent to the engines that accept each field, so
# a server writes what the in-process backend would with the same settings.
TOP_K = 40
MIN_P = 0.05
REPEAT_LAST_N = 64
# A server that read far fewer prompt tokens than were sent cut the prompt (Ollama and
# old llama-server builds shift the context silently instead of failing).
TRUNCATED_BELOW = 0.8
CONTEXT_ERROR = re.compile(
    r"context[ _](length|size|window)|exceeds? the (available )?context|maximum context",
    re.IGNORECASE,
)


# The engines whose chat completions take a GBNF ``grammar`` (--structured-notes).
GRAMMAR_KINDS = ("llama-server", "llama-cpp-python")


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


@dataclass
class ServerInfo:
    """What the server says about itself."""

    kind: str  # llama-server, llama-cpp-python, vllm, ollama, lmstudio, openai
    model: str  # the id requests name
    models: list[str]
    model_file: str | None = None  # the file name (part of the identity)
    model_path: str | None = None  # the path on the server's machine (not: it varies)
    build: str | None = None
    n_ctx: int | None = None  # tokens per request (per slot)
    slots: int | None = None
    n_vocab: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def identity(self, where: str) -> dict[str, Any]:
        ident: dict[str, Any] = {
            "kind": self.kind,
            "model": _file_name(self.model),
            "file": self.model_file,
            "build": self.build,
            **self.details,
        }
        if not (self.model_file or self.build or self.details):
            ident["server"] = where  # nothing names the weights: this server only
        return ident


def _file_name(name: str) -> str:
    """A model id that is a path on the server (llama-cpp-python's) as its file name."""
    return Path(name).name if "/" in name and name.endswith(".gguf") else name


class ServerBackend:
    """A model served over HTTP; ``complete`` is safe to call from many threads at once."""

    supports_batch = False
    supports_concurrency = True

    def __init__(
        self,
        client: HttpClient,
        info: ServerInfo,
        counter: TokenCounter,
        n_ctx: int,
        *,
        parallel: int,
    ) -> None:
        self.client = client
        self.info = info
        self.counter = counter
        self.n_ctx = n_ctx
        self.parallel_slots = parallel
        self.parameters = _int(info.details.get("n_params"))  # llama-server reports it
        self.takes_grammar = info.kind in GRAMMAR_KINDS  # --structured-notes needs it
        self.where = client.where
        host = client.where.split("://", 1)[1]
        self.name = f"{_file_name(info.model)} ({info.kind} at {host})"
        blob = json.dumps(info.identity(client.where), sort_keys=True)
        self.fingerprint = "server/" + hashlib.sha256(blob.encode()).hexdigest()[:24]

    # -- tokens

    def count_tokens(self, text: str) -> int:
        return self.counter.count(text)

    def prompt_tokens(self, system: str, user: str) -> int:
        return self.counter.prompt(system, user)

    # -- calls

    def cancel_calls(self) -> None:
        self.client.cancel_all()

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
            **sampling(self.info.kind, settings),
        }
        if settings.grammar is not None:
            body["grammar"] = self._grammar(settings.grammar)
        if self.info.kind in ("llama-server", "vllm"):
            # as in-process (llm/chat.py): a template's thinking mode off
            body["chat_template_kwargs"] = {"enable_thinking": False}
        start = time.perf_counter()
        reply = self.client.post("/chat/completions", body)
        elapsed = time.perf_counter() - start
        if reply.status != 200:
            raise self._refused(reply)
        g = self._generation(reply.data, system, user, expected, elapsed)
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
        self, data: Any, system: str, user: str, expected: int, elapsed: float
    ) -> Generation:
        where = self.where
        choices = data.get("choices") if isinstance(data, dict) else None
        if not choices or not isinstance(choices[0], dict):
            raise ModelError(
                f"The server at {where} answered without a completion (no choices) — check "
                "its log; is it an OpenAI-compatible chat API?"
            )
        answered = str(data.get("model") or "")
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
        message = self.client.clean(reply.error_message())
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
                f"it serves: {', '.join(self.info.models) or 'none'} (pick with --server-model)"
            )
        return ModelError(
            f"The server at {where} rejected the request ({status}: {message or 'no reason'})"
            " — check its log"
        )


def _auth_message(where: str, status: int, message: str) -> str:
    return (
        f"The server at {where} refused the request ({status}: {message or 'unauthorized'}) — "
        "set LOCALDIGEST_API_KEY to its API key"
    )


def _same_model(answered: str, asked: str) -> bool:
    a, b = answered.strip().lower(), asked.strip().lower()
    return a == b or _file_name(a) == _file_name(b) or a.endswith(b) or b.endswith(a)


def sampling(kind: str, s: GenerationSettings) -> dict[str, Any]:
    """The sampling fields of a request, in the names ``kind`` of engine reads."""
    fields: dict[str, Any] = {"temperature": s.temperature, "top_p": s.top_p, "seed": s.seed}
    if kind in ("llama-server", "llama-cpp-python"):
        fields.update(
            top_k=TOP_K, min_p=MIN_P, repeat_penalty=s.repeat_penalty, repeat_last_n=REPEAT_LAST_N
        )
        if kind == "llama-server":
            # A slot keeps the prompt it served: the fixed instruction of the next map call,
            # and the whole prompt of a guard's retry, are not evaluated again (in-process,
            # the same reuse saves up to half the prefill of a paper with retries). The
            # price: the rest is evaluated in other batch sizes, which round differently,
            # so in a near-tie the text can depend on what the slot served before (off,
            # it depends on the request alone when slots don't share a batch).
            fields["cache_prompt"] = True
    elif kind == "vllm":
        fields.update(top_k=TOP_K, min_p=MIN_P, repetition_penalty=s.repeat_penalty)
    elif kind == "lmstudio":
        fields.update(top_k=TOP_K, repeat_penalty=s.repeat_penalty)
    else:  # Ollama's /v1, OpenAI and the rest: the standard fields only
        fields["frequency_penalty"] = round(min(2.0, max(0.0, s.repeat_penalty - 1.0)), 3)
    return fields


# ----------------------------------------------------------------------------- connecting


def connect(settings: ServerSettings) -> ServerBackend:
    """Ask the server what it serves and how; the backend that sends it every call."""
    retry = RetryPolicy(attempts=max(1, settings.retries + 1), backoff=settings.backoff)
    client = HttpClient(
        settings.url, api_key=settings.api_key, timeout=settings.timeout, retry=retry
    )
    info = probe(client, settings.model)
    if settings.n_ctx is not None and info.n_ctx is not None and settings.n_ctx > info.n_ctx:
        raise UsageError(
            f"--n-ctx {settings.n_ctx} is more than the {info.n_ctx} tokens per request the "
            f"server at {client.where} has — pass --n-ctx {info.n_ctx} or less"
        )
    n_ctx = settings.n_ctx or info.n_ctx or UNKNOWN_SERVER_CTX
    counter = token_counter(client, info, settings.local_model)
    return ServerBackend(client, info, counter, n_ctx, parallel=info.slots or DEFAULT_PARALLEL)


def token_counter(
    client: HttpClient, info: ServerInfo, local_model: ModelChoice | None
) -> TokenCounter:
    """The best way to count this server's tokens (see ``llm.tokens``)."""
    if info.kind in ("llama-server", "vllm"):
        return ServerTokens(client, chat_template=info.kind == "llama-server")
    if local_model is not None:
        local = LocalTokens(local_model)
        if info.n_vocab is not None and info.n_vocab != local.n_vocab:
            raise ModelError(
                f"--model {local_model.path.name} is not the model the server runs (its "
                f"vocabulary has {local.n_vocab} tokens, the server's {info.n_vocab})"
            )
        return local
    found = _local_copy(info)
    if found is not None:
        return found
    if info.kind == "llama-cpp-python":
        return ExtrasTokens(client, info.model)
    return EstimatedTokens()


def _local_copy(info: ServerInfo) -> LocalTokens | None:
    """The server's model file, when the path it reports exists here (the same machine)."""
    from localdigest.models.gguf import read_gguf

    for name in (info.model_path, info.model):
        if not name or not str(name).endswith(".gguf"):
            continue
        path = Path(str(name))
        if not path.is_file():
            continue
        try:
            choice = ModelChoice(path=path, source="server", info=read_gguf(path))
            return LocalTokens(choice)
        except ModelError:
            continue
    return None


def probe(client: HttpClient, wanted: str | None) -> ServerInfo:
    """What kind of server this is, its models, and what it reports about the chosen one."""
    reply = client.get("/models")
    where = client.where
    if reply.status in (401, 403):
        raise NetworkError(_auth_message(where, reply.status, client.clean(reply.error_message())))
    data = reply.data
    cards = data.get("data") if isinstance(data, dict) else None
    if reply.status != 200 or not isinstance(cards, list):
        raise UsageError(
            f"{where} is not an OpenAI-compatible API (GET {client.base}/models: "
            f"{reply.status}) — pass the server's base URL, e.g. http://127.0.0.1:8080/v1"
        )
    models = [str(c.get("id")) for c in cards if isinstance(c, dict) and c.get("id")]
    model = _choose(models, wanted, where)
    card = next(c for c in cards if isinstance(c, dict) and str(c.get("id")) == model)
    owner = str(card.get("owned_by") or "")
    info = ServerInfo(kind="openai", model=model, models=models)
    props = client.get("/props", root=True, attempts=1)
    if props.status == 200 and isinstance(props.data, dict) and _is_llama_server(props.data):
        _llama_server(info, props.data, card)
    elif owner == "me" and "permissions" in card:
        info.kind = "llama-cpp-python"
        info.slots = 1  # one Llama behind one lock: requests wait for each other
        if model.endswith(".gguf"):
            info.model_path, info.model_file = model, _file_name(model)
    elif owner == "vllm":
        info.kind = "vllm"
        info.n_ctx = _int(card.get("max_model_len"))
        if card.get("root"):
            info.details["root"] = card["root"]
    elif not _ollama(client, info) and not _lmstudio(client, info):
        info.kind = "openai"
    return info


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
            f"{', '.join(models) or 'none'} (pick one with --server-model)"
        )
    if not models:
        raise ModelError(f"The server at {where} serves no model — load one there first")
    if len(models) > 1:
        raise ModelError(
            f"The server at {where} serves {len(models)} models ({', '.join(models)}) — "
            "pick one with --server-model"
        )
    return models[0]


def _is_llama_server(props: dict[str, Any]) -> bool:
    return "total_slots" in props or "default_generation_settings" in props


def _llama_server(info: ServerInfo, props: dict[str, Any], card: dict[str, Any]) -> None:
    info.kind = "llama-server"
    settings = props.get("default_generation_settings") or {}
    meta = card.get("meta") or {}
    info.n_ctx = _int(settings.get("n_ctx")) or _int(meta.get("n_ctx"))
    info.slots = _int(props.get("total_slots"))
    path = props.get("model_path")
    if path:
        info.model_path = str(path)
        info.model_file = Path(str(path)).name
    info.build = str(props["build_info"]) if props.get("build_info") else None
    info.n_vocab = _int(meta.get("n_vocab"))
    for key in ("n_params", "size"):
        if meta.get(key):
            info.details[key] = meta[key]


def _ollama(client: HttpClient, info: ServerInfo) -> bool:
    version = client.get("/api/version", root=True, attempts=1)
    if version.status != 200 or not isinstance(version.data, dict):
        return False
    if "version" not in version.data:
        return False
    info.kind = "ollama"
    tags = client.get("/api/tags", root=True, attempts=1)
    listed = tags.data.get("models") if isinstance(tags.data, dict) else None
    for m in listed if isinstance(listed, list) else []:
        named = isinstance(m, dict) and info.model in (m.get("name"), m.get("model"))
        if named and m.get("digest"):
            info.details["digest"] = m["digest"]
    show = client.post("/api/show", {"model": info.model}, root=True, attempts=1)
    params = show.data.get("parameters") if isinstance(show.data, dict) else None
    found = re.search(r"^\s*num_ctx\s+(\d+)", str(params or ""), re.MULTILINE)
    if found:
        info.n_ctx = int(found[1])
    return True


def _lmstudio(client: HttpClient, info: ServerInfo) -> bool:
    reply = client.get("/api/v0/models", root=True, attempts=1)
    cards = reply.data.get("data") if isinstance(reply.data, dict) else None
    if reply.status != 200 or not isinstance(cards, list):
        return False
    info.kind = "lmstudio"
    for c in cards:
        if isinstance(c, dict) and c.get("id") == info.model:
            info.n_ctx = _int(c.get("loaded_context_length")) or _int(c.get("max_context_length"))
            for key in ("publisher", "arch", "quantization"):
                if c.get(key):
                    info.details[key] = c[key]
    return True


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
