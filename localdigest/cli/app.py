"""The Typer application and its top-level options; the commands register on it."""

from __future__ import annotations

from typing import Annotated

import typer

from localdigest import __version__

app = typer.Typer(
    name="localdigest",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"localdigest {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Summarize research papers on your own machine with a local GGUF model.

    Exit codes: 0 ok · 2 usage error · 3 some inputs failed · 4 model unusable ·
    5 network error · 6 cache or library not writable · 130 interrupted.
    """
    from localdigest.cli.common import move_old_layout

    move_old_layout()
