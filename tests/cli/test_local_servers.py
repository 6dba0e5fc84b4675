"""The reader's own model servers by name: ``--server ollama`` / ``lmstudio``, and
``-m ollama:NAME`` through a running Ollama when it answers (in-process when it does not),
against the loopback stand-in of Ollama's API (tests/model_server.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from model_server import StandIn, free_port
from model_stores import ollama_model, smollm2_path
from typer.testing import CliRunner

from localdigest.cli import app
from localdigest.llm.local_servers import LMSTUDIO, ollama_answers, ollama_root, server_url

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample-paper.pdf"
runner = CliRunner()
OLLAMA = {"digest": "sha256:5f2a0c9e", "num_ctx": 4096}


@pytest.mark.parametrize(
    ("host", "root"),
    [
        ("", "http://127.0.0.1:11434"),
        ("example.org", "http://example.org:11434"),
        ("example.org:56789", "http://example.org:56789"),
        (":8080", "http://127.0.0.1:8080"),
        ("http://example.org", "http://example.org:80"),  # as Ollama reads it
        ("https://example.org", "https://example.org:443"),
        ("https://example.org:8443/ollama/", "https://example.org:8443/ollama"),
        ("'127.0.0.2:5000'", "http://127.0.0.2:5000"),
        ("0.0.0.0", "http://127.0.0.1:11434"),  # where it listens: called on the loopback
        ("0.0.0.0:9999", "http://127.0.0.1:9999"),
        ("[::1]:7000", "http://[::1]:7000"),
        ("::1", "http://[::1]:11434"),
        ("example.org:notaport", "http://example.org:11434"),
    ],
)
def test_ollama_host_is_read_as_ollama_reads_it(host: str, root: str) -> None:
    assert ollama_root(host) == root


def test_servers_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "gpu-box:11500")
    assert server_url("ollama") == "http://gpu-box:11500/v1"
    assert server_url("LMStudio") == LMSTUDIO == "http://127.0.0.1:1234/v1"
    assert server_url("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"


def test_the_probe_is_quick_and_says_no_for_anything_but_ollama() -> None:
    assert not ollama_answers(f"http://127.0.0.1:{free_port()}")  # nothing listens
    other = StandIn().start()  # an OpenAI-compatible server that is no Ollama
    try:
        assert not ollama_answers(other.url.removesuffix("/v1"))
    finally:
        other.stop()


@pytest.fixture
def ollama(monkeypatch: pytest.MonkeyPatch) -> StandIn:
    server = StandIn(models=["smollm:latest"], owned_by="library", ollama=dict(OLLAMA))
    server.max_delay = 0.01
    server.start()
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{server.port}")
    yield server  # type: ignore[misc]
    server.stop()


def summarize(*args: str) -> tuple[list[dict[str, object]], str]:
    result = runner.invoke(app, ["summarize", str(SAMPLE), "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


def test_server_ollama_goes_to_ollama_host(ollama: StandIn) -> None:
    [summary], _ = summarize("--server", "ollama")
    assert summary["model"] == f"smollm:latest (ollama at 127.0.0.1:{ollama.port})"
    assert ollama.completions()


@pytest.mark.model
def test_an_ollama_model_runs_on_ollama_when_it_answers_else_in_process(
    ollama: StandIn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store = tmp_path / "ollama-models"
    ollama_model(store, "smollm", "latest", smollm2_path())  # the blob is here too
    monkeypatch.setenv("OLLAMA_MODELS", str(store))
    [served], said = summarize("-m", "ollama:smollm")
    assert f"runs on the Ollama server at http://127.0.0.1:{ollama.port}" in said
    assert served["model"] == f"smollm:latest (ollama at 127.0.0.1:{ollama.port})"
    assert {"/api/version", "/v1/models", "/api/show"} <= {s.path for s in ollama.seen}

    ollama.stop()  # Ollama is not running any more: the blob, in-process
    [local], said = summarize("-m", "ollama:smollm")
    assert "Ollama does not answer at" in said and "runs in-process" in said
    assert local["model"] == "smollm:latest" and "ollama at" not in str(local["model"])
    assert not local["cached"]  # the server's summary is another model's: not reused
    [again], _ = summarize("-m", "ollama:smollm")
    assert again["cached"] and again["summary"] == local["summary"]
