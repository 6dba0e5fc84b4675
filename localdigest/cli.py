"""The localdigest command line: parse, call the core, render. No logic lives here."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from localdigest import __version__, config
from localdigest.errors import ExitCode, LocaldigestError
from localdigest.fsutil import write_atomically

if TYPE_CHECKING:
    from localdigest.pipeline import Result, SummarizeRequest

app = typer.Typer(
    name="localdigest",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
cache_app = typer.Typer(help="Inspect or clear the on-disk cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """Map user errors to one red line and their exit code; Ctrl-C to 130; bugs keep tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from localdigest.render import console

        try:
            return func(*args, **kwargs)
        except LocaldigestError as e:
            console.error(e.message)
            raise typer.Exit(int(e.exit_code)) from None
        except KeyboardInterrupt:
            console.error("Interrupted — finished work is kept; run the same command to resume")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"localdigest {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Summarize research papers on your own machine with a local GGUF model.

    Exit codes: 0 ok · 2 usage error · 3 some inputs failed · 4 model unusable ·
    5 network error · 6 cache or library not writable · 130 interrupted.
    """


class OutputFormat(StrEnum):
    table = "table"
    markdown = "markdown"
    json = "json"


def emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomically(output, text)
        from localdigest.render import console

        console.info(f"Wrote {output}")


def summarize_with_progress(request: SummarizeRequest) -> list[Result]:
    """Prepare a summarize job, warn about inputs that can't be used, run it with progress."""
    from localdigest import pipeline
    from localdigest.render import console
    from localdigest.render.summary import RichReporter

    job = pipeline.prepare(request)
    for failure in job.failures:
        console.warning(failure.error)
    with RichReporter(len(job.papers)) as reporter:
        return job.run(reporter)


@app.command()
@handle_errors
def summarize(
    sources: Annotated[
        list[str],
        typer.Argument(help="PDF files, folders (searched for *.pdf), arXiv ids or URLs."),
    ],
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="GGUF path, or a file name/stem in the models folder."),
    ] = None,
    n_ctx: Annotated[
        int | None, typer.Option(help="Context size (default: trained context, max 4096).")
    ] = None,
    gpu_layers: Annotated[
        int | None, typer.Option(help="Layers to offload to the GPU (-1 = all).")
    ] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads.")] = None,
    max_tokens: Annotated[
        int | None, typer.Option(help="Most tokens in the summary paragraph.")
    ] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature.")] = None,
    seed: Annotated[int | None, typer.Option(help="Sampling seed.")] = None,
    fmt: Annotated[
        OutputFormat | None,
        typer.Option("--format", "-f", help="table, markdown or json (default: table)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write markdown/json to this file (by suffix)."),
    ] = None,
    refresh: Annotated[bool, typer.Option(help="Recompute, ignoring the cache.")] = False,
    prompts: Annotated[
        Path | None, typer.Option("--prompts", help="Folder of prompt files to use instead.")
    ] = None,
    include_appendix: Annotated[
        bool, typer.Option(help="Also summarize appendices (skipped by default).")
    ] = False,
    read_all: Annotated[
        bool,
        typer.Option(
            "--read-all",
            help="Read every section whole (default: the leading paragraphs of long "
            "sections; related work skipped).",
        ),
    ] = False,
    password: Annotated[str | None, typer.Option(help="Password of encrypted PDFs.")] = None,
    max_pages: Annotated[
        int | None,
        typer.Option(help="Read at most this many pages of each PDF (default 200; 0 = all)."),
    ] = None,
    verbose: Annotated[bool, typer.Option(help="Show llama.cpp's own log.")] = False,
    style: Annotated[
        str,
        typer.Option(
            help="paragraph (newsletter, default), bullets (claims/method/results/limits) "
            "or tldr (one sentence)."
        ),
    ] = "paragraph",
) -> None:
    """Summarize papers: a TL;DR and a dense paragraph each, computed once and cached.

    Examples:

      localdigest summarize paper.pdf

      localdigest summarize papers/ --model models/qwen2.5-1.5b-instruct-q4_k_m.gguf

      localdigest summarize 1706.03762 --format json -o summaries.json
    """
    from localdigest import pipeline
    from localdigest.render.summary import results_table

    if fmt is None:
        fmt = (
            OutputFormat.json
            if output and output.suffix == ".json"
            else (OutputFormat.markdown if output else OutputFormat.table)
        )
    request = pipeline.SummarizeRequest(
        sources=sources,
        model=model,
        n_ctx=n_ctx,
        gpu_layers=gpu_layers,
        threads=threads,
        max_tokens=max_tokens,
        temperature=temperature,
        seed=seed,
        refresh=refresh,
        prompts_dir=prompts,
        include_appendix=include_appendix,
        password=password,
        max_pages=max_pages,
        verbose=verbose,
        style=style,
        read_all=read_all,
    )
    results = summarize_with_progress(request)
    if fmt is OutputFormat.table:
        results_table(results)
        if output is not None:
            emit(pipeline.render_text(results, "markdown"), output)
    else:
        emit(pipeline.render_text(results, fmt.value), output)
    if any(not pipeline.succeeded(r) for r in results):
        raise typer.Exit(int(ExitCode.INPUT))


@app.command()
@handle_errors
def show(
    key: Annotated[
        str | None, typer.Argument(help="Key prefix, arXiv id, file sha256 prefix or title words.")
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Show the whole summary.")] = False,
    fmt: Annotated[
        OutputFormat | None, typer.Option("--format", "-f", help="table, markdown or json.")
    ] = None,
) -> None:
    """List cached summaries, or show one of them."""
    from localdigest import pipeline
    from localdigest.render.summary import cached_list, results_table, summary_full

    rows = pipeline.cached_summaries()
    if key is not None:
        rows = [pipeline.find_cached(rows, key)]
    summaries = [r["summary"] for r in rows]
    if fmt in (OutputFormat.json, OutputFormat.markdown):
        emit(pipeline.render_text(summaries, fmt.value), None)
    elif key is not None and (full or fmt is None):
        summary_full(summaries[0])
    elif fmt is OutputFormat.table:
        results_table(summaries)
    else:
        cached_list(rows)


@app.command()
@handle_errors
def models() -> None:
    """List the GGUF models localdigest can find, and which one it uses by default."""
    from localdigest.llm import list_models
    from localdigest.render.models import models_table

    models_table(list_models(), config.models_dir())


@cache_app.command("info")
@handle_errors
def cache_info() -> None:
    """Where the cache is, its size and what it holds."""
    from localdigest import pipeline
    from localdigest.render import console

    info = pipeline.store().info()
    console.out.print(f"Cache: {info['path']}")
    console.out.print(f"Size:  {info['bytes'] / 1e6:.1f} MB")
    for kind, n in sorted(info["entries"].items()):
        console.out.print(f"  {kind}: {n} entries")


@cache_app.command("clear")
@handle_errors
def cache_clear(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Delete every cached note and summary (downloaded PDFs are kept)."""
    from localdigest import pipeline
    from localdigest.render import console

    store = pipeline.store()
    if not yes and not typer.confirm(f"Delete everything in {store.directory}?"):
        raise typer.Exit(1)
    console.out.print(f"Removed {store.clear()} entries.")


# The arXiv, digest and config commands live in their own modules (they use the helpers
# above, so they are imported once those exist).
from localdigest import cli_arxiv, cli_digest, cli_eval  # noqa: E402

cli_arxiv.register(app)
cli_digest.register(app)
cli_eval.register(app)


def main() -> None:
    app()
