"""What every command shares: error handling and exit codes, writing output, progress."""

from __future__ import annotations

import functools
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from localdigest.errors import ExitCode, LocaldigestError, Terminated
from localdigest.fsutil import write_atomically

if TYPE_CHECKING:
    from collections.abc import Sequence

    from localdigest.config import RunConfig
    from localdigest.papers import Result

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """Map user errors to one red line and their exit code; Ctrl-C to 130; bugs keep tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from localdigest.render import console  # rich: only when something is shown

        try:
            return func(*args, **kwargs)
        except LocaldigestError as e:
            console.error(e.message)
            raise typer.Exit(int(e.exit_code)) from None
        except Terminated:
            console.error("Terminated — finished work is kept; run the same command to resume")
            raise typer.Exit(int(ExitCode.TERMINATED)) from None
        except KeyboardInterrupt:
            console.error("Interrupted — finished work is kept; run the same command to resume")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None

    return wrapper  # type: ignore[return-value]


def move_old_layout() -> None:
    """Before any command: the user's files of the old layout (all under the cache folder)
    moved to their own folders, said in one line (see ``config.move_old_layout``). A config
    file that can't be read is left for the command to report."""
    from localdigest import config

    try:
        home, _ = config.resolve("home")
    except LocaldigestError:
        return
    notice = config.move_old_layout(config.user_paths(home))  # none under LOCALDIGEST_HOME
    if notice:
        from localdigest.render import console

        console.info(notice)


T = TypeVar("T")


def answered(ask: Callable[[], T], at_end: T) -> T:
    """A prompt's answer; at the end of the input (Ctrl-D, stdin closed) ``at_end``, as if
    declined, not click's "Aborted!" with exit 1 (the code for bugs). Ctrl-C stays an
    interrupt (exit 130)."""
    try:
        return ask()
    except typer.Abort as e:
        if isinstance(e.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        return at_end


def _terminated(_signum: int, _frame: object) -> None:
    raise Terminated


def on_sigterm_clean_up() -> None:
    """SIGTERM (``kill``, a service manager, a CI timeout) unwinds like Ctrl-C: every clean-up
    on the way out runs (partial downloads and temporary files are removed), exit 143."""
    signal.signal(signal.SIGTERM, _terminated)


def emit(text: str, output: Path | None) -> None:
    """Text to stdout, or atomically to ``output`` (said on stderr). Check ``output`` with
    ``fsutil.check_output`` before the work that makes the text."""
    from localdigest.render import console  # rich: only when something is shown

    if output is None:
        console.plain(text)
    else:
        write_atomically(output.expanduser(), text)
        console.info(f"Wrote {output}")


def interactive() -> bool:
    """Whether we may ask questions: stdin is a terminal."""
    return sys.stdin.isatty()


def summarize_with_progress(
    sources: Sequence[str], cfg: RunConfig, quiet: bool = False
) -> list[Result]:
    """Prepare a summarize job, fetch what is missing with download bars, warn about inputs
    that can't be used, run it with progress bars (none when ``quiet``)."""
    from localdigest.render import console
    from localdigest.render.arxiv import download_progress
    from localdigest.render.summary import RichReporter
    from localdigest.workflows.summarize import prepare

    job = prepare(sources, cfg)
    if job.runs_on and not quiet:
        console.info(job.runs_on)
    if job.resolved.to_fetch and not quiet:
        with download_progress() as progress:
            job.fetch(progress)
    for failure in job.failures:
        console.warning(failure.error)
    papers = job.fetch()
    if quiet:
        return job.run()
    with RichReporter(len(papers), parallel=job.concurrency) as reporter:
        return job.run(reporter)
