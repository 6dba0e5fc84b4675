"""The command line: one module per command group; each parses its options, calls a
workflow (or a stage), renders the result and maps errors to exit codes.

Command modules import only typer, ``common``, ``options`` and the errors at the top. Every
stage, workflow and renderer (the pipeline, the arXiv stack, sqlite, rich) is imported inside
the command that uses it, so ``localdigest --help`` loads none of them.
"""

from __future__ import annotations

from localdigest.cli import (
    arxiv,
    ask,
    cache,
    config,
    digest,
    evaluate,
    library,
    models,
    run,
    schedule,
    summarize,
)
from localdigest.cli.app import app
from localdigest.cli.common import on_sigterm_clean_up

for _commands in (
    summarize,
    ask,
    models,
    cache,
    arxiv,
    library,
    digest,
    run,
    schedule,
    config,
    evaluate,
):
    _commands.register(app)


def main() -> None:
    on_sigterm_clean_up()
    app()


__all__ = ["app", "main"]
