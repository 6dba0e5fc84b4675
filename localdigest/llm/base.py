"""The contract between the summarizer and a model: what a backend does and what it returns.

A backend tokenizes, counts prompt tokens and completes one prompt at a time. What differs
between backends is declared as capabilities, not probed: ``supports_concurrency`` says that
``complete`` may be called from several threads at once and the engine serves the calls side
by side (a server with parallel slots), ``parallel_slots`` how many it serves at once. The
summarizer branches on those flags only. (Decoding several prompts at once in-process was
measured slower on a CPU than one after another, so no backend here batches: see
docs/performance.md.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from localdigest import defaults
from localdigest.errors import ModelError

# Sampling defaults (temperature and seed are user settings too: see ``defaults``).
DEFAULT_TEMPERATURE = defaults.TEMPERATURE
DEFAULT_SEED = defaults.SEED
DEFAULT_TOP_P = 0.9
DEFAULT_REPEAT_PENALTY = 1.15


@dataclass(frozen=True)
class GenerationSettings:
    max_tokens: int
    temperature: float = DEFAULT_TEMPERATURE
    top_p: float = DEFAULT_TOP_P
    repeat_penalty: float = DEFAULT_REPEAT_PENALTY
    seed: int = DEFAULT_SEED
    # A GBNF grammar the output must follow (llama.cpp's constrained decoding); None: free.
    grammar: str | None = None

    def as_key(self) -> dict[str, Any]:
        key: dict[str, Any] = {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "repeat_penalty": self.repeat_penalty,
            "seed": self.seed,
        }
        if self.grammar is not None:  # keys made before grammars existed stay the same
            key["grammar"] = self.grammar
        return key


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" or "length" (cut short by max_tokens: a signal, not success)
    prompt_seconds: float  # prefill (time to the first token)
    seconds: float  # whole call
    # Prompt tokens not evaluated again: the KV cache already held them (a prefix shared
    # with the previous prompt, or with the other prompts of a batch).
    reused_tokens: int = 0


# Called after each generated token: (tokens so far, seconds since the call started).
TokenCallback = Callable[[int, float], None]


class Backend(Protocol):
    """What the summarizer needs from a model."""

    name: str
    fingerprint: str
    n_ctx: int
    # complete() may run in several threads at once (a server); False: one call at a time
    supports_concurrency: bool
    parallel_slots: int  # calls served at once (1: one at a time)

    def count_tokens(self, text: str) -> int: ...

    def prompt_tokens(self, system: str, user: str) -> int: ...

    def complete(
        self,
        system: str,
        user: str,
        settings: GenerationSettings,
        on_token: TokenCallback | None = None,
    ) -> Generation: ...

    def cancel_calls(self) -> None:
        """Stop every call in flight in other threads (the run is stopping); they raise.
        A backend that runs one call at a time in the caller's thread has nothing to do."""
        ...


# What a user without the in-process engine (llama-cpp-python) runs to add it.
LOCAL_EXTRA = "pip install 'localdigest[local]'"


def local_engine() -> bool:
    """Whether llama-cpp-python, the in-process engine (the ``local`` extra), is installed;
    found without importing it. Without it, extract mode counts tokens by estimate and
    ``--server`` sends every call elsewhere."""
    from importlib.util import find_spec

    try:
        return find_spec("llama_cpp") is not None
    except (ImportError, ValueError):
        return False


def no_local_engine(model: str) -> ModelError:
    """The one line for a command that needs the in-process model where it is missing."""
    return ModelError(
        f"{model} would run in-process, which needs llama-cpp-python (not installed) — run "
        f"`{LOCAL_EXTRA}`, or pass --server URL, or --mode extract"
    )
