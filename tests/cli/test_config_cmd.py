"""`localdigest config`: every setting, its value and its source; --path; --edit."""

from __future__ import annotations

import json
import re
import stat
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from localdigest import config
from localdigest.cli import app

runner = CliRunner()


def settings(*args: str) -> dict[str, dict]:
    result = runner.invoke(app, ["config", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return {s["name"]: s for s in json.loads(result.stdout)["settings"]}


@pytest.mark.parametrize(
    ("flag", "env", "file", "value", "source"),
    [
        (None, None, None, 320, "default"),
        (None, None, 200, 200, "config"),
        (None, "150", 200, 150, "env"),
        ("99", "150", 200, 99, "flag"),
        ("99", None, None, 99, "flag"),
        (None, "150", None, 150, "env"),
    ],
)
def test_precedence_table(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flag: str | None,
    env: str | None,
    file: int | None,
    value: int,
    source: str,
) -> None:
    if file is not None:
        (tmp_path / "config.toml").write_text(f"max_tokens = {file}\n")
    if env is not None:
        monkeypatch.setenv("LOCALDIGEST_MAX_TOKENS", env)
    args = ["--set", f"max_tokens={flag}"] if flag is not None else []
    row = settings(*args)["max_tokens"]
    assert (row["value"], row["source"]) == (value, source)
    flags = {"max_tokens": config.parse_value("max_tokens", flag)} if flag else {}
    described = {name: (v, s) for name, v, s, _ in config.describe(flags)}
    assert described["max_tokens"] == (value, source)


def test_every_setting_is_shown_with_help(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "config.toml").write_text(
        'newsletter_name = "Ada"\ncategories = ["cs.CL"]\nmodle = "typo"\n'
    )
    monkeypatch.setenv("LOCALDIGEST_TAGS", "paper, ml")
    rows = settings()
    assert set(rows) == set(config.SETTINGS)
    assert rows["newsletter_name"] == {
        "name": "newsletter_name",
        "value": "Ada",
        "source": "config",
        "help": config.SETTINGS["newsletter_name"].help,
    }
    assert (rows["categories"]["value"], rows["categories"]["source"]) == (["cs.CL"], "config")
    assert (rows["tags"]["value"], rows["tags"]["source"]) == (["paper", "ml"], "env")
    assert rows["home"]["value"] == str(config.load().paths.home)

    table = runner.invoke(app, ["config"])
    assert table.exit_code == 0, table.output
    assert re.search(r"newsletter_name\s+Ada\s+config", table.stdout)
    assert re.search(r"max_tokens\s+320\s+default", table.stdout)
    assert re.search(r"tags\s+paper, ml\s+env", table.stdout)
    assert "modle" in table.output and "ignored" in table.output  # the typo is pointed out
    assert str(tmp_path / "config.toml") in table.output


def test_bad_values_are_usage_errors(tmp_path: Path, monkeypatch) -> None:
    assert runner.invoke(app, ["config", "--set", "nonsense=1"]).exit_code == 2
    assert runner.invoke(app, ["config", "--set", "max_tokens=many"]).exit_code == 2
    assert runner.invoke(app, ["config", "--set", "max_tokens"]).exit_code == 2
    monkeypatch.setenv("LOCALDIGEST_SEED", "abc")
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 2 and "LOCALDIGEST_SEED" in result.output
    monkeypatch.delenv("LOCALDIGEST_SEED")
    (tmp_path / "config.toml").write_text("max_tokens = \n")
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 2 and "not valid TOML" in result.output


def test_path() -> None:
    result = runner.invoke(app, ["config", "--path"])
    assert result.exit_code == 0
    assert result.stdout.strip() == str(config.config_path())


def editor(tmp_path: Path, line: str) -> str:
    script = tmp_path / "fake-editor.sh"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' '{line}' >> \"$1\"\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_edit_creates_commented_defaults_then_opens_editor(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editor(tmp_path, "max_tokens = 111"))
    path = config.config_path()
    assert not path.exists()
    result = runner.invoke(app, ["config", "--edit"])
    assert result.exit_code == 0, result.output
    text = path.read_text()
    for name in config.SETTINGS:
        assert f"# {name} =" in text
    assert tomllib.loads(text) == {"max_tokens": 111}  # all defaults are comments
    assert settings()["max_tokens"]["source"] == "config"


def test_commented_defaults_uncommented_are_the_defaults() -> None:
    lines = config.commented_defaults().splitlines()
    body = "\n".join(ln[2:] for ln in lines if re.match(r"# \w+ = \S", ln) and "not set" not in ln)
    values = tomllib.loads(body)
    for name, setting in config.SETTINGS.items():
        if setting.default is not None:
            assert values[name] == setting.default


def test_edit_reports_a_broken_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", editor(tmp_path, "max_tokens = = 1"))
    result = runner.invoke(app, ["config", "--edit"])
    assert result.exit_code == 2
    assert "not valid TOML" in result.output


def test_config_never_prints_the_password_of_a_server_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 25, item 13."""
    monkeypatch.setenv("LOCALDIGEST_SERVER", "http://ada:s3cret@gpu.example:8080/v1")
    table = runner.invoke(app, ["config"])
    assert table.exit_code == 0 and "s3cret" not in table.output and "***" in table.output
    assert settings()["server"]["value"] == "http://ada:***@gpu.example:8080/v1"
    flagged = settings("--set", "server=https://u:hunter2@h/v1")["server"]
    assert flagged["value"] == "https://u:***@h/v1" and flagged["source"] == "flag"


# ----------------------------------------------------------------------------- config set


def test_config_set_keeps_comments_and_replaces_in_place() -> None:
    path = config.config_path()
    path.write_text(
        "# my settings\n"
        "max_tokens = 100  # short, for the laptop\n"
        "\n"
        "# categories I read\n"
        'categories = ["cs.CL"]\n'
    )
    result = runner.invoke(app, ["config", "set", "max_tokens", "300"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["config", "set", "temperature", "0.3"])
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert "max_tokens = 300  # short, for the laptop" in text
    assert "# my settings" in text and "# categories I read" in text
    assert tomllib.loads(text) == {"max_tokens": 300, "categories": ["cs.CL"], "temperature": 0.3}
    assert settings()["max_tokens"]["value"] == 300


def test_config_set_takes_a_negative_number() -> None:
    result = runner.invoke(app, ["config", "set", "gpu_layers", "-1"])
    assert result.exit_code == 0, result.output
    assert settings()["gpu_layers"]["value"] == -1
    as_json = runner.invoke(app, ["config", "set", "gpu_layers", "12", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    written = json.loads(as_json.stdout)
    assert written == {"name": "gpu_layers", "value": 12, "file": str(config.config_path())}


def test_config_set_takes_the_place_of_the_commented_default() -> None:
    assert runner.invoke(app, ["config", "set", "categories", "cs.CL, cs.LG"]).exit_code == 0
    lines = config.config_path().read_text().splitlines()
    at = lines.index('categories = ["cs.CL", "cs.LG"]')
    assert lines[at - 1] == f"# {config.SETTINGS['categories'].help}"
    assert not any(line.startswith("# categories =") for line in lines)


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [("max_tokens", "many", "max_tokens"), ("no_such", "1", "Unknown setting")],
)
def test_config_set_refuses_a_bad_value_and_leaves_the_file(name, value, said) -> None:
    path = config.config_path()
    path.write_text("# mine\nmax_tokens = 100\n")
    result = runner.invoke(app, ["config", "set", name, value])
    assert result.exit_code == 2
    assert said in result.output and "Traceback" not in result.output
    assert path.read_text() == "# mine\nmax_tokens = 100\n"


def test_config_set_refuses_to_touch_an_unreadable_file() -> None:
    path = config.config_path()
    path.write_text("max_tokens = = 1\n")
    result = runner.invoke(app, ["config", "set", "max_tokens", "5"])
    assert result.exit_code == 2 and "not valid TOML" in result.output
    assert path.read_text() == "max_tokens = = 1\n"


@pytest.mark.parametrize("text", ["a\x7fb", 'quote " and \\ back', "line\nbreak", "tab\tx\x01"])
def test_any_text_is_written_as_valid_toml(text: str) -> None:
    """Issue 25.10: every character a TOML string may not hold raw is escaped."""
    config.set_in_file("model", text)
    assert tomllib.loads(config.config_path().read_text())["model"] == text
