"""Ask the papers: a question answered from the passages of the papers read.

``prepare(request)`` checks what can fail fast (the question has words to search for, the
digest asked about exists, the sources, the writing model's header) without reading or
fetching anything. ``AskJob.fetch`` downloads the arXiv papers named that are not in the
library yet; ``AskJob.read`` reads what the index lacks
(the usual PDF extraction, then the passages): on a new or repaired index, every paper
summarized or fetched before; papers fetched since the last question; the papers named;
the papers of the digest asked about. ``AskJob.answer`` searches (``index``) and, with a
model able to write (by size, as ``--mode auto`` decides, or a server's), has it write a
short answer from the passages found, through the guard, each sentence then grounded in
those passages like a summary's in its pages. With a smaller model the quotes are the
answer, and the answer says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from localdigest import pdf
from localdigest.cache import Store, cached_summaries, make_key
from localdigest.config import Paths, RunConfig
from localdigest.errors import InputError, ModelError, UsageError
from localdigest.index import Found, PassageIndex, Query
from localdigest.llm import Generation
from localdigest.papers import (
    Answer,
    Grounding,
    PaperFailure,
    PaperInput,
    Quote,
)
from localdigest.sources import inputs
from localdigest.summarize import PaperCalls, Summarizer, guard, passages
from localdigest.summarize.grounding import PageIndex, SupportJudge, ground
from localdigest.summarize.hygiene import tidy
from localdigest.summarize.results import unreadable
from localdigest.text import visible
from localdigest.workflows.summarize import open_index
from localdigest.workflows.summarize import prepare as prepare_run

if TYPE_CHECKING:
    from localdigest.sources.library import ProgressFn

ANSWER = "answer"  # the cache kind, and the prompt, of written answers
ANSWER_TOKENS = 160
LIBRARY_NOTE = "library"  # the library folder's mtime when its papers were last read
BACKFILL_NOTE = "backfill"  # "pending" on a new or repaired index

ReadProgress = Callable[[str, int, int], None]
"""Reading progress: (the paper, papers read so far, papers to read)."""


@dataclass
class AskRequest:
    question: str
    sources: Sequence[str] = ()  # none: every paper read
    digest: str | None = None  # "latest" or a day: that newsletter issue's papers
    top: int = 3
    piped: bytes | None = None  # standard input: the PDF a "-" among the sources means


@dataclass
class AskJob:
    """A prepared question: what to search, and the model that writes, if one does."""

    request: AskRequest
    cfg: RunConfig  # who answers: its mode and model
    query: Query
    index: PassageIndex
    resolved: inputs.Resolved | None  # the sources named
    digest: list[str] | None  # the sha256 of the digest's papers
    writer: Summarizer | None
    notes: list[str] = field(default_factory=list)
    failures: list[PaperFailure] = field(default_factory=list)
    named: list[PaperInput] | None = None  # the sources, once fetched
    _shas: dict[Path, str] = field(default_factory=dict)
    _backfill: set[Path] = field(default_factory=set)  # files read because the index is new

    def fetch(self, progress: ProgressFn | None = None) -> None:
        """Download the arXiv papers named that the library does not hold yet."""
        if self.resolved is not None and self.named is None:
            client = None
            if self.resolved.to_fetch:  # the HTTP stack: only when arXiv papers are missing
                from localdigest.workflows import arxiv

                client = arxiv.client(self.cfg)
            library = self.cfg.paths.library
            self.named = inputs.fetch(self.resolved, client, library, progress)
            self.failures.extend(self.resolved.failures)

    def _to_read(self) -> list[PaperInput]:
        """Every paper the question needs that the index does not hold yet."""
        self.fetch()
        wanted: list[PaperInput] = []
        backfill = self.index.note(BACKFILL_NOTE) is not None
        paths = self.cfg.paths
        summarized = _summarized(paths) if backfill or self.digest else {}
        for sha, paper in summarized.items():
            self._shas.setdefault(paper.path.resolve(), sha)
        if backfill:
            wanted += [*summarized.values(), *_fetched(self.index, paths, every=True)]
            self._backfill = {p.path.resolve() for p in wanted}
        elif self.index.note(LIBRARY_NOTE) != _library_stamp(paths):
            wanted += _fetched(self.index, paths, every=False)
        wanted += self.named or []
        for sha in self.digest or []:
            if sha in summarized:
                wanted.append(summarized[sha])
            elif not self.index.has(sha):
                self.notes.append(
                    f"A paper of that digest ({sha[:8]}) is no longer in the cache or on "
                    "disk: it was not searched"
                )
        todo: dict[Path, PaperInput] = {}
        for paper in wanted:
            known = self._sha(paper)
            if known is not None and not self.index.has(known):
                todo.setdefault(paper.path.resolve(), paper)
        return list(todo.values())

    def read(self, progress: ReadProgress | None = None) -> None:
        """Read what the index lacks (``_to_read``); a paper that cannot be read fails
        alone."""
        todo = self._to_read()
        for done, paper in enumerate(todo):
            if progress is not None:
                progress(paper.title or paper.path.name, done, len(todo))
            try:
                _read(self.index, paper, self._shas, self.cfg.max_pages)
            except InputError as e:
                self.failures.append(PaperFailure(paper.source, e.message, int(e.exit_code)))
            except OSError as e:
                self.failures.append(unreadable(paper, e))
        if progress is not None and todo:
            progress("", len(todo), len(todo))
        if self.index.repaired:
            self.notes.append(
                f"The passage index was rebuilt ({self.index.repaired}): the papers "
                "summarized or fetched before were read again"
            )
        elif backfilled := sum(p.path.resolve() in self._backfill for p in todo):
            self.notes.append(f"Read {backfilled} papers summarized or fetched before")
        self.index.set_note(BACKFILL_NOTE, None)
        self.index.set_note(LIBRARY_NOTE, _library_stamp(self.cfg.paths))

    def answer(self) -> Answer:
        """The passages that answer, best first, and the model's answer when one writes."""
        within = self._within()
        if within is None and self.index.counts()[0] == 0:
            raise UsageError(
                "No paper has been read yet — summarize or fetch some first, or name them: "
                "localdigest ask QUESTION paper.pdf"
            )
        if within is not None and not within and self.failures:
            raise InputError("None of the papers named could be read — see the errors above")
        found = self.index.search(self.query, self.request.top, within)
        quotes = _quotes(found, self.query) if found.answers else []
        answer = Answer(self.request.question, quotes, searched=found.searched)
        if quotes and self.writer is not None:
            answer = _written(self.writer, answer)
        return Answer(
            answer.question,
            answer.quotes,
            answer.answer,
            answer.written_by,
            answer.searched,
            [*self.notes, *answer.notes],
        )

    def close(self) -> None:
        self.index.close()
        if self.writer is not None:
            self.writer.store.close()

    def _within(self) -> set[str] | None:
        """The sha256 of the papers to search (None: every paper read)."""
        if self.named is None and self.digest is None:
            return None
        shas = {s for p in self.named or [] if (s := self._sha(p)) is not None}
        return shas | set(self.digest or [])

    def _sha(self, paper: PaperInput) -> str | None:
        """The file's sha256 (once per file); None when it cannot be read (it fails)."""
        real = paper.path.resolve()
        if real not in self._shas:
            try:
                self._shas[real] = pdf.file_sha256(paper.path)
            except OSError as e:
                self.failures.append(unreadable(paper, e))
                return None
        return self._shas[real]


