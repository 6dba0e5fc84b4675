"""Token counts for a model that runs elsewhere (the server backend's chunk budget).

Best first:

- ``ServerTokens``: the server's own tokenizer, as its engine asks it (llama-server's and
  vLLM's ``/tokenize``; llama-cpp-python's ``/extras/tokenize/count``, which waits for that
  server's one lock, behind every generation in progress, so a local GGUF comes first);
- ``LocalTokens``: the same GGUF on this machine, its vocabulary loaded alone (no weights,
  ~0.1 s), with its chat template for whole prompts: exact, and no request per count;
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
from localdigest.llm.base import Generation, GenerationSettings, TokenCallback, no_local_engine
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
    """The server's own tokenizer, through its engine's endpoint (``llm.engines``):
    ``count`` counts a text, ``prompt`` (when the engine can) a whole templated prompt, or
    says None to count its texts with a margin."""

    source = "server"
    exact = True

    def __init__(
        self,
        count: Callable[[str], int],
        prompt: Callable[[str, str], int | None] | None = None,
    ) -> None:
        super().__init__()
        self._count_text = count
        self._count_prompt = prompt
        # a guard's retry, or a paper's next call, asks for the same prompt again
        self._rendered: Callable[[str, str], int] = lru_cache(maxsize=COUNT_CACHE)(self._prompt)

    def _count(self, text: str) -> int:
        return self._count_text(text)

    def prompt(self, system: str, user: str) -> int:
        if self._count_prompt is None:
            return super().prompt(system, user)
        return self._rendered(system, user)

    def _prompt(self, system: str, user: str) -> int:
        assert self._count_prompt is not None
        counted = self._count_prompt(system, user)
        return super().prompt(system, user) if counted is None else counted


class EstimatedTokens(_Cached):
    """No tokenizer: bytes times ``ESTIMATE_TOKENS_PER_BYTE``, rounded up."""

    source = "estimate"
    exact = False

    def _count(self, text: str) -> int:
        n = len(text.encode("utf-8"))
        return math.ceil(n * ESTIMATE_TOKENS_PER_BYTE) if n else 0


class EstimatingBackend:
    """Extract mode where llama-cpp-python is not installed: the model's tokens counted by
    estimate (``EstimatedTokens``), and no call made (``complete`` says how to add the
    engine)."""

    supports_concurrency = False
    parallel_slots = 1

    def __init__(self, name: str, fingerprint: str, n_ctx: int) -> None:
        self.name = name
        self.fingerprint = fingerprint
        self.n_ctx = n_ctx
        self._tokens = EstimatedTokens()

    def count_tokens(self, text: str) -> int:
        return self._tokens.count(text)

    def prompt_tokens(self, system: str, user: str) -> int:
        return self._tokens.prompt(system, user)

    def complete(
        self,
        system: str,
        user: str,
        settings: GenerationSettings,
        on_token: TokenCallback | None = None,
    ) -> Generation:
        raise no_local_engine(self.name)

    def cancel_calls(self) -> None:
        """One call at a time, and none made: nothing to stop."""


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
