"""Rich views of an eval: per-paper scores, the means per system, the targets."""

from __future__ import annotations

from rich import box
from rich.markup import escape
from rich.table import Table

from localdigest.eval.evaluate import EvalReport
from localdigest.render.console import err, out


def progress_line(index: int, total: int, paper: str, step: str) -> None:
    err.print(f"[dim][{index}/{total}] {escape(paper)}: {step}[/]", highlight=False)


def _mark(ok: bool, text: str) -> str:
    return f"[green]{text}[/]" if ok else f"[red]{text}[/]"


def eval_tables(report: EvalReport) -> None:
    """Per paper and system: ROUGE F1, key facts stated (Facts), sentences traced to a page
    (Gnd), number faithfulness (Nums), degenerate (Loop), words and model time; then the
    means and the targets."""
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
        ("R-2", "right"),
        ("R-L", "right"),
        ("Facts", "right"),
        ("Gnd", "right"),
        ("Nums", "right"),
        ("Loop", "center"),
        ("Words", "right"),
        ("Time", "right"),
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
                f"{s['rouge2']:.3f}",
                f"{s['rougeL']:.3f}",
                f"{s['facts']:.2f}",
                _mark(s["grounded"] >= 0.9, f"{s['grounded']:.2f}"),
                _mark(s["number_faithfulness"] >= 0.95, f"{s['number_faithfulness']:.2f}"),
                _mark(not s["degenerate"], "yes" if s["degenerate"] else "no"),
                str(s["words"]),
                f"{s['seconds']:.0f}s",
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
    for name in (  # R-1, on-topic share and words: in the JSON (80 columns here)
        "System",
        "N",
        "R-2",
        "R-L",
        "RLs",
        "Fact",
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
            f"{m['rouge2']:.3f}",
            f"{m['rougeL']:.3f}",
            f"{m['rougeLsum']:.3f}",
            f"{m['facts']:.2f}",
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
