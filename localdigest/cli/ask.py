"""``ask``: parse, run the ask workflow (fetching and reading what it needs, with
progress), render the answer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from localdigest.cli.common import emit, handle_errors, read_piped
from localdigest.cli.options import (
    AnswerModeOpt,
    AskFormat,
    ModelOpt,
    NCtxOpt,
    ServerModelOpt,
    ServerOpt,
    ThreadsOpt,
)
from localdigest.errors import ExitCode


def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="Papers to ask: PDF files, folders, arXiv ids or URLs, - for a PDF on "
            "standard input (default: every paper localdigest has read, fetched or summarized)."
        ),
    ] = None,
    digest: Annotated[
        str | None,
        typer.Option(
            metavar="latest|YYYY-MM-DD",
            help="Ask the papers of one newsletter issue: the latest, or the one made that day.",
        ),
    ] = None,
    top: Annotated[int, typer.Option(metavar="N", help="Passages to show (default 3).")] = 3,
    fmt: Annotated[
        AskFormat | None,
        typer.Option("--format", "-f", help="text, markdown or json (default: text)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write markdown/json to this file (by suffix)."),
    ] = None,
    mode: AnswerModeOpt = None,
    model: ModelOpt = None,
    n_ctx: NCtxOpt = None,
    threads: ThreadsOpt = None,
    server: ServerOpt = None,
    server_model: ServerModelOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Answer a question from your papers: the passages that say it, with paper and page.

    Searches every paper localdigest has read, fetched or summarized (or the papers named,
    read first when they are new), and shows the best passages as quotes, best first:
    [1706.03762 p. 5]. With a model able to write (1B parameters or more, or a server), it
    also writes a short answer from those quotes only, each sentence cited, [?] where no
    quote supports it. When nothing answers, it says so.

    Examples:

      localdigest ask "How many attention heads does the base model use?"

      localdigest ask "Which optimizer was used?" 1706.03762 papers/

      localdigest ask "What do the authors admit it cannot do?" --digest latest -f markdown
    """
    from localdigest import config
    from localdigest.fsutil import check_output
    from localdigest.publish.answers import to_text
    from localdigest.publish.formats import format_for
    from localdigest.render import console
    from localdigest.render.arxiv import download_progress
    from localdigest.render.ask import answer_view, reading_progress
    from localdigest.workflows.ask import AskRequest, prepare

    if output is not None:
        output = check_output(output)
    chosen = fmt or (format_for(output, None, ("markdown", "json")) if output else "text")
    cfg = config.load(
        mode=mode,
        model=model,
        n_ctx=n_ctx,
        threads=threads,
        server=server,
        server_model=server_model,
    )
    piped = read_piped(sources or [])
    job = prepare(AskRequest(question, sources or [], digest, top, piped), cfg)
    try:
        if quiet:
            job.read()
        else:
            with download_progress() as downloads:
                job.fetch(downloads)
            with reading_progress() as reading:
                job.read(reading)
        for failure in job.failures:
            console.warning(failure.error)
        answer = job.answer()
    finally:
        job.close()
    if chosen == "text":
        answer_view(answer)
        if output is not None:
            emit(to_text(answer, "markdown"), output)
    else:
        emit(to_text(answer, chosen), output)
    if job.failures:
        raise typer.Exit(int(ExitCode.INPUT))


def register(app: typer.Typer) -> None:
    app.command()(handle_errors(ask))
