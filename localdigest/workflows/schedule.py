"""``localdigest schedule``: run the weekly routine unattended, as a user-level job.

Three ways to be woken up, chosen by what the machine runs: a systemd user timer (Linux
with a systemd user instance), a crontab entry (elsewhere), a launchd agent (macOS). The
job runs ``localdigest run --top N`` with this interpreter, the same ``LOCALDIGEST_HOME``
and config file as the command that scheduled it and absolute output folders; it never
prompts (``--top`` chooses) and appends its output to ``LOCALDIGEST_HOME/logs/run.log``.

Everything that touches the system goes through two seams, so tests can point them
elsewhere: ``Runner`` (how ``systemctl``/``crontab``/``launchctl`` are called) and, for
cron, ``LOCALDIGEST_CRONTAB_FILE`` (a crontab kept in a plain file instead of ``crontab``).
"""

from __future__ import annotations

import os
import plistlib
import re
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from localdigest.config import Paths, RunConfig, config_path
from localdigest.errors import ExitCode, LocaldigestError, StorageError, UsageError

Frequency = Literal["daily", "weekly"]
BackendName = Literal["systemd", "cron", "launchd"]
UNIT = "localdigest-run"
AGENT = "org.localdigest.run"
CRON_MARK = "# localdigest schedule (remove with: localdigest schedule remove)"
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
LOG_NAME = "run.log"

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


class ScheduleError(LocaldigestError):
    """The job can't be installed: the scheduler is missing or refused it (exit 6, like
    any other place that can't be written)."""

    exit_code = ExitCode.STORAGE


