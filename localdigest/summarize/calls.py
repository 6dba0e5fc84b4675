"""The model calls of one paper: each through the output guard, notes cached one by one.

A ``PaperCalls`` is made per paper from an explicit ``CallContext`` (the backend, the
prompts and options, the store, the reporter): it renders the prompt, calls the backend,
runs the output guard (``guard.guarded``), and for notes (the map and the collapse) caches
each result as soon as it is written, so an interrupted run resumes. With a backend that
serves calls side by side (``supports_concurrency``, a server) and more than one call
allowed in flight, the uncached chunks are mapped in threads, each through the same path,
their stats and warnings gathered in chunk order.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING

from localdigest.cache import NOTES, Store, make_key
from localdigest.llm import Backend, Generation, GenerationSettings
from localdigest.llm.chat import strip_thinking
from localdigest.papers import Stats
from localdigest.summarize import guard
from localdigest.summarize.chunking import Chunk
from localdigest.summarize.hygiene import tidy, tidy_notes
from localdigest.summarize.options import Options
from localdigest.summarize.progress import NullReporter, Reporter
from localdigest.summarize.prompts import Prompts

if TYPE_CHECKING:
    from localdigest.summarize.rates import RateLog


@dataclass(frozen=True)
class ModelRef:
    """The model as the cache keys and the results name it, known before it is loaded."""

    name: str
    fingerprint: str
    n_ctx: int
    threads: int = 0  # the in-process model's threads (0: a server's, not known here)
    gpu_layers: int = 0


class BackendLoader:
    """The backend, made on first need and then shared (a cached rerun never loads the
    model); thread-safe."""

    def __init__(self, factory: Callable[[], Backend]) -> None:
        self._factory = factory
        self._backend: Backend | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Backend:
        with self._lock:
            if self._backend is None:
                self._backend = self._factory()
            return self._backend


class NoteLocks:
    """One lock per notes key: a note several papers need at once is made once."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())


@dataclass(frozen=True)
class CallContext:
    """Everything a paper's model calls need, handed in (nothing is read from elsewhere)."""

    store: Store
    prompts: Prompts
    options: Options
    model: ModelRef
    load_backend: BackendLoader
    reporter: Reporter = field(default_factory=NullReporter)
    refresh: bool = False  # compute again, ignoring the cache (and overwriting it)
    in_flight: int = 1  # model calls allowed at once (above 1: a server's slots)
    note_locks: NoteLocks | None = None  # set when papers run side by side
    # The model's rates (summarize/estimate.py): the run's estimates, and what its calls teach.
    rates: RateLog | None = None

    @property
    def backend(self) -> Backend:
        return self.load_backend()


def map_call(title: str, chunk: Chunk) -> tuple[str, dict[str, str]]:
    """The map call of ``chunk``: what its notes' key holds, and the prompt's values."""
    sections = ", ".join(chunk.headings) or "(untitled)"
    return f"{sections}\n{chunk.text}", {"title": title, "sections": sections, "text": chunk.text}


