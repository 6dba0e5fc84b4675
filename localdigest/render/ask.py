"""``ask`` in the terminal: the written answer (when a model wrote one), then each quote
with its paper, section and page, the words that matched the question highlighted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.padding import Padding
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text

from localdigest.papers import Answer, Quote
from localdigest.render import console

if TYPE_CHECKING:
    from localdigest.workflows.ask import ReadProgress

MATCH_STYLE = "bold yellow"


def answer_view(answer: Answer) -> None:
    out = console.out
    if answer.answer:
        title = f"Answer, written by {escape(answer.written_by or 'the model')} from the quotes"
        out.print(Panel(Text(answer.answer), title=title, title_align="left", expand=False))
    if not answer.found:
        out.print(
            f"[bold]Not found:[/] nothing in the {answer.searched} papers searched answers "
            "this question."
        )
    for number, quote in enumerate(answer.quotes, 1):
        out.print(_heading(number, quote))
        out.print(Padding(quote_text(quote), (0, 0, 1, 4), expand=False))
    for note in answer.notes:
        out.print(Text(note, style="dim"))


def _heading(number: int, quote: Quote) -> Text:
    heading = Text(f"{number}. ", style="bold")
    heading.append(quote.citation, style="bold cyan")
    heading.append(f" {quote.title}", style="bold")
    if quote.section:
        heading.append(f" — {quote.section}")
    return heading


def quote_text(quote: Quote) -> Text:
    """The passage with the words that matched the question highlighted."""
    text = Text(quote.text)
    if quote.matched:
        words = "|".join(re.escape(w) for w in sorted(quote.matched, key=len, reverse=True))
        text.highlight_regex(rf"(?<![\w-])(?:{words})(?![\w-])", MATCH_STYLE)
    return text


@contextmanager
def reading_progress() -> Iterator[ReadProgress]:
    """A progress callback for ``AskJob.read``: one bar on stderr when it is a terminal."""
    if not console.err.is_terminal:
        yield lambda label, done, total: None
        return
    columns = (TextColumn("Reading {task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console.err, transient=True) as progress:
        task = progress.add_task("papers", total=None)

        def update(label: str, done: int, total: int) -> None:
            progress.update(task, description=label[:50] or "papers", completed=done, total=total)

        yield update
