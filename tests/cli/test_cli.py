"""End-to-end CLI tests with the REAL default model on the short sample paper."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from localdigest import pdf
from localdigest.cli import app
from localdigest.llm import llamacpp
from localdigest.text import strip_page_marks

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample-paper.pdf"
runner = CliRunner()


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 6}


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the real-model tests of this module: the model runs once per setting."""
    return tmp_path_factory.mktemp("real-home")


@pytest.fixture
def real_home(shared_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOCALDIGEST_HOME", str(shared_home))
    return shared_home


def no_model_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the model was loaded although everything was cached")

    monkeypatch.setattr(llamacpp.LlamaCppBackend, "__init__", refuse)


@pytest.mark.model
def test_real_model_json_then_cached_table(real_home: Path, monkeypatch) -> None:
    result = runner.invoke(
        app,
        ["summarize", str(SAMPLE), "--format", "json", "--max-tokens", "160", "--mode", "write"],
    )
    assert result.exit_code == 0, result.output
    [paper] = json.loads(result.stdout)
    for field in ("source", "sha256", "title", "pages", "model", "tldr", "summary", "cached"):
        assert field in paper
    assert paper["cached"] is False
    assert paper["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    stats = paper["stats"]
    assert stats["llm_calls"] >= 3 and stats["chunks"] >= 1
    assert stats["input_tokens"] > 200 and stats["output_tokens"] > 10
    # "About that paper": the summary shares the abstract's own content words.
    doc = pdf.extract(SAMPLE)
    shared = content_words(paper["summary"] + paper["tldr"]) & content_words(doc.abstract)
    assert len(shared) >= 3, paper["summary"]
    assert paper["title"] == doc.title

    no_model_loads(monkeypatch)
    again = runner.invoke(app, ["summarize", str(SAMPLE), "--max-tokens", "160", "--mode", "write"])
    assert again.exit_code == 0, again.output
    assert "cached" in again.stdout
    assert paper["title"].split()[0] in again.stdout
    # After the table, the summary paragraph itself, wrapped (box lines stripped here), each
    # sentence followed by its pages.
    shown = " ".join(re.sub(r"[│╭╮╰╯─]", " ", again.stdout).split())
    assert " ".join(paper["summary"].split()) in " ".join(strip_page_marks(shown).split())
    assert "[p. 1]" in shown or "[?]" in shown
    brief = runner.invoke(
        app, ["summarize", str(SAMPLE), "--max-tokens", "160", "--mode", "write", "--brief"]
    )
    assert brief.exit_code == 0, brief.output
    assert " ".join(paper["summary"].split()) not in " ".join(brief.stdout.split())


@pytest.mark.model
def test_default_mode_traces_every_sentence_to_a_page(real_home: Path) -> None:
    """The embedded 135M model's default (auto -> extract): the summary is the paper's own
    key sentences, each with its pages; the TL;DR is grounded too; markdown shows pages."""
    result = runner.invoke(app, ["summarize", str(SAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    [paper] = json.loads(result.stdout)
    assert paper["mode"] == "extract" and paper["stats"]["chunks"] == 0
    summary = [g for g in paper["grounding"] if g["part"] == "summary"]
    assert summary and all(g["supported"] and g["pages"] for g in summary)
    assert " ".join(g["sentence"] for g in summary) == " ".join(paper["summary"].split())
    assert paper["roles"] == ["claims", "beyond"] and paper["written_by"] == "extraction"
    [tldr] = [g for g in paper["grounding"] if g["part"] == "tldr"]
    assert tldr["supported"] and tldr["sentence"] == paper["tldr"]
    doc_text = pdf.extract(SAMPLE).text
    assert all(" ".join(g["sentence"].split()[:6]) in " ".join(doc_text.split()) for g in summary)
    md = runner.invoke(app, ["show", paper["sha256"][:8], "--format", "markdown"])
    assert md.exit_code == 0 and "[p. 1]" in md.stdout


@pytest.mark.model
def test_show_lists_and_shows_cached(real_home: Path) -> None:
    runner.invoke(app, ["summarize", str(SAMPLE), "--max-tokens", "160"])
    listed = runner.invoke(app, ["show"])
    assert listed.exit_code == 0
    key = re.search(r"│\s*([0-9a-f]{8})\s*│", listed.stdout)
    assert key, listed.stdout
    full = runner.invoke(app, ["show", key.group(1), "--full"])
    assert full.exit_code == 0 and "TL;DR" in full.stdout
    as_json = runner.invoke(app, ["show", key.group(1), "--format", "json"])
    assert json.loads(as_json.stdout)[0]["cached"] is True
    missing = runner.invoke(app, ["show", "no-such-paper-xyz"])
    assert missing.exit_code == 2


@pytest.mark.model
def test_bad_inputs_fail_alone_with_exit_3(real_home: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_text("<html>not a pdf</html>")
    result = runner.invoke(
        app,
        [
            "summarize",
            str(tmp_path / "missing.pdf"),
            str(broken),
            str(SAMPLE),
            "--format",
            "json",
            "--max-tokens",
            "160",
        ],
    )
    assert result.exit_code == 3, result.output
    papers = json.loads(result.stdout)
    assert [("error" in p) for p in papers] == [True, True, False]
    assert "missing.pdf" in papers[0]["error"]
    assert "broken.pdf" in papers[1]["error"]
    assert "Traceback" not in result.output


@pytest.mark.model
def test_second_architecture_via_model_flag(real_home: Path) -> None:
    gemma = os.environ.get("LOCALDIGEST_TEST_GEMMA")
    if not gemma or not Path(gemma).exists():
        pytest.skip("Gemma 3 270M GGUF not assembled (make test installs it)")
    result = runner.invoke(
        app,
        [
            "summarize",
            str(SAMPLE),
            "--model",
            gemma,
            "--format",
            "json",
            "--max-tokens",
            "96",
            "--n-ctx",
            "4096",
        ],
    )
    assert result.exit_code == 0, result.output
    [paper] = json.loads(result.stdout)
    assert paper["model"] == Path(gemma).name
    assert paper["cached"] is False  # another model never reuses SmolLM2's summary
    assert paper["summary"].strip()


def test_missing_model_exits_4_naming_it(tmp_path: Path) -> None:
    result = runner.invoke(app, ["summarize", str(SAMPLE), "--model", "/nope/model.gguf"])
    assert result.exit_code == 4
    assert "/nope/model.gguf" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("content", [b"", b"this is not a model", b"GGUF\x03\x00\x00\x00"])
def test_unusable_model_files_exit_4(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(content)
    result = runner.invoke(app, ["summarize", str(SAMPLE), "--model", str(bad)])
    assert result.exit_code == 4, result.output
    assert "bad.gguf" in result.output


def test_model_folder_is_rejected(tmp_path: Path) -> None:
    result = runner.invoke(app, ["summarize", str(SAMPLE), "--model", str(tmp_path)])
    assert result.exit_code == 4
    assert "folder" in result.output


def test_models_command_lists_embedded_default(tmp_path: Path, monkeypatch) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "broken.gguf").write_bytes(b"nope")
    monkeypatch.setenv("LOCALDIGEST_MODELS_DIR", str(models))
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    assert "SmolLM2-135M-Instruct" in result.stdout
    assert "broken.gguf" in result.stdout and "unusable" in result.stdout


def test_usage_errors_exit_2() -> None:
    assert runner.invoke(app, ["summarize"]).exit_code == 2
    assert runner.invoke(app, ["summarize", str(SAMPLE), "--n-ctx", "0"]).exit_code == 2
    assert runner.invoke(app, ["summarize", str(SAMPLE), "--format", "xml"]).exit_code == 2


def test_cache_info_and_clear(tmp_path: Path, isolated_home: Path) -> None:
    info = runner.invoke(app, ["cache", "info"])
    assert info.exit_code == 0 and "Cache:" in info.stdout
    as_json = json.loads(runner.invoke(app, ["cache", "info", "--format", "json"]).stdout)
    assert as_json["path"] == str(isolated_home / "cache") and as_json["entries"] == {}
    assert as_json["passages"]["papers"] == 0 and as_json["passages"]["bytes"] > 0
    cleared = runner.invoke(app, ["cache", "clear", "--yes"])
    assert cleared.exit_code == 0 and "Removed" in cleared.stdout
    as_json = json.loads(runner.invoke(app, ["cache", "clear", "-y", "-f", "json"]).stdout)
    assert as_json == {
        "path": str(isolated_home / "cache"),
        "deleted": True,
        "entries": 0,
        "papers": 0,
    }
    declined = runner.invoke(app, ["cache", "clear", "-f", "json"], input="n\n")
    assert "Delete everything" in declined.stderr  # the question: not in the JSON
    # CliRunner echoes the typed answer onto stdout (a terminal echoes it to itself).
    echoed, _, rest = declined.stdout.partition("{")
    assert declined.exit_code == 0 and echoed.strip() == "n"
    assert json.loads("{" + rest)["deleted"] is False


def test_declining_cache_clear_exits_0_and_keeps_everything() -> None:
    from localdigest import config
    from localdigest.cache import Store

    store = Store(config.load().paths.cache)
    store.set("kept", {"x": 1})
    store.close()
    for answer in ("n\n", ""):  # no, and the end of the input (Ctrl-D)
        declined = runner.invoke(app, ["cache", "clear"], input=answer)
        assert declined.exit_code == 0, declined.output  # 1 is for bugs
        assert "Nothing deleted" in declined.stdout
    store = Store(config.load().paths.cache)
    assert store.get("kept") == {"x": 1}
    store.close()


def test_ctrl_c_at_a_prompt_is_an_interrupt(monkeypatch: pytest.MonkeyPatch) -> None:
    """click (in typer) turns Ctrl-C at a prompt into Abort (exit 1, for bugs); it stays
    Ctrl-C."""
    import sys

    import typer

    from localdigest.cli.common import answered

    def ctrl_c(_: str) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(sys.modules[typer.confirm.__module__], "visible_prompt_func", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        answered(lambda: typer.confirm("Delete?"), at_end=False)


def test_version_and_help() -> None:
    for flag in ("--version", "-V"):
        assert runner.invoke(app, [flag]).stdout.startswith("localdigest ")
    help_text = runner.invoke(app, ["--help"]).stdout
    for command in ("summarize", "show", "models", "cache"):
        assert command in help_text


def _smollm2_copy(tmp_path: Path, name: str) -> Path:
    from localdigest.models.resolve import embedded_model_path

    source = embedded_model_path()
    assert source is not None, "the default model package is installed by make"
    copy = tmp_path / name
    copy.write_bytes(source.read_bytes())
    return copy


def test_truncated_gguf_with_intact_header_exits_4(tmp_path: Path) -> None:
    model = _smollm2_copy(tmp_path, "cut.gguf")
    with model.open("r+b") as f:
        f.truncate(model.stat().st_size // 3)  # header and vocabulary intact, tensors cut
    result = runner.invoke(app, ["summarize", str(SAMPLE), "--model", str(model)])
    assert result.exit_code == 4, result.output
    assert "cut.gguf" in result.output and "Traceback" not in result.output


def test_unknown_architecture_exits_4(tmp_path: Path) -> None:
    model = _smollm2_copy(tmp_path, "alien.gguf")
    data = bytearray(model.read_bytes())
    at = data.index(b"general.architecture")
    value = data.index(b"llama", at)  # the first string after the key is its value
    data[value : value + 5] = b"xlama"
    model.write_bytes(bytes(data))
    result = runner.invoke(app, ["summarize", str(SAMPLE), "--model", str(model)])
    assert result.exit_code == 4, result.output
    assert "alien.gguf" in result.output and "xlama" in result.output
