"""Rich views of summaries: the results table, each summary in full, live progress.

What ``summarize`` and ``show`` print goes through ``paged``: on a terminal, output taller
than the window opens in a pager (``$PAGER``, else ``less``); into a pipe or a file it is
plain text.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Sequence

from rich.console import RenderableType
from rich.markup import escape
from rich.pager import Pager
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from localdigest.cache import CachedSummary
from localdigest.papers import PaperFailure, PaperInput, PaperSummary
from localdigest.publish.formats import labelled, with_pages
from localdigest.render.console import cell_title, err, out


def _seconds(s: float) -> str:
    return f"{s:.1f}s" if s < 60 else f"{int(s // 60)}m{int(s % 60):02d}s"


def results_table(results: Sequence[PaperSummary | PaperFailure]) -> None:
    out.print(_results_table(results))


def results_view(
    results: Sequence[PaperSummary | PaperFailure], *, brief: bool = False, pager: bool = True
) -> None:
    """The results table, then (unless ``brief``) each summary in full, paged if long."""
    parts: list[RenderableType] = [_results_table(results)]
    if not brief:
        parts += [summary_block(r) for r in results if isinstance(r, PaperSummary)]
    paged(parts, pager=pager)


def summaries_view(summaries: Sequence[PaperSummary], *, pager: bool = True) -> None:
    """Each summary in full, paged if long."""
    paged([summary_block(s) for s in summaries], pager=pager)


def _results_table(results: Sequence[PaperSummary | PaperFailure]) -> Table:
    table = Table(title="localdigest", show_lines=True, expand=True)
    table.add_column("Title", ratio=3, overflow="fold")
    table.add_column("Pages", justify="right", no_wrap=True)
    table.add_column("Chunks", justify="right", no_wrap=True)
    table.add_column("Time", justify="right", no_wrap=True)
    table.add_column("TL;DR", ratio=5, overflow="fold")
    for r in results:
        if isinstance(r, PaperFailure):
            table.add_row(escape(r.source), "", "", "", f"[red]failed:[/] {escape(r.error)}")
            continue
        when = "cached" if r.cached else _seconds(r.stats.seconds)
        tldr = escape(r.tldr)
        share = r.supported_share
        if share is not None:
            n = len(r.grounded("summary"))
            traced = round(share * n)
            style = "green" if traced == n else "yellow"
            tldr += f"\n[{style}]{traced} of {n} summary sentences traced to pages[/]"
        if r.warnings:
            tldr += "\n[yellow]" + escape("; ".join(r.warnings)) + "[/]"
        chunks = str(r.stats.chunks) if r.mode in ("", "write") else "—"  # extract: no map
        table.add_row(escape(cell_title(r.title)), str(r.pages), chunks, when, tldr)
    return table


def summary_block(r: PaperSummary) -> Panel:
    """One paper in full: TL;DR, the summary paragraphs with the pages of each sentence,
    where it came from, what was read."""
    body = "\n\n".join(
        (f"[bold]{escape(label)}:[/] " if label else "") + escape(" ".join(p.split()))
        for label, p in labelled(r)
    )
    body = body or "(no summary)"
    lines = [f"[bold]TL;DR:[/] {escape(with_pages(r, 'tldr'))}", "", body, ""]
    if r.authors:
        lines.append(f"[dim]Authors:[/] {escape(', '.join(r.authors))}")
    lines.append(f"[dim]Source:[/] {escape(r.url or r.path)}")
    s = r.stats
    lines.append(
        f"[dim]{escape(r.credit[:1].upper() + r.credit[1:])} · {r.pages} pages · "
        f"{s.chunks} chunks · "
        f"{s.llm_calls} model calls · {s.input_tokens} tokens in, {s.output_tokens} out · "
        f"{_seconds(s.seconds)} · {r.created}[/]"
    )
    if r.sections_read:
        lines.append(f"[dim]Read: {escape(', '.join(dict.fromkeys(r.sections_read)))}[/]")
    if r.sections_shortened:
        shortened = ", ".join(r.sections_shortened)
        lines.append(f"[dim]Read in part (leading paragraphs): {escape(shortened)}[/]")
    if r.sections_skipped:
        lines.append(f"[dim]Skipped: {escape(', '.join(r.sections_skipped))}[/]")
    if r.warnings:
        lines.append(f"[yellow]{escape('; '.join(r.warnings))}[/]")
    title = f"[bold]{escape(r.title)}[/]"
    return Panel("\n".join(lines), title=title, title_align="left", padding=(0, 1))


class _SystemPager(Pager):
    """``$PAGER`` (else ``less``), fed the rendered text. ``less`` gets ``-FRX`` unless
    ``LESS`` is set: colours kept, the screen not cleared, and it quits by itself when the
    text fits after all (the window was resized)."""

    def __init__(self, command: str) -> None:
        self.command = command

    def show(self, content: str) -> None:
        env = dict(os.environ)
        env.setdefault("LESS", "-FRX")
        try:
            subprocess.run(self.command, shell=True, input=content, text=True, env=env)
        except KeyboardInterrupt:  # the pager handles Ctrl-C itself; leave quietly
            pass
        except OSError:
            out.file.write(content)


def pager_command() -> str | None:
    """What pages long output: ``$PAGER`` (empty or ``cat``: none), else ``less``."""
    configured = os.environ.get("PAGER")
    if configured is not None:
        return None if configured.strip() in ("", "cat") else configured
    return "less" if shutil.which("less") else None


def paged(parts: Sequence[RenderableType], *, pager: bool = True) -> None:
    """Print ``parts``; on a terminal, through the pager when they don't fit the window."""
    command = pager_command() if pager and out.is_terminal else None
    if command is not None:
        height = sum(len(out.render_lines(p, out.options, pad=False)) for p in parts)
        if height + 1 > out.size.height:
            is_less = shlex.split(command)[0].endswith("less")
            styles = is_less and "R" in os.environ.get("LESS", "-FRX")
            with out.pager(_SystemPager(command), styles=styles):
                for part in parts:
                    out.print(part)
            return
    for part in parts:
        out.print(part)


