"""The ``eval`` command: parse, call ``localdigest.evaluate``, render, write the JSON.

``register(app)`` adds it to the main Typer app. Scoring needs the optional ``eval`` extra
(rouge-score, sumy); without it the command stops with one line naming the fix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from localdigest.errors import UsageError


def eval_command(
    pdfs: Annotated[
        Path | None,
        typer.Option("--pdfs", help="Folder of paper PDFs (e.g. ../shared/corpus/pdfs)."),
    ] = None,
    expected: Annotated[
        Path | None,
        typer.Option(
            "--expected",
            help="JSON list of {file, abstract_clean} (default: expected.json next to --pdfs).",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="GGUF path, or a file name/stem in the models folder."),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Evaluate only the N smallest PDFs.")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads.")] = None,
    n_ctx: Annotated[int | None, typer.Option(help="Context size.")] = None,
    style: Annotated[
        str, typer.Option(help="Summary style: paragraph, bullets or tldr.")
    ] = "paragraph",
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the JSON report.")
    ] = Path("eval-results.json"),
    baselines: Annotated[
        bool, typer.Option(help="Also run the lead, TextRank and one-call 'stuff' baselines.")
    ] = True,
    refresh: Annotated[bool, typer.Option(help="Recompute, ignoring the cache.")] = False,
    read_all: Annotated[
        bool, typer.Option("--read-all", help="Read every section whole (as summarize).")
    ] = False,
) -> None:
    """Score summaries against the authors' abstracts, which the model never sees.

    Each paper is summarized with its abstract removed (the section dropped and its
    sentences scrubbed from the rest), then scored: ROUGE-1/2/L F1, degeneration, number
    faithfulness, on-topic share, length and time; next to the lead, TextRank and
    one-call "stuff" baselines. Prints a table and writes the JSON report.

    Example:

      localdigest eval --pdfs ../shared/corpus/pdfs --expected ../shared/corpus/expected.json
    """
    from localdigest import evaluate, pipeline
    from localdigest.cli import emit, write_atomically
    from localdigest.render.eval import eval_tables, progress_line

    evaluate.require_extras()
    if pdfs is None:
        raise UsageError("Which papers? Pass --pdfs DIR (and --expected FILE)")
    expected = expected or pdfs.parent / "expected.json"
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1 (got {limit})")
    papers = evaluate.load_papers(pdfs, expected, limit)
    request = pipeline.SummarizeRequest(
        sources=[],
        model=model,
        n_ctx=n_ctx,
        threads=threads,
        refresh=refresh,
        style=style,
        read_all=read_all,
    )
    job = pipeline.prepare(request)

    def checkpoint(report: evaluate.EvalReport) -> None:
        write_atomically(output, json.dumps(report.to_dict(), indent=2, ensure_ascii=False))

    try:
        report = evaluate.evaluate(
            job.summarizer,
            papers,
            baselines=baselines,
            progress=progress_line,
            checkpoint=checkpoint,
        )
    finally:
        job.summarizer.store.close()
    eval_tables(report)
    emit(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", output)


def register(app: typer.Typer) -> None:
    """Add ``eval`` to ``app``."""
    from localdigest.cli import handle_errors

    app.command("eval")(handle_errors(eval_command))
