"""``search`` and ``fetch``: parse options, list or fetch through ``sources``, render.

The arXiv stack (the arxiv package, httpx) is imported inside the commands, so that
``localdigest --help`` does not load it. Settings come from ``workflows.arxiv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from localdigest.cli.common import handle_errors
from localdigest.cli.options import (
    CategoryOpt,
    ExcludeOpt,
    FormatOpt,
    IncludeOpt,
    Selection,
    SubmittedSinceOpt,
    TableFormat,
    parse_day,
)
from localdigest.errors import ExitCode, NetworkError, UsageError

if TYPE_CHECKING:
    from localdigest.config import RunConfig
    from localdigest.sources.library import FetchResult


def _exit_code(results: Sequence[FetchResult]) -> int:
    errors = [r.error for r in results if r.error is not None]
    if any(isinstance(e, NetworkError) for e in errors):
        return int(ExitCode.NETWORK)
    return int(ExitCode.INPUT) if errors else int(ExitCode.OK)


def _fetch_and_report(inputs: Sequence[str], cfg: RunConfig, fmt: TableFormat | None) -> int:
    """Fetch and say what happened: lines, JSON (``json``), or lines on stderr (None: the
    JSON of ``search`` is on stdout already)."""
    from localdigest.render import arxiv as render
    from localdigest.render import console
    from localdigest.sources.library import Library
    from localdigest.workflows import arxiv

    with render.download_progress() as progress:
        results = Library(cfg.paths.library).fetch(inputs, arxiv.client(cfg), progress=progress)
    if fmt == "json":
        console.print_json([r.to_dict() for r in results])
    else:
        render.print_fetch_results(results, console.out if fmt else console.err)
    return _exit_code(results)


def search(
    terms: Annotated[
        list[str] | None,
        typer.Argument(help="Words that must all appear (quote a phrase; au:name works too)."),
    ] = None,
    category: CategoryOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    since: SubmittedSinceOpt = None,
    new: Annotated[
        bool, typer.Option("--new", help="Only papers no earlier search has listed.")
    ] = False,
    max_results: Annotated[
        int | None,
        typer.Option("--max", min=1, help="Most papers to list (default 20; with --today, all)."),
    ] = None,
    sort: Annotated[
        Literal["submitted", "relevance", "arxiv"],
        typer.Option(
            help="submitted: newest first; relevance: by your library (fetched and "
            "summarized papers, `interests` in the config); arxiv: arXiv's own relevance "
            "to the search terms."
        ),
    ] = "submitted",
    output: FormatOpt = "table",
    today: Annotated[
        bool, typer.Option("--today", help="Today's announcements in the -c categories.")
    ] = False,
    fetch: Annotated[
        str | None,
        typer.Option(metavar="1,3,5|all", help="Then download these numbers of the list."),
    ] = None,
) -> None:
    """Search arXiv, or list today's new papers, and optionally fetch some.

    Categories, --include and --exclude default to the configuration. Every paper listed is
    remembered, so --new later shows only papers you have not seen. Each paper is scored
    against your library (rel: 0 to 1, with the terms that matched); --sort relevance lists
    the best first. The last column marks papers already in the library (pdf) or
    summarized (sum).

    Examples: localdigest search mixture of experts -c cs.LG --since 2024-05-01;
    localdigest search --today -c cs.CL --new --fetch all
    """
    from localdigest import config
    from localdigest.render import arxiv as render
    from localdigest.render import console
    from localdigest.workflows import arxiv, ranked

    wanted = Selection.parse(fetch, "--fetch ") if fetch is not None else None
    if today and terms:
        raise UsageError("--today lists whole categories — use --include to filter it")
    cfg = config.load(categories=category, include=include, exclude=exclude)
    found = arxiv.listing(
        cfg,
        terms or [],
        since=parse_day(since),
        only_new=new,
        max_results=max_results,
        sort=sort,
        today=today,
    )
    papers, scores = found.papers, found.scores
    if sort == "relevance" and papers and not scores:
        console.info(ranked.EMPTY_LIBRARY)
    if output == "json":
        render.print_papers_json(papers, found.states, scores)
    else:
        empty = "No new papers since your last search." if new else "No papers found."
        render.print_search_results(papers, found.states, empty_message=empty, scores=scores)
    if wanted is None or not papers:
        return
    chosen = [papers[n - 1] for n in wanted.pick(len(papers))]
    code = _fetch_and_report(
        [p.versioned_id for p in chosen], cfg, None if output == "json" else "table"
    )
    if code:
        raise typer.Exit(code)


def fetch(
    papers: Annotated[
        list[str],
        typer.Argument(metavar="ID_OR_URL", help="arXiv ids (2405.04434, hep-th/9901001) or URLs."),
    ],
    output: FormatOpt = "table",
) -> None:
    """Download arXiv papers into the local library and print where each PDF is.

    Papers already there are not downloaded again. Exit code 3 if some inputs failed (the
    others are still fetched), 5 if arXiv could not be reached.

    Examples:

      localdigest fetch 1706.03762 https://arxiv.org/abs/2405.04434

      localdigest fetch 1706.03762 --format json
    """
    from localdigest import config

    code = _fetch_and_report(papers, config.load(), output)
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("search")(handle_errors(search))
    app.command("fetch")(handle_errors(fetch))
