"""The engines behind the server backend: one class per kind of OpenAI-compatible server.

Each engine knows how to recognise its server from what it answers (``detect``), what the
server says about its model (context, slots, file, build: the cache identity), the names
it reads sampling under, how its tokens are best counted, whether it takes a GBNF grammar
and which chat-template switches it needs. ``ServerBackend`` asks its engine and never
branches on a name: adding an engine is adding a class to ``ENGINES`` (tried in order;
the plain ``Engine``, any OpenAI-compatible API, last).

Every answer is checked against the shape the code reads, one shape per endpoint (below):
a server that answers with other types (a string for an object, ``1e999`` for a count)
fails in one line that names it (exit 4), never with a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from localdigest.errors import ModelError
from localdigest.llm.base import GenerationSettings
from localdigest.llm.tokens import EstimatedTokens, LocalTokens, ServerTokens, TokenCounter
from localdigest.models import ModelChoice
from localdigest.net import Client, Opt, Reply, shape_problem

# llama-cpp-python's default sampler chain, sent to the engines that accept each field, so
# a server writes what the in-process backend would with the same settings.
TOP_K = 40
MIN_P = 0.05
REPEAT_LAST_N = 64

# The shapes of the answers read (net.shape_problem): only the fields used are checked.
META = {"n_ctx": Opt(int), "n_vocab": Opt(int), "n_params": Opt(int), "size": Opt(int)}
MODELS = {
    "data": [
        {
            "id": str,
            "owned_by": Opt(str),
            "root": Opt(str),
            "max_model_len": Opt(int),
            "meta": Opt(META),
        }
    ]
}
PROPS = {
    "total_slots": Opt(int),
    "default_generation_settings": Opt({"n_ctx": Opt(int)}),
    "model_path": Opt(str),
    "build_info": Opt(str),
}
COMPLETION = {
    "choices": [
        {
            "message": Opt(
                {"content": Opt(str), "reasoning_content": Opt(str), "reasoning": Opt(str)}
            ),
            "finish_reason": Opt(str),
        }
    ],
    "model": Opt(str),
    "usage": Opt(
        {
            "prompt_tokens": Opt(int),
            "completion_tokens": Opt(int),
            "prompt_tokens_details": Opt({"cached_tokens": Opt(int)}),
        }
    ),
    "timings": Opt({"prompt_ms": Opt(float), "cache_n": Opt(int)}),
    "truncated": Opt(bool),
}
TOKENS = {"count": Opt(int), "tokens": Opt([object])}
TEMPLATE = {"prompt": str}
OLLAMA_TAGS = {"models": Opt([{"name": Opt(str), "model": Opt(str), "digest": Opt(str)}])}
OLLAMA_SHOW = {"parameters": Opt(str)}
LMSTUDIO_MODELS = {
    "data": [
        {
            "id": str,
            "loaded_context_length": Opt(int),
            "max_context_length": Opt(int),
            "publisher": Opt(str),
            "arch": Opt(str),
            "quantization": Opt(str),
        }
    ]
}


@dataclass(frozen=True)
class Api:
    """A server's two roots: its OpenAI-compatible API (``base``, ``…/v1``) and the server
    itself (``root``: llama-server's ``/props``, Ollama's ``/api``); ``where`` is its scheme,
    host and port (what messages name). Redirects are never followed."""

    client: Client
    base: str
    root: str
    where: str

    def get(self, path: str, *, root: bool = False, attempts: int | None = None) -> Reply:
        url = (self.root if root else self.base) + path
        return self.client.request("GET", url, attempts=attempts, follow=False)

    def post(
        self, path: str, body: dict[str, Any], *, root: bool = False, attempts: int | None = None
    ) -> Reply:
        url = (self.root if root else self.base) + path
        return self.client.request("POST", url, json=body, attempts=attempts, follow=False)

    def checked(self, reply: Reply, shape: Any, path: str) -> Any:
        """The answer's JSON, if it has ``shape``; else ModelError naming the server."""
        problem = "it is not JSON" if reply.data is None else shape_problem(reply.data, shape)
        if problem:
            raise ModelError(
                f"The server at {self.where} answered {path} in a shape localdigest cannot read "
                f"({problem}) — is it an OpenAI-compatible server? Check its log"
            )
        return reply.data


