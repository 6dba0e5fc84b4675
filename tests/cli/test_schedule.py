"""`localdigest schedule`: the unit, crontab and launchd texts, and the crontab path for real
against a temporary crontab file (the job's command is run by /bin/sh as cron would)."""

from __future__ import annotations

import json
import os
import plistlib
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from arxiv_server import FakeArxiv, arxiv_server_fixture  # noqa: F401
from conftest import user_paths
from typer.testing import CliRunner

from localdigest import config
from localdigest.cli import app
from localdigest.sources import library
from localdigest.workflows import schedule

runner = CliRunner()


@pytest.fixture
def crontab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "crontab.txt"
    path.write_text("MAILTO=ada@example.org\n15 3 * * * /usr/bin/backup --quiet\n")
    monkeypatch.setenv("LOCALDIGEST_CRONTAB_FILE", str(path))
    return path


def ours(path: Path) -> list[str]:
    return [ln for ln in path.read_text().splitlines() if ln.endswith(schedule.CRON_MARK)]


def test_cron_install_replace_status_remove(crontab: Path, tmp_path: Path) -> None:
    digests = tmp_path / "digests"
    args = ["schedule", "weekly", "--backend", "cron", "--top", "3", "--day", "fri"]
    result = runner.invoke(app, [*args, "--at", "07:30", "--out-dir", str(digests)])
    assert result.exit_code == 0, result.output
    [line] = ours(crontab)
    assert line.startswith("30 7 * * 5 ")
    assert "-m localdigest run --top 3 --out-dir " + str(digests) in line
    assert f">> {schedule.log_path(user_paths())} 2>&1" in line
    assert "MAILTO=ada@example.org" in crontab.read_text()  # the user's lines are kept
    assert "crontab entry" in result.stderr

    again = runner.invoke(app, ["schedule", "daily", "--backend", "cron", "--at", "06:05"])
    assert again.exit_code == 0, again.output
    [line] = ours(crontab)  # replaced, not added
    assert line.startswith("5 6 * * * ") and "--top 3 " in line  # daily default: 3 papers

    shown = runner.invoke(app, ["schedule", "status"])
    assert shown.exit_code == 0 and "crontab entry" in shown.stdout
    assert "--top 3" in shown.stdout and "no run logged yet" in shown.stdout
    as_json = runner.invoke(app, ["schedule", "status", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    status = json.loads(as_json.stdout)
    [job] = status["jobs"]
    assert job["backend"] == "cron" and job["where"] == str(crontab)
    assert "--top 3" in job["text"] and job["text"].startswith("5 6 * * * ")
    assert status["log"] == str(schedule.log_path(user_paths()))
    assert status["last_log_lines"] == []

    gone = runner.invoke(app, ["schedule", "remove"])
    assert gone.exit_code == 0 and "Removed the crontab entry" in gone.stderr
    installed = runner.invoke(app, ["schedule", "weekly", "--backend", "cron", "-f", "json"])
    job = json.loads(installed.stdout)
    assert job["installed"] is True and job["where"] == str(crontab) and len(ours(crontab)) == 1
    removed = runner.invoke(app, ["schedule", "remove", "--format", "json"])
    assert json.loads(removed.stdout) == {"removed": ["cron"]}
    assert ours(crontab) == []
    assert crontab.read_text().splitlines() == [
        "MAILTO=ada@example.org",
        "15 3 * * * /usr/bin/backup --quiet",
    ]
    assert "No localdigest job" in runner.invoke(app, ["schedule", "status"]).stderr
    none = runner.invoke(app, ["schedule", "status", "-f", "json"])
    assert json.loads(none.stdout)["jobs"] == []
    assert "nothing to remove" in runner.invoke(app, ["schedule", "remove"]).stderr


def test_without_systemd_the_default_is_cron(crontab: Path) -> None:
    if schedule.systemd_running():
        pytest.skip("a systemd user instance runs here: the default is the systemd timer")
    result = runner.invoke(app, ["schedule", "weekly"])
    assert result.exit_code == 0, result.output
    assert len(ours(crontab)) == 1 and "--top 5" in ours(crontab)[0]


def test_the_cron_command_runs_unattended(
    crontab: Path, arxiv_server: FakeArxiv, tmp_path: Path
) -> None:
    """What cron would run, run by /bin/sh with no terminal: it logs and never asks."""
    seen = library.seen_store(user_paths().state)
    seen.add(re.sub(r"v\d+$", "", i) for i in arxiv_server.search_ids)
    result = runner.invoke(app, ["schedule", "weekly", "--backend", "cron", "--top", "2"])
    assert result.exit_code == 0, result.output
    [line] = ours(crontab)
    command = line.split(" ", 5)[5].removesuffix(schedule.CRON_MARK).replace("\\%", "%")
    done = subprocess.run(
        ["/bin/sh", "-c", command],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # everything went to the log
    log = schedule.log_path(user_paths()).read_text()
    assert "No new papers since your last search" in log
    assert len(arxiv_server.to("/api/query")) == 1
    assert "no run logged yet" not in runner.invoke(app, ["schedule", "status"]).stdout


def job(frequency: schedule.Frequency = "weekly") -> schedule.ScheduledJob:
    cfg = config.load(digest_dir=Path("/srv/digests"))
    return schedule.make_job(cfg, frequency, 4, at="21:05", day="sun")


def test_systemd_units() -> None:
    units = schedule.Systemd(unit_dir=Path("/u"))
    service = units.service(job())
    assert re.search(r"^ExecStart=\S+ -m localdigest run --top 4 --out-dir /srv/digests$",
                     service, re.MULTILINE)  # fmt: skip
    assert f'Environment="LOCALDIGEST_HOME={user_paths().home}"' in service
    assert f"StandardOutput=append:{schedule.log_path(user_paths())}" in service
    assert "Type=oneshot" in service
    timer = units.timer(job())
    assert "OnCalendar=Sun *-*-* 21:05:00" in timer and "Persistent=true" in timer
    assert "OnCalendar=*-*-* 21:05:00" in units.timer(job("daily"))
    assert set(units.render(job())) == {"/u/localdigest-run.service", "/u/localdigest-run.timer"}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not here")
def test_systemd_accepts_the_calendar_spec() -> None:
    spec = re.search(r"OnCalendar=(.+)", schedule.Systemd().timer(job()))
    assert spec
    done = subprocess.run(
        ["systemd-analyze", "calendar", spec[1]], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert "Sun" in done.stdout and "21:05:00" in done.stdout


class Recorder:
    """Stands in for systemctl/launchctl (not running in a test sandbox): records calls."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(args))
        out = "NextElapseUSecRealtime=Sun 2026-05-10 21:05:00 CEST" if "show" in args else ""
        return subprocess.CompletedProcess(list(args), 0, out, "")


def test_systemd_install_and_remove(tmp_path: Path) -> None:
    calls = Recorder()
    units = schedule.Systemd(calls, tmp_path / "user")
    installed = units.install(job())
    assert (tmp_path / "user" / "localdigest-run.timer").is_file()
    assert ["systemctl", "--user", "daemon-reload"] in calls.calls
    assert ["systemctl", "--user", "enable", "--now", "localdigest-run.timer"] in calls.calls
    assert installed.next_run == "Sun 2026-05-10 21:05:00 CEST"
    assert units.remove() is True
    assert ["systemctl", "--user", "disable", "--now", "localdigest-run.timer"] in calls.calls
    assert list((tmp_path / "user").iterdir()) == []
    assert units.remove() is False


def test_launchd_agent(tmp_path: Path) -> None:
    calls = Recorder()
    agent = schedule.Launchd(calls, tmp_path)
    agent.install(job())
    data = plistlib.loads(agent.plist_path.read_bytes())
    assert data["Label"] == "org.localdigest.run"
    assert data["ProgramArguments"][1:5] == ["-m", "localdigest", "run", "--top"]
    assert data["StartCalendarInterval"] == {"Hour": 21, "Minute": 5, "Weekday": 0}  # Sunday
    assert data["StandardOutPath"] == str(schedule.log_path(user_paths()))
    assert calls.calls[-1][:2] == ["launchctl", "bootstrap"]
    assert agent.remove() and not agent.plist_path.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "25:00"], "is not a time of day"),
        (["--at", "8am"], "is not a time of day"),
        (["--day", "someday"], "is not a weekday"),
    ],
)
def test_bad_times_are_usage_errors(crontab: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["schedule", "weekly", "--backend", "cron", *args])
    assert result.exit_code == 2 and message in result.output
    assert ours(crontab) == []


def test_print_installs_nothing(crontab: Path) -> None:
    result = runner.invoke(app, ["schedule", "weekly", "--backend", "systemd", "--print"])
    assert result.exit_code == 0, result.output
    assert "OnCalendar=Mon *-*-* 08:00:00" in result.stdout and "ExecStart=" in result.stdout
    daily = ["schedule", "daily", "--backend", "cron", "--print"]
    as_json = runner.invoke(app, [*daily, "-f", "json"])
    assert as_json.exit_code == 0, as_json.output
    planned = json.loads(as_json.stdout)
    assert planned["installed"] is False and planned["backend"] == "cron"
    assert planned["when"] == "every day at 08:00" and planned["command"][-4:-2] == ["--top", "3"]
    [line] = planned["files"].values()
    assert line.startswith("0 8 * * * ")
    assert ours(crontab) == []


def test_a_job_file_that_cannot_be_written_is_said_once(tmp_path: Path) -> None:
    from localdigest.errors import StorageError
    from localdigest.workflows.schedule import _write

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(StorageError) as caught:
        _write(blocker / "localdigest.timer", "[Timer]\n")
    assert str(caught.value).count("Cannot write") == 1, caught.value


def test_writing_the_crontab_without_the_program_is_said_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from localdigest.workflows.schedule import CrontabCommand, ScheduleError

    monkeypatch.setenv("PATH", str(tmp_path))  # no crontab program on it
    with pytest.raises(ScheduleError, match="crontab is not installed"):
        CrontabCommand().write("0 8 * * 1 localdigest run\n")
