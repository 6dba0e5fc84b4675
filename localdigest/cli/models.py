"""``models``: every GGUF model localdigest can find; ``models pull``: get a good one."""

from __future__ import annotations

from typing import Annotated

import typer

from localdigest.cli.common import handle_errors
from localdigest.cli.options import FormatOpt

models_app = typer.Typer(invoke_without_command=True)


@models_app.callback(invoke_without_command=True)
@handle_errors
def models(
    ctx: typer.Context,
    fmt: FormatOpt = "table",
) -> None:
    """List every GGUF model found on this machine, and which one is the default.

    Looked in: the models folder, the embedded default, Ollama, LM Studio, the Hugging Face
    cache, llama.cpp's cache and GPT4All. Each model's first line is the name --model takes.

    Examples:

      localdigest models

      localdigest models --format json

      localdigest models pull qwen2.5-1.5b-instruct --set-default
    """
    if ctx.invoked_subcommand is not None:
        return
    from localdigest import config
    from localdigest.models import list_models
    from localdigest.render.models import models_json, models_table

    cfg = config.load()
    rows = list_models(cfg.paths.models, cfg.paths.home, cfg.model)
    if fmt == "json":
        models_json(rows)
    else:
        models_table(rows, cfg.paths.models)


@models_app.command("pull")
@handle_errors
def pull(
    spec: Annotated[
        str | None,
        typer.Argument(
            help="A catalogue name (see --list), ORG/REPO/FILE.gguf, or ORG/REPO with --quant."
        ),
    ] = None,
    quant: Annotated[
        str | None,
        typer.Option(help="Quantization to pick from the repo (default Q4_K_M)."),
    ] = None,
    revision: Annotated[
        str | None, typer.Option(help="Branch, tag or commit (default main).")
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="Show the catalogue of models worth pulling.")
    ] = False,
    set_default: Annotated[
        bool, typer.Option("--set-default", help="Make it the default model (config: model).")
    ] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Download a GGUF model from the Hugging Face hub (resumable, checksum-checked).

    The file goes into the hub's standard cache, shared with other tools; an interrupted
    download resumes where it stopped; the file is checked against the hub's sha256 before
    it is used. HF_ENDPOINT (a mirror), HF_TOKEN, HF_HUB_OFFLINE and
    HF_HUB_DOWNLOAD_TIMEOUT are honoured.

    Examples:

      localdigest models pull --list

      localdigest models pull qwen2.5-1.5b-instruct

      localdigest models pull bartowski/Llama-3.2-3B-Instruct-GGUF --quant Q4_K_M

      localdigest models pull qwen2.5-1.5b-instruct --format json
    """
    from localdigest.errors import UsageError
    from localdigest.render.console import print_json
    from localdigest.render.models import catalog_table, pull_progress, pulled

    if list_:
        from localdigest.models.catalog import downloaded, entries

        on_disk = downloaded()
        if fmt == "json":
            print_json([{**e.to_dict(), "downloaded": e.name in on_disk} for e in entries()])
        else:
            catalog_table(entries(), on_disk)
        return
    if spec is None:
        raise UsageError("Name a model to pull, e.g. qwen2.5-1.5b-instruct — see --list")
    import os

    from localdigest import config
    from localdigest.models import stores
    from localdigest.models.pull import Hub
    from localdigest.models.pull import pull as pull_model

    hub = Hub.from_environ(os.environ, stores.hub_cache_root())
    with pull_progress() as progress:
        result = pull_model(spec, hub, quant=quant, revision=revision, progress=progress)
    path = config.set_in_file("model", result.spec) if set_default else None
    if fmt == "json":
        print_json({**result.to_dict(), "default_set_in": str(path) if path else None})
    else:
        pulled(result, path)


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
