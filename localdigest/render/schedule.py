"""What ``localdigest schedule`` says: the job installed, its status, a dry run."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from localdigest.render.console import info, out, print_json

if TYPE_CHECKING:
    from localdigest.workflows.schedule import Installed, ScheduledJob

KINDS = {"systemd": "systemd user timer", "cron": "crontab entry", "launchd": "launchd agent"}


def command_line(job: ScheduledJob) -> str:
    return " ".join(shlex.quote(a) for a in job.command)


def scheduled(job: ScheduledJob, installed: Installed) -> None:
    info(f"Scheduled {KINDS[installed.backend]} ({escape(installed.where)}): {job.when}")
    info(f"  runs: {escape(command_line(job))}")
    info(f"  log:  {escape(str(job.log))}")
    if installed.next_run:
        info(f"  next: {escape(installed.next_run)}")


def dry_run(job: ScheduledJob, backend: str, rendered: Mapping[str, str]) -> None:
    info(f"Would install a {KINDS[backend]}, {job.when} (nothing installed: --print)")
    for where, text in rendered.items():
        out.print(f"[bold]# {escape(where)}[/]", highlight=False)
        out.print(escape(text.rstrip("\n")), highlight=False, soft_wrap=True)


def status(found: Sequence[Installed], log: Path, last_lines: Sequence[str]) -> None:
    if not found:
        info("No localdigest job is scheduled — `localdigest schedule weekly` sets one up.")
        return
    for job in found:
        out.print(f"[bold]{KINDS[job.backend]}[/] in {escape(job.where)}", highlight=False)
        if job.next_run:
            out.print(f"  next run: {escape(job.next_run)}", highlight=False)
        out.print(escape(job.text.rstrip("\n")), highlight=False, soft_wrap=True)
    out.print(f"[bold]log[/] {escape(str(log))}", highlight=False)
    if last_lines:
        for line in last_lines:
            out.print(f"  {escape(line)}", highlight=False, soft_wrap=True)
    else:
        out.print("  (no run logged yet)", highlight=False)


def _installed_dict(job: Installed) -> dict[str, str | None]:
    kind = KINDS[job.backend]
    return {"backend": job.backend, "kind": kind, "where": job.where, "next_run": job.next_run}


def status_json(found: Sequence[Installed], log: Path, last_lines: Sequence[str]) -> None:
    """``status`` for scripts: each job (none: an empty list), the log and its last lines."""
    jobs = [{**_installed_dict(job), "text": job.text} for job in found]
    print_json({"jobs": jobs, "log": str(log), "last_log_lines": list(last_lines)})


def scheduled_json(
    job: ScheduledJob,
    installed: Installed | None,
    backend: str,
    rendered: Mapping[str, str] | None = None,
) -> None:
    """``schedule weekly|daily`` for scripts: what runs when, and where it was installed
    (``installed`` None: ``--print``, with the ``files`` it would write)."""
    data = {
        "installed": installed is not None,
        "backend": backend,
        "kind": KINDS[backend],
        "when": job.when,
        "command": list(job.command),
        "log": str(job.log),
    }
    if installed is not None:
        data.update(_installed_dict(installed))
    else:
        data["files"] = dict(rendered or {})
    print_json(data)


def removed(backends: Sequence[str]) -> None:
    if not backends:
        info("No localdigest job was scheduled — nothing to remove.")
    for name in backends:
        info(f"Removed the {KINDS[name]}.")
