"""Where GGUF models already are on this machine: the folders other tools keep them in.

Scanning lists folders, reads Ollama's small manifest files and checks each candidate's
first four bytes (``GGUF``); it never reads a model's header or weights, so resolving a
``--model`` name stays a few milliseconds. A store that is absent or unreadable is skipped
quietly, a file that is not a GGUF is skipped, and a symlink that points out of its store
is never followed (only the user's own models folder may link to files elsewhere). What
other tools wrote is not trusted: JSON too deep to decode is broken JSON, and folders are
walked only as deep as the store's layout goes.

Each model gets a ``name`` that ``--model`` takes to pick exactly that one
(``ollama:qwen2.5:1.5b``, ``hf:org/repo/file.gguf``, ``lmstudio:pub/model/file.gguf``,
``llama.cpp:file.gguf``, ``gpt4all:file.gguf``; a models-folder file keeps its file name)
and ``aliases``: the bare names that find it too (file name, stem, Ollama's ``name:tag``).

Where each store is (sources: the tools' own code and documentation, see docs/models.md):
Ollama ``$OLLAMA_MODELS`` or ``~/.ollama/models`` (and the Linux service's
``/usr/share/ollama/.ollama/models``), manifests at ``manifests/<host>/<namespace>/<model>/<tag>``
whose ``application/vnd.ollama.image.model`` layer is ``blobs/sha256-<hex>``; LM Studio
``<home>/models/<publisher>/<model>/*.gguf``; the Hugging Face hub cache
``models--<org>--<name>/snapshots/<commit>/<file>`` (links into ``blobs/``); llama.cpp's
``-hf`` cache (flat files in older builds, the hub layout in newer ones); GPT4All's folder.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GGUF_MAGIC = b"GGUF"
OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
OLLAMA_DEFAULT_HOSTS = ("registry.ollama.ai", "ollama.com")
_DIGEST = re.compile(r"sha256[:-][0-9a-fA-F]{64}")
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
MAX_MANIFEST_BYTES = 1 << 20
MAX_SNAPSHOT_DEPTH = 8  # a hub repo's files sit a level or two down (Q4_K_M/, gguf/)

# The prefixes --model takes, in the order `localdigest models` lists the stores.
PREFIXES = ("ollama", "lmstudio", "hf", "llama.cpp", "gpt4all")


@dataclass(frozen=True)
class StoredModel:
    """One GGUF file found in a store (its header is not read here)."""

    source: str  # models-dir, embedded, ollama, lmstudio, hf, llama.cpp, gpt4all
    name: str  # what --model takes to pick exactly this one
    label: str  # the model's name for people: qwen2.5:1.5b, org/repo/file.gguf, a file name
    path: Path  # the file as the store names it (a snapshot link, a blob, a file)
    real: Path  # the file itself, links resolved: one blob reached two ways is one model
    aliases: tuple[str, ...] = field(default=())  # bare names that find it too


class Unusable(Exception):
    """A store entry that can't be used (broken manifest, missing blob, not a GGUF)."""


def read_json(path: Path, limit: int | None = None) -> Any:
    """The JSON in ``path`` (at most ``limit`` bytes of it); ValueError when it is not JSON,
    including JSON nested too deep to decode (1 MiB of ``[``), OSError when unreadable."""
    with path.open("rb") as f:
        data = f.read() if limit is None else f.read(limit)
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("nested too deeply to decode") from None


# ----------------------------------------------------------------------------- store folders


def _home() -> Path:
    return Path.home()


def _env_path(var: str) -> Path | None:
    value = os.environ.get(var)
    return Path(value).expanduser() if value else None


def _xdg(var: str, default: str) -> Path:
    return _env_path(var) or _home() / default


def ollama_roots() -> list[Path]:
    """``$OLLAMA_MODELS`` when set (as Ollama itself does), else the default locations."""
    configured = _env_path("OLLAMA_MODELS")
    if configured is not None:
        return [configured]
    roots = [_home() / ".ollama" / "models"]
    if sys.platform.startswith("linux"):  # the install script's systemd service user
        roots.append(Path("/usr/share/ollama/.ollama/models"))
    return roots