def prepare(req: AskRequest, cfg: RunConfig) -> AskJob:
    """Check the request and resolve the writing model; nothing is read or fetched yet."""
    query = passages.query(req.question)
    if not query.terms:
        raise UsageError(
            f"'{visible(req.question)}' has no word to search for — ask about something a "
            "paper would name (a method, a dataset, a result)"
        )
    if req.top < 1:
        raise UsageError(f"--top must be at least 1 (got {req.top})")
    digest = None
    if req.digest is not None:
        from localdigest.workflows.digest import issue_papers

        digest = issue_papers(cfg.paths, req.digest)
    resolved = inputs.resolve(req.sources, cfg.paths.library, req.piped) if req.sources else None
    writer, note = _writer(cfg)
    index = open_index(cfg.paths)
    return AskJob(req, cfg, query, index, resolved, digest, writer, [note] if note else [])


def _writer(cfg: RunConfig) -> tuple[Summarizer | None, str | None]:
    """The model that writes the answer (None: the quotes are the answer) and why none."""
    if cfg.mode == "extract":
        return None, None
    try:
        summarizer = prepare_run([], cfg).summarizer
    except ModelError as e:
        if cfg.mode != "auto":
            raise
        return None, f"No model to write an answer ({e.message}): the quotes are the answer"
    if summarizer.options.mode == "extract":
        return None, (
            f"The quotes are the answer: {summarizer.model.name} is under 1B parameters, too "
            "small to write one (a 1-4B instruction model writes a short answer: "
            "docs/models.md; --mode write makes this one try)"
        )
    return summarizer, None


# ----------------------------------------------------------------------------- reading


