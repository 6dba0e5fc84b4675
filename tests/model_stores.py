"""Model stores of other tools, built for real in a temporary folder (layouts as each tool
writes them): an Ollama store, an LM Studio folder, a Hugging Face hub cache, llama.cpp's
and GPT4All's folders. The GGUF files are the two real test models, hard-linked (copied
where a link can't be made)."""

from __future__ import annotations

import json
import os
import shutil
import struct
from pathlib import Path

import pytest
from hub_server import COMMIT, sha256_of

from localdigest import config
from localdigest.models import ModelChoice, embedded_model_path, resolve_model


def smollm2_path() -> Path:
    path = embedded_model_path()
    assert path is not None, "the default model package is installed by make"
    return path


def configured_model(name: str | None = None) -> ModelChoice:
    """The model the settings choose (``name``: a --model value), as the commands resolve it."""
    cfg = config.load(model=name)
    return resolve_model(cfg.model, cfg.paths.models, cfg.origins["model"])


def gemma_path() -> Path:
    gemma = os.environ.get("LOCALDIGEST_TEST_GEMMA")
    if not gemma or not Path(gemma).exists():
        pytest.skip("Gemma 3 270M GGUF not assembled (make test installs it)")
    return Path(gemma)


def place(source: Path, target: Path) -> Path:
    """``target`` holding ``source``'s bytes: a hard link, else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        return target  # a blob two models share
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    return target


def ollama_blob(root: Path, data: bytes) -> str:
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    (root / "blobs" / f"sha256-{digest}").write_bytes(data)
    return f"sha256:{digest}"


def ollama_model(
    root: Path,
    name: str,
    tag: str,
    gguf: Path,
    host: str = "registry.ollama.ai",
    namespace: str = "library",
) -> Path:
    """A model as ``ollama pull`` leaves it: the GGUF as ``blobs/sha256-<its digest>``, a
    config blob, a template and a params layer, and the manifest naming them."""
    digest = sha256_of(gguf)
    place(gguf, root / "blobs" / f"sha256-{digest}")
    config = json.dumps({"model_format": "gguf", "model_family": "llama", "file_type": "Q4_1"})
    template = "{{ .System }}\n{{ .Prompt }}"
    params = json.dumps({"stop": ["<|im_end|>"], "temperature": 0.2})
    layers = [
        {
            "mediaType": "application/vnd.ollama.image.model",
            "digest": f"sha256:{digest}",
            "size": gguf.stat().st_size,
        },
        {
            "mediaType": "application/vnd.ollama.image.template",
            "digest": ollama_blob(root, template.encode()),
            "size": len(template),
        },
        {
            "mediaType": "application/vnd.ollama.image.params",
            "digest": ollama_blob(root, params.encode()),
            "size": len(params),
        },
    ]
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "digest": ollama_blob(root, config.encode()),
            "size": len(config),
        },
        "layers": layers,
    }
    path = root / "manifests" / host / namespace / name / tag
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest))
    return path


def hub_file(cache: Path, repo: str, file: str, gguf: Path, commit: str = COMMIT) -> Path:
    """A file as huggingface_hub caches it: ``blobs/<sha256>``, a relative symlink
    ``snapshots/<commit>/<file>`` to it, and ``refs/main``."""
    folder = cache / ("models--" + repo.replace("/", "--"))
    blob = place(gguf, folder / "blobs" / sha256_of(gguf))
    link = folder / "snapshots" / commit / file
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(os.path.relpath(blob, link.parent))
    (folder / "refs").mkdir(exist_ok=True)
    (folder / "refs" / "main").write_text(commit)
    return link


def lmstudio_file(models: Path, publisher: str, model: str, gguf: Path, name: str) -> Path:
    return place(gguf, models / publisher / model / name)


# ----------------------------------------------------------------------------- GGUF files


def gguf_string(text: bytes) -> bytes:
    return struct.pack("<Q", len(text)) + text


def gguf_entry(key: str, vtype: int, payload: bytes) -> bytes:
    """One key/value entry: the key, the value type (GGUF's numbering), the value's bytes."""
    return gguf_string(key.encode()) + struct.pack("<I", vtype) + payload


def gguf_header(entries: list[bytes], tensors: int = 0, kv_count: int | None = None) -> bytes:
    """A GGUF v3 header: magic, version, the counts (``kv_count`` may lie), the entries."""
    count = len(entries) if kv_count is None else kv_count
    return b"GGUF" + struct.pack("<IQQ", 3, tensors, count) + b"".join(entries)


def write_gguf(path: Path, tokens: list[bytes], tensors: int = 3) -> Path:
    """A small but well-formed GGUF v3: a few entries, a vocabulary, a tensor table."""
    entries = [
        gguf_entry("general.architecture", 8, gguf_string(b"llama")),
        gguf_entry("general.file_type", 4, struct.pack("<I", 15)),
        gguf_entry("llama.context_length", 4, struct.pack("<I", 4096)),
        gguf_entry(
            "tokenizer.ggml.tokens",
            9,
            struct.pack("<IQ", 8, len(tokens)) + b"".join(gguf_string(t) for t in tokens),
        ),
        gguf_entry("tokenizer.ggml.eos_token_id", 4, struct.pack("<I", 2)),
        gguf_entry("tokenizer.chat_template", 8, gguf_string(b"{{ messages }}")),
    ]
    table = b"".join(
        gguf_string(f"blk.{i}.weight".encode()) + struct.pack("<IQQIQ", 2, 64, 32, 15, i * 2048)
        for i in range(tensors)
    )
    path.write_bytes(gguf_header(entries, tensors) + table + b"\0" * 4096)
    return path