def lmstudio_roots() -> list[Path]:
    """LM Studio's models folders: the home its pointer file names, ``~/.lmstudio``, the
    older ``~/.cache/lm-studio``; plus a relocated downloads folder from its settings."""
    home = _home()
    homes: list[Path] = []
    try:
        pointed = (home / ".lmstudio-home-pointer").read_text(encoding="utf-8").splitlines()
        if pointed and pointed[0].strip():
            homes.append(Path(pointed[0].strip()).expanduser())
    except (OSError, UnicodeDecodeError):
        pass
    homes += [home / ".lmstudio", home / ".cache" / "lm-studio"]
    roots = [h / "models" for h in homes]
    for h in homes:
        try:
            settings = read_json(h / "settings.json", MAX_MANIFEST_BYTES)
            folder = settings.get("downloadsFolder") if isinstance(settings, dict) else None
            if isinstance(folder, str) and folder:
                roots.append(Path(folder).expanduser())
        except (OSError, ValueError):
            pass
    return _unique(roots)


def hub_cache_root() -> Path:
    """The Hugging Face hub cache, read from the environment now (not at import time)."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        configured = _env_path(var)
        if configured is not None:
            return configured
    hf_home = _env_path("HF_HOME")
    if hf_home is not None:
        return hf_home / "hub"
    return _xdg("XDG_CACHE_HOME", ".cache") / "huggingface" / "hub"


def llama_cpp_root() -> Path:
    """llama.cpp's ``-hf`` download cache: ``$LLAMA_CACHE`` or the platform cache folder."""
    configured = _env_path("LLAMA_CACHE")
    if configured is not None:
        return configured
    if sys.platform == "darwin":
        return _home() / "Library" / "Caches" / "llama.cpp"
    if sys.platform == "win32":
        return (_env_path("LOCALAPPDATA") or _home() / "AppData" / "Local") / "llama.cpp"
    return _xdg("XDG_CACHE_HOME", ".cache") / "llama.cpp"


def gpt4all_roots() -> list[Path]:
    """GPT4All's models folder: the one its settings name, else Qt's app data folder for
    nomic.ai/GPT4All; plus the Python bindings' ``~/.cache/gpt4all``."""
    if sys.platform == "darwin":
        data = _home() / "Library" / "Application Support"
        ini = _home() / ".config" / "nomic.ai" / "GPT4All.ini"
    elif sys.platform == "win32":
        data = _env_path("LOCALAPPDATA") or _home() / "AppData" / "Local"
        ini = (_env_path("APPDATA") or _home() / "AppData" / "Roaming") / "nomic.ai" / "GPT4All.ini"
    else:
        data = _xdg("XDG_DATA_HOME", ".local/share")
        ini = _xdg("XDG_CONFIG_HOME", ".config") / "nomic.ai" / "GPT4All.ini"
    roots = []
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read(ini, encoding="utf-8")
        for section in parser.sections():
            value = parser.get(section, "modelPath", fallback="").strip().strip('"')
            if value:
                roots.append(Path(value).expanduser())
    except (OSError, configparser.Error, UnicodeDecodeError):
        pass
    roots += [data / "nomic.ai" / "GPT4All", _home() / ".cache" / "gpt4all"]
    return _unique(roots)


def _unique(paths: Iterable[Path]) -> list[Path]:
    """Each path once; none holding NUL (a settings file can name one, no system can open it)."""
    return list(dict.fromkeys(p for p in paths if "\0" not in str(p)))


# ----------------------------------------------------------------------------- checks


def is_gguf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == GGUF_MAGIC
    except OSError:
        return False


def inside(path: Path, root: Path) -> Path | None:
    """The regular file behind ``path`` if it stays inside ``root``, else None."""
    try:
        real = path.resolve(strict=True)
        base = root.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not real.is_relative_to(base) or not real.is_file():
        return None
    return real


