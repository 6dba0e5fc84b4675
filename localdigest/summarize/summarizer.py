"""The summarizer: composes the stages for each paper and caches the result. Never prints.

For each paper: look up the finished summary in the cache (no model, no PDF parsing on a
hit), else extract the text (``pdf``), cut it into passages for ``ask`` when the run keeps
an index (``passages``), plan what to read (``plan``), write the draft the
mode asks for (``write.WRITERS``: map-reduce, extract or rewrite), ground every sentence in
the paper's pages (``grounding.ground``), and store the ``PaperSummary``.

A ``Summarizer`` is the run's ``CallContext`` (store, prompts, options, model, backend
loader, reporter) with the steps on top; another configuration is ``using(...)`` (the same
loaded model when the loader is kept).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from localdigest import pdf
from localdigest.cache import SUMMARY, make_key
from localdigest.errors import InputError
from localdigest.index import PassageIndex
from localdigest.papers import PaperInput, PaperSummary, Result, Stats
from localdigest.sources.local import display_path
from localdigest.summarize import runner
from localdigest.summarize.calls import CallContext, PaperCalls
from localdigest.summarize.estimate import planned_calls
from localdigest.summarize.grounding import ground
from localdigest.summarize.passages import index_document
from localdigest.summarize.plan import PaperPlan, plan
from localdigest.summarize.results import as_given
from localdigest.summarize.write import WRITERS
from localdigest.text import visible

SUMMARY_SCHEMA = 1


@dataclass(frozen=True)
class Summarizer(CallContext):
    """Summarizes papers with one backend, loaded on first need and reused for every call.
    With an ``index``, every paper it reads is also cut into passages there (``ask``)."""

    index: PassageIndex | None = None
    # Documents the run's estimate already extracted (sha -> document, seconds it took)
    extracted: dict[str, tuple[pdf.Document, float]] = field(default_factory=dict)

    def using(self, **changes: Any) -> Summarizer:
        """The same summarizer with other fields (reporter, refresh, backend loader...)."""
        return replace(self, **changes)

    def summary_key(self, sha256: str, withheld: str | None = None) -> str:
        return make_key(
            SUMMARY,
            schema=SUMMARY_SCHEMA,
            pdf=sha256,
            extractor=pdf.EXTRACTOR_VERSION,
            model=self.model.fingerprint,
            n_ctx=self.model.n_ctx,
            prompts=self.prompts.fingerprint,
            options=self.options.as_key(withheld),
        )

    def run(self, items: Sequence[PaperInput | runner.Task]) -> list[Result]:
        """Summarize each paper (see ``runner``): a failed paper becomes a PaperFailure,
        the rest go on. Only input errors are per paper; anything that would fail every
        paper the same way (the model, the context size, the cache) and KeyboardInterrupt
        stop the run."""
        listed = [i if isinstance(i, runner.Task) else runner.Task(i) for i in items]
        if self.rates is not None and self.options.mode != "extract":
            self.estimate_run(listed)
        return runner.run(self, listed, _summarize_item)

    def estimate_run(self, items: Sequence[runner.Task]) -> None:
        """Extract and plan every paper not cached yet (kept for its run) and report the
        expected seconds of them all. A model with no rates yet has no ETA until its first
        calls are timed (no extra call is made to time it)."""
        assert self.rates is not None
        if not self.rates.known.known:
            return
        todo: list[PaperPlan] = []
        for item in items:
            try:
                sha = item.sha = item.sha or pdf.file_sha256(item.paper.path)
                if not self.refresh and self.store.get(self.summary_key(sha)) is not None:
                    continue
                t = time.perf_counter()
                doc = self._extract(item.paper)
            except (InputError, OSError):
                continue  # the run fails this paper and says why
            self.extracted[sha] = (doc, time.perf_counter() - t)
            todo.append(self.plan(doc, _title(item.paper, doc)))
        if not todo:
            return
        seconds = sum(self.expected_seconds(p) for p in todo) / max(1, self.in_flight)
        self.reporter.run_estimated(len(todo), seconds)

    def _extract(self, paper: PaperInput) -> pdf.Document:
        options = self.options
        return pdf.extract(paper.path, password=options.password, max_pages=options.max_pages)

    def expected_seconds(self, planned: PaperPlan) -> float:
        """The seconds ``planned`` is expected to take at the rates known so far (this run's
        calls included); 0 while none are."""
        if self.rates is None:
            return 0.0
        notes = PaperCalls(self)
        calls = planned_calls(
            planned,
            self.options,
            self.prompts,
            self.backend,
            lambda c: notes.map_to_do(planned.title, c),
        )
        return self.rates.current().seconds(calls, planned.document.pages) if calls else 0.0

    def plan(self, document: pdf.Document, title: str) -> PaperPlan:
        """What the model would read of ``document`` (no model call; the tokenizer loads)."""
        return plan(document, title, self.options, self.prompts, self.backend)

    def summarize(
        self, paper: PaperInput, sha: str | None = None, *, document: pdf.Document | None = None
    ) -> PaperSummary:
        """One paper's summary, from the cache or computed. ``document``: the paper already
        extracted (the eval hands in one with its abstract withheld)."""
        started = time.perf_counter()
        sha = sha or (document.sha256 if document is not None else pdf.file_sha256(paper.path))
        key = self.summary_key(sha, document.withheld if document is not None else None)
        if not self.refresh:
            hit = self.store.get(key)
            if hit is not None:
                cached = PaperSummary.from_dict(hit)
                summary = as_given(cached, paper)
                if summary.arxiv_id and not cached.arxiv_id:
                    # First summarized as a local file: remember the arXiv metadata now known.
                    self.store.set(key, {"schema": SUMMARY_SCHEMA, **summary.to_dict()})
                return replace(summary, cached=True)

        t = time.perf_counter()
        doc, extracted = document, 0.0
        if doc is None and sha in self.extracted:
            doc, extracted = self.extracted.pop(sha)
            started -= extracted  # the estimate's extraction was this paper's
        if doc is None:
            doc = self._extract(paper)
        stats = Stats(extract_seconds=time.perf_counter() - t + extracted)
        stats.threads = self.model.threads
        # A title is shown and stored everywhere: control characters and the bytes of a
        # file name that is not UTF-8 are escapes from here on.
        title = _title(paper, doc)
        if self.index is not None and document is None:  # not the eval's withheld text
            index_document(self.index, paper, doc, title)
        planned = self.plan(doc, title)
        if not any(s.text.strip() for s in planned.mapped):  # nothing to map or extract
            kinds = sorted({s.kind for s in doc.sections}) or ["nothing"]
            raise InputError(
                f"'{title}' has no text to summarize (the PDF holds {', '.join(kinds)}) "
                "— check that it is the paper itself"
            )
        if self.rates is not None:  # the in-process model: an ETA
            stats.estimated_seconds = round(self.expected_seconds(planned), 2)
            self.reporter.paper_estimated(stats.estimated_seconds)
        calls = PaperCalls(self, stats)
        stats.chunks = len(planned.chunks)
        stats.text_tokens = self.backend.count_tokens(doc.text)
        t = time.perf_counter()
        draft = WRITERS[self.options.mode](planned, calls)
        grounded = ground(draft.summary, draft.tldr, planned.pages)
        if grounded.warning:
            calls.warnings.append(grounded.warning)
        stats.reduce_seconds = time.perf_counter() - t - stats.map_seconds
        stats.map_seconds += planned.seconds
        stats.seconds = time.perf_counter() - started
        if self.rates is not None and stats.llm_calls:
            in_calls = stats.prompt_seconds + stats.decode_seconds
            self.rates.paper(stats.seconds - in_calls, doc.pages)
        stats.pages_read = doc.pages
        if self.options.max_pages is not None:
            stats.pages_read = min(doc.pages, self.options.max_pages)
        read = planned.reading
        anchored = [s.heading for s in read.sections if s not in planned.mapped and s.heading]
        result = PaperSummary(
            source=paper.source,
            path=display_path(paper.path.resolve()),
            sha256=sha,
            title=title,
            pages=doc.pages,
            model=self.model.name,
            tldr=draft.tldr,
            summary=grounded.summary,
            key=key,
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            authors=list(paper.authors),
            url=paper.url,
            arxiv_id=paper.arxiv_id,
            abstract=doc.abstract,
            sections_read=[*anchored, *draft.headings],
            sections_skipped=[  # an untitled part (the title block) is no section to name
                *(s.heading for s in doc.skipped(self.options.include_appendix) if s.heading),
                *(h for h in read.skipped if h),
            ],
            sections_shortened=[h for h in read.shortened if h],
            warnings=[*doc.warnings, *calls.warnings],
            stats=stats,
            mode=self.options.mode,
            grounding=grounded.grounding,
            roles=draft.roles if grounded.summary == draft.summary else [],
        )
        self.store.set(key, {"schema": SUMMARY_SCHEMA, **result.to_dict()})
        return result


def _title(paper: PaperInput, doc: pdf.Document) -> str:
    return visible(paper.title or doc.title or paper.path.stem)


def _summarize_item(ctx: CallContext, item: runner.Task) -> PaperSummary:
    assert isinstance(ctx, Summarizer)  # the runner hands back the context it was given
    return ctx.summarize(item.paper, item.sha, document=item.document)
