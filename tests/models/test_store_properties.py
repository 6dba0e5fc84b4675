"""Property: whatever shape the stores' metadata has — a GGUF header of random entries (any
value type, NaN and infinities, nested arrays, keys the code reads holding the wrong type,
counts that lie, a random tensor table), an Ollama manifest, LM Studio's settings and
localdigest's own header index of random JSON — reading a header raises ModelError or
gives typed facts, and `models` (table and JSON) and the demo hint work: never a
traceback."""

from __future__ import annotations

import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_stores import gguf_entry, gguf_header, gguf_string, smollm2_path
from typer.testing import CliRunner

from localdigest.cli import app
from localdigest.errors import ModelError
from localdigest.models import default_n_ctx, guidance
from localdigest.models.gguf import kv_bytes_per_token, read_gguf

runner = CliRunner()
STRING, ARRAY = 8, 9
SCALARS = {
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
TYPES = [*SCALARS, STRING, ARRAY]
KEYS = [
    "general.architecture",
    "general.name",
    "general.file_type",
    "tokenizer.chat_template",
    "tokenizer.ggml.eos_token_id",
    *(
        f"llama.{k}"
        for k in (
            "context_length",
            "block_count",
            "embedding_length",
            "attention.head_count",
            "attention.head_count_kv",
            "attention.key_length",
            "attention.value_length",
        )
    ),
]


def scalar(vtype: int) -> st.SearchStrategy[bytes]:
    fmt = SCALARS[vtype]
    if vtype in (6, 12):
        values: st.SearchStrategy[Any] = st.floats(width=32 if vtype == 6 else 64)
    elif vtype == 7:
        values = st.booleans()
    else:
        bits = struct.calcsize(fmt) * 8
        signed = fmt[1].islower()
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        edges = [v for v in (low, high, 0, 1, 2048) if low <= v <= high]
        values = st.one_of(st.integers(low, high), st.sampled_from(edges))
    return values.map(lambda v: struct.pack(fmt, v))


def payload(vtype: int, depth: int = 0) -> st.SearchStrategy[bytes]:
    """The bytes of one value of ``vtype`` (arrays: of one item type, maybe nested)."""
    if vtype in SCALARS:
        return scalar(vtype)
    if vtype == STRING:
        return st.one_of(st.binary(max_size=24), st.sampled_from([b"llama", b"{{ x }}"])).map(
            gguf_string
        )
    item_types = TYPES if depth < 3 else [*SCALARS, STRING]
    return st.sampled_from(item_types).flatmap(
        lambda itype: st.lists(payload(itype, depth + 1), max_size=3).map(
            lambda items: struct.pack("<IQ", itype, len(items)) + b"".join(items)
        )
    )


ENTRY = st.tuples(
    st.one_of(
        st.sampled_from(KEYS), st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
    ),
    st.one_of(st.sampled_from(TYPES), st.integers(0, (1 << 32) - 1)),
).flatmap(
    lambda kv: (payload(kv[1]) if kv[1] in TYPES else st.binary(max_size=8)).map(
        lambda data: gguf_entry(kv[0], kv[1], data)
    )
)
TENSOR = st.builds(
    lambda name, dims, ttype, offset: (
        gguf_string(name)
        + struct.pack("<I", len(dims))
        + b"".join(struct.pack("<Q", d) for d in dims)
        + struct.pack("<IQ", ttype, offset)
    ),
    st.binary(max_size=12),
    st.lists(st.integers(0, (1 << 64) - 1), max_size=6),
    st.integers(0, 80),
    st.integers(0, (1 << 64) - 1),
)
HEADER = st.builds(
    lambda arch, entries, kv_lie, tensors, tensor_lie, tail: (
        gguf_header(arch + entries, len(tensors) if tensor_lie is None else tensor_lie, kv_lie)
        + b"".join(tensors)
        + tail
    ),
    st.lists(
        st.just(gguf_entry("general.architecture", STRING, gguf_string(b"llama"))), max_size=1
    ),
    st.lists(ENTRY, max_size=8),
    st.one_of(st.none(), st.integers(0, (1 << 64) - 1)),
    st.lists(TENSOR, max_size=3),
    st.one_of(st.none(), st.integers(0, (1 << 64) - 1)),
    st.binary(max_size=64),
)
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
LAYER_KEYS = st.fixed_dictionaries(
    {},
    optional={
        "mediaType": st.one_of(st.just("application/vnd.ollama.image.model"), JSON),
        "digest": st.one_of(st.just("sha256:" + "ab" * 32), JSON),
    },
)
MANIFEST = st.one_of(JSON, st.fixed_dictionaries({"layers": st.one_of(st.lists(LAYER_KEYS), JSON)}))
FACTS = st.dictionaries(
    st.sampled_from(
        ["size", "arch", "params", "quant", "context", "chat_template", "kv_per_token", "error"]
    ),
    JSON,
)


def _index(real: Path, identity: list[int]) -> st.SearchStrategy[Any]:
    entry = st.fixed_dictionaries({"id": st.one_of(st.just(identity), JSON), "facts": FACTS})
    return st.one_of(
        JSON,
        st.fixed_dictionaries(
            {
                "version": st.one_of(st.just(1), JSON),
                "entries": st.dictionaries(st.just(str(real)), st.one_of(entry, JSON), max_size=1),
            }
        ),
    )


def check_header(path: Path) -> None:
    for quick in (False, True):
        try:
            info = read_gguf(path, quick=quick)
        except ModelError:
            continue
        assert info.context_length is None or (
            type(info.context_length) is int and info.context_length > 0
        )
        assert info.chat_template is None or isinstance(info.chat_template, str)
        assert isinstance(info.quantization, str) and isinstance(info.name, str)
        assert info.parameters is None or type(info.parameters) is int
        per_token = kv_bytes_per_token(info)
        assert per_token is None or (type(per_token) is int and per_token > 0)
        assert 1 <= default_n_ctx(info) <= 8192


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(header=HEADER, manifest=MANIFEST, lmstudio=JSON, data=st.data())
def test_models_and_the_hint_survive_store_metadata_of_any_shape(
    header: bytes,
    manifest: Any,
    lmstudio: Any,
    data: st.DataObject,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        models, ollama, home, user = root / "models", root / "ollama", root / "ld", root / "user"
        model = models / "m.gguf"
        models.mkdir()
        model.write_bytes(header)
        (ollama / "blobs").mkdir(parents=True)
        (ollama / "blobs" / ("sha256-" + "ab" * 32)).write_bytes(header)
        tag = ollama / "manifests" / "registry.ollama.ai" / "library" / "m" / "latest"
        tag.parent.mkdir(parents=True)
        tag.write_text(json.dumps(manifest))
        (user / ".lmstudio").mkdir(parents=True)
        (user / ".lmstudio" / "settings.json").write_text(json.dumps(lmstudio))
        st_ = model.stat()
        index = data.draw(
            _index(model.resolve(), [st_.st_dev, st_.st_ino, st_.st_size, st_.st_mtime_ns])
        )
        home.mkdir()
        (home / "models-index.json").write_text(json.dumps(index))
        for var, value in (
            ("LOCALDIGEST_MODELS_DIR", models),
            ("OLLAMA_MODELS", ollama),
            ("LOCALDIGEST_HOME", home),
            ("HOME", user),
        ):
            monkeypatch.setenv(var, os.fspath(value))

        check_header(model)
        listing = runner.invoke(app, ["models", "--format", "json"])
        assert listing.exit_code == 0, listing.output
        rows = {row["name"]: row for row in json.loads(listing.stdout)}
        assert "m.gguf" in rows and "embedded" in rows
        for row in rows.values():
            assert row["error"] is None or isinstance(row["error"], str)
            assert type(row["size"]) is int and isinstance(row["quant"], str)
        table = runner.invoke(app, ["models"])
        assert table.exit_code == 0, table.output
        hint = guidance.demo_hint([smollm2_path().name], models, home)
        assert hint is not None
