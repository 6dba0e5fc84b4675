"""Rich views of an eval: per-paper scores, the means per system, the targets."""

from __future__ import annotations

from rich import box
from rich.markup import escape
from rich.table import Table

from localdigest.eval.evaluate import EvalReport
from localdigest.eval.questions import TARGETS, QuestionReport
from localdigest.render.console import err, out


def progress_line(index: int, total: int, paper: str, step: str) -> None:
    err.print(f"[dim][{index}/{total}] {escape(paper)}: {step}[/]", highlight=False)


def step_line(step: str) -> None:
    err.print(f"[dim]{escape(step)}[/]", highlight=False)


def _mark(ok: bool, text: str) -> str:
    return f"[green]{text}[/]" if ok else f"[red]{text}[/]"


def eval_tables(report: EvalReport) -> None:
    """Per paper and system: ROUGE-L F1, key facts stated (Facts), labelled body facts stated
    (Body), pairs of sentences saying the same thing (Ovl), sentences traced to a page (Gnd),
    number faithfulness (Nums), degenerate (Loop) and words; then the means (and time;
    TLc: the share of TL;DRs stating the contribution) and the targets."""
    mode = "abstract read" if report.reader else "abstract withheld"
    papers = Table(
        title=f"Eval: {escape(report.model)} ({mode})",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        collapse_padding=True,
        pad_edge=False,
    )
    for name, justify in [
        ("Paper", "left"),
        ("System", "left"),
        ("R-L", "right"),
        ("Facts", "right"),
        ("Body", "right"),
        ("Ovl", "right"),
        ("Gnd", "right"),
        ("Nums", "right"),
        ("Loop", "center"),
        ("Words", "right"),
    ]:
        papers.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    notes: list[str] = []  # under the table: long lines would stretch its columns
    for p in report.papers:
        label = escape(p.file.removesuffix(".pdf"))
        if p.error:
            papers.add_row(label, "[red]failed[/]", *[""] * 8, end_section=True)
            notes.append(f"{label}: [red]failed:[/] {escape(p.error)}")
            continue
        for i, system in enumerate(report.systems):
            s = p.scores.get(system)
            if s is None:
                continue
            papers.add_row(
                label if i == 0 else "",
                system,
                f"{s['rougeL']:.3f}",
                f"{s['facts']:.2f}",
                "—" if s.get("body_facts") is None else f"{s['body_facts']:.2f}",
                _mark(not s.get("overlap_pairs"), str(s.get("overlap_pairs", 0))),
                _mark(s["grounded"] >= 0.9, f"{s['grounded']:.2f}"),
                _mark(s["number_faithfulness"] >= 0.95, f"{s['number_faithfulness']:.2f}"),
                _mark(not s["degenerate"], "yes" if s["degenerate"] else "no"),
                str(s["words"]),
                end_section=i == len(report.systems) - 1,
            )
        notes.extend(f"{label}: [yellow]warning:[/] {escape(w)}" for w in p.warnings)
        notes.extend(
            f"{label}: [red]scaffolding in {system}:[/] {escape(', '.join(s['scaffolding']))}"
            for system, s in p.scores.items()
            if s.get("scaffolding")
        )
    out.print(papers)
    for line in notes:
        out.print(line)

    overall = Table(
        title="Overall (means over papers)",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        collapse_padding=True,
        pad_edge=False,
    )
    for name in (  # RLs, on-topic share and words: in the JSON (80 columns here)
        "System",
        "N",
        "R-L",
        "Fact",
        "Body",
        "Ovl",
        "TLc",
        "Gnd",
        "Num",
        "Scaf",
        "Loop",
        "Time",
    ):
        overall.add_column(name, justify="left" if name == "System" else "right", no_wrap=True)
    for system, m in report.overall().items():
        overall.add_row(
            system,
            str(m["papers"]),
            f"{m['rougeL']:.3f}",
            f"{m['facts']:.2f}",
            f"{m['body_facts']:.2f}" if "body_facts" in m else "—",
            str(m["overlap_pairs"]),
            f"{m['tldr_contribution']:.2f}" if "tldr_contribution" in m else "—",
            f"{m['grounded']:.2f}",
            f"{m['number_faithfulness']:.2f}",
            str(m["scaffolding"]),
            str(m["degenerate"]),
            f"{m['seconds']:.0f}s" if m["seconds"] < 1000 else f"{m['seconds'] / 60:.0f}m",
        )
    out.print(overall)
    for name, t in report.targets().items():
        out.print(
            f"  {_mark(t['met'], 'met    ' if t['met'] else 'not met')}  {name}: {t['value']}"
            if t["met"] is not None
            else f"  gap      {name}: {t['value']}"
        )


def question_tables(report: QuestionReport) -> None:
    """Each question missed (answerable ones not in the top three, unanswerable ones
    answered), then recall@3, MRR and "not found" for each half and overall."""
    missed = Table(
        title=f"ask: questions missed ({report.papers} papers, {report.passages} passages)",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        collapse_padding=True,
        pad_edge=False,
    )
    for name in ("Question", "Paper", "Rank", "Shown first"):
        missed.add_column(name, overflow="fold")
    for r in report.rows:
        if r.paper is None and r.said_not_found:
            continue
        if r.paper is not None and r.rank is not None and r.rank <= 3:
            continue
        rank = "not found" if r.said_not_found else str(r.rank or "-")
        shown = ", ".join(r.shown) or "-"
        missed.add_row(escape(r.question), escape(r.paper or "(none)"), rank, escape(shown))
    out.print(missed)
    for line in report.skipped:
        out.print(f"[yellow]skipped:[/] {escape(line)}")
    scores = Table(box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True, pad_edge=False)
    for name in ("Questions", "N", "recall@3", "MRR", "false not found", "not found", "s/q"):
        scores.add_column(name, justify="left" if name == "Questions" else "right")
    for label, half in (("even (tuned)", "even"), ("odd (held out)", "odd"), ("all", None)):
        s = report.scores(half)
        scores.add_row(
            label,
            f"{s['answerable']}+{s['unanswerable']}",
            _mark(s["recall_at_3"] >= TARGETS["recall_at_3"], f"{s['recall_at_3']:.3f}"),
            _mark(s["mrr"] >= TARGETS["mrr"], f"{s['mrr']:.3f}"),
            f"{s['false_not_found']:.3f}",
            _mark(s["not_found"] >= TARGETS["not_found"], f"{s['not_found']:.2f}"),
            f"{s['seconds_per_question']:.3f}",
        )
    out.print(scores)
