"""Hostile model stores (issue 25, items 5 and 9): GGUF headers that claim more than they
hold or hold values of the wrong type, broken manifests, folders nested too deep, a
damaged header index. Each ends in a listing that works and a file marked unusable, never
a hang or a traceback."""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import signal
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from model_stores import (
    gguf_entry,
    gguf_header,
    gguf_string,
    hub_file,
    ollama_model,
    place,
    smollm2_path,
)
from typer.testing import CliRunner

from localdigest.cli import app
from localdigest.errors import ModelError
from localdigest.models import default_n_ctx, gguf, guidance, inventory
from localdigest.models.gguf import kv_bytes_per_token, read_gguf

runner = CliRunner()
U8, U32, I32, F32, BOOL, STRING, ARRAY, F64 = 0, 4, 5, 6, 7, 8, 9, 12


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging) when the block runs longer than ``seconds``."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def sparse(path: Path, head: bytes, size: int) -> Path:
    """``head`` followed by zeros up to ``size`` bytes, taking no disk."""
    with path.open("wb") as f:
        f.write(head)
        f.truncate(size)
    if path.stat().st_blocks * 512 > 1 << 20:
        path.unlink()
        pytest.skip("this filesystem has no sparse files (the test would write gigabytes)")
    return path


def listed(models: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict]:
    monkeypatch.setenv("LOCALDIGEST_MODELS_DIR", str(models))
    result = runner.invoke(app, ["models", "--format", "json"])
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)}


# ----------------------------------------------------------------------------- item 5


@pytest.mark.parametrize(
    "tensors, keys, size",
    [(1 << 40, 0, 8 << 30), (0, 1 << 40, 8 << 30), (0, 1 << 24, 512 << 20)],
    ids=["2^40 tensors", "2^40 keys", "2^24 keys"],
)
def test_counts_that_cannot_be_real_are_refused_at_once(
    tmp_path: Path, tensors: int, keys: int, size: int
) -> None:
    path = sparse(tmp_path / "claims.gguf", gguf_header([], tensors, keys), size)
    start = time.monotonic()
    with within(10), pytest.raises(ModelError, match="claims"):
        read_gguf(path, quick=True)
    assert time.monotonic() - start < 1


@pytest.mark.parametrize(
    "head",
    [
        gguf_header([], tensors=1 << 24),  # 16M tensor descriptions of zeros fit in 512 MiB
        # 64M empty strings: the quick jump finds no entry after them, the exact walk runs
        gguf_header([gguf_entry("tokenizer.ggml.tokens", ARRAY, struct.pack("<IQ", 8, 1 << 26))]),
    ],
    ids=["tensors", "strings"],
)
def test_a_header_walk_that_fits_the_file_stops_at_its_time_budget(
    tmp_path: Path, head: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gguf, "HEADER_SECONDS", 0.2)
    path = sparse(tmp_path / "sparse.gguf", head, 512 << 20)
    start = time.monotonic()
    with within(10), pytest.raises(ModelError, match=r"took over 0\.2 s"):
        read_gguf(path, quick=True)
    assert time.monotonic() - start < 2


def test_arrays_nested_3000_deep_are_an_error_not_a_recursion_error(tmp_path: Path) -> None:
    nested = struct.pack("<IQ", ARRAY, 1) * 3000 + struct.pack("<IQ", U8, 0)
    path = tmp_path / "nested.gguf"
    path.write_bytes(gguf_header([gguf_entry("general.nested", ARRAY, nested)]) + b"\0" * 64)
    with pytest.raises(ModelError, match="nested"):
        read_gguf(path)


def test_a_tensor_of_too_many_dimensions_is_an_error(tmp_path: Path) -> None:
    table = gguf_string(b"w") + struct.pack("<I", 1 << 30)  # then 8 GiB of dimensions
    path = sparse(tmp_path / "dims.gguf", gguf_header([], tensors=1) + table, 64 << 20)
    with within(10), pytest.raises(ModelError, match="dimensions"):
        read_gguf(path)


# ----------------------------------------------------------------------------- item 9


def _value(vtype: int, value: object) -> bytes:
    if vtype == STRING:
        assert isinstance(value, bytes)
        return gguf_string(value)
    return struct.pack({U32: "<I", I32: "<i", F32: "<f", F64: "<d", BOOL: "<?"}[vtype], value)