# The contexts a server may report and be believed (tokens per request): outside, it
# reports none (and messages never suggest such a value as --n-ctx).
SANE_CTX = (64, 1 << 24)


@dataclass
class ServerInfo:
    """What the server says about itself and the model chosen."""

    model: str  # the id requests name
    models: list[str]
    engine: Engine = field(default_factory=lambda: Engine())
    model_file: str | None = None  # the file name (part of the identity)
    model_path: str | None = None  # the path on the server's machine (not: it varies)
    build: str | None = None
    n_ctx: int | None = None  # tokens per request (per slot)
    slots: int | None = None
    n_vocab: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.engine.kind

    def identity(self, where: str) -> dict[str, Any]:
        ident: dict[str, Any] = {
            "kind": self.engine.kind,
            "model": file_name(self.model),
            "file": self.model_file,
            "build": self.build,
            **self.details,
        }
        if not (self.model_file or self.build or self.details):
            ident["server"] = where  # nothing names the weights: this server only
        return ident


def file_name(name: str) -> str:
    """A model id that is a path on the server (llama-cpp-python's) as its file name."""
    return Path(name).name if "/" in name and name.endswith(".gguf") else name


# ----------------------------------------------------------------------------- engines


class Engine:
    """Any OpenAI-compatible API (OpenAI itself, a proxy, an engine not known here): the
    standard fields only, and token counts from a local copy of the model or estimated."""

    kind: ClassVar[str] = "openai"  # part of the cache identity: never rename one
    takes_grammar: ClassVar[bool] = False  # a GBNF ``grammar`` (--structured-notes)
    template_kwargs: ClassVar[dict[str, Any]] = {}  # ``chat_template_kwargs`` of each call

    @classmethod
    def detect(cls, api: Api, info: ServerInfo, card: dict[str, Any]) -> bool:
        """Whether the server is one of these; if so, what it says goes into ``info``."""
        return True

    def sampling(self, s: GenerationSettings) -> dict[str, Any]:
        """The sampling fields of a request, in the names this engine reads."""
        penalty = round(min(2.0, max(0.0, s.repeat_penalty - 1.0)), 3)
        return {**_standard(s), "frequency_penalty": penalty}

    def counter(self, api: Api, info: ServerInfo, local: ModelChoice | None) -> TokenCounter:
        """The best way to count this server's tokens (see ``llm.tokens``)."""
        return local_counter(info, local) or EstimatedTokens()


def _standard(s: GenerationSettings) -> dict[str, Any]:
    return {"temperature": s.temperature, "top_p": s.top_p, "seed": s.seed}


def _llama_cpp_sampling(s: GenerationSettings) -> dict[str, Any]:
    return {
        **_standard(s),
        "top_k": TOP_K,
        "min_p": MIN_P,
        "repeat_penalty": s.repeat_penalty,
        "repeat_last_n": REPEAT_LAST_N,
    }