def cached_list(rows: Sequence[CachedSummary]) -> None:
    table = Table(title="Cached summaries", expand=True)
    table.add_column("Key", no_wrap=True)
    table.add_column("Title", ratio=3, overflow="fold")
    table.add_column("Model", overflow="fold")
    table.add_column("Created", no_wrap=True)
    table.add_column("TL;DR", ratio=4, overflow="fold")
    for row in rows:
        s = row.summary
        table.add_row(
            row.short,
            escape(cell_title(s.title)),
            escape(s.model),
            s.created[:16].replace("T", " "),
            escape(s.tldr),
        )
    out.print(table)


def duration(seconds: float) -> str:
    """A rough duration: "40 s", "6 min", "1 h 20 min"."""
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


class TimeLeft(ProgressColumn):
    """The papers bar's time left: the run's estimate less the estimates of the papers
    done, less the time the current paper has run (up to its own estimate)."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0.0
        self.finished = 0.0
        self.current = 0.0
        self.since = 0.0
        self.task: int | None = None
        self._lock = threading.Lock()

    def start(self, seconds: float, task: int) -> None:
        self.total, self.task = seconds, task

    def paper(self, seconds: float) -> None:
        with self._lock:
            self.current, self.since = seconds, time.monotonic()

    def done(self, estimated: float) -> None:
        with self._lock:
            self.finished += estimated
            self.current = 0.0

    def seconds_left(self) -> float:
        with self._lock:
            running = min(time.monotonic() - self.since, self.current) if self.current else 0.0
            return max(0.0, self.total - self.finished - running)

    def render(self, task: Task) -> Text:
        if task.id != self.task or not self.total:
            return Text("")
        return Text(f"~{duration(self.seconds_left())} left", style="progress.remaining")


class RichReporter:
    """Progress bars on stderr: papers, the current paper's chunks, live tokens/s.

    With ``parallel`` above 1 (calls of several papers in flight, from several threads) the
    bars are the run's: papers done (and open), every open paper's chunks, the calls in
    flight and the tokens per second of all calls together.
    """

    def __init__(self, total: int, parallel: int = 1) -> None:
        self.left = TimeLeft()
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            self.left,
            TextColumn("{task.fields[rate]}"),
            console=err,
            transient=True,
        )
        self.parallel = parallel
        self.papers = self.progress.add_task("papers", total=total, rate="")
        self.chunks = self.progress.add_task("chunks", total=None, rate="", visible=False)
        # the many-calls view (parallel > 1)
        self._lock = threading.Lock()
        self._open = 0
        self._planned = 0
        self._in_flight = 0
        self._generated = 0
        self._started: float | None = None

    def __enter__(self) -> RichReporter:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def run_estimated(self, papers: int, seconds: float) -> None:
        if seconds <= 0:
            return
        self.left.start(seconds, self.papers)
        what = "paper" if papers == 1 else "papers"
        self.progress.console.print(
            f"[dim]About {duration(seconds)} for {papers} {what} (from this model's "
            "measured speed)[/]"
        )

    def paper_estimated(self, seconds: float) -> None:
        if self.parallel == 1:
            self.left.paper(seconds)

    def paper_start(self, paper: PaperInput) -> None:
        if self.parallel > 1:
            with self._lock:
                self._open += 1
                self._show_papers()
            return
        name = paper.title or paper.path.name
        self.progress.update(self.papers, description=f"[bold]{escape(name[:50])}")
        self.progress.reset(self.chunks, total=None, visible=False, rate="")

    def chunks_planned(self, total: int) -> None:
        if self.parallel > 1:
            with self._lock:
                self._planned += total
                self.progress.update(
                    self.chunks, total=self._planned, visible=True, description="  chunks"
                )
            return
        self.progress.reset(self.chunks, total=total, visible=True, description="  chunks")

    def chunk_done(self, cached: bool) -> None:
        self.progress.advance(self.chunks)

    def tokens(self, count: int, seconds: float) -> None:
        if seconds > 0 and count % 4 == 0:
            self.progress.update(self.chunks, rate=f"{count / seconds:.0f} tok/s")

    def call_started(self) -> None:
        with self._lock:
            if self._started is None:
                self._started = time.monotonic()
            self._in_flight += 1
            self._show_calls()

    def call_finished(self, tokens: int) -> None:
        with self._lock:
            self._in_flight -= 1
            self._generated += tokens
            self._show_calls()

    def paper_done(self, result: PaperSummary | PaperFailure) -> None:
        if isinstance(result, PaperSummary) and not result.cached:
            self.left.done(result.stats.estimated_seconds)
        if self.parallel > 1:
            with self._lock:
                self._open -= 1
                self._show_papers()
        self.progress.advance(self.papers)

    def _show_papers(self) -> None:
        self.progress.update(self.papers, description=f"[bold]papers[/] ({self._open} open)")

    def _show_calls(self) -> None:
        rate = ""
        if self._started is not None and self._generated:
            elapsed = time.monotonic() - self._started
            rate = f" · {self._generated / max(elapsed, 1e-3):.0f} tok/s overall"
        self.progress.update(
            self.chunks, rate=f"calls {self._in_flight}/{self.parallel} in flight{rate}"
        )
