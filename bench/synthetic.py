"""GGUFs of the shapes people run, with random weights: for timing only, their text is noise.

Run: `.venv/bin/python bench/synthetic.py [--shapes qwen2.5-0.5b,qwen2.5-3b] [--dir DIR]`
(prints the path of each model, building the ones not built yet).

Speed and memory depend on a model's shape and quantization, not on its weights' values,
so a GGUF with a real shape (layers, hidden size, heads, KV heads, FFN size, vocabulary)
and random weights costs what the real model costs. Each one is written as F16 (1-D
tensors F32, as llama.cpp's converter does) with the `gguf` package, then quantized to
Q4_K_M with llama.cpp's own quantizer (`llama_cpp.llama_model_quantize`), so it gets
the same per-tensor types as a published Q4_K_M file (Q6_K for the tied embedding, some
layers' V and FFN-down in Q6_K). The tokenizer is the real one of the embedded
SmolLM2-135M model (49,152 tokens), padded with tokens no text produces to the shape's
vocabulary size so that the embedding table and the sampling have the real size; token
counts are therefore SmolLM2's, the same as the default model's (a real Qwen tokenizer
makes somewhat fewer tokens of English text).

Built on demand into the cache folder (default `~/.cache/localdigest/bench-models/`),
never into the repository; the F16 intermediate is deleted once quantized. Never use these
models where text is judged: greedy decoding of random weights rarely meets an end token,
so every call runs to its max_tokens and the output guard rejects every answer.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import gguf
import numpy as np
import platformdirs

VERSION = 2  # part of every file name: a change in how models are written rebuilds them
SEED = 24
WEIGHT_STD = 0.02  # the usual initializer range: activations stay finite through RMSNorm


@dataclass(frozen=True)
class Shape:
    name: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    ffn: int
    vocab: int
    context: int
    rope_theta: float
    rms_eps: float = 1e-6

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    def tensors(self) -> Iterator[tuple[str, tuple[int, ...]]]:
        """Name and numpy shape (rows, columns) of every tensor of llama.cpp's ``qwen2``
        architecture: QKV biases, SwiGLU FFN, embeddings tied to the output (no
        output.weight), as in all three Qwen2.5 shapes here."""
        q, kv = self.heads * self.head_dim, self.kv_heads * self.head_dim
        yield "token_embd.weight", (self.vocab, self.hidden)
        for i in range(self.layers):
            b = f"blk.{i}."
            yield b + "attn_norm.weight", (self.hidden,)
            yield b + "attn_q.weight", (q, self.hidden)
            yield b + "attn_q.bias", (q,)
            yield b + "attn_k.weight", (kv, self.hidden)
            yield b + "attn_k.bias", (kv,)
            yield b + "attn_v.weight", (kv, self.hidden)
            yield b + "attn_v.bias", (kv,)
            yield b + "attn_output.weight", (self.hidden, q)
            yield b + "ffn_norm.weight", (self.hidden,)
            yield b + "ffn_gate.weight", (self.ffn, self.hidden)
            yield b + "ffn_up.weight", (self.ffn, self.hidden)
            yield b + "ffn_down.weight", (self.hidden, self.ffn)
        yield "output_norm.weight", (self.hidden,)

    def parameters(self) -> int:
        return sum(int(np.prod(s)) for _, s in self.tensors())


# The published config.json of each Hugging Face model (Qwen/Qwen2.5-0.5B-Instruct,
# Qwen/Qwen2.5-1.5B-Instruct, Qwen/Qwen2.5-3B-Instruct): num_hidden_layers, hidden_size,
# num_attention_heads, num_key_value_heads, intermediate_size, vocab_size 151936,
# rope_theta 1e6, rms_norm_eps 1e-6, tie_word_embeddings true, max_position_embeddings
# 32768 (the model cards: "Context Length: Full 32,768 tokens"). Qwen2.5-3B-Instruct is the
# model zotero-arxiv-daily ran in llama-cpp-python.
SHAPES = {
    s.name: s
    for s in (
        Shape("qwen2.5-0.5b", 24, 896, 14, 2, 4864, 151936, 32768, 1e6),
        Shape("qwen2.5-1.5b", 28, 1536, 12, 2, 8960, 151936, 32768, 1e6),
        Shape("qwen2.5-3b", 36, 2048, 16, 2, 11008, 151936, 32768, 1e6),
    )
}
# Two layers (builds and runs in seconds, for the tests), the vocabulary padded as the
# real shapes' is.
TINY = Shape("tiny-2layer", 2, 64, 4, 2, 256, 49152 + 256, 4096, 1e6)


def cache_dir() -> Path:
    return platformdirs.user_cache_path("localdigest") / "bench-models"


def model_path(shape: Shape, directory: Path | None = None) -> Path:
    return (directory or cache_dir()) / f"{shape.name}-random-v{VERSION}.Q4_K_M.gguf"


def build(shape: Shape, directory: Path | None = None, threads: int | None = None) -> Path:
    """The Q4_K_M GGUF of ``shape`` (built now unless it already is)."""
    out = model_path(shape, directory)
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with _temporary(out.parent, ".f16.gguf") as f16, _temporary(out.parent, ".part") as part:
        write_f16(shape, f16)
        quantize(f16, part, threads or os.cpu_count() or 1)
        part.replace(out)  # complete or absent, never half-written
    return out


@contextlib.contextmanager
def _temporary(directory: Path, suffix: str) -> Iterator[Path]:
    fd, name = tempfile.mkstemp(dir=directory, suffix=suffix)
    os.close(fd)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def write_f16(shape: Shape, path: Path) -> None:
    """Write ``shape`` with random weights, streaming one tensor at a time (a 3B F16 file
    is ~6 GB; memory holds only the largest tensor, the embedding table)."""
    writer = gguf.GGUFWriter(path, "qwen2")
    writer.add_name(f"random {shape.name} (timing only, not a model)")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_context_length(shape.context)
    writer.add_embedding_length(shape.hidden)
    writer.add_block_count(shape.layers)
    writer.add_feed_forward_length(shape.ffn)
    writer.add_head_count(shape.heads)
    writer.add_head_count_kv(shape.kv_heads)
    writer.add_rope_freq_base(shape.rope_theta)
    writer.add_layer_norm_rms_eps(shape.rms_eps)
    writer.add_vocab_size(shape.vocab)
    copy_tokenizer(writer, shape.vocab)
    layout = list(shape.tensors())
    for name, dims in layout:
        dtype = np.float16 if len(dims) == 2 else np.float32
        writer.add_tensor_info(name, dims, np.dtype(dtype), int(np.prod(dims)) * dtype().itemsize)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    rng = np.random.default_rng(SEED)
    for name, dims in layout:
        writer.write_tensor_data(random_tensor(rng, name, dims))
    writer.close()


def random_tensor(rng: np.random.Generator, name: str, dims: tuple[int, ...]) -> np.ndarray:
    if len(dims) == 1:  # norms scale by one, biases add nothing: only the matrices are random
        return np.full(dims, 1.0 if name.endswith("norm.weight") else 0.0, dtype=np.float32)
    out = np.empty(dims, dtype=np.float16)
    step = max(1, (1 << 24) // dims[1])  # ~64 MB of float32 at a time
    for start in range(0, dims[0], step):
        rows = min(step, dims[0] - start)
        out[start : start + rows] = rng.standard_normal((rows, dims[1]), np.float32) * WEIGHT_STD
    return out


def copy_tokenizer(writer: gguf.GGUFWriter, vocab: int) -> None:
    """Every ``tokenizer.*`` key of the embedded SmolLM2 GGUF (its BPE vocabulary,
    merges, special tokens and chat template), the vocabulary padded to ``vocab`` with
    tokens "[PAD<id>]" that no text tokenizes to (no merge makes them). They are typed
    normal, not unused as llama.cpp's converter types a real model's few pads: random
    weights sample them (two thirds of a Qwen-sized vocabulary) and an unused token's text
    is empty, which localdigest's backend would not count as a generated token."""
    from localdigest.models.resolve import embedded_model_path

    source = embedded_model_path()
    if source is None:
        raise SystemExit("the embedded SmolLM2 model is not installed: run `make install`")
    reader = gguf.GGUFReader(source)
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer."):
            continue
        value = field.contents()
        if key in ("tokenizer.ggml.tokens", "tokenizer.ggml.token_type"):
            if len(value) > vocab:
                raise ValueError(f"{source.name} has {len(value)} tokens, more than {vocab}")
            pad = range(len(value), vocab)
            value += (
                [f"[PAD{i}]" for i in pad]
                if key.endswith("tokens")
                else [gguf.TokenType.NORMAL] * len(pad)
            )
        sub_type = field.types[1] if len(field.types) > 1 else None
        writer.add_key_value(key, value, field.types[0], sub_type)


def quantize(source: Path, out: Path, threads: int) -> None:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M
    params.nthread = threads
    if llama_cpp.llama_model_quantize(str(source).encode(), str(out).encode(), params) != 0:
        raise RuntimeError(f"llama.cpp could not quantize {source}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated names")
    parser.add_argument("--dir", type=Path, default=None, help=f"default: {cache_dir()}")
    args = parser.parse_args()
    known = {**SHAPES, TINY.name: TINY}
    for name in args.shapes.split(","):
        shape = known[name]
        print(f"{build(shape, args.dir)}  ({shape.parameters() / 1e9:.2f}B parameters)")


if __name__ == "__main__":
    main()
