"""One check of every setting's type and range, whether it comes from a flag, the
environment or the config file: exit 2 naming the setting, the value and what is expected.
Also the other bad set-up files of the adversarial pass (prompts, eval's --expected)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from localdigest import config
from localdigest.cli import app
from localdigest.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample-paper.pdf"
runner = CliRunner()


def refused(result_output: str, *parts: str) -> None:
    assert "Traceback" not in result_output
    for part in parts:
        assert part in result_output, result_output


@pytest.mark.parametrize(
    ("toml", "key", "expected"),
    [
        ('temperature = "hot"', "temperature", "a number from 0 to 2"),
        ('threads = "many"', "threads", "a whole number"),
        ('n_ctx = "big"', "n_ctx", "a whole number"),
        ("n_ctx = 1.5", "n_ctx", "a whole number"),
        ("threads = true", "threads", "a whole number"),
        ("models_dir = 5", "models_dir", "text"),
        ("home = 5", "home", "text"),
        ('tags = "paper"', "tags", "a list of texts"),
        ('categories = "cs.CL"', "categories", "a list of texts"),
        ("tags = [1, 2]", "tags", "a list of texts"),
        ("max_pages = -1", "max_pages", "at least 0"),
        ("seed = -1", "seed", "not reproducible"),
    ],
)
def test_wrong_types_in_the_config_file_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, key: str, expected: str
) -> None:
    monkeypatch.delenv(config.SETTINGS[key].env, raising=False)  # the file is read
    (tmp_path / "config.toml").write_text(toml + "\n")
    with pytest.raises(UsageError) as caught:
        config.load()
    refused(caught.value.message, f"{key} = ", "config.toml", expected)
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 2
    refused(result.output, key, expected)


@pytest.mark.parametrize(
    ("env", "raw", "expected"),
    [
        ("LOCALDIGEST_THREADS", "-5", "from 1 to"),
        ("LOCALDIGEST_THREADS", "many", "a whole number"),
        ("LOCALDIGEST_TEMPERATURE", "1e9", "from 0 to 2"),
        ("LOCALDIGEST_TEMPERATURE", "nan", "from 0 to 2"),
        ("LOCALDIGEST_SEED", "-1", "not reproducible"),
        ("LOCALDIGEST_ARXIV_DELAY", "inf", "from 0 to"),
        ("LOCALDIGEST_GPU_LAYERS", "-2", "at least -1"),
        ("LOCALDIGEST_MAX_TOKENS", "0", "at least 1"),
        ("LOCALDIGEST_MODE", "bogus", "one of auto, write"),
    ],
)
def test_wrong_values_in_the_environment_are_refused(
    monkeypatch: pytest.MonkeyPatch, env: str, raw: str, expected: str
) -> None:
    monkeypatch.setenv(env, raw)
    # Each is read before any work: a model setting before the model, the delay before a
    # request to arXiv.
    command = ["fetch", "2405.04434"] if "ARXIV" in env else ["summarize", str(SAMPLE)]
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    refused(result.output, f"{env}='{raw}'", expected)


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--threads", "0", "from 1 to"),
        ("--temperature", "-1", "from 0 to 2"),
        ("--temperature", "1e9", "from 0 to 2"),
        ("--seed", "-1", "not reproducible"),
        ("--n-ctx", "0", "at least 1"),
        ("--max-pages", "-3", "at least 0"),
    ],
)
def test_wrong_flag_values_are_refused_by_the_same_check(
    flag: str, value: str, expected: str
) -> None:
    result = runner.invoke(app, ["summarize", str(SAMPLE), flag, value])
    assert result.exit_code == 2, result.output
    refused(result.output, flag, expected)


def test_config_set_uses_the_same_check() -> None:
    result = runner.invoke(app, ["config", "--set", "threads=-5"])
    assert result.exit_code == 2
    refused(result.output, "threads", "from 1 to")


def test_config_set_checks_choices_too() -> None:
    result = runner.invoke(app, ["config", "--set", "mode=bogus"])
    assert result.exit_code == 2
    refused(result.output, "mode", "one of auto, write")


def test_good_values_from_every_source_still_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.toml").write_text('temperature = 0\ntags = ["a", "b"]\nhome = "x"\n')
    monkeypatch.setenv("LOCALDIGEST_SEED", "0")
    cfg = config.load(threads=2)
    assert cfg.temperature == 0.0 and isinstance(cfg.temperature, float)
    assert cfg.tags == ("a", "b") and cfg.seed == 0 and cfg.threads == 2
    assert cfg.origins["temperature"] == "config" and cfg.origins["seed"] == "env"
    assert cfg.origins["threads"] == "flag"


def test_a_prompt_file_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "map.txt").write_bytes(b"Take notes \xff\xfe {text}")
    result = runner.invoke(app, ["summarize", str(SAMPLE), "--prompts", str(prompts)])
    assert result.exit_code == 2, result.output
    refused(result.output, "map.txt", "not UTF-8")


@pytest.mark.parametrize(
    "content",
    ['"just a string"', "42", "[1, 2]", '[{"file": 5, "abstract_clean": "x"}]', '{"a": "b"}'],
)
def test_an_expected_file_of_the_wrong_shape_is_a_usage_error(tmp_path: Path, content: str) -> None:
    pytest.importorskip("rouge_score", reason="the eval extra is not installed")
    pdfs = tmp_path / "pdfs"
    pdfs.mkdir()
    (pdfs / "x.pdf").write_bytes(SAMPLE.read_bytes())
    expected = tmp_path / "expected.json"
    expected.write_text(content)
    out = tmp_path / "eval.json"
    result = runner.invoke(
        app, ["eval", "--pdfs", str(pdfs), "--expected", str(expected), "-o", str(out)]
    )
    assert result.exit_code == 2, result.output
    refused(result.output, "expected.json")
    assert not out.exists() or json.loads(out.read_text()) is not None
