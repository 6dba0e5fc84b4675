"""Terminal output of ``search`` and ``fetch``: the results table, JSON, download progress."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from localdigest.render import console as consoles

if TYPE_CHECKING:
    from localdigest.sources.arxiv.meta import PaperMeta
    from localdigest.sources.library import FetchResult, ProgressFn
    from localdigest.sources.ranking import Score

AUTHORS_MIN_WIDTH = 120  # narrower terminals drop the authors column to keep titles readable
MATCHED_MIN_WIDTH = 110  # narrower ones show the matched terms under the title
MARKS = {"summarized": ("sum", "green"), "fetched": ("pdf", "cyan")}


def _authors(names: Sequence[str]) -> str:
    if len(names) <= 3:
        return ", ".join(names)
    return f"{', '.join(names[:2])} et al."


def search_table(
    papers: Sequence[PaperMeta],
    states: Mapping[str, str | None],
    *,
    width: int,
    scores: Sequence[Score] | None = None,
) -> Table:
    """Numbered rows (the numbers ``--fetch`` takes); ``states`` maps base id -> local state;
    ``scores`` (one per paper) add the relevance and the terms that matched the library."""
    table = Table(box=None, header_style="bold", pad_edge=False, expand=False)
    table.add_column("#", justify="right", style="bold")
    if scores:
        table.add_column("rel", justify="right", no_wrap=True)
    table.add_column("arXiv id", no_wrap=True)
    table.add_column("date", no_wrap=True)
    table.add_column("cat", no_wrap=True, style="dim")
    table.add_column("title", ratio=3, overflow="fold")
    with_authors = width >= AUTHORS_MIN_WIDTH
    if with_authors:
        table.add_column("authors", ratio=1, overflow="ellipsis", style="dim")
    matched_column = bool(scores) and width >= MATCHED_MIN_WIDTH
    if matched_column:
        table.add_column("matched", ratio=1, overflow="fold", style="magenta")
    table.add_column("local", no_wrap=True)
    top = max((s.relevance for s in scores), default=0.0) if scores else 0.0
    for n, paper in enumerate(papers, 1):
        label, style = MARKS.get(states.get(paper.arxiv_id) or "", ("", ""))
        row: list[str | Text] = [str(n)]
        if scores:
            row.append(_relevance(scores[n - 1].relevance, top))
        row += [
            paper.versioned_id,
            paper.published.strftime("%Y-%m-%d") if paper.published else "",
            paper.primary_category,
            _title(paper.title, scores[n - 1] if scores and not matched_column else None),
        ]
        if with_authors:
            row.append(Text(_authors(paper.authors)))
        if matched_column and scores:
            row.append(Text(", ".join(scores[n - 1].matched_terms)))
        row.append(Text(label, style=style))
        table.add_row(*row)
    return table


def _title(title: str, score: Score | None) -> Text:
    """The title; on a narrow terminal with the matched terms on a line of their own."""
    text = Text(consoles.cell_title(title))
    if score is not None and score.matched_terms:
        text.append("\n↳ " + ", ".join(score.matched_terms), style="magenta")
    return text


def _relevance(value: float, top: float) -> Text:
    """The score, bold green for the top fifth of this listing's range, dim when ~nothing."""
    style = "bold green" if top > 0 and value >= 0.8 * top else "dim" if value < 0.01 else ""
    return Text(f"{value:.2f}", style=style)


def print_search_results(
    papers: Sequence[PaperMeta],
    states: Mapping[str, str | None],
    *,
    empty_message: str = "No papers found.",
    console: Console | None = None,
    scores: Sequence[Score] | None = None,
) -> None:
    con = console or consoles.out
    if not papers:
        consoles.info(f"[dim]{empty_message}[/]")
        return
    con.print(search_table(papers, states, width=con.width, scores=scores))


def print_papers_json(
    papers: Sequence[PaperMeta],
    states: Mapping[str, str | None],
    scores: Sequence[Score] | None = None,
) -> None:
    """One JSON list on stdout, each paper's metadata plus its number and local state, and
    its ``relevance`` (null when the library is empty), ``matched_terms`` and ``similar_to``."""
    rows = [
        {
            "n": n,
            **paper.to_dict(),
            "local": states.get(paper.arxiv_id),
            **(
                scores[n - 1].to_dict()
                if scores
                else {"relevance": None, "matched_terms": [], "similar_to": None}
            ),
        }
        for n, paper in enumerate(papers, 1)
    ]
    consoles.print_json(rows)


def print_fetch_results(results: Sequence[FetchResult], console: Console | None = None) -> None:
    """One line per stored paper on stdout (or ``console``: id, state, PDF path); failures
    in red on stderr. An error shared by several inputs (arXiv unreachable) is said once.
    """
    said: set[int] = set()
    for result in results:
        if result.entry is not None:
            state = "fetched" if result.status == "fetched" else "already in library"
            (console or consoles.out).print(
                f"{result.entry.meta.versioned_id}  [dim]{state}[/]  {result.entry.pdf_path}",
                highlight=False,
                soft_wrap=True,
            )
        elif result.error is not None and id(result.error) not in said:
            said.add(id(result.error))
            consoles.error(result.error.message)


class _Size(DownloadColumn):
    def render(self, task: Task) -> Text:
        return Text("") if task.fields.get("waiting") else super().render(task)


class _Speed(TransferSpeedColumn):
    def render(self, task: Task) -> Text:
        return Text("") if task.fields.get("waiting") else super().render(task)


@contextmanager
def download_progress() -> Iterator[ProgressFn]:
    """A progress callback for ``library.fetch``: bars on stderr when it is a terminal.

    Until the first byte of a PDF arrives (arXiv's metadata is looked up first, politely
    paced), a spinner says what it waits for; then one bar per PDF with size and speed.
    """
    if not consoles.err.is_terminal:
        yield lambda label, done, total: None
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        _Size(),
        _Speed(),
    )
    tasks: dict[str, TaskID] = {}
    with Progress(*columns, console=consoles.err, transient=True) as progress:
        waiting: TaskID | None = progress.add_task("asking arXiv", total=None, waiting=True)

        def update(label: str, done: int, total: int | None) -> None:
            nonlocal waiting
            if waiting is not None:
                progress.remove_task(waiting)
                waiting = None
            if label not in tasks:
                tasks[label] = progress.add_task(label, total=total)
            progress.update(tasks[label], completed=done, total=total)

        yield update