def _listable(name: str) -> bool:
    """A model file worth listing: a .gguf that is no vision projector and, of a split
    model, only the first part (llama.cpp finds the other parts next to it)."""
    lower = name.lower()
    if not lower.endswith(".gguf") or lower.startswith("mmproj") or lower.startswith("."):
        return False
    split = _SPLIT.search(name)
    return split is None or int(split.group(1)) == 1


def _file_model(source: str, name: str, label: str, path: Path, root: Path) -> StoredModel | None:
    real = inside(path, root)
    if real is None or not is_gguf(real):
        return None
    return StoredModel(source, name, label, path, real, (path.name, path.name[: -len(".gguf")]))


def _files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if _listable(p.name))
    except OSError:
        return []


def _dirs(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return []


# ----------------------------------------------------------------------------- Ollama


def ollama_label(host: str, namespace: str, model: str, tag: str) -> str:
    """The name ``ollama list`` shows: ``model:tag``, ``namespace/model:tag`` or
    ``host/namespace/model:tag``."""
    if host in OLLAMA_DEFAULT_HOSTS:
        short = model if namespace == "library" else f"{namespace}/{model}"
    else:
        short = f"{host}/{namespace}/{model}"
    return f"{short}:{tag}"


def ollama_model(root: Path, manifest: Path) -> StoredModel:
    """The GGUF an Ollama manifest points to; raises Unusable saying why not."""
    host, namespace, model, tag = manifest.parts[-4:]
    if inside(manifest, root) is None:
        raise Unusable(f"its manifest {manifest} is not a file inside {root}")
    try:
        data = read_json(manifest, MAX_MANIFEST_BYTES)
    except (OSError, ValueError) as e:
        raise Unusable(f"its manifest {manifest} is not valid JSON ({e})") from None
    layers = data.get("layers") if isinstance(data, dict) else None
    digests = [
        layer.get("digest")
        for layer in (layers if isinstance(layers, list) else [])
        if isinstance(layer, dict) and layer.get("mediaType") == OLLAMA_MODEL_LAYER
    ]
    if not digests:
        raise Unusable(f"its manifest {manifest} has no model layer (a cloud or non-GGUF model)")
    digest = digests[0]
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise Unusable(f"its manifest {manifest} names a malformed blob digest {digest!r}")
    blob = root / "blobs" / digest.replace(":", "-")
    real = inside(blob, root)
    if real is None:
        raise Unusable(f"its blob {blob} is missing or points out of the store")
    if not is_gguf(real):
        raise Unusable(f"its blob {blob} is not a GGUF file")
    label = ollama_label(host, namespace, model, tag)
    short = label.rsplit(":", 1)[0]
    aliases = (label, short) if tag == "latest" else (label,)
    return StoredModel("ollama", f"ollama:{label}", label, blob, real, aliases)


def ollama_manifest_path(root: Path, spec: str) -> Path | None:
    """Where the manifest of ``NAME[:TAG]`` lives (no tag means ``latest``)."""
    name, tag = spec, "latest"
    last = spec.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = spec.rpartition(":")
    parts = name.split("/")
    if len(parts) == 1:
        parts = [OLLAMA_DEFAULT_HOSTS[0], "library", *parts]
    elif len(parts) == 2:
        parts = [OLLAMA_DEFAULT_HOSTS[0], *parts]
    if len(parts) != 3 or not all(parts) or not tag or ".." in parts or tag == "..":
        return None
    return root.joinpath("manifests", *parts, tag)


def scan_ollama(root: Path) -> Iterator[StoredModel]:
    manifests = root / "manifests"
    for host in _dirs(manifests):
        for namespace in _dirs(host):
            for model in _dirs(namespace):
                try:
                    tags = sorted(model.iterdir())
                except OSError:
                    continue
                for manifest in tags:
                    try:
                        yield ollama_model(root, manifest)
                    except Unusable:
                        continue


# ----------------------------------------------------------------------------- other stores


def scan_hub(root: Path, source: str = "hf") -> Iterator[StoredModel]:
    """Repos in the hub cache layout; of each file the snapshot ``refs/main`` names first,
    then other snapshots newest first (a file seen once is listed once)."""
    for repo_dir in _dirs(root):
        if not repo_dir.name.startswith("models--"):
            continue
        repo = repo_dir.name[len("models--") :].replace("--", "/")
        try:
            main = (repo_dir / "refs" / "main").read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            main = ""
        snapshots = _dirs(repo_dir / "snapshots")
        snapshots.sort(key=lambda d: (d.name != main, -_mtime(d)))
        seen: set[str] = set()
        for snapshot in snapshots:
            for path in _tree(snapshot):
                rel = path.relative_to(snapshot).as_posix()
                if rel in seen:
                    continue
                found = _file_model(source, f"{source}:{repo}/{rel}", f"{repo}/{rel}", path, root)
                if found is not None:
                    seen.add(rel)
                    yield found


def _tree(top: Path) -> Iterator[Path]:
    """The listable files under ``top`` in ``os.walk``'s order (a folder's files, sorted,
    then its folders), never through a linked folder and at most ``MAX_SNAPSHOT_DEPTH``
    folders down: ``os.walk`` recurses, and a folder nested 1,100 deep broke it."""
    pending = [(top, 0)]
    while pending:
        folder, depth = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            continue
        folders = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if depth < MAX_SNAPSHOT_DEPTH:
                    folders.append((Path(entry.path), depth + 1))
            elif _listable(entry.name):
                yield Path(entry.path)
        pending.extend(reversed(folders))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def scan_lmstudio(root: Path) -> Iterator[StoredModel]:
    """``<publisher>/<model>/<file>.gguf``, exactly two levels deep, as LM Studio reads it."""
    for publisher in _dirs(root):
        for model in _dirs(publisher):
            for path in _files(model):
                label = f"{publisher.name}/{model.name}/{path.name}"
                found = _file_model("lmstudio", f"lmstudio:{label}", label, path, root)
                if found is not None:
                    yield found


def scan_flat(root: Path, source: str) -> Iterator[StoredModel]:
    for path in _files(root):
        found = _file_model(source, f"{source}:{path.name}", path.name, path, root)
        if found is not None:
            yield found


def scan_llama_cpp(root: Path) -> Iterator[StoredModel]:
    yield from scan_flat(root, "llama.cpp")  # older builds: <owner>_<repo>_<file>.gguf
    yield from scan_hub(root, "llama.cpp")  # newer builds with LLAMA_CACHE set: the hub layout


def _each(
    roots: Iterable[Path], scan: Callable[[Path], Iterator[StoredModel]]
) -> list[StoredModel]:
    found: list[StoredModel] = []
    for root in roots:
        try:
            found.extend(scan(root))
        except OSError:  # unreadable store: skipped quietly
            continue
    return found


def scan(source: str) -> list[StoredModel]:
    """Every model one store holds (``source`` is one of ``PREFIXES``)."""
    if source == "ollama":
        return _each(ollama_roots(), scan_ollama)
    if source == "lmstudio":
        return _each(lmstudio_roots(), scan_lmstudio)
    if source == "hf":
        return _each([hub_cache_root()], scan_hub)
    if source == "llama.cpp":
        return _each([llama_cpp_root()], scan_llama_cpp)
    if source == "gpt4all":
        return _each(gpt4all_roots(), lambda root: scan_flat(root, "gpt4all"))
    raise ValueError(f"unknown store {source!r}")


def scan_all() -> list[StoredModel]:
    """The models of every store, each file once (the first store that reaches it)."""
    found: list[StoredModel] = []
    seen: set[Path] = set()
    for source in PREFIXES:
        for model in scan(source):
            if model.real not in seen:
                seen.add(model.real)
                found.append(model)
    return found


def store_folders() -> list[tuple[str, Path]]:
    """Every folder looked in, by store (for messages and the table in docs/models.md)."""
    rows = [("ollama", r) for r in ollama_roots()]
    rows += [("lmstudio", r) for r in lmstudio_roots()]
    rows += [("hf", hub_cache_root()), ("llama.cpp", llama_cpp_root())]
    rows += [("gpt4all", r) for r in gpt4all_roots()]
    return rows
