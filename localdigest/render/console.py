"""The shared consoles: results go to stdout, progress and messages to stderr."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

out = Console(soft_wrap=False)
err = Console(stderr=True)


def error(message: str) -> None:
    """One red line on stderr: what failed and what to do."""
    # Messages are plain text: "localdigest[eval]" or a path with brackets is not markup.
    err.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def warning(message: str) -> None:
    err.print(f"[yellow]Warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def info(message: str) -> None:
    err.print(message, highlight=False, soft_wrap=True)
