"""The ``search`` and ``fetch`` commands: parse options, call the core, render the result.

``register(app)`` adds both to the main Typer app. The work happens in
``localdigest.sources`` (arxiv, listing, library); output in
``localdigest.render.arxiv``. Those are imported inside the commands so that
``localdigest --help`` does not load requests, lxml or the arxiv package.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from localdigest.errors import ExitCode, NetworkError, UsageError

if TYPE_CHECKING:
    from localdigest.sources.library import FetchResult


class SortBy(StrEnum):
    submitted = "submitted"
    relevance = "relevance"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def parse_since(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since {text!r} is not a date — use YYYY-MM-DD") from None


def parse_fetch_spec(spec: str | None) -> list[int] | None:
    """``1,3,5``, ``2-4`` or ``all`` -> 1-based numbers; [] means all; None: no --fetch."""
    if spec is None:
        return None
    if spec.strip().lower() == "all":
        return []
    numbers: list[int] = []
    for part in spec.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match or int(match[1]) < 1 or (match[2] and int(match[2]) < int(match[1])):
            raise UsageError(f"--fetch {spec!r} is not a list of numbers — use e.g. 1,3,5 or all")
        numbers.extend(range(int(match[1]), int(match[2] or match[1]) + 1))
    return list(dict.fromkeys(numbers))


def _exit_code(results: Sequence[FetchResult]) -> int:
    errors = [r.error for r in results if r.error is not None]
    if any(isinstance(e, NetworkError) for e in errors):
        return int(ExitCode.NETWORK)
    return int(ExitCode.INPUT) if errors else int(ExitCode.OK)


def _fetch_and_report(inputs: Sequence[str]) -> int:
    from localdigest.render import arxiv as render
    from localdigest.sources import library

    with render.download_progress() as progress:
        results = library.fetch(inputs, progress=progress)
    render.print_fetch_results(results)
    return _exit_code(results)


def search_command(
    terms: Annotated[
        list[str] | None,
        typer.Argument(help="Words that must all appear (quote a phrase; au:name works too)."),
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option("--category", "-c", help="arXiv category; repeat for several."),
    ] = None,
    include: Annotated[
        list[str] | None,
        typer.Option(help="Keep papers whose title/abstract has this phrase (any of them)."),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(help="Hide papers whose title/abstract has this phrase."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help="Only papers submitted since.")
    ] = None,
    new: Annotated[
        bool, typer.Option("--new", help="Only papers no earlier search has listed.")
    ] = False,
    max_results: Annotated[
        int | None,
        typer.Option("--max", min=1, help="Most papers to list (default 20; with --today, all)."),
    ] = None,
    sort: Annotated[SortBy, typer.Option(help="Order of the results.")] = SortBy.submitted,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="A table, or JSON for scripts.")
    ] = OutputFormat.table,
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
    remembered, so --new later shows only papers you have not seen. The last column marks
    papers already in the library (pdf) or summarized (sum).

    Examples: localdigest search mixture of experts -c cs.LG --since 2024-05-01;
    localdigest search --today -c cs.CL --new --fetch all
    """
    from localdigest.render import arxiv as render
    from localdigest.sources import library, listing

    wanted = parse_fetch_spec(fetch)
    since_date = parse_since(since)
    if today:
        if terms:
            raise UsageError("--today lists whole categories — use --include to filter it")
        papers = listing.today(category, include, exclude, new, max_results)
    else:
        papers = listing.search(
            terms or [],
            category,
            include,
            exclude,
            since_date,
            new,
            20 if max_results is None else max_results,
            "relevance" if sort is SortBy.relevance else "submitted",
        )
    states = {p.arxiv_id: library.local_state(p.arxiv_id) for p in papers}
    if output is OutputFormat.json:
        render.print_papers_json(papers, states)
    else:
        empty = "No new papers since your last search." if new else "No papers found."
        render.print_search_results(papers, states, empty_message=empty)
    if wanted is None or not papers:
        return
    bad = [n for n in wanted if n > len(papers)]
    if bad:
        raise UsageError(f"--fetch {fetch}: only {len(papers)} papers are listed — nothing fetched")
    chosen = papers if not wanted else [papers[n - 1] for n in wanted]
    code = _fetch_and_report([p.versioned_id for p in chosen])
    if code:
        raise typer.Exit(code)


def fetch_command(
    papers: Annotated[
        list[str],
        typer.Argument(metavar="ID_OR_URL", help="arXiv ids (2405.04434, hep-th/9901001) or URLs."),
    ],
) -> None:
    """Download arXiv papers into the local library and print where each PDF is.

    Papers already there are not downloaded again. Exit code 3 if some inputs failed (the
    others are still fetched), 5 if arXiv could not be reached.
    """
    code = _fetch_and_report(papers)
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add ``search`` and ``fetch`` to ``app``."""
    from localdigest.cli import handle_errors

    app.command("search")(handle_errors(search_command))
    app.command("fetch")(handle_errors(fetch_command))
