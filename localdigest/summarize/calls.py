"""The model calls of one paper: each through the output guard, notes cached one by one.

A ``PaperCalls`` is made per paper by the ``Summarizer``. It renders the prompt, calls the
backend, runs the output guard (``guard.guarded``), and for notes (the map and the collapse)
caches each result as soon as it is written, so an interrupted run resumes. With a backend
that serves calls side by side (``supports_concurrency``, a server) and a
summarizer allowed several calls at once, the uncached chunks are mapped in threads, each
through the same path, their stats and warnings gathered in chunk order.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from typing import TYPE_CHECKING

from localdigest.cache import NOTES, make_key
from localdigest.llm import Backend, Generation, GenerationSettings
from localdigest.papers import Stats
from localdigest.summarize import guard
from localdigest.summarize.chunking import Chunk
from localdigest.summarize.hygiene import tidy_notes

if TYPE_CHECKING:
    from localdigest.summarize.summarizer import Summarizer


class PaperCalls:
    """Model calls for one paper, counted in ``stats``; the guard's warnings collected."""

    def __init__(
        self, summarizer: Summarizer, stats: Stats, backend: Backend | None = None
    ) -> None:
        self.summarizer = summarizer
        self.stats = stats
        self.warnings: list[str] = []
        self.backend: Backend = backend or summarizer.backend

    # -- keys

    def notes_key(self, prompt_name: str, title: str, body: str, max_tokens: int) -> str:
        s = self.summarizer
        return make_key(
            NOTES,
            model=s.model_fingerprint,
            n_ctx=s.n_ctx,
            prompt=s.prompts.texts[prompt_name],
            system=s.prompts.texts["system"],
            title=title,
            body=body,
            settings=s.options.generation(max_tokens, prompt_name).as_key(),
            guard=guard.NOTES_VERSION if s.options.guard else False,
        )

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
        stats: Stats | None = None,
        judge: guard.Judge | None = None,
    ) -> str:
        """A call whose output goes through the degeneration guard (unless it is off): the
        cleaned text. ``values`` fill the prompt's placeholders. A warning when the guard
        could not fix the output is kept for the summary."""
        s = self.summarizer
        stats = stats if stats is not None else self.stats
        user = s.prompts.render(name, **values)
        system = s.prompts.texts["system"]

        def generate(settings: GenerationSettings) -> Generation:
            g = self.backend.complete(system, user, settings, on_token=s.reporter.tokens)
            stats.add(g)
            return g

        settings = s.options.generation(max_tokens, name)
        if not s.options.guard:
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
        stats.retries += result.attempts - 1
        stats.repairs += result.repaired
        if result.warning:
            self.warnings.append(result.warning)
        return result.text

    def cached_notes(
        self,
        name: str,
        max_tokens: int,
        body_key: str,
        values: Mapping[str, str],
        stats: Stats | None = None,
    ) -> str:
        """A notes-producing call whose result is cached on its own (resume after Ctrl-C)."""
        s = self.summarizer
        stats = stats if stats is not None else self.stats
        key = self.notes_key(name, values.get("title", ""), body_key, max_tokens)
        # Papers summarized side by side make a note they share once (see concurrent).
        locks = s.note_locks
        with locks.lock(key) if locks is not None else contextlib.nullcontext():
            return self._notes(key, name, max_tokens, values, stats)

    def _notes(
        self, key: str, name: str, max_tokens: int, values: Mapping[str, str], stats: Stats
    ) -> str:
        s = self.summarizer
        if not s.refresh:
            hit = s.store.get(key)
            if hit is not None:
                s.reporter.chunk_done(cached=True)
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
            stats=stats,
        )
        warning = self.warnings[-1] if len(self.warnings) > before else None
        s.store.set(key, {"text": text, "warning": warning})
        if name == "map":
            stats.notes_written += 1
        s.reporter.chunk_done(cached=False)
        return text

    def _notes_text(self, name: str, g: Generation) -> str:
        """Notes as kept: tidied; with structured notes, a last line the token limit cut
        off before its text ("- Limitation") is dropped."""
        text = tidy_notes(g.text)
        structured = self.summarizer.options.generation(1, name).grammar is not None
        if structured and g.finish_reason == "length":
            lines = text.splitlines()
            if lines and not re.match(r"^- \w+: \S.*[.!?\"”)]$", lines[-1]):
                text = "\n".join(lines[:-1])
        return text

    # -- the map

    def map(self, title: str, chunks: Sequence[Chunk]) -> list[str]:
        """Notes on each chunk, each cached as soon as it is written (with several calls
        allowed in flight, the uncached chunks side by side)."""
        s = self.summarizer
        s.reporter.chunks_planned(len(chunks))
        calls = []
        for chunk in chunks:
            sections = ", ".join(chunk.headings) or "(untitled)"
            values = {"title": title, "sections": sections, "text": chunk.text}
            calls.append((f"{sections}\n{chunk.text}", values))
        max_tokens = s.options.map_tokens
        todo = [
            i
            for i, (body, values) in enumerate(calls)
            if s.refresh or s.store.get(self.notes_key("map", title, body, max_tokens)) is None
        ]
        if self.backend.supports_concurrency and s.concurrency > 1 and len(todo) > 1:
            return self._map_side_by_side(todo, calls)
        notes = [self.cached_notes("map", max_tokens, body, values) for body, values in calls]
        return [n for n in notes if n.strip()]

    def _map_side_by_side(
        self, todo: list[int], calls: list[tuple[str, dict[str, str]]]
    ) -> list[str]:
        """The map with several calls in flight: each uncached chunk in its own thread
        (its own scratch stats and warnings), then every chunk in paper order as one by
        one would take it: a finished chunk's counts and warnings added, the others (cache
        hits, and chunks equal to an earlier one) read from the cache."""
        s = self.summarizer
        max_tokens = s.options.map_tokens
        keys = [self.notes_key("map", values["title"], body, max_tokens) for body, values in calls]
        first = {keys[i]: i for i in reversed(todo)}  # equal chunks: the first one runs
        run = sorted(first.values())
        done: dict[int, tuple[str, PaperCalls]] = {}

        def one(i: int) -> tuple[str, PaperCalls]:
            sub = PaperCalls(s, Stats(), self.backend)
            body, values = calls[i]
            return sub.cached_notes("map", max_tokens, body, values), sub

        with ThreadPoolExecutor(
            max_workers=min(len(run), s.concurrency), thread_name_prefix="localdigest-map"
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
                self._add(sub.stats)
                self.warnings.extend(sub.warnings)
            else:
                text = self.cached_notes("map", max_tokens, body, values)
            notes.append(text)
        return [n for n in notes if n.strip()]

    def _add(self, stats: Stats) -> None:
        for f in fields(Stats):
            setattr(self.stats, f.name, getattr(self.stats, f.name) + getattr(stats, f.name))
