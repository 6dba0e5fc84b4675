"""Finding and getting models: which GGUF file to run and what its header says.

Running a model is ``localdigest.llm``'s (above this package: it takes a ``ModelChoice``).
Nothing here reads a setting: the callers (``cli/``, ``workflows/``) pass the models
folder, localdigest's home (for the header index) and the model setting.

- ``resolve``: model resolution (a --model value > the models folder > the embedded
  default), the listing of every model found, a model file's cache identity;
- ``gguf``: GGUF headers, read without loading weights (a bounded walk: any file in a store
  may be hostile);
- ``stores``: the models other tools keep (Ollama, LM Studio, the Hugging Face cache,
  llama.cpp, GPT4All); ``inventory``: their header facts, indexed in the home;
- ``catalog``: models worth pulling (``catalog.json``); ``pull``: a download from the
  Hugging Face hub;
- ``guidance``: the hint under a summary the embedded demo model wrote.
"""

from __future__ import annotations

from localdigest.models.gguf import GGUFInfo
from localdigest.models.resolve import (
    ModelChoice,
    default_n_ctx,
    embedded_model_path,
    list_models,
    resolve_model,
)

__all__ = [
    "GGUFInfo",
    "ModelChoice",
    "default_n_ctx",
    "embedded_model_path",
    "list_models",
    "resolve_model",
]