class LlamaServer(Engine):
    """llama.cpp's ``llama-server``: ``/props`` (context per slot, slots, model file,
    build), its own ``/tokenize`` and ``/apply-template``, grammars, prompt reuse."""

    kind = "llama-server"
    takes_grammar = True
    template_kwargs: ClassVar[dict[str, Any]] = {"enable_thinking": False}  # as llm/chat.py

    @classmethod
    def detect(cls, api: Api, info: ServerInfo, card: dict[str, Any]) -> bool:
        reply = api.get("/props", root=True, attempts=1)
        props = reply.data
        if reply.status != 200 or not isinstance(props, dict):
            return False
        if "total_slots" not in props and "default_generation_settings" not in props:
            return False
        props = api.checked(reply, PROPS, "/props")
        defaults = props.get("default_generation_settings") or {}
        meta = card.get("meta") or {}
        info.n_ctx = defaults.get("n_ctx") or meta.get("n_ctx")
        info.slots = props.get("total_slots")
        if props.get("model_path"):
            info.model_path = props["model_path"]
            info.model_file = Path(props["model_path"]).name
        info.build = props.get("build_info") or None
        info.n_vocab = meta.get("n_vocab")
        for key in ("n_params", "size"):
            if meta.get(key):
                info.details[key] = meta[key]
        return True

    def sampling(self, s: GenerationSettings) -> dict[str, Any]:
        # A slot keeps the prompt it served: the fixed instruction of the next map call,
        # and the whole prompt of a guard's retry, are not evaluated again (in-process,
        # the same reuse saves up to half the prefill of a paper with retries). The price:
        # the rest is evaluated in other batch sizes, which round differently, so in a
        # near-tie the text can depend on what the slot served before (off, it depends on
        # the request alone when slots don't share a batch).
        return {**_llama_cpp_sampling(s), "cache_prompt": True}

    def counter(self, api: Api, info: ServerInfo, local: ModelChoice | None) -> TokenCounter:
        def count(text: str) -> int:
            body = {"content": text, "add_special": False, "parse_special": False}
            return _token_count(api, api.post("/tokenize", body, root=True), "/tokenize")

        def prompt(system: str, user: str) -> int | None:
            messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
            reply = api.post("/apply-template", {"messages": messages}, root=True)
            if reply.status != 200:
                return None  # an older build: the texts and a margin
            rendered = api.checked(reply, TEMPLATE, "/apply-template")["prompt"]
            body = {"content": rendered, "add_special": True, "parse_special": True}
            return _token_count(api, api.post("/tokenize", body, root=True), "/tokenize")

        return ServerTokens(count, prompt)


class LlamaCppPython(Engine):
    """llama-cpp-python's own server: one model behind one lock (one slot), grammars, and a
    token count endpoint that waits behind every generation (so a local GGUF comes first)."""

    kind = "llama-cpp-python"
    takes_grammar = True

    @classmethod
    def detect(cls, api: Api, info: ServerInfo, card: dict[str, Any]) -> bool:
        if card.get("owned_by") != "me" or "permissions" not in card:
            return False
        info.slots = 1  # one Llama behind one lock: requests wait for each other
        if info.model.endswith(".gguf"):
            info.model_path, info.model_file = info.model, file_name(info.model)
        return True

    def sampling(self, s: GenerationSettings) -> dict[str, Any]:
        return _llama_cpp_sampling(s)

    def counter(self, api: Api, info: ServerInfo, local: ModelChoice | None) -> TokenCounter:
        def count(text: str) -> int:
            # its BOS included: one token over, on the safe side
            body = {"input": text, "model": info.model}
            return _token_count(
                api, api.post("/extras/tokenize/count", body), "/extras/tokenize/count"
            )

        return local_counter(info, local) or ServerTokens(count)


class Vllm(Engine):
    """vLLM: its context (``max_model_len``) on the model's card, its ``/tokenize``."""

    kind = "vllm"
    template_kwargs: ClassVar[dict[str, Any]] = {"enable_thinking": False}

    @classmethod
    def detect(cls, api: Api, info: ServerInfo, card: dict[str, Any]) -> bool:
        if card.get("owned_by") != "vllm":
            return False
        info.n_ctx = card.get("max_model_len")
        if card.get("root"):
            info.details["root"] = card["root"]
        return True

    def sampling(self, s: GenerationSettings) -> dict[str, Any]:
        return {
            **_standard(s),
            "top_k": TOP_K,
            "min_p": MIN_P,
            "repetition_penalty": s.repeat_penalty,
        }

    def counter(self, api: Api, info: ServerInfo, local: ModelChoice | None) -> TokenCounter:
        def count(text: str) -> int:
            body = {"prompt": text, "add_special_tokens": False}
            return _token_count(api, api.post("/tokenize", body, root=True), "/tokenize")

        return ServerTokens(count)


