"""``run``: the weekly routine; asks which papers, then lets the workflow do the rest."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from localdigest.cli import common
from localdigest.cli.common import answered, handle_errors, summarize_with_progress
from localdigest.cli.options import (
    CategoryOpt,
    ExcludeOpt,
    GpuLayersOpt,
    IncludeOpt,
    MaxTokensOpt,
    ModelOpt,
    NCtxOpt,
    NoFiguresOpt,
    ParallelOpt,
    ServerModelOpt,
    ServerOpt,
    SubmittedSinceOpt,
    ThreadsOpt,
    parse_day,
    parse_selection,
)
from localdigest.errors import UsageError

if TYPE_CHECKING:
    from localdigest.workflows.weekly import RunPlan


def run(
    terms: Annotated[
        list[str] | None, typer.Argument(help="Search words (default: whole categories).")
    ] = None,
    category: CategoryOpt = None,
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    since: SubmittedSinceOpt = None,
    max_results: Annotated[
        int | None, typer.Option("--max", min=1, help="Most papers to list (config: run_max).")
    ] = None,
    include_seen: Annotated[
        bool, typer.Option("--include-seen", help="Also list papers earlier searches showed.")
    ] = False,
    pick: Annotated[
        str | None, typer.Option(metavar="1,4,7", help="Summarize these numbers of the list.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Summarize every paper listed.")] = False,
    top: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            min=1,
            help="Summarize the N most relevant to your library (empty library: the first N).",
        ),
    ] = None,
    sort: Annotated[
        Literal["relevance", "submitted"],
        typer.Option(help="List the most relevant first (default), or newest first."),
    ] = "relevance",
    out_dir: Annotated[
        Path | None,
        typer.Option(help="Folder for digest-YYYY-MM-DD.md (config: digest_dir, default .)."),
    ] = None,
    notes: Annotated[
        Path | None, typer.Option("--notes", help="Also export notes here (config: notes_dir).")
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Drop an unfinished run instead of resuming it.")
    ] = False,
    model: ModelOpt = None,
    max_tokens: MaxTokensOpt = None,
    n_ctx: NCtxOpt = None,
    threads: ThreadsOpt = None,
    gpu_layers: GpuLayersOpt = None,
    server: ServerOpt = None,
    server_model: ServerModelOpt = None,
    parallel: ParallelOpt = None,
    no_figures: NoFiguresOpt = False,
) -> None:
    """The weekly routine: search arXiv -> choose -> fetch -> summarize -> dated digest.

    Searches the configured categories (with include/exclude) for papers no earlier search
    listed, ranks them by your library (papers fetched and summarized, `interests` in the
    config) with the terms that matched, lets you pick from the numbered list (or --pick
    1,4,7, --all, --top N: the N most relevant), then fetches, summarizes and writes
    digest-YYYY-MM-DD.md. Stopped half-way? Run it again: it resumes the same run, reusing
    fetched PDFs and cached summaries.

    Examples:

      localdigest run

      localdigest run -c cs.CL --include "retrieval" --top 3 --out-dir ~/digests
    """
    from localdigest import config
    from localdigest.fsutil import check_folder
    from localdigest.render import console
    from localdigest.render.arxiv import download_progress
    from localdigest.render.arxiv import print_search_results as render_list
    from localdigest.sources.listing import SearchSpec
    from localdigest.workflows import arxiv, ranked, weekly

    chosen_ways = sum([pick is not None, all_, top is not None])
    if chosen_ways > 1:
        raise UsageError("Choose papers one way: --pick, --all or --top")
    cfg = config.load(
        categories=category,
        include=include,
        exclude=exclude,
        digest_dir=out_dir,
        notes_dir=notes,
        run_max=max_results,
        model=model,
        max_tokens=max_tokens,
        n_ctx=n_ctx,
        threads=threads,
        gpu_layers=gpu_layers,
        server=server,
        server_model=server_model,
        parallel=parallel,
    )
    check_folder(cfg.digest_dir, "--out-dir")
    if cfg.notes_dir is not None:
        check_folder(cfg.notes_dir, "--notes")
    if restart and weekly.discard_unfinished(cfg.paths):
        console.info("Dropped the unfinished run.")
    plan = weekly.load_unfinished(cfg.paths, on_damage=console.warning)
    if plan is not None:
        console.info(_resume_message(plan))
    if (plan is None or plan.picks is None) and chosen_ways == 0 and not common.interactive():
        raise UsageError(
            "No terminal to ask which papers to summarize — use --pick 1,4,7, --all or --top N"
        )
    if plan is None:
        spec = SearchSpec(
            terms=list(terms or []),
            since=parse_day(since),
            only_new=not include_seen,
        )
        plan = weekly.search(cfg, spec, sort)
        if not plan.papers:
            console.info("No new papers since your last search — nothing to do.")
            return
        if not plan.scores:
            console.info(ranked.EMPTY_LIBRARY)
    if plan.picks is None:
        render_list(plan.papers, arxiv.local_states(cfg, plan.papers), scores=plan.scores)
        weekly.choose(plan, _picks(plan, pick, all_, top))
    if not plan.picks:
        console.info("Nothing chosen — no digest written.")
        return
    outcome = weekly.run_chosen(
        cfg,
        plan,
        figures=not no_figures,
        downloads=download_progress,
        summarize=summarize_with_progress,
        warn=console.warning,
    )
    console.info(f"Wrote the digest of {len(outcome.papers)} papers: {outcome.digest_path}")
    if outcome.notes:
        from localdigest.render.notes import notes_results

        notes_results(outcome.notes)
    if outcome.error is not None:
        console.error(outcome.error.message)
        raise typer.Exit(int(outcome.error.exit_code))


def _resume_message(plan: RunPlan) -> str:
    started = plan.started[:16].replace("T", " ")
    if plan.picks is None:
        return f"Resuming the run started {started}: {len(plan.papers)} papers listed."
    return (
        f"Resuming the run started {started}: {len(plan.picks)} chosen papers "
        "(use --restart to start over)."
    )


QUESTION = "Which papers? (e.g. 1,4,7 or 2-5, all, none)"


def _picks(plan: RunPlan, pick: str | None, all_: bool, top: int | None) -> list[int]:
    from localdigest.render import console

    count = len(plan.papers)
    if pick is not None:
        return parse_selection(pick, count, "--pick ")
    if all_:
        return list(range(1, count + 1))
    if top is not None:
        return plan.top(top)
    while True:
        answer = answered(
            lambda: typer.prompt(QUESTION, default="none", show_default=False), at_end="none"
        )
        try:
            return parse_selection(answer, count)
        except UsageError as e:
            console.warning(e.message)


def register(app: typer.Typer) -> None:
    app.command("run")(handle_errors(run))
