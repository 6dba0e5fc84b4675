"""``summarize`` and ``show``: parse, call the summarize workflow or the cache, render."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from localdigest.cli.common import emit, handle_errors, read_piped, summarize_with_progress
from localdigest.cli.options import (
    GpuLayersOpt,
    MaxTokensOpt,
    ModelOpt,
    ModeOpt,
    NCtxOpt,
    ParallelOpt,
    ReadAllOpt,
    RefreshOpt,
    SeedOpt,
    ServerModelOpt,
    ServerOpt,
    StructuredNotesOpt,
    StyleOpt,
    SummaryFormat,
    TemperatureOpt,
    ThreadsOpt,
)
from localdigest.errors import ExitCode

if TYPE_CHECKING:
    from localdigest.config import Paths
    from localdigest.papers import Result

BriefOpt = Annotated[
    bool, typer.Option("--brief", help="Only the table of TL;DRs, not each summary in full.")
]
NoPagerOpt = Annotated[
    bool, typer.Option("--no-pager", help="Print long output straight to the terminal.")
]


def summarize(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="PDF files, folders (searched for *.pdf), arXiv ids or URLs; - reads a PDF "
            "from standard input."
        ),
    ],
    model: ModelOpt = None,
    n_ctx: NCtxOpt = None,
    gpu_layers: GpuLayersOpt = None,
    threads: ThreadsOpt = None,
    max_tokens: MaxTokensOpt = None,
    temperature: TemperatureOpt = None,
    seed: SeedOpt = None,
    fmt: Annotated[
        SummaryFormat | None,
        typer.Option("--format", "-f", help="table, markdown or json (default: table)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write markdown/json to this file (by suffix)."),
    ] = None,
    refresh: RefreshOpt = False,
    prompts: Annotated[
        Path | None, typer.Option("--prompts", help="Folder of prompt files to use instead.")
    ] = None,
    include_appendix: Annotated[
        bool, typer.Option(help="Also summarize appendices (skipped by default).")
    ] = False,
    read_all: ReadAllOpt = False,
    password: Annotated[str | None, typer.Option(help="Password of encrypted PDFs.")] = None,
    max_pages: Annotated[
        int | None,
        typer.Option(help="Read at most this many pages of each PDF (default 200; 0 = all)."),
    ] = None,
    verbose: Annotated[bool, typer.Option(help="Show llama.cpp's own log.")] = False,
    style: StyleOpt = "paragraph",
    mode: ModeOpt = None,
    structured_notes: StructuredNotesOpt = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="No progress bars, no hint about the demo model (config: model_hint).",
        ),
    ] = False,
    brief: BriefOpt = False,
    no_pager: NoPagerOpt = False,
    server: ServerOpt = None,
    server_model: ServerModelOpt = None,
    parallel: ParallelOpt = None,
) -> None:
    """Summarize papers: a TL;DR and a dense paragraph each, computed once and cached.

    Prints a table, then each paper's summary in full (--brief: the table only); long
    output on a terminal opens in your pager ($PAGER, else less).

    Examples:

      localdigest summarize paper.pdf

      localdigest summarize papers/ --model models/qwen2.5-1.5b-instruct-q4_k_m.gguf

      localdigest summarize paper.pdf -m ollama:qwen2.5:3b

      localdigest summarize 1706.03762 --format json -o summaries.json

      curl -sL https://arxiv.org/pdf/1706.03762 | localdigest summarize -

      localdigest summarize papers/ --server http://127.0.0.1:8080/v1 --parallel 4
    """
    from localdigest import config
    from localdigest.fsutil import check_output
    from localdigest.papers import succeeded
    from localdigest.publish.formats import format_for, to_text
    from localdigest.render.summary import results_view

    if output is not None:
        output = check_output(output)  # an unusable path fails now, not after the work
    chosen = fmt or (format_for(output, None, ("markdown", "json")) if output else "table")
    cfg = config.load(
        model=model,
        n_ctx=n_ctx,
        gpu_layers=gpu_layers,
        threads=threads,
        max_tokens=max_tokens,
        temperature=temperature,
        seed=seed,
        max_pages=max_pages,
        server=server,
        server_model=server_model,
        parallel=parallel,
        mode=mode,
        refresh=refresh,
        prompts_dir=prompts,
        include_appendix=include_appendix,
        password=password,
        verbose=verbose,
        style=style,
        read_all=read_all,
        structured_notes=structured_notes,
    )
    results = summarize_with_progress(sources, cfg, quiet=quiet, piped=read_piped(sources))
    if chosen == "table":
        results_view(results, brief=brief, pager=not no_pager)
        if output is not None:
            emit(to_text(results, "markdown"), output)
    else:
        emit(to_text(results, chosen), output)
    if not quiet and cfg.model_hint:
        _demo_hint(results, cfg.paths, to_stderr=chosen != "table")
    if not all(succeeded(r) for r in results):
        raise typer.Exit(int(ExitCode.INPUT))


def _demo_hint(results: list[Result], paths: Paths, *, to_stderr: bool) -> None:
    """Once, under the results, when the embedded demo model wrote any of them."""
    from localdigest.models.guidance import demo_hint
    from localdigest.papers import PaperSummary
    from localdigest.render.models import demo_hint as show_hint

    written_by = (r.model for r in results if isinstance(r, PaperSummary))
    hint = demo_hint(written_by, paths.models, paths.home)
    if hint is not None:
        show_hint(hint, to_stderr=to_stderr)


def show(
    key: Annotated[
        str | None, typer.Argument(help="Key prefix, arXiv id, file sha256 prefix or title words.")
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Only the summary in full (without a key: all of them).")
    ] = False,
    fmt: Annotated[
        SummaryFormat | None, typer.Option("--format", "-f", help="table, markdown or json.")
    ] = None,
    brief: BriefOpt = False,
    no_pager: NoPagerOpt = False,
) -> None:
    """List cached summaries, or show one: its table row, then the summary in full.

    --brief shows the table only; long output on a terminal opens in your pager.

    Examples:

      localdigest show

      localdigest show 1706.03762 --full

      localdigest show attention --format json
    """
    from localdigest import config
    from localdigest.cache import find_cached
    from localdigest.publish.formats import to_text
    from localdigest.render.summary import (
        cached_list,
        results_table,
        results_view,
        summaries_view,
    )
    from localdigest.workflows.digest import cached

    rows = cached(config.load().paths)
    if key is not None:
        rows = [find_cached(rows, key)]
    summaries = [r.summary for r in rows]
    if fmt in ("json", "markdown"):
        emit(to_text(summaries, fmt), None)
    elif full and not brief:
        summaries_view(summaries, pager=not no_pager)
    elif fmt == "table" or (key is not None and brief):
        results_table(summaries)
    elif key is not None:
        results_view(summaries, pager=not no_pager)
    else:
        cached_list(rows)


def register(app: typer.Typer) -> None:
    app.command()(handle_errors(summarize))
    app.command()(handle_errors(show))
