"""Read a GGUF file's header without loading the model.

Used to validate a model file fast (exit 4 before llama.cpp is even imported), to list
models, and to learn the trained context length so the default ``n_ctx`` and every cache
key can be computed without loading weights (a warm rerun never loads the model).

Any file in a store may be hostile, so the walk is bounded: counts that cannot fit in the
file (or more entries than any model has) are refused at once, arrays may nest only a few
levels, long strings are skipped undecoded, and the walk stops after ``HEADER_SECONDS`` (a
sparse file of zeros can claim 2^28 tensors and hold them). Values are taken only when they
have the type used: a context length that is a string, NaN or infinite is no context
length.
"""

from __future__ import annotations

import math
import mmap
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdigest.errors import ModelError

GGUF_MAGIC = b"GGUF"

# llama.cpp's llama_ftype enum (include/llama.h; the gguf package's LlamaFileType): the
# quantization named in general.file_type. 33-35 are retired from llama.cpp, but files
# with them were published in 2024 (tests/models/test_gguf.py checks the table against the
# package).
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
    33: "Q4_0_4_4",
    34: "Q4_0_4_8",
    35: "Q4_0_8_8",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    39: "NVFP4",
    40: "Q1_0",
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

HEADER_SECONDS = 5.0  # a real header takes 1-200 ms (a 256k-token vocabulary walked)
MAX_NESTING = 4  # arrays of arrays: llama.cpp reads none; 3,000 levels was a RecursionError
MAX_DIMS = 4  # GGML_MAX_DIMS: llama.cpp refuses a tensor of more
MAX_ENTRIES = 1 << 16  # models have 20-100 key/value entries
# Values used here (names, a chat template) are far shorter; some files hold a whole
# tokenizer.json as one string: skipped, not decoded.
MAX_STRING_BYTES = 1 << 20
# The fewest bytes an entry and a tensor's description take (a key or name of length 0,
# the smallest value), to refuse counts that can't fit in the file before walking them.
MIN_ENTRY_BYTES = 8 + 4 + 1
MIN_TENSOR_BYTES = 8 + 4 + 4 + 8
STRING_CHUNK = 1 << 16  # strings skipped between looks at the clock
# A count or size above this is absurd (and a product of such overflows a float's range).
MAX_COUNT = 1 << 63


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
        """A positive whole ``{architecture}.{key}`` value (None when absent, per-layer, or
        of any other type or value)."""
        return positive_int(self.metadata.get(f"{self.architecture}.{key}"))


