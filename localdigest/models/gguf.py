"""Read a GGUF file's header without loading the model.

Used to validate a model file fast (exit 4 before llama.cpp is even imported), to list
models, and to learn the trained context length so the default ``n_ctx`` and every cache
key can be computed without loading weights (a warm rerun never loads the model).
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdigest.errors import ModelError

GGUF_MAGIC = b"GGUF"

# llama.cpp's llama_ftype enum: the quantization named in general.file_type.
FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
}

# GGUF value types -> struct format of the scalar ones.
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9


@dataclass(frozen=True)
class GGUFInfo:
    path: Path
    size: int
    architecture: str
    name: str
    quantization: str
    context_length: int | None
    chat_template: str | None
    metadata: dict[str, Any]
    parameters: int | None = None  # weights counted from the tensor table

    def meta_int(self, key: str) -> int | None:
        """An integer ``{architecture}.{key}`` value (None when absent or per-layer)."""
        v = self.metadata.get(f"{self.architecture}.{key}")
        return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


# Quick mode looks for the next entry by its key's namespace, preceded by the rest of the
# key's u64 length (seven zero bytes: keys are shorter than 256 bytes).
# The namespaces an entry after a vocabulary has (the likeliest first: each later search
# ends at the best start found so far). A rarer one there makes quick mode miss an entry,
# which the tensor-table check catches: then the exact walk runs.
_NAMESPACES = (b"tokenizer.", b"general.")
_KEY_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
QUICK_MIN_STRINGS = 4096  # string arrays this long are jumped over in quick mode
MAX_TOKEN_BYTES = 256  # the search for the next entry ends this far per string


class _QuickMiss(Exception):
    """Quick mode read something implausible: read the header the slow, exact way."""


class _Reader:
    """Walks the header through a memory map: a 256k-token vocabulary is skipped in ~50 ms.

    In quick mode a long array of strings (a vocabulary, the merges) is not walked string
    by string: the next entry is searched for (a C-speed regex over the memory map) from
    the array's smallest possible end. The tensor table after the entries is checked
    afterwards; anything implausible raises ``_QuickMiss`` and the header is read again
    the exact way, so quick mode changes speed, never the result.
    """

    def __init__(self, buf: mmap.mmap, path: Path, quick: bool = False) -> None:
        self.buf = buf
        self.pos = 0
        self.path = path
        self.quick = quick
        self.arch = b""

    def _need(self, n: int) -> None:
        if self.pos + n > len(self.buf):
            raise ModelError(
                f"Model file {self.path} is truncated (header cut short) — download it again"
            )

    def scalar(self, vtype: int) -> Any:
        fmt = _SCALARS[vtype]
        n = struct.calcsize(fmt)
        self._need(n)
        (v,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += n
        return v

    def string(self) -> str:
        n = self.scalar(10)
        self._need(n)
        s = self.buf[self.pos : self.pos + n].decode("utf-8", errors="replace")
        self.pos += n
        return s

    def skip_strings(self, count: int) -> None:
        unpack, buf, pos = struct.unpack_from, self.buf, self.pos
        for _ in range(count):
            (n,) = unpack("<Q", buf, pos)
            pos += 8 + n
        self.pos = pos
        self._need(0)

    def jump_strings(self, count: int) -> None:
        """Quick mode: move to the entry after ``count`` strings, found by searching (the
        nearest plausible entry start from the array's smallest possible end)."""
        buf = self.buf
        start = self.pos + 8 * count
        end = min(len(buf), self.pos + count * (8 + MAX_TOKEN_BYTES))
        namespaces = (*_NAMESPACES, self.arch + b".") if self.arch else _NAMESPACES
        best = -1
        for namespace in namespaces:
            needle = b"\x00" * 7 + namespace
            at = buf.find(needle, start + 1, end if best < 0 else best + 1)
            while at != -1:
                p = at - 1
                n = buf[p]
                key_end = p + 8 + n
                if (
                    n > len(namespace)
                    and key_end + 4 <= len(buf)
                    and buf[key_end] <= 12
                    and buf[key_end + 1 : key_end + 4] == b"\x00\x00\x00"
                    and _KEY_BYTES.issuperset(buf[p + 8 : key_end])
                ):
                    best = p
                    break
                at = buf.find(needle, at + 1, end if best < 0 else best + 1)
        if best < 0:
            raise _QuickMiss
        self.pos = best

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.scalar(vtype)
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            itype = self.scalar(4)
            count = self.scalar(10)
            if count > len(self.buf) - self.pos:  # each item takes a byte at least
                raise ModelError(
                    f"Model file {self.path} is truncated or corrupt (an array of {count} "
                    "items) — download it again"
                )
            if itype in _SCALARS:
                self.pos += count * struct.calcsize(_SCALARS[itype])
                self._need(0)
            elif itype == _STRING and self.quick and count >= QUICK_MIN_STRINGS:
                self.jump_strings(count)
            elif itype == _STRING:
                self.skip_strings(count)
            else:
                for _ in range(count):
                    self.value(itype)
            return None  # arrays (vocabularies, merges) are never needed here
        raise ModelError(
            f"Model file {self.path} has an unknown GGUF value type {vtype} — "
            "it may be corrupt or need a newer localdigest"
        )


def read_gguf(path: Path, *, quick: bool = False) -> GGUFInfo:
    """Parse the key/value header of a GGUF file; raise ModelError naming the file if not one.

    ``quick``: jump over vocabularies instead of walking them (see ``_Reader``): the same
    result, 10-40 times faster on a large vocabulary; listing many models uses it."""
    if quick:
        try:
            return _read(path, quick=True)
        except (_QuickMiss, ModelError):
            pass  # implausible, or an error to report exactly: the exact way
    return _read(path, quick=False)


def _read(path: Path, quick: bool) -> GGUFInfo:
    if not path.exists():
        raise ModelError(f"Model not found: {path} — put a GGUF file in models/ or pass --model")
    if path.is_dir():
        raise ModelError(f"Model path {path} is a folder — pass a .gguf file inside it")
    size = path.stat().st_size
    not_gguf = ModelError(
        f"{path} is not a GGUF model file — pass a .gguf file "
        "(convert other formats with llama.cpp's convert scripts)"
    )
    if size < 24:
        raise not_gguf
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        if buf[:4] != GGUF_MAGIC:
            raise not_gguf
        r = _Reader(buf, path, quick)
        r.pos = 4
        version = r.scalar(4)
        if version == 1:
            raise ModelError(
                f"{path} uses GGUF v1, which llama.cpp no longer reads — re-convert it"
            )
        tensor_count = r.scalar(10)
        kv_count = r.scalar(10)
        meta: dict[str, Any] = {}
        try:
            for _ in range(kv_count):
                key = r.string()
                meta[key] = r.value(r.scalar(4))
                if key == "general.architecture":
                    r.arch = str(meta[key]).encode()
            parameters = _count_parameters(r, tensor_count)
        except struct.error as e:
            raise ModelError(
                f"Model file {path} is truncated or corrupt ({e}) — download it again"
            ) from e
    arch = str(meta.get("general.architecture", "unknown"))
    ctx = meta.get(f"{arch}.context_length")
    ftype = meta.get("general.file_type")
    return GGUFInfo(
        path=path,
        size=size,
        architecture=arch,
        name=str(meta.get("general.name") or path.stem),
        quantization=FILE_TYPES.get(ftype, f"type {ftype}") if ftype is not None else "?",
        context_length=int(ctx) if ctx else None,
        chat_template=meta.get("tokenizer.chat_template"),
        metadata={k: v for k, v in meta.items() if v is not None},
        parameters=parameters,
    )


def _count_parameters(r: _Reader, tensor_count: int) -> int:
    """Sum of the tensors' element counts, read from the tensor table after the key/values
    (name, dimensions, type, offset per tensor: a few hundred entries, no weights read)."""
    total = 0
    last_offset = -1
    for _ in range(tensor_count):
        name_length = r.scalar(10)
        r.pos += name_length
        n_dims = r.scalar(4)
        count = 1
        for _ in range(n_dims):
            count *= r.scalar(10)
        total += count
        tensor_type = r.scalar(4)
        offset = r.scalar(10)
        if r.quick and not (
            0 < name_length < 256 and 0 < n_dims <= 8 and tensor_type < 64 and offset > last_offset
        ):
            raise _QuickMiss  # the jump landed somewhere wrong
        last_offset = offset
    r._need(0)
    return total


KV_BYTES = 2  # llama.cpp's default KV cache type is f16


def kv_bytes_per_token(info: GGUFInfo) -> int | None:
    """Keys and values of every layer for one token, in f16 (None if the header lacks the
    geometry). Sliding-window layers need less, so this is an upper bound for those. As
    llama.cpp reads it: the value width defaults to the key width."""
    layers = info.meta_int("block_count")
    heads = info.meta_int("attention.head_count")
    kv_heads = info.meta_int("attention.head_count_kv") or heads
    width = info.meta_int("embedding_length")
    key = info.meta_int("attention.key_length") or (width // heads if width and heads else None)
    value = info.meta_int("attention.value_length") or key
    if not (layers and kv_heads and key and value):
        return None
    return layers * kv_heads * (key + value) * KV_BYTES


def kv_cache_bytes(info: GGUFInfo, n_ctx: int) -> int | None:
    """Memory the f16 key/value cache of an ``n_ctx`` context takes for this model (what
    grows with --n-ctx), or None when the header lacks the sizes needed."""
    per_token = kv_bytes_per_token(info)
    return n_ctx * per_token if per_token else None
