"""``models``: the GGUF models localdigest can find, and which one it uses by default."""

from __future__ import annotations

import typer

from localdigest.cli.common import handle_errors


def models() -> None:
    """List the GGUF models localdigest can find, and which one it uses by default."""
    from localdigest import config
    from localdigest.llm import list_models
    from localdigest.render.models import models_table

    models_table(list_models(), config.models_dir())


def register(app: typer.Typer) -> None:
    app.command()(handle_errors(models))