def run_command(args: Sequence[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a scheduler command (``stdin``: its input); a missing program, or one that does
    not answer, is said as such."""
    try:
        return subprocess.run(list(args), input=stdin, capture_output=True, text=True, timeout=30)
    except FileNotFoundError as e:
        raise ScheduleError(
            f"{args[0]} is not installed — install it, or choose another scheduler with --backend"
        ) from e
    except subprocess.TimeoutExpired as e:
        raise ScheduleError(f"{' '.join(args)} did not answer within 30 s") from e


# ----------------------------------------------------------------------------- the job


@dataclass(frozen=True)
class ScheduledJob:
    """What runs, when, where its output goes."""

    frequency: Frequency
    hour: int
    minute: int
    weekday: int  # 0 = Monday (weekly jobs)
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    log: Path = Path("run.log")
    workdir: Path = Path(".")

    def __post_init__(self) -> None:
        for text in [
            *self.command,
            *self.env,
            *self.env.values(),
            str(self.log),
            str(self.workdir),
        ]:
            refuse_unsafe_text(text)

    @property
    def when(self) -> str:
        at = f"{self.hour:02d}:{self.minute:02d}"
        if self.frequency == "daily":
            return f"every day at {at}"
        return f"every {DAYS[self.weekday].capitalize()} at {at}"


# Characters no scheduler format can carry as they are: controls (a newline would start a
# new crontab line or unit directive), line and paragraph separators (Python splits lines
# there), and lone surrogates (a file name that is not UTF-8 cannot be written as text).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})


def refuse_unsafe_text(text: str) -> None:
    """The one check of every path and argument that goes into a job: none of them may
    hold a character that a crontab line, a unit file or a plist cannot carry."""
    if any(unicodedata.category(ch) in _UNSAFE_CATEGORIES for ch in text):
        raise UsageError(
            f"{text!r} holds a control character or is not valid UTF-8, so a scheduled job "
            "cannot carry it safely — rename that folder, or choose another with --out-dir, "
            "--notes or LOCALDIGEST_HOME"
        )


def parse_time(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise UsageError(f"--at {text!r} is not a time of day — use HH:MM, e.g. 08:00")
    return int(match[1]), int(match[2])


def parse_day(text: str) -> int:
    day = text.strip().lower()[:3]
    if day not in DAYS:
        raise UsageError(f"--day {text!r} is not a weekday — use mon, tue, … sun")
    return DAYS.index(day)


def log_path(paths: Paths) -> Path:
    return paths.logs / LOG_NAME


def make_job(
    cfg: RunConfig,
    frequency: Frequency,
    top: int,
    at: str = "08:00",
    day: str = "mon",
    extra: Sequence[str] = (),
) -> ScheduledJob:
    """The job for ``localdigest run --top N`` as configured now (paths made absolute)."""
    if top < 1:
        raise UsageError(f"--top must be at least 1 (got {top})")
    hour, minute = parse_time(at)
    folder = cfg.digest_dir.resolve()
    command = [sys.executable, "-m", "localdigest", "run", "--top", str(top)]
    command += ["--out-dir", str(folder)]
    if cfg.notes_dir is not None:
        command += ["--notes", str(cfg.notes_dir.resolve())]
    command += list(extra)
    env = {"LOCALDIGEST_CONFIG": str(config_path().expanduser().resolve())}
    if cfg.paths.one_folder:  # else the job finds the same user's platform folders itself
        env["LOCALDIGEST_HOME"] = str(cfg.paths.home.resolve())
    log = log_path(cfg.paths)
    return ScheduledJob(frequency, hour, minute, parse_day(day), command, env, log, folder)


# ----------------------------------------------------------------------------- backends


@dataclass(frozen=True)
class Installed:
    """What a backend has installed: where, its text, and what it says of the next run."""

    backend: BackendName
    where: str
    text: str
    next_run: str | None = None


class Scheduler(Protocol):
    name: BackendName

    def render(self, job: ScheduledJob) -> dict[str, str]:
        """The files or lines this backend installs, by where they go."""
        ...

    def install(self, job: ScheduledJob) -> Installed: ...

    def remove(self) -> bool: ...

    def status(self) -> Installed | None: ...


def _user_config() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


class Systemd:
    """A ``localdigest-run.service`` started by ``localdigest-run.timer`` (``--user``)."""

    name: BackendName = "systemd"

    def __init__(self, runner: Runner = run_command, unit_dir: Path | None = None) -> None:
        self.runner = runner
        self.unit_dir = unit_dir or _user_config() / "systemd" / "user"

    def service(self, job: ScheduledJob) -> str:
        env = "".join(f"Environment={_systemd_quoted(f'{k}={v}')}\n" for k, v in job.env.items())
        command = " ".join(_systemd_word(a) for a in job.command)
        workdir, log = _systemd_path(job.workdir), _systemd_path(job.log)
        return (
            "[Unit]\n"
            "Description=localdigest: the weekly paper routine (localdigest run)\n"
            "Wants=network-online.target\nAfter=network-online.target\n\n"
            "[Service]\nType=oneshot\n"
            f"WorkingDirectory={workdir}\n"
            f"{env}"
            f"ExecStart={command}\n"
            f"StandardOutput=append:{log}\nStandardError=append:{log}\n"
            "Nice=10\n"
        )

    def timer(self, job: ScheduledJob) -> str:
        day = "" if job.frequency == "daily" else DAYS[job.weekday].capitalize() + " "
        return (
            "[Unit]\n"
            f"Description=localdigest run, {job.when}\n\n"
            "[Timer]\n"
            f"OnCalendar={day}*-*-* {job.hour:02d}:{job.minute:02d}:00\n"
            "Persistent=true\n\n"  # a run missed while the machine slept happens at wake-up
            "[Install]\nWantedBy=timers.target\n"
        )

    def render(self, job: ScheduledJob) -> dict[str, str]:
        return {
            str(self.unit_dir / f"{UNIT}.service"): self.service(job),
            str(self.unit_dir / f"{UNIT}.timer"): self.timer(job),
        }

    def _systemctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = self.runner(["systemctl", "--user", *args])
        if done.returncode != 0:
            raise ScheduleError(
                f"systemctl --user {' '.join(args)} failed: "
                f"{(done.stderr or done.stdout).strip()} — is a systemd user session running?"
            )
        return done

    def install(self, job: ScheduledJob) -> Installed:
        job.log.parent.mkdir(parents=True, exist_ok=True)
        for where, text in self.render(job).items():
            _write(Path(where), text)
        self._systemctl("daemon-reload")
        self._systemctl("enable", "--now", f"{UNIT}.timer")
        found = self.status()
        assert found is not None
        return found

    def remove(self) -> bool:
        files = [self.unit_dir / f"{UNIT}.timer", self.unit_dir / f"{UNIT}.service"]
        if not any(f.exists() for f in files):
            return False
        self.runner(["systemctl", "--user", "disable", "--now", f"{UNIT}.timer"])
        for f in files:
            f.unlink(missing_ok=True)
        self.runner(["systemctl", "--user", "daemon-reload"])
        return True

    def status(self) -> Installed | None:
        timer = self.unit_dir / f"{UNIT}.timer"
        service = self.unit_dir / f"{UNIT}.service"
        if not timer.is_file():
            return None
        shown = self.runner(
            ["systemctl", "--user", "show", f"{UNIT}.timer", "-p", "NextElapseUSecRealtime"]
        )
        value = shown.stdout.strip().partition("=")[2] if shown.returncode == 0 else ""
        text = timer.read_text(encoding="utf-8")
        if service.is_file():
            text += "\n" + service.read_text(encoding="utf-8")
        return Installed("systemd", str(timer), text, value or None)


# How unit files read values (systemd.syntax(7), systemd.service(5)): ``%`` starts a
# specifier everywhere (``%%`` is one ``%``); ExecStart= also expands ``$VAR`` (``$$`` is
# one ``$``) and splits words at spaces unless quoted, where ``\\`` and ``\"`` are escapes;
# paths (WorkingDirectory=, append:) are taken as they are, stripped, and a line ending in
# a backslash goes on in the next one.


def _systemd_quoted(text: str) -> str:
    """One double-quoted word of ExecStart= or Environment=."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def _systemd_word(arg: str) -> str:
    """One argument of ExecStart=: bare when it is plain, else quoted; ``$`` never expands."""
    arg = arg.replace("$", "$$")
    return arg if re.fullmatch(r"[\w@+=:,./-]+", arg) else _systemd_quoted(arg)


def _systemd_path(path: Path) -> str:
    """A path in a setting that takes no quotes: only ``%`` is escaped, so a path whose
    ends would be stripped or joined to the next line is refused."""
    text = str(path)
    if text != text.strip() or text.endswith("\\"):
        raise UsageError(
            f"{text!r} ends in a space or a backslash, which a systemd unit cannot hold — "
            "rename that folder, or use --backend cron"
        )
    return text.replace("%", "%%")


class CrontabStore(Protocol):
    where: str

    def read(self) -> str: ...

    def write(self, text: str) -> None: ...


class CrontabCommand:
    """The user's crontab through the ``crontab`` program."""

    where = "crontab -l"

    def __init__(self, runner: Runner = run_command) -> None:
        self.runner = runner

    def read(self) -> str:
        done = self.runner(["crontab", "-l"])
        if done.returncode != 0:
            if "no crontab" in (done.stderr + done.stdout).lower():
                return ""
            raise ScheduleError(f"crontab -l failed: {done.stderr.strip()}")
        return done.stdout

    def write(self, text: str) -> None:
        done = run_command(["crontab", "-"], stdin=text)
        if done.returncode != 0:
            raise ScheduleError(f"crontab refused the new table: {done.stderr.strip()}")


class CrontabFile:
    """A crontab kept in a plain file (``LOCALDIGEST_CRONTAB_FILE``: tests, or a crontab
    you install yourself)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    def read(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def write(self, text: str) -> None:
        _write(self.path, text)


class Cron:
    """One line in the user's crontab, marked so it can be found, replaced and removed."""

    name: BackendName = "cron"

    def __init__(self, store: CrontabStore | None = None) -> None:
        self.store = store or crontab_store()

    def line(self, job: ScheduledJob) -> str:
        dow = "*" if job.frequency == "daily" else str((job.weekday + 1) % 7)  # cron: 0 = Sun
        env = " ".join(f"{k}={_cron_word(v)}" for k, v in job.env.items())
        command = " ".join(_cron_word(a) for a in job.command)
        where, log = _cron_word(str(job.workdir)), _cron_word(str(job.log))
        shell = f"cd {where} && {env} {command} >> {log} 2>&1"
        return f"{job.minute} {job.hour} * * {dow} {shell} {CRON_MARK}"

    def render(self, job: ScheduledJob) -> dict[str, str]:
        return {self.store.where: self.line(job)}

    def _others(self) -> list[str]:
        return [ln for ln in _crontab_lines(self.store.read()) if not ln.endswith(CRON_MARK)]

    def install(self, job: ScheduledJob) -> Installed:
        job.log.parent.mkdir(parents=True, exist_ok=True)
        lines = [*self._others(), self.line(job)]
        self.store.write("\n".join(lines) + "\n")
        return Installed("cron", self.store.where, self.line(job))

    def remove(self) -> bool:
        current = _crontab_lines(self.store.read())
        others = [ln for ln in current if not ln.endswith(CRON_MARK)]
        if len(others) == len(current):
            return False
        self.store.write("\n".join(others) + "\n" if others else "")
        return True

    def status(self) -> Installed | None:
        ours = [ln for ln in _crontab_lines(self.store.read()) if ln.endswith(CRON_MARK)]
        return Installed("cron", self.store.where, ours[0]) if ours else None


def _cron_word(arg: str) -> str:
    """One word of the job's shell command: bare when plain, else single-quoted for
    /bin/sh, with every ``%`` (which cron turns into a newline) written as ``'\\%'``: out
    of the quotes, escaped for cron, so whatever precedes it (a backslash, say) cannot undo
    the escape."""
    if re.fullmatch(r"[\w@+=:,./-]+", arg, re.ASCII):
        return arg
    quoted = "'" + arg.replace("'", "'\"'\"'") + "'"
    return quoted.replace("%", "'\\%'")


def _crontab_lines(text: str) -> list[str]:
    """The lines of a crontab as cron splits them (at newlines only, unlike splitlines)."""
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def crontab_store(runner: Runner = run_command) -> CrontabStore:
    path = os.environ.get("LOCALDIGEST_CRONTAB_FILE")
    return CrontabFile(Path(path).expanduser()) if path else CrontabCommand(runner)


class Launchd:
    """A launch agent in ``~/Library/LaunchAgents`` (macOS)."""

    name: BackendName = "launchd"

    def __init__(self, runner: Runner = run_command, agent_dir: Path | None = None) -> None:
        self.runner = runner
        self.agent_dir = agent_dir or Path.home() / "Library" / "LaunchAgents"

    @property
    def plist_path(self) -> Path:
        return self.agent_dir / f"{AGENT}.plist"

    def plist(self, job: ScheduledJob) -> str:
        interval: dict[str, int] = {"Hour": job.hour, "Minute": job.minute}
        if job.frequency == "weekly":
            interval["Weekday"] = (job.weekday + 1) % 7  # launchd: 0 = Sunday
        data = {
            "Label": AGENT,
            "ProgramArguments": job.command,
            "EnvironmentVariables": job.env,
            "WorkingDirectory": str(job.workdir),
            "StartCalendarInterval": interval,
            "StandardOutPath": str(job.log),
            "StandardErrorPath": str(job.log),
            "RunAtLoad": False,
            "ProcessType": "Background",
        }
        return plistlib.dumps(data).decode("utf-8")

    def render(self, job: ScheduledJob) -> dict[str, str]:
        return {str(self.plist_path): self.plist(job)}

    def _domain(self) -> str:
        return f"gui/{os.getuid()}"

    def install(self, job: ScheduledJob) -> Installed:
        job.log.parent.mkdir(parents=True, exist_ok=True)
        self.runner(["launchctl", "bootout", self._domain(), str(self.plist_path)])
        _write(self.plist_path, self.plist(job))
        done = self.runner(["launchctl", "bootstrap", self._domain(), str(self.plist_path)])
        if done.returncode != 0:
            raise ScheduleError(f"launchctl bootstrap failed: {done.stderr.strip()}")
        return Installed("launchd", str(self.plist_path), self.plist(job))

    def remove(self) -> bool:
        if not self.plist_path.exists():
            return False
        self.runner(["launchctl", "bootout", self._domain(), str(self.plist_path)])
        self.plist_path.unlink()
        return True

    def status(self) -> Installed | None:
        if not self.plist_path.is_file():
            return None
        return Installed("launchd", str(self.plist_path), self.plist_path.read_text("utf-8"))


def _write(path: Path, text: str) -> None:
    from localdigest.fsutil import write_atomically

    try:
        write_atomically(path, text)
    except StorageError:
        raise  # already says which file and what to do (exit 6)
    except OSError as e:
        raise ScheduleError(f"Cannot write {path} ({e.strerror or e}) — check permissions") from e


def systemd_running(runner: Runner = run_command) -> bool:
    """Whether a systemd user instance answers (not just whether systemctl exists)."""
    if shutil.which("systemctl") is None:
        return False
    try:
        return runner(["systemctl", "--user", "show-environment"]).returncode == 0
    except ScheduleError:
        return False


def choose_backend(name: BackendName | None = None, runner: Runner = run_command) -> Scheduler:
    """The backend asked for, else launchd on macOS, systemd where a user instance runs,
    else cron."""
    if name is None:
        if sys.platform == "darwin":
            name = "launchd"
        elif systemd_running(runner):
            name = "systemd"
        else:
            name = "cron"
    if name == "launchd":
        return Launchd(runner)
    if name == "systemd":
        return Systemd(runner)
    return Cron(crontab_store(runner))


def installed_anywhere(runner: Runner = run_command) -> list[tuple[Scheduler, Installed]]:
    """Every localdigest job found, whichever backend holds it (for status and remove)."""
    found: list[tuple[Scheduler, Installed]] = []
    backends: list[Scheduler] = [Systemd(runner), Cron(crontab_store(runner)), Launchd(runner)]
    for backend in backends:
        try:
            status = backend.status()
        except ScheduleError:
            continue  # no crontab program, say: nothing of ours there
        if status is not None:
            found.append((backend, status))
    return found


def last_log_lines(paths: Paths, count: int = 5) -> list[str]:
    try:
        lines = log_path(paths).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [ln for ln in lines if ln.strip()][-count:]
