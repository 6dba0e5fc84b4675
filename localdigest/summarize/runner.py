"""Running papers: one by one, or many at once for a backend that serves calls side by side.

``run(summarizer, items)`` is the one way papers are run (``Summarizer.run`` and the eval
come here). Both ways share what they must agree on: a file given twice under different
names (the same bytes) is summarized once, an input error fails its paper only, and results
come back in input order.

- One by one (the in-process model, or ``in_flight`` 1): each paper in turn, in the
  caller's thread, so Ctrl-C stops the call in progress at once.
- Side by side (``in_flight`` above 1 and a backend that ``supports_concurrency``: a
  server's slots): papers are summarized by a pool of threads (``2 x in_flight`` papers
  open at once, in input order), each exactly as one by one: same plan, same chunks, same
  prompts, same cache keys. Every model call of every open paper goes through one ``Gate``
  of ``in_flight`` slots; a waiting call of an earlier paper goes first, so a paper's reduce
  starts as soon as its notes are done and a slot frees, ahead of later papers' map calls,
  and papers finish roughly in order. A paper's uncached chunks are mapped side by side
  (``PaperCalls.map``); notes that several papers would make with the same key are made
  once (``NoteLocks``). Each paper's stats and warnings come in chunk order, so the output
  is what a one-by-one run writes, whatever order the calls finish in.

A failure that would fail every paper the same way (the server gone after its retries, the
wrong model, the cache) stops the run: no new call starts, the calls in flight are
cancelled, the first error is raised. Ctrl-C does the same and re-raises. Every note
finished before is cached, so the same command resumes.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from localdigest import pdf
from localdigest.errors import InputError
from localdigest.llm import Backend, Generation, GenerationSettings, TokenCallback
from localdigest.papers import PaperFailure, PaperInput, PaperSummary, Result
from localdigest.summarize.calls import BackendLoader, CallContext, NoteLocks
from localdigest.summarize.progress import Reporter
from localdigest.summarize.results import as_given, unreadable

PAPERS_PER_SLOT = 2  # papers open at once per slot: enough to keep every slot busy


class RunStopped(Exception):
    """The run is stopping (an error elsewhere, or Ctrl-C): no new call starts."""


class Gate:
    """At most ``slots`` calls at once; of the waiting calls, the lowest priority goes first."""

    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self.busy = 0
        self.stopped = False
        self._waiting: list[tuple[tuple[int, int], threading.Event]] = []
        self._lock = threading.Lock()

    def acquire(self, priority: tuple[int, int]) -> None:
        with self._lock:
            if self.stopped:
                raise RunStopped
            if self.busy < self.slots and not self._waiting:
                self.busy += 1
                return
            turn = threading.Event()
            heapq.heappush(self._waiting, (priority, turn))
        turn.wait()
        with self._lock:
            if self.stopped:
                raise RunStopped
            # the releasing thread counted this call in already

    def release(self) -> None:
        with self._lock:
            self.busy -= 1
            self._hand_on()

    def _hand_on(self) -> None:
        while self._waiting and self.busy < self.slots:
            _, turn = heapq.heappop(self._waiting)
            self.busy += 1
            turn.set()

    def stop(self) -> None:
        """Refuse every waiting and new call."""
        with self._lock:
            self.stopped = True
            waiting, self._waiting = self._waiting, []
        for _, turn in waiting:
            turn.set()


class GatedBackend:
    """The backend as one paper sees it: each ``complete`` waits for a slot of the gate,
    and the reporter hears of each call starting and finishing."""

    supports_concurrency = True

    def __init__(self, inner: Backend, gate: Gate, paper: int, reporter: Reporter) -> None:
        self.inner = inner
        self.gate = gate
        self.paper = paper
        self.reporter = reporter
        self.name = inner.name
        self.fingerprint = inner.fingerprint
        self.n_ctx = inner.n_ctx
        self.parallel_slots = gate.slots
        self._order = itertools.count()

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def prompt_tokens(self, system: str, user: str) -> int:
        return self.inner.prompt_tokens(system, user)

    def cancel_calls(self) -> None:
        self.inner.cancel_calls()

    def complete(
        self,
        system: str,
        user: str,
        settings: GenerationSettings,
        on_token: TokenCallback | None = None,
    ) -> Generation:
        self.gate.acquire((self.paper, next(self._order)))
        self.reporter.call_started()
        tokens = 0
        try:
            g = self.inner.complete(system, user, settings)
            tokens = g.completion_tokens
            return g
        finally:
            self.gate.release()
            self.reporter.call_finished(tokens)


@dataclass
class Task:
    """One paper to summarize: the file, or the document already extracted (the eval's)."""

    paper: PaperInput
    sha: str | None = None
    document: pdf.Document | None = None


# Summarizes one paper (with the given call context: its own gated backend and the shared
# note locks when side by side); input errors are raised, the runner makes them failures.
SummarizeOne = Callable[[CallContext, Task], PaperSummary]


def run(ctx: CallContext, items: Sequence[Task], summarize: SummarizeOne) -> list[Result]:
    """Summarize ``items`` (see the module's docstring); results in input order."""
    if ctx.in_flight > 1 and ctx.backend.supports_concurrency:
        return _side_by_side(ctx, items, summarize)
    results: list[Result] = []
    done: dict[str, Result] = {}
    for item in items:
        ctx.reporter.paper_start(item.paper)
        result: Result
        try:
            item.sha = _sha(item)
        except OSError as e:
            result = unreadable(item.paper, e)
        else:
            if item.sha in done:
                result = _twin(done[item.sha], item.paper)
            else:
                result = done[item.sha] = _one(ctx, item, summarize)
        ctx.reporter.paper_done(result)
        results.append(result)
    return results


def _sha(item: Task) -> str:
    if item.sha is not None:
        return item.sha
    if item.document is not None:
        return item.document.sha256
    return pdf.file_sha256(item.paper.path)


def _one(ctx: CallContext, item: Task, summarize: SummarizeOne) -> Result:
    """One paper's result: its summary, or the failure of an input error (its paper only)."""
    try:
        return summarize(ctx, item)
    except InputError as e:
        return PaperFailure(item.paper.source, e.message, int(e.exit_code))
    except OSError as e:
        return unreadable(item.paper, e)


def _twin(original: Result, paper: PaperInput) -> Result:
    """The result of a file given twice under different names (the same bytes)."""
    if isinstance(original, PaperSummary):
        return replace(as_given(original, paper), cached=True)
    return PaperFailure(paper.source, original.error, original.exit_code)


def _side_by_side(ctx: CallContext, items: Sequence[Task], summarize: SummarizeOne) -> list[Result]:
    backend = ctx.backend
    reporter = ctx.reporter
    _ = ctx.store.cache  # opened here, once, not by several threads at once
    gate = Gate(ctx.in_flight)
    locks = NoteLocks()
    results: list[Result | None] = [None] * len(items)
    first: dict[str, int] = {}  # sha -> the item that summarizes it
    twins: list[int] = []  # items whose file another item already summarizes
    todo: list[int] = []
    for i, item in enumerate(items):
        try:
            item.sha = _sha(item)
        except OSError as e:
            reporter.paper_start(item.paper)
            results[i] = failed = unreadable(item.paper, e)
            reporter.paper_done(failed)
            continue
        if item.sha in first:
            twins.append(i)
        else:
            first[item.sha] = i
            todo.append(i)

    def one(i: int) -> Result:
        if gate.stopped:
            raise RunStopped
        item = items[i]
        reporter.paper_start(item.paper)
        gated = GatedBackend(backend, gate, i, reporter)
        mine = replace(ctx, load_backend=BackendLoader(lambda: gated), note_locks=locks)
        result = _one(mine, item, summarize)
        reporter.paper_done(result)
        return result

    error: BaseException | None = None
    pool = ThreadPoolExecutor(
        max_workers=max(1, ctx.in_flight * PAPERS_PER_SLOT),
        thread_name_prefix="localdigest-paper",
    )
    try:
        futures: dict[Future[Result], int] = {pool.submit(one, i): i for i in todo}
        pending = set(futures)
        while pending and error is None:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                failure = f.exception()
                if failure is None:
                    results[futures[f]] = f.result()
                elif error is None:
                    error = failure
    except BaseException as e:  # Ctrl-C while waiting
        error = e
    finally:
        if error is not None:
            gate.stop()
            backend.cancel_calls()
        pool.shutdown(wait=True, cancel_futures=True)
    if error is not None:
        raise error
    for i in twins:
        item = items[i]
        reporter.paper_start(item.paper)
        original = results[first[str(item.sha)]]
        assert original is not None
        results[i] = twin = _twin(original, item.paper)
        reporter.paper_done(twin)
    return [r for r in results if r is not None]