def _read(index: PassageIndex, paper: PaperInput, shas: dict[Path, str], max_pages: int) -> None:
    document = pdf.extract(paper.path, max_pages=max_pages or None)
    shas[paper.path.resolve()] = document.sha256
    title = visible(paper.title or document.title or paper.path.stem)
    passages.index_document(index, paper, document, title)


def _summarized(paths: Paths) -> dict[str, PaperInput]:
    """Every paper with a cached summary whose file is still there, by its sha256."""
    store = Store(paths.cache)
    try:
        rows = cached_summaries(store)
    finally:
        store.close()
    found: dict[str, PaperInput] = {}
    for row in rows:
        s = row.summary
        if s.sha256 not in found and s.path and Path(s.path).is_file():
            found[s.sha256] = PaperInput(
                s.source, Path(s.path), s.title, list(s.authors), s.url, s.arxiv_id
            )
    return found


def _fetched(index: PassageIndex, paths: Paths, every: bool) -> list[PaperInput]:
    """The library's papers (``every``) or those of them the index does not hold."""
    from localdigest.sources.library import Library  # only when the library changed

    held = set() if every else {p.arxiv_id for p in index.papers() if p.arxiv_id}
    return [
        inputs.library_paper(e.arxiv_id.base, e)
        for e in Library(paths.library).list_entries()
        if e.arxiv_id.base not in held
    ]


def _library_stamp(paths: Paths) -> str:
    """The library folder's modification time: a paper fetched changes it."""
    try:
        return str(paths.library.stat().st_mtime_ns)
    except OSError:
        return "none"


# ----------------------------------------------------------------------------- answering


def _quotes(found: Found, query: Query) -> list[Quote]:
    return [
        Quote(
            paper=hit.paper.arxiv_id or Path(hit.paper.path).stem,
            title=hit.paper.title,
            section=hit.section,
            pages=hit.pages,
            text=hit.text,
            score=hit.score,
            matched=passages.matched_words(hit.text, query),
        )
        for hit in found.hits
    ]


def _written(writer: Summarizer, answer: Answer) -> Answer:
    """``answer`` with the model's short answer from its quotes: checked by the guard,
    every sentence then cited by the quotes that support it, or marked [?]."""
    quotes = answer.quotes
    shown = "\n\n".join(
        f"[{i}] {q.title} — {q.section}, {q.citation}\n{q.text}" for i, q in enumerate(quotes, 1)
    )
    values = {"question": answer.question, "passages": shown}
    pages = PageIndex({i: q.text for i, q in enumerate(quotes, 1)})
    ctx = writer  # the writer is the call context of its model
    key = make_key(
        ANSWER,
        model=ctx.model.fingerprint,
        n_ctx=ctx.model.n_ctx,
        prompt=ctx.prompts.texts[ANSWER],
        system=ctx.prompts.texts["system"],
        settings=ctx.options.generation(ANSWER_TOKENS, ANSWER).as_key(),
        guard=guard.VERSION if ctx.options.guard else False,
        **values,
    )
    hit = ctx.store.get(key)
    if hit is not None:
        text, warnings = str(hit["text"]), [str(w) for w in hit.get("warnings", [])]
    else:
        calls = PaperCalls(ctx)

        def clean(g: Generation) -> str:
            return tidy(g.text, cut_short=g.finish_reason == "length")

        text = calls.guarded(ANSWER, ANSWER_TOKENS, shown, clean, values, judge=SupportJudge(pages))
        warnings = calls.warnings
        ctx.store.set(key, {"text": text, "warnings": warnings})
    grounded = ground(text, "", pages)
    sentences = [g for g in grounded.grounding if g.part == "summary"]
    unsupported = sum(not g.supported for g in sentences)
    if unsupported == len(sentences):  # nothing of it is in the quotes (or it is empty)
        notes = [f"{ctx.model.name}'s answer is not in the quotes: the quotes are the answer"]
        return Answer(answer.question, quotes, searched=answer.searched, notes=notes)
    if unsupported:
        warnings.append(
            f"answer: {unsupported} of {len(sentences)} sentences found in no quote (marked "
            "[?]) — read them with care"
        )
    cited = " ".join(f"{g.sentence} {_cite(g, quotes)}" for g in sentences)
    return Answer(answer.question, quotes, cited, ctx.model.name, answer.searched, warnings)


def _cite(grounding: Grounding, quotes: Sequence[Quote]) -> str:
    """The quotes that support a sentence of the answer (their numbers are its pages)."""
    if not grounding.supported:
        return "[?]"
    return " ".join(quotes[i - 1].citation for i in grounding.pages)
