"""The server options on the command line: declared once, on summarize, run and eval; bad
values and dead servers as one line with their exit code; a summary through the stand-in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from model_server import LLAMA_SERVER_PROPS, StandIn, free_port
from typer.testing import CliRunner

from localdigest.cli import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample-paper.pdf"
runner = CliRunner()


@pytest.mark.parametrize("command", ["summarize", "run", "eval"])
def test_the_server_options_are_on_every_command(command: str) -> None:
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for flag in ("--server", "--server-model", "--parallel"):
        assert flag in result.output, (command, flag)


def test_a_bad_url_is_a_usage_error() -> None:
    result = runner.invoke(app, ["summarize", str(SAMPLE), "--server", "ftp://gpu:21"])
    assert result.exit_code == 2
    assert "not an http(s) URL" in result.output and "Traceback" not in result.output


def test_parallel_must_be_positive() -> None:
    result = runner.invoke(app, ["summarize", str(SAMPLE), "--parallel", "0"])
    assert (
        result.exit_code == 2
        and "--parallel 0 is not valid" in result.output
        and "at least 1" in result.output
    )


def test_parallel_needs_a_server() -> None:
    result = runner.invoke(app, ["summarize", str(SAMPLE), "--parallel", "2"])
    assert result.exit_code == 2 and "--parallel needs --server" in result.output


def test_a_dead_server_exits_5_before_any_paper(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("LOCALDIGEST_SERVER", f"http://127.0.0.1:{port}/v1")  # the setting
    monkeypatch.setenv("LOCALDIGEST_SERVER_RETRIES", "1")
    result = runner.invoke(app, ["summarize", str(SAMPLE)])
    assert result.exit_code == 5
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and f"127.0.0.1:{port} refused the connection" in lines[0]


def test_summarize_through_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    server = StandIn(props=dict(LLAMA_SERVER_PROPS), max_delay=0.01).start()
    try:
        args = ["summarize", str(SAMPLE), "--server", server.url, "--format", "json"]
        result = runner.invoke(
            app, [*args, "--parallel", "2", "--n-ctx", "640", "--max-tokens", "64"]
        )
        assert result.exit_code == 0, result.output
        [paper] = json.loads(result.stdout)
        assert paper["model"] == f"stand-in.gguf (llama-server at 127.0.0.1:{server.port})"
        assert paper["summary"].startswith("The paper proposes a method")
        assert paper["stats"]["llm_calls"] == len(server.completions())
        calls = len(server.completions())
        again = runner.invoke(
            app, [*args, "--parallel", "2", "--n-ctx", "640", "--max-tokens", "64"]
        )
        assert json.loads(again.stdout)[0]["cached"] and len(server.completions()) == calls
        other = runner.invoke(
            app, [*args, "--parallel", "2", "--n-ctx", "1024", "--max-tokens", "64"]
        )
        assert not json.loads(other.stdout)[0]["cached"]  # another context: other keys
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("meta", "flag", "mode"),
    [
        ({"n_params": 134_515_008}, [], "extract"),  # the server says: a 135M model
        (None, [], "write"),  # it says nothing: a server's model is taken to be able
        ({"n_params": 134_515_008}, ["--mode", "write"], "write"),  # asked for
    ],
    ids=["small", "unknown", "asked"],
)
def test_auto_mode_follows_the_served_models_size(
    meta: dict[str, int] | None, flag: list[str], mode: str
) -> None:
    server = StandIn(props=dict(LLAMA_SERVER_PROPS), meta=meta, max_delay=0.01).start()
    try:
        args = ["summarize", str(SAMPLE), "--server", server.url, "--format", "json", *flag]
        result = runner.invoke(app, [*args, "--n-ctx", "640", "--max-tokens", "64"])
        assert result.exit_code == 0, result.output
        [paper] = json.loads(result.stdout)
        assert paper["mode"] == mode
        kinds = {c.body["messages"][-1]["content"].split("\n", 1)[0] for c in server.completions()}
        assert len(server.completions()) == paper["stats"]["llm_calls"]
        if mode == "extract":  # no map of chunks: the model wrote the TL;DR only
            assert paper["stats"]["chunks"] == 0 and paper["stats"]["llm_calls"] <= 3, kinds
        else:
            assert paper["stats"]["chunks"] >= 1
    finally:
        server.stop()


def test_structured_notes_with_a_server_without_grammars_stops_before_any_paper() -> None:
    server = StandIn(owned_by="vllm", max_delay=0.01).start()
    try:
        args = ["summarize", str(SAMPLE), "--server", server.url, "--structured-notes"]
        result = runner.invoke(app, [*args, "--mode", "write"])
        assert result.exit_code == 2, result.output
        assert "--structured-notes needs llama.cpp's grammars" in result.output
        assert "(vllm)" in result.output and server.completions() == []
    finally:
        server.stop()


def test_server_settings_are_listed_by_config() -> None:
    result = runner.invoke(app, ["config", "--format", "json"])
    assert result.exit_code == 0
    names = {row["name"] for row in json.loads(result.stdout)["settings"]}
    assert {"server", "server_model", "parallel", "server_timeout", "server_retries"} <= names
    assert "api_key" not in result.stdout.lower()  # the key is never a setting


def test_progress_shows_calls_in_flight_and_the_overall_rate() -> None:
    from localdigest.papers import PaperInput
    from localdigest.render.summary import RichReporter

    reporter = RichReporter(3, parallel=3)
    papers = [PaperInput(f"p{i}.pdf", Path(f"p{i}.pdf")) for i in range(2)]
    for p in papers:
        reporter.paper_start(p)
        reporter.chunks_planned(4)
    reporter.call_started()
    reporter.call_started()
    tasks = {t.id: t for t in reporter.progress.tasks}
    assert "2 open" in tasks[reporter.papers].description
    assert tasks[reporter.chunks].total == 8
    assert tasks[reporter.chunks].fields["rate"] == "calls 2/3 in flight"
    reporter.call_finished(120)
    rate = tasks[reporter.chunks].fields["rate"]
    assert rate.startswith("calls 1/3 in flight · ") and rate.endswith("tok/s overall")
    reporter.paper_done(None)  # type: ignore[arg-type]
    assert "1 open" in tasks[reporter.papers].description
    assert tasks[reporter.papers].completed == 1


def test_progress_one_by_one_is_unchanged() -> None:
    from localdigest.papers import PaperInput
    from localdigest.render.summary import RichReporter

    reporter = RichReporter(2)
    reporter.paper_start(PaperInput("a.pdf", Path("a.pdf"), title="A Title"))
    reporter.chunks_planned(3)
    reporter.tokens(8, 2.0)
    tasks = {t.id: t for t in reporter.progress.tasks}
    assert "A Title" in tasks[reporter.papers].description
    assert tasks[reporter.chunks].total == 3 and tasks[reporter.chunks].fields["rate"] == "4 tok/s"
