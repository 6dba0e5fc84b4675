"""Paths of any shape in a scheduled job (issue 25, item 3): each format carries them as
they are, or the job is refused before anything is written.

The crontab line is run for real by /bin/sh, after cron's own handling of ``%`` (Vixie
cron's ``do_command.c``: ``\\%`` is a ``%``, any other ``%`` ends the command and starts its
input). The systemd unit is read back by the rules of systemd.syntax(7) and
systemd.service(5) (``%%``, ``$$``, quotes and the escapes ``\\\\ \\" \\'``; a line that ends
in a backslash goes on); the plist by plistlib."""

from __future__ import annotations

import plistlib
import shutil
import subprocess
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from localdigest.cli import app
from localdigest.errors import UsageError
from localdigest.workflows import schedule

SH = shutil.which("sh") or "/bin/sh"
# Prints the job's home and every argument, each ended by a NUL byte.
PRINT = 'printf "%s\\0" "$LOCALDIGEST_HOME" "$@"'
USER_CRONTAB = "MAILTO=ada@example.org\n15 3 * * * /usr/bin/backup --quiet\n"

names = st.text(
    st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=30,
).filter(lambda n: n not in (".", "..") and len(n.encode()) <= 200)


def cron_command(line: str) -> str:
    """What cron hands to /bin/sh for a crontab line (the part after five time fields)."""
    command = line.split(" ", 5)[5]
    out: list[str] = []
    escaped = False
    for ch in command:
        if escaped:
            if ch == "%":
                out[-1] = "%"  # the backslash goes, the % stays
            else:
                out.append(ch)
            escaped = False
            continue
        if ch == "%":
            break  # the rest would be the command's input
        out.append(ch)
        escaped = ch == "\\"
    return "".join(out)


def systemd_words(value: str, *, expand_dollars: bool) -> list[str]:
    """The words of an ExecStart=/Environment= value, as systemd reads them."""
    words: list[str] = []
    word: list[str] | None = None
    quote = ""
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "%":
            assert value[i + 1] == "%", f"specifier %{value[i + 1]} in {value!r}"
            i += 1
        elif expand_dollars and ch == "$":
            assert value[i + 1] == "$", f"variable expanded in {value!r}"
            i += 1
        elif ch == "\\":
            assert value[i + 1] in "\\\"'", f"escape \\{value[i + 1]} in {value!r}"
            ch = value[i + 1]
            i += 1
        elif ch in "\"'" and (not quote or quote == ch):
            quote = "" if quote else ch
            word = word if word is not None else []
            i += 1
            continue
        elif ch.isspace() and not quote:
            if word is not None:
                words.append("".join(word))
            word = None
            i += 1
            continue
        word = word if word is not None else []
        word.append(ch)
        i += 1
    assert not quote, f"unclosed quote in {value!r}"
    if word is not None:
        words.append("".join(word))
    return words


def unit_settings(text: str) -> list[tuple[str, str]]:
    """(key, value) of every setting line, continuation lines joined, values stripped."""
    lines = text.replace("\\\n", " ").split("\n")
    return [(key, value.strip()) for key, sep, value in (ln.partition("=") for ln in lines) if sep]


def job_in(folder: Path, name: str) -> schedule.ScheduledJob:
    where = folder / name
    args = [str(where), name, "%s", "$HOME", "${HOME}", "%h", name + "%"]
    return schedule.ScheduledJob(
        "weekly",
        8,
        0,
        0,
        [SH, "-c", PRINT, "sh", *args],
        {"LOCALDIGEST_HOME": str(where)},
        where / "run.log",
        where,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names)
@example(name="a\nb")
@example(name="x\n* * * * * touch pwned #")
@example(name="50% off\\%d $USER ${HOME} 'q' \"d\" \\")
@example(name="end\\")
@example(name="tab\there")
@example(name="sep\u2028line")
def test_a_path_of_any_shape_is_one_job_with_the_same_argv_or_refused(name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        try:
            job = job_in(folder, name)
        except UsageError as e:
            assert any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in name), e.message
            return
        (folder / name).mkdir()
        argv = [SH, "-c", PRINT, "sh", *job.command[4:]]
        assert job.command == argv

        # cron: one line of ours among the user's, run as cron would; removed exactly.
        crontab = folder / "crontab.txt"
        crontab.write_text(USER_CRONTAB)
        cron = schedule.Cron(schedule.CrontabFile(crontab))
        cron.install(job)
        lines = crontab.read_text().split("\n")
        assert lines[:2] == USER_CRONTAB.split("\n")[:2] and lines[3:] == [""]
        assert lines[2].endswith(schedule.CRON_MARK)
        done = subprocess.run(
            [SH, "-c", cron_command(lines[2])], capture_output=True, timeout=30, env={}
        )
        assert done.returncode == 0, done.stderr
        printed = job.log.read_bytes().decode().split("\0")
        assert printed == [str(folder / name), *job.command[4:], ""]
        assert cron.remove() and crontab.read_text() == USER_CRONTAB

        # systemd: the unit says exactly this command, environment, folder and log.
        try:
            service = schedule.Systemd(unit_dir=folder).service(job)
        except UsageError:
            assert name != name.strip() or name.endswith("\\")
        else:
            found = unit_settings(service)
            [start] = [v for k, v in found if k == "ExecStart"]
            assert systemd_words(start, expand_dollars=True) == job.command
            env = [
                w
                for k, v in found
                if k == "Environment"
                for w in systemd_words(v, expand_dollars=False)
            ]
            assert env == [f"LOCALDIGEST_HOME={folder / name}"]
            [workdir] = [v for k, v in found if k == "WorkingDirectory"]
            assert workdir.replace("%%", "%") == str(job.workdir)
            [log] = [v for k, v in found if k == "StandardOutput"]
            assert log.replace("%%", "%") == f"append:{job.log}"

        # launchd: the plist reads back to the same job.
        data = plistlib.loads(schedule.Launchd(agent_dir=folder).plist(job).encode())
        assert data["ProgramArguments"] == job.command
        assert data["EnvironmentVariables"] == job.env
        assert data["WorkingDirectory"] == str(job.workdir)


def test_a_folder_name_with_a_newline_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack of the issue: run from a folder whose name holds a crontab line."""
    crontab = tmp_path / "crontab.txt"
    crontab.write_text(USER_CRONTAB)
    monkeypatch.setenv("LOCALDIGEST_CRONTAB_FILE", str(crontab))
    evil = tmp_path / "x\n* * * * * touch pwned #"
    evil.mkdir()
    monkeypatch.chdir(evil)
    runner = CliRunner()
    result = runner.invoke(app, ["schedule", "weekly", "--backend", "cron"])
    assert result.exit_code == 2, result.output
    assert "control character" in result.stderr and "Traceback" not in result.output
    assert crontab.read_text() == USER_CRONTAB
    assert (
        runner.invoke(app, ["schedule", "weekly", "--backend", "systemd", "--print"]).exit_code == 2
    )


def test_a_name_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(UsageError, match="not valid UTF-8"):
        job_in(Path("/srv"), "caf\udce9")
