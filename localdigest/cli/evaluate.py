"""``eval``: parse, run the eval workflow, render it, write the JSON report.

Scoring needs the optional ``eval`` extra (rouge-score, sumy); without it the command stops
with one line naming the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from localdigest.cli.common import emit, handle_errors
from localdigest.cli.options import (
    ModelOpt,
    ModeOpt,
    NCtxOpt,
    ParallelOpt,
    ReadAllOpt,
    RefreshOpt,
    ServerModelOpt,
    ServerOpt,
    StructuredNotesOpt,
    StyleOpt,
    ThreadsOpt,
)
from localdigest.errors import UsageError
from localdigest.fsutil import check_output, write_atomically
from localdigest.text import safe_json


def eval_(
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
    model: ModelOpt = None,
    limit: Annotated[int | None, typer.Option(help="Evaluate only the N smallest PDFs.")] = None,
    threads: ThreadsOpt = None,
    n_ctx: NCtxOpt = None,
    style: StyleOpt = "paragraph",
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the JSON report.")
    ] = Path("eval-results.json"),
    baselines: Annotated[
        bool, typer.Option(help="Also run the lead, TextRank and one-call 'stuff' baselines.")
    ] = True,
    refresh: RefreshOpt = False,
    read_all: ReadAllOpt = False,
    server: ServerOpt = None,
    server_model: ServerModelOpt = None,
    parallel: ParallelOpt = None,
    mode: ModeOpt = None,
    structured_notes: StructuredNotesOpt = False,
    reader: Annotated[
        bool,
        typer.Option(
            "--reader",
            help="Score summaries as a reader gets them (the abstract read) against the "
            "abstract's key facts, instead of withholding it.",
        ),
    ] = False,
    body_facts: Annotated[
        Path | None,
        typer.Option(
            "--body-facts",
            metavar="FILE",
            help="Labels of what only each paper's body says (default: "
            "tests/fixtures/body_facts.json when present); scored as body-facts recall.",
        ),
    ] = None,
    questions: Annotated[
        Path | None,
        typer.Option(
            "--questions",
            metavar="FILE",
            help="Score `ask` instead: ask these questions (e.g. tests/fixtures/questions.json) "
            "of the --pdfs, report recall@3, MRR and 'not found' (no model).",
        ),
    ] = None,
) -> None:
    """Score summaries against the authors' abstracts, which the model never sees.

    Each paper is summarized with its abstract removed (the section dropped and its
    sentences scrubbed from the rest), then scored: ROUGE-1/2/L/Lsum F1, the share of the
    abstract's key facts stated, the share of the labelled body facts stated, sentences
    traced to a page, pairs of sentences saying the same thing, whether the TL;DR states the
    contribution, scaffolding, degeneration, number faithfulness, length and time; next to
    the lead, TextRank and one-call "stuff" baselines. --reader scores normal runs
    (abstract read) instead. Prints a table and writes the JSON report.

    --questions FILE scores `ask` instead: each question asked of the PDFs, recall@3 (a
    top-3 passage on the right paper and page holds the answer), MRR and the share of
    unanswerable questions answered "not found" (docs/ask.md).

    Examples:

      localdigest eval --pdfs ../shared/corpus/pdfs --expected ../shared/corpus/expected.json

      localdigest eval --questions tests/fixtures/questions.json --pdfs ../shared/corpus/pdfs
    """
    from localdigest import config
    from localdigest.eval import evaluate
    from localdigest.render.eval import eval_tables, progress_line

    output = check_output(output)
    if pdfs is None:
        raise UsageError("Which papers? Pass --pdfs DIR (and --expected FILE)")
    if questions is not None:
        _questions(questions, pdfs, output)
        return
    evaluate.require_extras()
    expected = expected or pdfs.parent / "expected.json"
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1 (got {limit})")
    default_labels = Path("tests/fixtures/body_facts.json")
    body_facts = body_facts or (default_labels if default_labels.is_file() else None)
    labels = evaluate.load_body_facts(body_facts) if body_facts is not None else None
    papers = evaluate.load_papers(pdfs, expected, limit, labels)
    cfg = config.load(
        model=model,
        n_ctx=n_ctx,
        threads=threads,
        server=server,
        server_model=server_model,
        parallel=parallel,
        mode=mode,
        refresh=refresh,
        style=style,
        read_all=read_all,
        structured_notes=structured_notes,
    )

    def checkpoint(report: evaluate.EvalReport) -> None:
        write_atomically(output, safe_json(report.to_dict()))

    report = evaluate.run_eval(
        cfg,
        papers,
        baselines=baselines,
        progress=progress_line,
        checkpoint=checkpoint,
        reader=reader,
    )
    eval_tables(report)
    emit(safe_json(report.to_dict()) + "\n", output)


def _questions(questions: Path, pdfs: Path, output: Path) -> None:
    from localdigest.eval.questions import run_questions
    from localdigest.render.eval import question_tables, step_line

    report = run_questions(questions, pdfs, progress=step_line)
    question_tables(report)
    emit(safe_json(report.to_dict()) + "\n", output)


def register(app: typer.Typer) -> None:
    app.command("eval")(handle_errors(eval_))
