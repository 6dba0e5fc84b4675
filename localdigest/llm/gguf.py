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


class _Reader:
    """Walks the header through a memory map: a 256k-token vocabulary is skipped in ~50 ms."""

    def __init__(self, buf: mmap.mmap, path: Path) -> None:
        self.buf = buf
        self.pos = 0
        self.path = path

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

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.scalar(vtype)
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            itype = self.scalar(4)
            count = self.scalar(10)
            if itype in _SCALARS:
                self.pos += count * struct.calcsize(_SCALARS[itype])
                self._need(0)
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


def read_gguf(path: Path) -> GGUFInfo:
    """Parse the key/value header of a GGUF file; raise ModelError naming the file if not one."""
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
        r = _Reader(buf, path)
        r.pos = 4
        version = r.scalar(4)
        if version == 1:
            raise ModelError(
                f"{path} uses GGUF v1, which llama.cpp no longer reads — re-convert it"
            )
        r.scalar(10)  # tensor count
        kv_count = r.scalar(10)
        meta: dict[str, Any] = {}
        try:
            for _ in range(kv_count):
                key = r.string()
                meta[key] = r.value(r.scalar(4))
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
    )


def kv_cache_bytes(info: GGUFInfo, n_ctx: int) -> int | None:
    """Memory the f16 key/value cache of an ``n_ctx`` context takes for this model (what
    grows with --n-ctx), or None when the header lacks the sizes needed."""
    meta, arch = info.metadata, info.architecture
    try:
        layers = int(meta[f"{arch}.block_count"])
        heads = int(meta[f"{arch}.attention.head_count"])
        kv_heads = int(meta.get(f"{arch}.attention.head_count_kv", heads))
        head_dim = int(meta[f"{arch}.embedding_length"]) // heads
        key = int(meta.get(f"{arch}.attention.key_length", head_dim))
        value = int(meta.get(f"{arch}.attention.value_length", head_dim))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    return n_ctx * layers * kv_heads * (key + value) * 2