@pytest.mark.parametrize(
    "vtype, value",
    [
        (STRING, b"lots"),
        (F32, math.nan),
        (F64, math.nan),
        (F64, math.inf),
        (F64, 1e300),
        (I32, -5),
        (U32, 0),
        (BOOL, True),
    ],
)
def test_header_values_of_the_wrong_type_or_value_are_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vtype: int, value: object
) -> None:
    entries = [
        gguf_entry("general.architecture", STRING, gguf_string(b"llama")),
        gguf_entry("general.file_type", vtype, _value(vtype, value)),
        gguf_entry("general.name", ARRAY, struct.pack("<IQ", U8, 2) + b"ab"),
        gguf_entry("llama.context_length", vtype, _value(vtype, value)),
        gguf_entry("llama.block_count", F32, struct.pack("<f", math.inf)),
        gguf_entry("llama.attention.head_count", vtype, _value(vtype, value)),
        gguf_entry("llama.embedding_length", I32, struct.pack("<i", 576)),
        gguf_entry("tokenizer.chat_template", U32, struct.pack("<I", 7)),
    ]
    models = tmp_path / "models"
    models.mkdir()
    path = models / "odd.gguf"
    path.write_bytes(gguf_header(entries) + b"\0" * 64)
    info = read_gguf(path)
    assert info.context_length is None and info.chat_template is None
    assert info.meta_int("block_count") is None and info.meta_int("attention.head_count") is None
    whole = type(value) is int  # a whole number names a file type (0 is F32), nothing else
    assert info.quantization == (gguf.FILE_TYPES.get(value, f"type {value}") if whole else "?")
    assert kv_bytes_per_token(info) is None and default_n_ctx(info) == 2048
    row = listed(models, monkeypatch)["odd.gguf"]
    assert row["error"] is None and row["context"] is None and row["n_ctx"] == 2048


def test_a_long_string_value_is_skipped_not_decoded(tmp_path: Path) -> None:
    entries = [
        gguf_entry("general.architecture", STRING, gguf_string(b"llama")),
        gguf_entry("tokenizer.huggingface.json", STRING, gguf_string(b"{" * (2 << 20))),
        gguf_entry("llama.context_length", U32, struct.pack("<I", 4096)),
    ]
    path = tmp_path / "long.gguf"
    path.write_bytes(gguf_header(entries) + b"\0" * 64)
    info = read_gguf(path)
    assert info.context_length == 4096 and "tokenizer.huggingface.json" not in info.metadata


def _ollama_manifest(root: Path, name: str, text: str) -> None:
    manifest = root / "manifests" / "registry.ollama.ai" / "library" / name / "latest"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(text)


def test_an_ollama_manifest_of_1_mib_of_brackets_is_broken_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ollama"
    monkeypatch.setenv("OLLAMA_MODELS", str(root))
    _ollama_manifest(root, "deep", "[" * (1 << 20))
    assert "ollama:deep:latest" not in listed(tmp_path / "none", monkeypatch)
    result = runner.invoke(app, ["summarize", "x.pdf", "-m", "ollama:deep"])
    assert result.exit_code == 4, result.output
    assert "not valid JSON" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("layers", ["true", '"x"', "5", '{"mediaType": 1}'])
def test_an_ollama_manifest_whose_layers_are_no_list_is_unusable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layers: str
) -> None:
    """Found by the property test: {"layers": true} was a TypeError."""
    root = tmp_path / "ollama"
    monkeypatch.setenv("OLLAMA_MODELS", str(root))
    _ollama_manifest(root, "odd", f'{{"layers": {layers}}}')
    result = runner.invoke(app, ["summarize", "x.pdf", "-m", "ollama:odd"])
    assert result.exit_code == 4, result.output
    assert "no model layer" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    "settings, pointer",
    [("[" * 100_000, ""), ('{"downloadsFolder": "a\\u0000b"}', ""), ("{}", "/tmp/x\0y\n")],
    ids=["settings too deep", "settings naming NUL", "pointer naming NUL"],
)
def test_lm_studio_settings_too_deep_or_naming_nul_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: str, pointer: str
) -> None:
    home = tmp_path / "user-home"  # conftest's HOME
    (home / ".lmstudio").mkdir(parents=True)
    (home / ".lmstudio" / "settings.json").write_text(settings)
    (home / ".lmstudio-home-pointer").write_text(pointer)
    assert list(listed(tmp_path / "none", monkeypatch)) == ["embedded"]


@contextlib.contextmanager
def nested_folders(top: Path, depth: int) -> Iterator[Path]:
    """``top/d/d/.../d`` ``depth`` levels down; removed bottom-up afterwards (a recursive
    removal would itself hit the recursion limit)."""
    folders = [top]
    for _ in range(depth):
        folders.append(folders[-1] / "d")
    for folder in folders:
        folder.mkdir()  # one by one: mkdir(parents=True) recurses
    try:
        yield folders[-1]
    finally:
        for folder in reversed(folders):
            for child in folder.iterdir():
                if not child.is_dir() or child.is_symlink():
                    child.unlink()
            folder.rmdir()


