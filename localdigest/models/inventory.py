"""Every model localdigest can find, with the facts its header gives, for ``models``.

Header facts cost one walk over the GGUF header (10-50 ms: the vocabulary is skipped string
by string), so they are kept in an index file in localdigest's home keyed by each file's
identity (device, inode, size, modification time). A listing of a hundred known models is
then a hundred ``stat`` calls and one small JSON file; a new or changed file is read once,
and a file whose header could not be read is remembered as such (a hostile one costs its
time budget once, not on every run). An index that is damaged in any way is rebuilt.

Also here: the memory a model needs at a context size (its weights plus the KV cache the
header's geometry implies), which picks the default context, and whether the installed
llama.cpp knows a model's architecture (its name is in libllama's architecture table).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from localdigest.errors import ModelError
from localdigest.fsutil import write_atomically
from localdigest.models import stores
from localdigest.models.gguf import MAX_COUNT, GGUFInfo, kv_bytes_per_token, read_gguf

INDEX_NAME = "models-index.json"
INDEX_VERSION = 1
BUFFERS = 256 << 20  # compute buffers and the runtime, a rough allowance
# The longest prompt the pipeline builds by default is a 1536-token chunk plus its
# instruction and answer (~1900 tokens), or the reduce over all notes; 4096 holds either
# with room, while 8192 doubles the KV cache (180 MB for SmolLM2-135M, ~0.9 GB for a 3B
# model with 8 KV heads) and the attention buffers for nothing. --n-ctx raises it.
MAX_DEFAULT_CTX = 4096
# A model of LARGE_MODEL parameters or more reads a paper's whole reading plan in one call
# when it fits (summarize's one pass: no notes, no reduce), which a 10-page paper's plan
# does in 8192 tokens; priced on the 3B shape in docs/performance.md.
LARGE_MODEL = 1_000_000_000
LARGE_MODEL_CTX = 8192
MIN_DEFAULT_CTX = 2048  # below this the default prompts no longer fit
MEMORY_SHARE = 0.75  # of this machine's memory a model may take by default


@dataclass(frozen=True)
class Facts:
    """What a GGUF header says, kept in the index."""

    size: int
    arch: str
    params: int | None
    quant: str
    context: int | None  # trained context
    chat_template: bool
    kv_per_token: int | None  # bytes of KV cache per token of context
    error: str | None = None


def facts_from(saved: Any) -> Facts | None:
    """Facts as the index saved them, or None when any field is missing or not of the type
    Facts declares (exactly: a bool is no size; counts 0 to 2^63): a damaged or hand-edited
    index, so the header is read again."""
    if not isinstance(saved, dict) or set(saved) != {f.name for f in fields(Facts)}:
        return None
    for f in fields(Facts):
        value = saved[f.name]
        kind = "None" if value is None else type(value).__name__
        if kind not in str(f.type).split(" | ") or (kind == "int" and not 0 <= value <= MAX_COUNT):
            return None
    return Facts(**saved)


def facts_of(info: GGUFInfo) -> Facts:
    return Facts(
        size=info.size,
        arch=info.architecture,
        params=info.parameters,
        quant=info.quantization,
        context=info.context_length,
        chat_template=bool(info.chat_template),
        kv_per_token=kv_bytes_per_token(info),
    )


def memory_needed(size: int, kv_per_token: int | None, n_ctx: int) -> int:
    return size + (kv_per_token or 0) * n_ctx + BUFFERS


@functools.cache
def physical_memory() -> int | None:
    """This machine's memory in bytes (a container's limit when lower), or None."""
    try:
        total = int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            total = min(total, int(limit))
    except OSError:
        pass
    return total


def context_for(
    trained: int | None,
    size: int,
    kv_per_token: int | None,
    memory: int | None = None,
    parameters: int | None = None,
) -> int:
    """The default context: the trained one up to ``MAX_DEFAULT_CTX`` (``LARGE_MODEL_CTX``
    for a model of ``LARGE_MODEL`` parameters or more), halved while the
    weights, that KV cache and the buffers would take more than ``MEMORY_SHARE`` of the
    machine's memory (not below ``MIN_DEFAULT_CTX``). Total memory, not free memory, is
    used: the context is part of every cache key, so it must not change between runs."""
    cap = LARGE_MODEL_CTX if (parameters or 0) >= LARGE_MODEL else MAX_DEFAULT_CTX
    n_ctx = min(trained or MIN_DEFAULT_CTX, cap)
    memory = memory if memory is not None else physical_memory()
    if memory and kv_per_token:
        while n_ctx > MIN_DEFAULT_CTX and memory_needed(size, kv_per_token, n_ctx) > (
            memory * MEMORY_SHARE
        ):
            n_ctx //= 2
    return n_ctx


# ----------------------------------------------------------------------------- architectures


def llama_library() -> Path | None:
    """libllama of the installed llama-cpp-python, found without importing it."""
    from importlib.util import find_spec

    try:
        spec = find_spec("llama_cpp")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    lib = Path(spec.origin).parent / "lib"
    for name in ("libllama.so", "libllama.dylib", "llama.dll"):
        if (lib / name).is_file():
            return lib / name
    return None


@functools.cache
def _library_strings(path: Path, mtime: float) -> bytes:
    return path.read_bytes()


def llama_cpp_knows(arch: str) -> bool | None:
    """Whether the installed llama.cpp has ``arch`` in its architecture table (None: the
    library was not found). Its names are C strings in libllama, so a name followed by NUL
    is looked for (the linker may share a name's bytes with a longer one that ends in it)."""
    lib = llama_library()
    if lib is None or not arch:
        return None
    try:
        data = _library_strings(lib, lib.stat().st_mtime)
    except OSError:
        return None
    return arch.encode() + b"\0" in data


# ----------------------------------------------------------------------------- the index


def _identity(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


class FactsIndex:
    """Header facts by real path, valid while the file's identity is unchanged."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, Any] = {}
        self.changed = False
        try:
            data = stores.read_json(path)
        except (OSError, ValueError):
            return  # no index yet, or not JSON: rebuilt
        entries = data.get("entries") if isinstance(data, dict) else None
        if isinstance(entries, dict) and data.get("version") == INDEX_VERSION:
            self.entries = entries  # each entry is checked when used

    def known(self, real: Path) -> Facts | None:
        """The saved facts of ``real`` if it is unchanged since they were read."""
        entry = self.entries.get(str(real))
        if not isinstance(entry, dict) or entry.get("id") != _identity(real):
            return None
        return facts_from(entry.get("facts"))

    def read(self, real: Path) -> Facts:
        """Read ``real``'s header now (a failure is kept as the reason it can't be used)."""
        identity = _identity(real)
        try:
            facts = facts_of(read_gguf(real, quick=True))
        except ModelError as e:
            facts = Facts(
                identity[2] if identity else 0, "?", None, "?", None, False, None, e.message
            )
        self.entries[str(real)] = {"id": identity, "facts": asdict(facts)}
        self.changed = True
        return facts

    def save(self, keep: set[str] | None = None) -> None:
        """Write the index back (best effort); ``keep``: forget files not in it."""
        stale = set(self.entries) - keep if keep is not None else set()
        if not self.changed and not stale:
            return
        for key in stale:
            del self.entries[key]
        # An unwritable home only makes the next listing slower.
        with contextlib.suppress(OSError):
            data = {"version": INDEX_VERSION, "entries": self.entries}
            write_atomically(self.path, json.dumps(data))


@dataclass(frozen=True)
class ModelRow:
    """One line of ``localdigest models``."""

    model: stores.StoredModel
    facts: Facts
    loads: bool | None  # the installed llama.cpp knows the architecture
    n_ctx: int | None  # the default context for it
    ram: int | None  # bytes needed at that context (estimate)
    default: bool = False

    def as_json(self) -> dict[str, Any]:
        f = self.facts
        return {
            "name": self.model.name,
            "label": self.model.label,
            "source": self.model.source,
            "path": str(self.model.path),
            "real_path": str(self.model.real),
            "size": f.size,
            "arch": f.arch,
            "params": f.params,
            "quant": f.quant,
            "context": f.context,
            "n_ctx": self.n_ctx,
            "ram": self.ram,
            "chat_template": f.chat_template,
            "loads": self.loads,
            "default": self.default,
            "error": f.error,
        }


def rows_for(
    found: list[stores.StoredModel],
    home: Path,
    default: Path | None = None,
    *,
    everything: bool = False,
    budget: float | None = None,
) -> list[ModelRow]:
    """Header facts for each model, from the index in ``home`` when the file is unchanged.

    ``everything``: ``found`` is every model there is, so the index forgets the others.
    ``budget``: seconds for reading headers not in the index; models left unread when it is
    spent are left out (read on a later call)."""
    index = FactsIndex(home / INDEX_NAME)
    stop = time.monotonic() + budget if budget is not None else None
    rows = []
    for model in found:
        facts = index.known(model.real)
        if facts is None:
            if stop is not None and time.monotonic() > stop:
                continue
            facts = index.read(model.real)
        n_ctx = ram = None
        if facts.error is None:
            n_ctx = context_for(
                facts.context, facts.size, facts.kv_per_token, parameters=facts.params
            )
            ram = memory_needed(facts.size, facts.kv_per_token, n_ctx)
        loads = llama_cpp_knows(facts.arch) if facts.error is None else False
        rows.append(ModelRow(model, facts, loads, n_ctx, ram, model.real == default))
    index.save({str(m.real) for m in found} if everything else None)
    return rows
