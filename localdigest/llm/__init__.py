"""Models: the Backend contract, which model file to use, and the backends that run one.

- ``base``: the contract (``Backend``, capability flags), ``Generation``, sampling settings;
- ``models``: model resolution (flag > env > config > models folder > embedded), listing;
- ``stores``: the models other tools keep (Ollama, LM Studio, the Hugging Face cache,
  llama.cpp, GPT4All); ``inventory``: their header facts, indexed; ``catalog``: models worth
  pulling; ``pull``: a download from the Hugging Face hub;
- ``gguf``: GGUF headers, read without loading weights;
- ``chat``: chat templates (thinking off, system-role fold, stop sequences);
- ``llamacpp``: the in-process llama-cpp-python backend; ``batch``: its batched decoding.

``backend_factory`` is the chooser: settings in, a function that loads the backend out (the
model is loaded on first need, so a cached rerun never loads it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from localdigest import config
from localdigest.llm.base import (
    Backend,
    BatchBackend,
    Generation,
    GenerationSettings,
    TokenCallback,
)
from localdigest.llm.models import ModelChoice, default_n_ctx, list_models, resolve_model

__all__ = [
    "Backend",
    "BackendSettings",
    "BatchBackend",
    "Generation",
    "GenerationSettings",
    "ModelChoice",
    "TokenCallback",
    "backend_factory",
    "default_n_ctx",
    "list_models",
    "resolve_model",
]


@dataclass(frozen=True)
class BackendSettings:
    """How to run the chosen model."""

    n_ctx: int
    gpu_layers: int = 0
    threads: int | None = None
    seed: int = config.default("seed")
    verbose: bool = False


def backend_factory(choice: ModelChoice, settings: BackendSettings) -> Callable[[], Backend]:
    """A function that loads the backend for ``choice`` when first called (its outputs
    never carry a thinking model's ``<think>`` blocks)."""

    def load() -> Backend:
        from localdigest.llm.chat import without_thinking
        from localdigest.llm.llamacpp import LlamaCppBackend  # llama_cpp: only when needed

        return without_thinking(
            LlamaCppBackend(
                choice,
                n_ctx=settings.n_ctx,
                gpu_layers=settings.gpu_layers,
                threads=settings.threads,
                seed=settings.seed,
                verbose=settings.verbose,
            )
        )

    return load
