"""Token counts for a model that runs elsewhere (the server backend's chunk budget).

Best first:

- ``ServerTokens``: the server's own tokenizer (llama-server's and vLLM's ``/tokenize``);
- ``LocalTokens``: the same GGUF on this machine, its vocabulary loaded alone (no weights,
  ~0.1 s), with its chat template for whole prompts: exact, and no request per count;
- ``ExtrasTokens``: llama-cpp-python's server ``/extras/tokenize/count``. It waits for the
  server's one lock, behind every generation in progress, so a local GGUF comes first;
- ``EstimatedTokens``: no tokenizer at all (Ollama, LM Studio, a cloud API without a local
  copy of the model): 0.4 tokens per byte of UTF-8. Measured with SmolLM2's tokenizer on
  the team corpus: 0.23 tokens per byte at the median of 6 KB windows, 0.34 at the worst
  (formula-heavy text), so a chunk counted this way fits with a margin. Chunks come out
  about 1.7 times smaller than with the real count: pass ``--model`` with the same GGUF
  for exact counts.

Counts are cached per text (the reading plan and the chunker count the same paragraphs
more than once), and every counter is safe to use from several threads.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Protocol

from localdigest.errors import ModelError
from localdigest.llm.http import HttpClient
from localdigest.models import ModelChoice

ESTIMATE_TOKENS_PER_BYTE = 0.4
# A whole prompt counted as its two texts: the chat template's role markers and the
# assistant's opening come on top (ChatML: 11 tokens for system + user; Llama 3: ~20).
CHAT_OVERHEAD = 32
COUNT_CACHE = 16384


class TokenCounter(Protocol):
    source: str  # what counts: "server", "local GGUF <name>", "estimate"
    exact: bool  # counts are the server's own (False: an estimate with a margin)

    def count(self, text: str) -> int: ...

    def prompt(self, system: str, user: str) -> int: ...


class _Cached:
    """Counts cached per text (thread-safe: lru_cache holds its own lock)."""

    def __init__(self) -> None:
        self.count: Callable[[str], int] = lru_cache(maxsize=COUNT_CACHE)(self._count)

    def _count(self, text: str) -> int:
        raise NotImplementedError

    def prompt(self, system: str, user: str) -> int:
        return self.count(system) + self.count(user) + CHAT_OVERHEAD


class ServerTokens(_Cached):
    """``POST /tokenize`` on the server's root: llama-server (``content``) and vLLM
    (``prompt``) read one field each and ignore the other."""

    source = "server"
    exact = True

    def __init__(self, client: HttpClient, *, chat_template: bool = False) -> None:
        super().__init__()
        self.client = client
        self.chat_template = chat_template  # llama-server renders prompts (/apply-template)
        # a guard's retry, or a paper's next call, asks for the same prompt again
        self._rendered: Callable[[str, str], int] = lru_cache(maxsize=COUNT_CACHE)(self._prompt)

    def _count(self, text: str) -> int:
        reply = self.client.post(
            "/tokenize",
            {
                "content": text,
                "prompt": text,
                "add_special": False,
                "add_special_tokens": False,
                "parse_special": False,
            },
            root=True,
        )
        return _token_count(reply.data, self.client.where, "/tokenize", reply.status)

    def prompt(self, system: str, user: str) -> int:
        if not self.chat_template:
            return super().prompt(system, user)
        return self._rendered(system, user)

    def _prompt(self, system: str, user: str) -> int:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        reply = self.client.post("/apply-template", {"messages": messages}, root=True)
        data = reply.data
        if reply.status != 200 or not isinstance(data, dict) or "prompt" not in data:
            return super().prompt(system, user)
        rendered = self.client.post(
            "/tokenize",
            {"content": str(data["prompt"]), "add_special": True, "parse_special": True},
            root=True,
        )
        return _token_count(rendered.data, self.client.where, "/tokenize", rendered.status)


class ExtrasTokens(_Cached):
    """llama-cpp-python's server: ``POST /extras/tokenize/count`` (its BOS included: one
    token over, on the safe side)."""

    source = "server"
    exact = True

    def __init__(self, client: HttpClient, model: str) -> None:
        super().__init__()
        self.client = client
        self.model = model

    def _count(self, text: str) -> int:
        reply = self.client.post("/extras/tokenize/count", {"input": text, "model": self.model})
        data = reply.data
        if reply.status != 200 or not isinstance(data, dict) or "count" not in data:
            raise ModelError(
                f"The server at {self.client.where} could not count tokens "
                f"(/extras/tokenize/count: {reply.status}) — pass --model with the same GGUF"
            )
        return int(data["count"])


class EstimatedTokens(_Cached):
    """No tokenizer: bytes times ``ESTIMATE_TOKENS_PER_BYTE``, rounded up."""

    source = "estimate"
    exact = False

    def _count(self, text: str) -> int:
        n = len(text.encode("utf-8"))
        return math.ceil(n * ESTIMATE_TOKENS_PER_BYTE) if n else 0


class LocalTokens(_Cached):
    """The same GGUF here, its vocabulary alone (``vocab_only``), and its chat template."""

    exact = True

    def __init__(self, choice: ModelChoice) -> None:
        super().__init__()
        self.choice = choice
        self.source = f"local GGUF {choice.path.name}"
        from localdigest.llm.llamacpp import chat_template, quiet_stderr

        try:
            import llama_cpp

            with quiet_stderr(True):
                self.llm: Any = llama_cpp.Llama(
                    model_path=str(choice.path), vocab_only=True, verbose=False
                )
        except (ImportError, ValueError, RuntimeError, OSError) as e:
            raise ModelError(
                f"llama.cpp could not read the vocabulary of {choice.path} ({e}) — pass "
                "another --model, or none (token counts are then estimated)"
            ) from e
        self.template = chat_template(self.llm, choice)
        self._lock = threading.Lock()

    @property
    def n_vocab(self) -> int:
        return int(self.llm.n_vocab())

    def _count(self, text: str) -> int:
        with self._lock:
            return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def prompt(self, system: str, user: str) -> int:
        from localdigest.llm.llamacpp import chat_prompt

        with self._lock:
            return len(chat_prompt(self.llm, self.template, self.choice, system, user))


def _token_count(data: Any, where: str, path: str, status: int) -> int:
    if status == 200 and isinstance(data, dict):
        if isinstance(data.get("count"), int):
            return int(data["count"])
        if isinstance(data.get("tokens"), list):
            return len(data["tokens"])
    raise ModelError(
        f"The server at {where} could not count tokens ({path}: {status}) — pass --model "
        "with the same GGUF to count here"
    )