class Ollama(Engine):
    """Ollama: ``/api/version`` says it is; ``/api/tags`` names the weights (their digest)
    and ``/api/show`` the context (``num_ctx``). Its ``/v1`` reads the standard fields."""

    kind = "ollama"

    @classmethod
    def detect(cls, api: Api, info: ServerInfo, card: dict[str, Any]) -> bool:
        version = api.get("/api/version", root=True, attempts=1)
        if version.status != 200 or not isinstance(version.data, dict):
            return False
        if "version" not in version.data:
            return False
        tags = api.get("/api/tags", root=True, attempts=1)
        if tags.status == 200:
            for m in api.checked(tags, OLLAMA_TAGS, "/api/tags").get("models") or []:
                named = info.model in (m.get("name"), m.get("model"))
                if named and m.get("digest"):
                    info.details["digest"] = m["digest"]
        show = api.post("/api/show", {"model": info.model}, root=True, attempts=1)
        if show.status == 200:
            params = api.checked(show, OLLAMA_SHOW, "/api/show").get("parameters")
            found = re.search(r"^\s*num_ctx\s+(\d{1,9})(?!\d)", params or "", re.MULTILINE)
            if found:
                info.n_ctx = int(found[1])
        return True


class LmStudio(Engine):
    """LM Studio: ``/api/v0/models`` gives the loaded context, publisher, architecture and
    quantization."""

    kind = "lmstudio"

    @classmethod
    def detect(cls, api: Api, info: ServerInfo, card: dict[str, Any]) -> bool:
        reply = api.get("/api/v0/models", root=True, attempts=1)
        data = reply.data
        if reply.status != 200 or not isinstance(data, dict) or "data" not in data:
            return False
        for c in api.checked(reply, LMSTUDIO_MODELS, "/api/v0/models")["data"]:
            if c["id"] == info.model:
                info.n_ctx = c.get("loaded_context_length") or c.get("max_context_length")
                for key in ("publisher", "arch", "quantization"):
                    if c.get(key):
                        info.details[key] = c[key]
        return True

    def sampling(self, s: GenerationSettings) -> dict[str, Any]:
        return {**_standard(s), "top_k": TOP_K, "repeat_penalty": s.repeat_penalty}


# In the order they are tried: llama-server first (its /props is asked of every server),
# then the engines a model card tells, then those with an API of their own.
ENGINES: tuple[type[Engine], ...] = (LlamaServer, LlamaCppPython, Vllm, Ollama, LmStudio, Engine)


def detect(api: Api, model: str, models: list[str], card: dict[str, Any]) -> ServerInfo:
    """The engine of the server at ``api`` and what it reports about ``model``."""
    info = ServerInfo(model=model, models=models)
    for engine in ENGINES:
        if engine.detect(api, info, card):
            info.engine = engine()
            break
    if not (isinstance(info.n_ctx, int) and SANE_CTX[0] <= info.n_ctx <= SANE_CTX[1]):
        info.n_ctx = None  # -5 or 10^18 tokens: not a context to plan with or to suggest
    return info


# ----------------------------------------------------------------------------- tokens


def local_counter(info: ServerInfo, local: ModelChoice | None) -> LocalTokens | None:
    """Counts from the same GGUF here: ``--model``, or the server's own file when the path
    it reports exists on this machine (None without llama-cpp-python: counts are estimated)."""
    from localdigest.llm.base import local_engine

    if not local_engine():
        return None
    if local is not None:
        counter = LocalTokens(local)
        if info.n_vocab is not None and info.n_vocab != counter.n_vocab:
            raise ModelError(
                f"--model {local.path.name} is not the model the server runs (its "
                f"vocabulary has {counter.n_vocab} tokens, the server's {info.n_vocab})"
            )
        return counter
    from localdigest.models.gguf import read_gguf

    for name in (info.model_path, info.model):
        if not name or not name.endswith(".gguf") or not Path(name).is_file():
            continue
        try:
            return LocalTokens(
                ModelChoice(path=Path(name), source="server", info=read_gguf(Path(name)))
            )
        except ModelError:
            continue
    return None


def _token_count(api: Api, reply: Reply, path: str) -> int:
    if reply.status == 200:
        data = api.checked(reply, TOKENS, path)
        if data.get("count") is not None:
            return int(data["count"])
        if data.get("tokens") is not None:
            return len(data["tokens"])
    raise ModelError(
        f"The server at {api.where} could not count tokens ({path}: {reply.status}) — pass --model "
        "with the same GGUF to count here"
    )