def test_a_snapshot_folder_nested_1100_deep_is_not_walked_to_the_bottom(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    link = hub_file(cache, "org/fine-GGUF", "fine.gguf", smollm2_path())
    with nested_folders(link.parent / "deep", 1100) as bottom:
        (bottom / "buried.gguf").symlink_to(link.resolve())
        rows = listed(tmp_path / "none", monkeypatch)
    assert "hf:org/fine-GGUF/fine.gguf" in rows
    assert not any("buried" in name for name in rows)


# ----------------------------------------------------------------------------- the index


def _indexed_model(tmp_path: Path) -> tuple[Path, list[int]]:
    models = tmp_path / "models"
    path = place(smollm2_path(), models / "smol.gguf")
    st = path.stat()
    return models, [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


GOOD_FACTS = {
    "size": 1,
    "arch": "llama",
    "params": 1,
    "quant": "Q4_1",
    "context": 8192,
    "chat_template": True,
    "kv_per_token": 1,
    "error": None,
}


def _entry(real: str, ident: list[int], facts: object) -> dict[str, object]:
    return {"version": 1, "entries": {real: {"id": ident, "facts": facts}}}


DAMAGE = {
    "too deep": lambda real, ident: "[" * 100_000,
    "a list": lambda real, ident: [],
    "entries a list": lambda real, ident: {"version": 1, "entries": []},
    "entry a string": lambda real, ident: {"version": 1, "entries": {real: "x"}},
    "facts a list": lambda real, ident: _entry(real, ident, []),
    "size a string": lambda real, ident: _entry(real, ident, {**GOOD_FACTS, "size": "big"}),
    "params huge": lambda real, ident: _entry(real, ident, {**GOOD_FACTS, "params": 10**400}),
    "template an int": lambda real, ident: _entry(real, ident, {**GOOD_FACTS, "chat_template": 1}),
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_index_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Callable[[str, list[int]], object]
) -> None:
    models, ident = _indexed_model(tmp_path)
    real = str((models / "smol.gguf").resolve())
    index = tmp_path / "ld-home" / "models-index.json"  # conftest's LOCALDIGEST_HOME
    index.parent.mkdir(parents=True, exist_ok=True)
    data = damage(real, ident)
    index.write_text(data if isinstance(data, str) else json.dumps(data))
    row = listed(models, monkeypatch)["smol.gguf"]
    assert row["params"] == 134_515_008 and row["size"] == ident[2] and row["chat_template"]
    saved = json.loads(index.read_text())
    assert saved["entries"][real]["facts"]["params"] == 134_515_008


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    reads: list[Path] = []
    real_read = inventory.read_gguf

    def counting(path: Path, **kw: bool) -> gguf.GGUFInfo:
        reads.append(path)
        return real_read(path, **kw)

    monkeypatch.setattr(inventory, "read_gguf", counting)
    return reads


def test_a_header_that_failed_is_remembered_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gguf, "HEADER_SECONDS", 0.2)
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    hostile = sparse(tmp_path / "sparse.gguf", gguf_header([], tensors=1 << 24), 512 << 20)
    hub_file(cache, "evil/sparse-GGUF", "sparse.gguf", hostile)
    reads = _counting_reads(monkeypatch)
    with within(30):
        first = listed(tmp_path / "none", monkeypatch)["hf:evil/sparse-GGUF/sparse.gguf"]
        assert Path(first["real_path"]) in reads and "took over" in first["error"]
        reads.clear()
        again = listed(tmp_path / "none", monkeypatch)["hf:evil/sparse-GGUF/sparse.gguf"]
    assert again == first and reads == []  # the failure came from the index


def test_the_demo_hint_reads_headers_only_within_its_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ollama"
    monkeypatch.setenv("OLLAMA_MODELS", str(root))
    own = tmp_path / "smol-copy.gguf"  # a file of its own, not the embedded model's
    shutil.copyfile(smollm2_path(), own)
    ollama_model(root, "smol", "latest", own)
    monkeypatch.setattr(guidance, "MIN_PARAMS", 100_000_000)  # so that 135M counts here
    monkeypatch.setattr(guidance, "HINT_SECONDS", 0.0)
    reads = _counting_reads(monkeypatch)
    home, models, demo = tmp_path / "ld-home", tmp_path / "none", [smollm2_path().name]

    hint = guidance.demo_hint(demo, models, home)
    assert hint is not None and hint.on_disk is None and reads == []  # not indexed yet
    assert "ollama:smol:latest" in listed(models, monkeypatch)  # `models` indexes it
    reads.clear()
    hint = guidance.demo_hint(demo, models, home)
    assert hint is not None and hint.on_disk == "ollama:smol:latest" and reads == []