class PaperCalls:
    """Model calls for one paper, counted in ``stats``; the guard's warnings collected."""

    def __init__(self, ctx: CallContext, stats: Stats | None = None) -> None:
        self.ctx = ctx
        self.stats = stats if stats is not None else Stats()
        self.warnings: list[str] = []

    @property
    def backend(self) -> Backend:
        return self.ctx.backend

    # -- keys

    def notes_key(self, prompt_name: str, title: str, body: str, max_tokens: int) -> str:
        ctx = self.ctx
        return make_key(
            NOTES,
            model=ctx.model.fingerprint,
            n_ctx=ctx.model.n_ctx,
            prompt=ctx.prompts.texts[prompt_name],
            system=ctx.prompts.texts["system"],
            title=title,
            body=body,
            settings=ctx.options.generation(max_tokens, prompt_name).as_key(),
            guard=guard.NOTES_VERSION if ctx.options.guard else False,
        )

    def has_notes(self, key: str) -> bool:
        """Whether the notes of ``key`` will be taken from the cache."""
        return not self.ctx.refresh and self.ctx.store.get(key) is not None

    def map_to_do(self, title: str, chunk: Chunk) -> bool:
        """Whether ``chunk``'s notes are still to be written (not cached)."""
        body, _ = map_call(title, chunk)
        return not self.has_notes(self.notes_key("map", title, body, self.ctx.options.map_tokens))

    # -- one call

    def guarded(
        self,
        name: str,
        max_tokens: int,
        source: str,
        clean: Callable[[Generation], str],
        values: Mapping[str, str],
        *,
        check_numbers: bool = True,
        min_words: int = 0,
        judge: guard.Judge | None = None,
    ) -> str:
        """A call whose output goes through the degeneration guard (unless it is off): the
        cleaned text. ``values`` fill the prompt's placeholders. A warning when the guard
        could not fix the output is kept for the summary."""
        ctx = self.ctx
        user = ctx.prompts.render(name, **values)
        system = ctx.prompts.texts["system"]

        made: list[Generation] = []

        def generate(settings: GenerationSettings) -> Generation:
            g = self._complete(system, user, settings)
            self.stats.add(g)
            made.append(g)
            return g

        settings = ctx.options.generation(max_tokens, name)
        try:
            if not ctx.options.guard:
                return clean(generate(settings))
            result = guard.guarded(
                generate,
                settings,
                source,
                label=name,
                clean=clean,
                check_numbers=check_numbers,
                min_words=min_words,
                judge=judge,
            )
        finally:
            if ctx.rates is not None and made:  # what this kind of call generates, retries too
                ctx.rates.call(name, made)
        self.stats.retries += result.attempts - 1
        self.stats.repairs += result.repaired
        if result.warning:
            self.warnings.append(result.warning)
        return result.text

    def _complete(self, system: str, user: str, settings: GenerationSettings) -> Generation:
        """One call of the backend; a thinking model's ``<think>`` blocks never leave it
        (whichever backend: a server may return them inside the text)."""
        g = self.backend.complete(system, user, settings, on_token=self.ctx.reporter.tokens)
        text = strip_thinking(g.text)
        return g if text == g.text else replace(g, text=text)

    def complete_once(
        self, kind: str, prompt_name: str, max_tokens: int, **values: str
    ) -> tuple[str, float]:
        """One cached call of a prompt, without the guard (the eval's "stuff" baseline):
        the tidied text and the seconds the call took."""
        ctx = self.ctx
        settings = ctx.options.generation(max_tokens)
        key = make_key(
            kind,
            step=prompt_name,
            model=ctx.model.fingerprint,
            n_ctx=ctx.model.n_ctx,
            prompt=ctx.prompts.texts[prompt_name],
            system=ctx.prompts.texts["system"],
            settings=settings.as_key(),
            **values,
        )
        if not ctx.refresh and (hit := ctx.store.get(key)) is not None:
            return str(hit["text"]), float(hit["seconds"])
        user = ctx.prompts.render(prompt_name, **values)
        g = self._complete(ctx.prompts.texts["system"], user, settings)
        out = tidy(g.text, cut_short=g.finish_reason == "length")
        ctx.store.set(key, {"text": out, "seconds": g.seconds})
        return out, g.seconds

    def cached_notes(
        self, name: str, max_tokens: int, body_key: str, values: Mapping[str, str]
    ) -> str:
        """A notes-producing call whose result is cached on its own (resume after Ctrl-C)."""
        key = self.notes_key(name, values.get("title", ""), body_key, max_tokens)
        # Papers summarized side by side make a note they share once (see runner).
        locks = self.ctx.note_locks
        with locks.lock(key) if locks is not None else contextlib.nullcontext():
            return self._notes(key, name, max_tokens, values)

    def _notes(self, key: str, name: str, max_tokens: int, values: Mapping[str, str]) -> str:
        ctx = self.ctx
        if not ctx.refresh:
            hit = ctx.store.get(key)
            if hit is not None:
                ctx.reporter.chunk_done(cached=True)
                if hit.get("warning"):
                    self.warnings.append(str(hit["warning"]))
                return str(hit["text"])
        source = values.get("text") or values.get("notes") or ""
        before = len(self.warnings)
        text = self.guarded(
            name,
            max_tokens,
            source,
            lambda g: self._notes_text(name, g),
            values,
            check_numbers=False,  # notes: the summary's numbers are checked against them later
        )
        warning = self.warnings[-1] if len(self.warnings) > before else None
        ctx.store.set(key, {"text": text, "warning": warning})
        if name == "map":
            self.stats.notes_written += 1
        ctx.reporter.chunk_done(cached=False)
        return text

    def _notes_text(self, name: str, g: Generation) -> str:
        """Notes as kept: tidied; with structured notes, a last line the token limit cut
        off before its text ("- Limitation") is dropped."""
        text = tidy_notes(g.text)
        structured = self.ctx.options.generation(1, name).grammar is not None
        if structured and g.finish_reason == "length":
            lines = text.splitlines()
            if lines and not re.match(r"^- \w+: \S.*[.!?\"”)]$", lines[-1]):
                text = "\n".join(lines[:-1])
        return text

    # -- the map

    def map(self, title: str, chunks: Sequence[Chunk]) -> list[str]:
        """Notes on each chunk, each cached as soon as it is written (with several calls
        allowed in flight, the uncached chunks side by side)."""
        t = time.perf_counter()
        try:
            return self._map(title, chunks)
        finally:
            self.stats.map_seconds += time.perf_counter() - t

    def _map(self, title: str, chunks: Sequence[Chunk]) -> list[str]:
        ctx = self.ctx
        ctx.reporter.chunks_planned(len(chunks))
        calls = [map_call(title, chunk) for chunk in chunks]
        max_tokens = ctx.options.map_tokens
        keys = [self.notes_key("map", title, body, max_tokens) for body, _ in calls]
        todo = [i for i, key in enumerate(keys) if not self.has_notes(key)]
        if ctx.in_flight > 1 and self.backend.supports_concurrency and len(todo) > 1:
            return self._map_side_by_side(todo, keys, calls)
        notes = [self.cached_notes("map", max_tokens, body, values) for body, values in calls]
        return [n for n in notes if n.strip()]

    def _map_side_by_side(
        self, todo: list[int], keys: list[str], calls: list[tuple[str, dict[str, str]]]
    ) -> list[str]:
        """The map with several calls in flight: each uncached chunk in its own thread
        (its own scratch stats and warnings), then every chunk in paper order as one by
        one would take it: a finished chunk's counts and warnings added, the others (cache
        hits, and chunks equal to an earlier one) read from the cache."""
        max_tokens = self.ctx.options.map_tokens
        first = {keys[i]: i for i in reversed(todo)}  # equal chunks: the first one runs
        run = sorted(first.values())
        done: dict[int, tuple[str, PaperCalls]] = {}

        def one(i: int) -> tuple[str, PaperCalls]:
            sub = PaperCalls(self.ctx)
            body, values = calls[i]
            return sub.cached_notes("map", max_tokens, body, values), sub

        with ThreadPoolExecutor(
            max_workers=min(len(run), self.ctx.in_flight), thread_name_prefix="localdigest-map"
        ) as pool:
            futures = {i: pool.submit(one, i) for i in run}
            try:
                for i in run:
                    done[i] = futures[i].result()
            except BaseException as e:
                for f in futures.values():
                    f.cancel()  # the chunks not started yet
                if not isinstance(e, Exception):
                    self.backend.cancel_calls()  # Ctrl-C: the calls in flight too
                raise
        notes = []
        for i, (body, values) in enumerate(calls):
            if i in done:
                text, sub = done[i]
                for stat in fields(Stats):
                    name = stat.name
                    setattr(self.stats, name, getattr(self.stats, name) + getattr(sub.stats, name))
                self.warnings.extend(sub.warnings)
            else:
                text = self.cached_notes("map", max_tokens, body, values)
            notes.append(text)
        return [n for n in notes if n.strip()]
