"""``schedule weekly|daily|status|remove``: the weekly routine as an unattended user job."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from localdigest.cli.common import handle_errors
from localdigest.cli.options import FormatOpt, TableFormat

if TYPE_CHECKING:
    from localdigest.workflows.schedule import Frequency

BackendOpt = Annotated[
    Literal["systemd", "cron", "launchd"] | None,
    typer.Option(help="Scheduler (default: launchd on macOS, systemd if running, else cron)."),
]
TopOpt = Annotated[int, typer.Option(metavar="N", min=1, help="Papers each run summarizes.")]
AtOpt = Annotated[str, typer.Option(metavar="HH:MM", help="Time of day (local).")]
OutDirOpt = Annotated[
    Path | None, typer.Option(help="Folder for the digests (config: digest_dir, default .).")
]
NotesOpt = Annotated[
    Path | None, typer.Option("--notes", help="Also export notes here (config: notes_dir).")
]
PrintOpt = Annotated[
    bool, typer.Option("--print", help="Show what would be installed; install nothing.")
]

schedule_app = typer.Typer(
    help="Run `localdigest run --top N` by itself every week or day (a user-level job).\n\n"
    "Examples: localdigest schedule weekly --top 5 --day mon --at 07:30; "
    "localdigest schedule status",
    no_args_is_help=True,
)


def _install(
    frequency: Frequency,
    top: int,
    at: str,
    day: str,
    out_dir: Path | None,
    notes: Path | None,
    backend: Literal["systemd", "cron", "launchd"] | None,
    dry: bool,
    fmt: TableFormat,
) -> None:
    from localdigest import config
    from localdigest.render import schedule as render
    from localdigest.workflows import schedule

    cfg = config.load(digest_dir=out_dir, notes_dir=notes)
    job = schedule.make_job(cfg, frequency, top, at, day)
    chosen = schedule.choose_backend(backend)
    if dry:
        if fmt == "json":
            render.scheduled_json(job, None, chosen.name, chosen.render(job))
        else:
            render.dry_run(job, chosen.name, chosen.render(job))
        return
    for other, _ in schedule.installed_anywhere():
        if other.name != chosen.name:
            other.remove()  # one job, wherever it was before
    installed = chosen.install(job)
    if fmt == "json":
        render.scheduled_json(job, installed, chosen.name)
    else:
        render.scheduled(job, installed)


@schedule_app.command("weekly")
@handle_errors
def weekly(
    top: TopOpt = 5,
    at: AtOpt = "08:00",
    day: Annotated[str, typer.Option(help="Weekday: mon, tue, … sun.")] = "mon",
    out_dir: OutDirOpt = None,
    notes: NotesOpt = None,
    backend: BackendOpt = None,
    dry: PrintOpt = False,
    fmt: FormatOpt = "table",
) -> None:
    """Every week: search, take the N most relevant papers, summarize, write the digest.

    The job runs unattended (never asks), with this LOCALDIGEST_HOME and config file, and
    appends its output to LOCALDIGEST_HOME/logs/run.log. Scheduling again replaces it.

    Example: localdigest schedule weekly --top 5 --day mon --at 07:30
    """
    _install("weekly", top, at, day, out_dir, notes, backend, dry, fmt)


@schedule_app.command("daily")
@handle_errors
def daily(
    top: TopOpt = 3,
    at: AtOpt = "08:00",
    out_dir: OutDirOpt = None,
    notes: NotesOpt = None,
    backend: BackendOpt = None,
    dry: PrintOpt = False,
    fmt: FormatOpt = "table",
) -> None:
    """Every day: search, take the N most relevant papers, summarize, write the digest.

    Runs like `schedule weekly`, every day at --at.

    Example: localdigest schedule daily --top 3 --at 07:00
    """
    _install("daily", top, at, "mon", out_dir, notes, backend, dry, fmt)


@schedule_app.command("status")
@handle_errors
def status(fmt: FormatOpt = "table") -> None:
    """Show the scheduled job (wherever it is), its next run and the end of its log.

    Examples: localdigest schedule status; localdigest schedule status --format json
    """
    from localdigest import config
    from localdigest.render import schedule as render
    from localdigest.workflows import schedule

    paths = config.load().paths
    found = [installed for _, installed in schedule.installed_anywhere()]
    log, last = schedule.log_path(paths), schedule.last_log_lines(paths)
    if fmt == "json":
        render.status_json(found, log, last)
    else:
        render.status(found, log, last)


@schedule_app.command("remove")
@handle_errors
def remove(fmt: FormatOpt = "table") -> None:
    """Remove the scheduled job (the log is kept).

    Example: localdigest schedule remove
    """
    from localdigest.render import console
    from localdigest.render import schedule as render
    from localdigest.workflows import schedule

    removed = []
    for backend, _ in schedule.installed_anywhere():
        if backend.remove():
            removed.append(backend.name)
    if fmt == "json":
        console.print_json({"removed": removed})
    else:
        render.removed(removed)


def register(app: typer.Typer) -> None:
    app.add_typer(schedule_app, name="schedule")