def positive_int(value: Any) -> int | None:
    """``value`` when it is a whole number from 1 to ``MAX_COUNT`` (a float too, if whole)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    return int(value) if 0 < value <= MAX_COUNT else None


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

    def __init__(self, buf: mmap.mmap, path: Path, quick: bool, deadline: float) -> None:
        self.buf = buf
        self.pos = 0
        self.path = path
        self.quick = quick
        self.deadline = deadline
        self.arch = b""

    def on_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise ModelError(
                f"Model file {self.path} took over {HEADER_SECONDS:g} s to read its header "
                "(it claims more entries than a model has) — it is corrupt; delete it or "
                "download it again"
            )

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

    def string(self) -> str | None:
        n = self.scalar(10)
        self._need(n)
        start = self.pos
        self.pos += n
        if n > MAX_STRING_BYTES:
            return None
        return self.buf[start : self.pos].decode("utf-8", errors="replace")

    def skip_strings(self, count: int) -> None:
        unpack, buf, pos = struct.unpack_from, self.buf, self.pos
        for start in range(0, count, STRING_CHUNK):
            for _ in range(min(STRING_CHUNK, count - start)):
                (n,) = unpack("<Q", buf, pos)
                pos += 8 + n
            self.on_time()
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

    def value(self, vtype: int, depth: int = 0) -> Any:
        if vtype in _SCALARS:
            return self.scalar(vtype)
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            if depth >= MAX_NESTING:
                raise ModelError(
                    f"Model file {self.path} has arrays nested over {MAX_NESTING} deep — it is "
                    "corrupt; delete it or download it again"
                )
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
                    self.value(itype, depth + 1)
                    self.on_time()
            return None  # arrays (vocabularies, merges) are never needed here
        raise ModelError(
            f"Model file {self.path} has an unknown GGUF value type {vtype} — "
            "it may be corrupt or need a newer localdigest"
        )


def read_gguf(path: Path, *, quick: bool = False) -> GGUFInfo:
    """Parse the key/value header of a GGUF file; raise ModelError naming the file if not one
    (or if it takes over ``HEADER_SECONDS``).

    ``quick``: jump over vocabularies instead of walking them (see ``_Reader``): the same
    result, 10-40 times faster on a large vocabulary; listing many models uses it."""
    deadline = time.monotonic() + HEADER_SECONDS  # one budget for both ways
    if quick:
        try:
            return _read(path, True, deadline)
        except (_QuickMiss, ModelError):
            pass  # implausible, or an error to report exactly: the exact way
    return _read(path, False, deadline)


def _read(path: Path, quick: bool, deadline: float) -> GGUFInfo:
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
        r = _Reader(buf, path, quick, deadline)
        r.pos = 4
        version = r.scalar(4)
        if version == 1:
            raise ModelError(
                f"{path} uses GGUF v1, which llama.cpp no longer reads — re-convert it"
            )
        tensor_count = r.scalar(10)
        kv_count = r.scalar(10)
        if (
            kv_count > MAX_ENTRIES
            or kv_count * MIN_ENTRY_BYTES + tensor_count * MIN_TENSOR_BYTES > size
        ):
            raise ModelError(
                f"Model file {path} claims {kv_count} entries and {tensor_count} tensors in "
                f"{size} bytes — it is corrupt; delete it or download it again"
            )
        meta: dict[str, Any] = {}
        try:
            for _ in range(kv_count):
                key = r.string() or ""
                meta[key] = r.value(r.scalar(4))
                if key == "general.architecture":
                    r.arch = str(meta[key]).encode()
                r.on_time()
            parameters = _count_parameters(r, tensor_count)
        except struct.error as e:
            raise ModelError(
                f"Model file {path} is truncated or corrupt ({e}) — download it again"
            ) from e
    arch = str(meta.get("general.architecture", "unknown"))
    ftype = meta.get("general.file_type")
    template = meta.get("tokenizer.chat_template")
    return GGUFInfo(
        path=path,
        size=size,
        architecture=arch,
        name=str(meta.get("general.name") or path.stem),
        quantization=FILE_TYPES.get(ftype, f"type {ftype}") if type(ftype) is int else "?",
        context_length=positive_int(meta.get(f"{arch}.context_length")),
        chat_template=template if isinstance(template, str) else None,
        metadata={k: v for k, v in meta.items() if v is not None},
        parameters=parameters,
    )


def _count_parameters(r: _Reader, tensor_count: int) -> int | None:
    """Sum of the tensors' element counts, read from the tensor table after the key/values
    (name, dimensions, type, offset per tensor: a few hundred entries, no weights read)."""
    total = 0
    last_offset = -1
    for _ in range(tensor_count):
        r.on_time()
        name_length = r.scalar(10)
        r.pos += name_length
        n_dims = r.scalar(4)
        if n_dims > MAX_DIMS:
            if r.quick:
                raise _QuickMiss
            raise ModelError(
                f"Model file {r.path} has a tensor of {n_dims} dimensions (llama.cpp takes at "
                f"most {MAX_DIMS}) — it is corrupt; delete it or download it again"
            )
        count = 1
        for _ in range(n_dims):
            count *= r.scalar(10)
        total += count
        tensor_type = r.scalar(4)
        offset = r.scalar(10)
        if r.quick and not (
            0 < name_length < 256 and n_dims > 0 and tensor_type < 64 and offset > last_offset
        ):
            raise _QuickMiss  # the jump landed somewhere wrong
        last_offset = offset
    r._need(0)
    return total if total <= MAX_COUNT else None


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
    per_token = layers * kv_heads * (key + value) * KV_BYTES
    return per_token if per_token <= MAX_COUNT else None


def kv_cache_bytes(info: GGUFInfo, n_ctx: int) -> int | None:
    """Memory the f16 key/value cache of an ``n_ctx`` context takes for this model (what
    grows with --n-ctx), or None when the header lacks the sizes needed."""
    per_token = kv_bytes_per_token(info)
    return n_ctx * per_token if per_token else None
