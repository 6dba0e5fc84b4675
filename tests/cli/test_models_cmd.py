"""``models`` and the model a summary names: a real model from a fake Ollama store, the
hint under a summary the demo model wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FakeBackend
from model_stores import ollama_model, smollm2_path
from typer.testing import CliRunner

from localdigest.cli import app
from localdigest.llm import llamacpp
from localdigest.models import stores
from localdigest.models.guidance import better_on_disk
from localdigest.models.inventory import Facts, ModelRow

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample-paper.pdf"
HINT = "The model in use is the embedded demo model"
runner = CliRunner()


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> FakeBackend:
    fake = FakeBackend()
    monkeypatch.setattr(llamacpp, "LlamaCppBackend", lambda *a, **k: fake)
    return fake


def test_models_without_a_subcommand_lists(tmp_path: Path) -> None:
    plain = runner.invoke(app, ["models"])
    assert plain.exit_code == 0, plain.output
    assert "embedded" in plain.stdout and "(default)" in plain.stdout
    rows = json.loads(runner.invoke(app, ["models", "-f", "json"]).stdout)
    assert [r["name"] for r in rows] == ["embedded"]
    assert "pull" in runner.invoke(app, ["models", "--help"]).stdout


@pytest.mark.model
def test_summarize_runs_a_model_from_an_ollama_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ollama"
    ollama_model(root, "smollm2", "135m", smollm2_path())
    monkeypatch.setenv("OLLAMA_MODELS", str(root))
    args = [
        "-m",
        "ollama:smollm2:135m",
        "--mode",
        "write",
        "--format",
        "json",
        "--max-tokens",
        "64",
    ]
    result = runner.invoke(app, ["summarize", str(SAMPLE), *args, "--threads", "1"])
    assert result.exit_code == 0, result.output
    [paper] = json.loads(result.stdout)
    assert paper["model"] == "smollm2:135m" and paper["cached"] is False
    assert paper["summary"].strip() and paper["stats"]["llm_calls"] >= 2
    assert HINT not in result.output  # not the embedded model's file (another name)


def test_the_demo_model_says_so_once_under_the_table(fake_model: FakeBackend) -> None:
    result = runner.invoke(app, ["summarize", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    assert result.stdout.count(HINT) == 1
    assert result.stdout.index(HINT) > result.stdout.index("TL;DR")  # under the table
    assert "localdigest models pull" in result.stdout
    assert "Traceback" not in result.output


def test_the_hint_goes_to_stderr_beside_json(fake_model: FakeBackend) -> None:
    result = runner.invoke(app, ["summarize", str(SAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # stdout stays pure JSON
    assert HINT in result.stderr


def test_quiet_or_the_config_silences_the_hint(fake_model: FakeBackend, tmp_path: Path) -> None:
    quiet = runner.invoke(app, ["summarize", str(SAMPLE), "--quiet"])
    assert quiet.exit_code == 0 and HINT not in quiet.output
    (tmp_path / "config.toml").write_text("model_hint = false\n")
    configured = runner.invoke(app, ["summarize", str(SAMPLE)])
    assert configured.exit_code == 0 and HINT not in configured.output


def _row(name: str, params: int, *, chat: bool = True, ram: int = 3 << 30) -> ModelRow:
    model = stores.StoredModel("ollama", name, name, Path(f"/m/{name}"), Path(f"/m/{name}"))
    facts = Facts(ram // 2, "qwen2", params, "Q4_K_M", 32768, chat, 28_672)
    return ModelRow(model, facts, True, 4096, ram)


def test_the_better_model_on_disk_is_the_biggest_that_fits() -> None:
    rows = [
        _row("ollama:qwen2.5:1.5b", 1_500_000_000),
        _row("ollama:qwen2.5:3b", 3_000_000_000),
        _row("ollama:base:7b", 7_000_000_000, chat=False),
        _row("ollama:big:8b", 8_000_000_000, ram=20 << 30),
        _row("ollama:tiny:135m", 135_000_000),
    ]
    best = better_on_disk(rows, memory=16 << 30)
    assert best is not None and best.model.name == "ollama:qwen2.5:3b"
    assert better_on_disk(rows[-1:], memory=16 << 30) is None


def test_models_json_is_plain_and_small_for_thousands_of_models(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import tracemalloc

    from localdigest.render.models import models_json

    rows = [_row(f"hf:org/repo-{i}/model-{i}.Q4_K_M.gguf", 1_500_000_000) for i in range(2000)]
    tracemalloc.start()
    try:
        models_json(rows)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    printed = capsys.readouterr().out
    assert json.loads(printed) == [r.as_json() for r in rows]
    # Through rich's JSON highlighting 2,000 models took 114 MiB; plain JSON takes ~7.
    assert peak < 32 << 20, f"{peak / 2**20:.0f} MiB"
