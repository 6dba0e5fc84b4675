"""Summarizing through a real OpenAI-compatible server: llama-cpp-python's own server
(``python -m llama_cpp.server``) with the embedded model, on 127.0.0.1.

One server serves the module (probing, token counts, one completion); the kill test runs
its own: the CLI summarizes through it with two calls in flight, the server is killed once
the first note is cached (exit 5, one line naming the server), a new server comes up on the
same port and the same command finishes, reusing the notes finished before (counted in the
server's access log and the summary's stats). The API key the servers require is in no
file under the cache folder and in no output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from model_server import LlamaCppServer, free_port
from model_stores import configured_model

from localdigest.cache import Store
from localdigest.llm import GenerationSettings
from localdigest.llm.server import ServerBackend, ServerSettings, connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import samplepaper as sp

pytestmark = pytest.mark.model
EXE = [sys.executable, "-m", "localdigest"]
KEY = "sk-test-5f2a0c9e7b41d3"
SMALL = ["--n-ctx", "768", "--max-tokens", "48", "--parallel", "2", "--format", "json"]


@pytest.fixture(scope="module")
def model() -> Path:
    try:
        return configured_model("default").path
    except Exception as e:  # pragma: no cover - the default model is a dev dependency
        pytest.skip(f"default model not installed: {e}")


@pytest.fixture(scope="module")
def server(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaCppServer]:
    s = LlamaCppServer(model, tmp_path_factory.mktemp("server") / "server.log")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short paper of two body sections: several chunks at --n-ctx 768."""
    return sp.write_paper_pdf(
        tmp_path_factory.mktemp("paper") / "gates.pdf",
        title=sp.SAMPLE_TITLE,
        authors=sp.SAMPLE_AUTHORS,
        abstract=sp.SAMPLE_ABSTRACT,
        sections=sp.SAMPLE_SECTIONS[1:3],
        references=sp.SAMPLE_REFERENCES[:1],
    )


def test_the_servers_model_is_known_and_counted_here(server: LlamaCppServer, model: Path) -> None:
    b = connect(ServerSettings(url=server.url))
    assert isinstance(b, ServerBackend) and b.info.kind == "llama-cpp-python"
    assert b.info.model_file == model.name and b.parallel_slots == 1  # one lock inside
    # the path it reports is on this machine: the same GGUF counts tokens, no request
    assert b.counter.source == f"local GGUF {model.name}"
    assert b.fingerprint.startswith("server/")
    assert b.fingerprint != configured_model("default").fingerprint  # never a local run's key
    assert b.n_ctx == 2048  # it reports no context: its default, until --n-ctx says
    before = server.completions()
    user = "Say in five words what a gated residual adapter is."
    g = b.complete("You are terse.", user, GenerationSettings(max_tokens=8, temperature=0.0))
    assert g.text and 0 < g.completion_tokens <= 8
    assert g.prompt_tokens == b.prompt_tokens("You are terse.", user)  # counted alike
    assert server.completions() == before + 1


def test_structured_notes_follow_the_grammar_on_the_real_server(server: LlamaCppServer) -> None:
    """--structured-notes' grammar, sent as ``grammar``, constrains the real engine too."""
    from localdigest.summarize.options import NOTES_GRAMMAR

    b = connect(ServerSettings(url=server.url))
    user = f"Notes on this text.\n<<<PAPER\n{sp.SAMPLE_ABSTRACT}\nPAPER>>>"
    settings = GenerationSettings(max_tokens=96, temperature=0.0, grammar=NOTES_GRAMMAR)
    lines = b.complete("Write notes.", user, settings).text.splitlines()
    assert lines[0].startswith("- Claim: ") and len(lines) >= 2, lines
    assert lines[1].startswith("- Method: "), lines
    labels = ("- Claim: ", "- Method: ", "- Result: ", "- Limitation: ")
    assert all(line.startswith(labels) for line in lines), lines


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOCALDIGEST_HOME": str(home), "LOCALDIGEST_API_KEY": KEY}
    env["LOCALDIGEST_SERVER_RETRIES"] = "2"
    return subprocess.run(
        [*EXE, "summarize", *args], env=env, text=True, capture_output=True, timeout=600
    )


def notes_cached(home: Path) -> int:
    store = Store(home / "cache")
    try:
        return int(store.info()["entries"].get("notes", 0))
    finally:
        store.close()


def test_killed_server_exits_5_and_the_same_command_resumes(
    model: Path, paper: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    port = free_port()
    first = LlamaCppServer(model, tmp_path / "first.log", port=port, api_key=KEY)
    args = [str(paper), "--server", first.url, *SMALL]
    env = {**os.environ, "LOCALDIGEST_HOME": str(home), "LOCALDIGEST_API_KEY": KEY}
    env["LOCALDIGEST_SERVER_RETRIES"] = "2"
    proc = subprocess.Popen(
        [*EXE, "summarize", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 300
        while notes_cached(home) < 1:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no note cached in 300 s"
            time.sleep(0.2)
        first.kill()
        out, err = proc.communicate(timeout=120)
    finally:
        first.stop()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 5
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0], err
    assert "Traceback" not in err and out == ""
    kept = notes_cached(home)
    served_before = first.completions()
    assert kept >= 1 and served_before >= kept

    second = LlamaCppServer(model, tmp_path / "second.log", port=port, api_key=KEY)
    try:
        done = run_cli(home, *args)
        assert done.returncode == 0, done.stderr
        [result] = json.loads(done.stdout)
        stats = result["stats"]
        assert result["summary"] and not result["cached"]
        assert stats["chunks"] >= 2
        assert stats["notes_written"] == stats["chunks"] - kept  # the finished ones reused
        assert second.completions() == stats["llm_calls"]  # every call counted once
        again = run_cli(home, *args)  # all cached: the server is asked who it is, no more
        assert again.returncode == 0 and json.loads(again.stdout)[0]["cached"]
        assert second.completions() == stats["llm_calls"]
    finally:
        second.stop()
    for name, text in [("stdout", done.stdout + again.stdout), ("stderr", done.stderr + err)]:
        assert KEY not in text, name
    leaked = [p for p in home.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert leaked == []
