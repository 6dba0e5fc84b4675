"""Running models: the Backend contract and the backends that run one (which model file to
use, and getting one, is ``localdigest.models``).

- ``base``: the contract (``Backend``, capability flags), ``Generation``, sampling settings;
- ``chat``: chat templates (thinking off, system-role fold, stop sequences);
- ``llamacpp``: the in-process llama-cpp-python backend;
- ``server``: the backend for an OpenAI-compatible server; ``engines``: one class per
  engine (llama-server, vLLM, Ollama, LM Studio, llama-cpp-python's server, any other);
  ``tokens``: its token counts. Its HTTP is ``localdigest.net``'s.

The choosers: ``backend_factory`` (settings in, a function that loads the in-process model
out: loaded on first need, so a cached rerun never loads it) and ``connect_server`` (a
server URL and settings in, the server backend out; it asks the server what it serves at
once, since the cache keys hold the server's model identity).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from localdigest.llm.base import (
    DEFAULT_SEED,
    LOCAL_EXTRA,
    Backend,
    Generation,
    GenerationSettings,
    TokenCallback,
    local_engine,
    no_local_engine,
)
from localdigest.models import ModelChoice

if TYPE_CHECKING:  # the server modules load only when a server is used
    from localdigest.llm.server import ServerBackend, ServerSettings

__all__ = [
    "LOCAL_EXTRA",
    "Backend",
    "BackendSettings",
    "Generation",
    "GenerationSettings",
    "TokenCallback",
    "backend_factory",
    "connect_server",
    "local_engine",
    "no_local_engine",
]


@dataclass(frozen=True)
class BackendSettings:
    """How to run the chosen model."""

    n_ctx: int
    gpu_layers: int = 0
    threads: int | None = None
    seed: int = DEFAULT_SEED
    verbose: bool = False


def backend_factory(choice: ModelChoice, settings: BackendSettings) -> Callable[[], Backend]:
    """A function that loads the backend for ``choice`` when first called."""

    def load() -> Backend:
        from localdigest.llm.llamacpp import LlamaCppBackend  # llama_cpp: only when needed

        return LlamaCppBackend(
            choice,
            n_ctx=settings.n_ctx,
            gpu_layers=settings.gpu_layers,
            threads=settings.threads,
            seed=settings.seed,
            verbose=settings.verbose,
        )

    return load


def connect_server(settings: ServerSettings) -> ServerBackend:
    """The backend for the server at ``settings.url`` (what it says of the model: its size,
    its engine): asks it what it serves (exit 5 when it cannot be reached, 4 when the model
    is wrong) before any paper is read."""
    from localdigest.llm.server import connect  # httpx: only when a server is used

    return connect(settings)
