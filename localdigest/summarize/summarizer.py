"""Map-reduce summarization of papers. Returns data; never prints.

For each paper: look up the finished summary in the cache (no model, no PDF parsing on a
hit), else extract the text, plan what to read, chunk it in model tokens, summarize each
chunk (the map, each note cached as soon as it is made so an interrupted run resumes),
merge the notes into one paragraph (the reduce; notes that don't fit one call are collapsed
in groups first, with a bounded depth where each level must shrink) and a one-sentence
TL;DR.

A ``Summarizer`` is configured once, at construction. A caller that needs another
configuration gets a new one: ``with_options(...)`` (other Options) or ``using(...)``
(another backend, reporter or refresh), which share the loaded model when they can.
"""

from __future__ import annotations

import copy
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from localdigest import pdf
from localdigest.cache import SUMMARY, Store, make_key
from localdigest.errors import InputError, UsageError
from localdigest.llm import Backend, Generation
from localdigest.papers import PaperFailure, PaperInput, PaperSummary, Result, Stats
from localdigest.sources.local import display_path
from localdigest.summarize import extract, reading
from localdigest.summarize.calls import PaperCalls
from localdigest.summarize.chunking import Chunk, chunk_budget, make_chunks
from localdigest.summarize.concurrent import Item, NoteLocks, run_concurrently
from localdigest.summarize.facts import key_facts, title_fact
from localdigest.summarize.grounding import (
    TLDR_SUPPORT,
    Grounding,
    PageIndex,
    SupportJudge,
    ground_text,
)
from localdigest.summarize.hygiene import tidy, tidy_bullets
from localdigest.summarize.options import Options
from localdigest.summarize.progress import NullReporter, Reporter
from localdigest.summarize.prompts import Prompts
from localdigest.summarize.results import as_given, unreadable
from localdigest.summarize.withhold import withhold_abstract
from localdigest.text import first_sentence, visible

MAX_COLLAPSE_DEPTH = 3
# The reduce asks for 4-6 sentences: under this many words (or a quarter of --max-tokens,
# or a quarter of the notes' words, whichever is less) the guard generates it again.
# The eval had found one-sentence "paragraphs" (11 words).
SUMMARY_MIN_WORDS = 40
# Tokens of the abstract (or, without one, of the paper's opening) that anchor the reduce.
ANCHOR_TOKENS = 400
ABSTRACT_ANCHOR = "Abstract by the authors: "
TLDR_MAX_WORDS = 40  # the prompt asks for 30; a longer TL;DR is a copied paragraph
SUMMARY_SCHEMA = 1


@dataclass
class PaperPlan:
    """What the model will read of one paper, before any model call."""

    document: pdf.Document
    title: str
    anchor: str  # the abstract (or the paper's opening) the reduce is anchored on
    reading: reading.ReadingPlan
    mapped: list[pdf.Section]  # the sections the map reads (an anchored abstract is not)
    chunks: list[Chunk]
    pages: PageIndex  # the kept text of each page: what a sentence is grounded in
    withheld: str | None = None  # the eval's text kept from the model (None: nothing)
    extract_seconds: float = 0.0
    plan_seconds: float = 0.0  # reading plan and chunking (counted as the map's time)


class Summarizer:
    """Summarizes papers with one backend, loaded on first need and reused for every call."""

    def __init__(
        self,
        store: Store,
        prompts: Prompts,
        options: Options,
        *,
        model_name: str,
        model_fingerprint: str,
        n_ctx: int,
        backend_factory: Callable[[], Backend],
        reporter: Reporter | None = None,
        refresh: bool = False,
        concurrency: int = 1,
    ) -> None:
        self.store = store
        self.prompts = prompts
        self.options = options
        self.model_name = model_name
        self.model_fingerprint = model_fingerprint
        self.n_ctx = n_ctx
        self.reporter: Reporter = reporter or NullReporter()
        self.refresh = refresh
        self._factory = backend_factory
        self._backend: Backend | None = None
        # Model calls in flight at once, over all papers of a run (1: one after another,
        # as always with the in-process model). Above 1 it is used only with a backend
        # that supports_concurrency (a server): see summarize/concurrent.py.
        self.concurrency = max(1, concurrency)
        self.note_locks: NoteLocks | None = None  # set by the concurrent runner

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = self._factory()
        return self._backend

    # -- other configurations

    def with_options(self, **changes: Any) -> Summarizer:
        """The same summarizer (same model, loaded once) with other Options fields."""
        other = copy.copy(self)
        other.options = replace(self.options, **changes)
        return other

    def using(
        self,
        *,
        backend_factory: Callable[[], Backend] | None = None,
        reporter: Reporter | None = None,
        refresh: bool | None = None,
    ) -> Summarizer:
        """The same summarizer with another backend, reporter or refresh setting."""
        other = copy.copy(self)
        if backend_factory is not None:
            other._factory, other._backend = backend_factory, None
        if reporter is not None:
            other.reporter = reporter
        if refresh is not None:
            other.refresh = refresh
        return other

    # -- keys

    def summary_key(self, sha256: str, withheld: str | None = None) -> str:
        return make_key(
            SUMMARY,
            schema=SUMMARY_SCHEMA,
            pdf=sha256,
            extractor=pdf.EXTRACTOR_VERSION,
            model=self.model_fingerprint,
            n_ctx=self.n_ctx,
            prompts=self.prompts.fingerprint,
            options=self.options.as_key(withheld),
        )

    # -- public

    def run(self, papers: Sequence[PaperInput]) -> list[Result]:
        """Summarize each paper; a failed paper becomes a PaperFailure, the rest go on.

        With ``concurrency`` above 1 and a backend that serves calls side by side, the
        papers' calls are in flight together (``summarize.concurrent``); the results are
        the same. Only input errors are per paper; anything that would fail every paper the same way
        (the model, the context size, the cache) and KeyboardInterrupt stop the run. A file
        given twice under different names (same bytes) is summarized once.
        """
        if self.concurrency > 1 and self.backend.supports_concurrency:
            return run_concurrently(self, [Item(p) for p in papers])
        results: list[Result] = []
        done: dict[str, PaperSummary] = {}
        for paper in papers:
            self.reporter.paper_start(paper)
            result: Result
            try:
                sha = pdf.file_sha256(paper.path)
                if sha in done:
                    result = replace(as_given(done[sha], paper), cached=True)
                else:
                    result = done[sha] = self.summarize(paper, sha)
            except InputError as e:
                result = PaperFailure(paper.source, e.message, int(e.exit_code))
            except OSError as e:
                result = unreadable(paper, e)
            self.reporter.paper_done(result)
            results.append(result)
        return results

    def summarize(
        self,
        paper: PaperInput,
        sha: str | None = None,
        *,
        document: pdf.Document | None = None,
        withhold: str | None = None,
    ) -> PaperSummary:
        """One paper's summary, from the cache or computed.

        ``document``: the paper already extracted (the eval has it). ``withhold``: the eval's
        mode, where the abstract is not read and no sentence of it, nor of this text (the
        reference abstract), reaches the model.
        """
        started = time.perf_counter()
        sha = sha or (document.sha256 if document is not None else pdf.file_sha256(paper.path))
        key = self.summary_key(sha, withhold)
        if not self.refresh:
            hit = self.store.get(key)
            if hit is not None:
                cached = PaperSummary.from_dict(hit)
                summary = as_given(cached, paper)
                if summary.arxiv_id and not cached.arxiv_id:
                    # First summarized as a local file: remember the arXiv metadata now known.
                    self.store.set(key, {"schema": SUMMARY_SCHEMA, **summary.to_dict()})
                summary.cached = True
                return summary

        stats = Stats()
        plan = self.plan(paper, document=document, withhold=withhold)
        doc = plan.document
        if not any(s.text.strip() for s in plan.mapped):  # nothing the map or extract reads
            kinds = sorted({s.kind for s in doc.sections}) or ["nothing"]
            raise InputError(
                f"'{plan.title}' has no text to summarize (the PDF holds {', '.join(kinds)}) "
                "— check that it is the paper itself"
            )
        stats.extract_seconds = plan.extract_seconds
        calls = PaperCalls(self, stats)
        t = time.perf_counter()
        stats.chunks = len(plan.chunks)
        stats.text_tokens = self.backend.count_tokens(doc.text)
        if self.options.mode == "write":
            notes = calls.map(plan.title, plan.chunks)
        else:
            self.reporter.chunks_planned(0)
            notes = []
        stats.map_seconds = time.perf_counter() - t + plan.plan_seconds

        t = time.perf_counter()
        if self.options.mode == "write":
            paper_text = "\n\n".join(c.text for c in plan.chunks)
            summary_text, tldr = self._write(calls, plan, notes, paper_text)
            read_headings = self._read_headings(plan.mapped, plan.chunks)
        else:
            summary_text, tldr, read_headings = self._from_sentences(calls, plan)
        summary_text, grounding = self._grounded(calls, plan, summary_text, tldr)
        stats.reduce_seconds = time.perf_counter() - t
        stats.seconds = time.perf_counter() - started
        stats.pages_read = (
            doc.pages if self.options.max_pages is None else min(doc.pages, self.options.max_pages)
        )
        anchored = [s.heading for s in plan.reading.sections if s not in plan.mapped and s.heading]
        result = PaperSummary(
            source=paper.source,
            path=display_path(paper.path.resolve()),
            sha256=sha,
            title=plan.title,
            pages=doc.pages,
            model=self.model_name,
            tldr=tldr,
            summary=summary_text,
            key=key,
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            authors=list(paper.authors),
            url=paper.url,
            arxiv_id=paper.arxiv_id,
            abstract=doc.abstract,
            sections_read=[*anchored, *read_headings],
            sections_skipped=[  # an untitled part (the title block) is no section to name
                *(s.heading for s in doc.skipped(self.options.include_appendix) if s.heading),
                *(h for h in plan.reading.skipped if h),
            ],
            sections_shortened=[h for h in plan.reading.shortened if h],
            warnings=[*doc.warnings, *calls.warnings],
            stats=stats,
            mode=self.options.mode,
            grounding=grounding,
        )
        self.store.set(key, {"schema": SUMMARY_SCHEMA, **result.to_dict()})
        return result

    def plan(
        self,
        paper: PaperInput,
        *,
        document: pdf.Document | None = None,
        withhold: str | None = None,
    ) -> PaperPlan:
        """What the model would read of ``paper``: the reading plan and the chunks the map
        sends (extracting the PDF unless ``document`` is given; no model call)."""
        t = time.perf_counter()
        doc = document
        if doc is None:
            doc = pdf.extract(
                paper.path, password=self.options.password, max_pages=self.options.max_pages
            )
        extracted = time.perf_counter() - t
        # A title is shown and stored everywhere: control characters and the bytes of a
        # file name that is not UTF-8 are escapes from here on.
        title = visible(paper.title or doc.title or paper.path.stem)
        kept = doc.kept(self.options.include_appendix)
        if withhold is not None:
            kept = withhold_abstract(kept, doc.abstract, withhold)
        anchor = self._anchor(doc.abstract, kept, withheld=withhold is not None)
        t = time.perf_counter()
        read = reading.plan(kept, self.backend.count_tokens, self.options.section_tokens)
        mapped = self._to_map(read.sections, doc.abstract, anchor)
        chunks = self._chunks(title, mapped) if self.options.mode == "write" else []
        return PaperPlan(
            doc,
            title,
            anchor,
            read,
            mapped,
            chunks,
            PageIndex.of_sections(kept),
            withheld=withhold,
            extract_seconds=extracted,
            plan_seconds=time.perf_counter() - t,
        )

    def map_notes(self, plan: PaperPlan, stats: Stats | None = None) -> list[str]:
        """The map step alone: notes on each chunk of ``plan`` (cached like summarize's)."""
        return PaperCalls(self, stats or Stats()).map(plan.title, plan.chunks)

    def text_budget(self, prompt_name: str, title: str, max_tokens: int, anchor: str = "") -> int:
        """Tokens of variable text one call of this prompt can carry."""
        empty = self.prompts.render(
            prompt_name,
            title=title,
            sections="",
            text="",
            notes="",
            summary="",
            abstract=self._anchor_text(anchor),
        )
        overhead = self.backend.prompt_tokens(self.prompts.texts["system"], empty)
        budget = chunk_budget(self.backend.n_ctx, overhead + 16, max_tokens)
        if budget < 64:
            raise UsageError(
                f"--n-ctx {self.backend.n_ctx} is too small: the '{prompt_name}' prompt and its "
                f"{max_tokens}-token answer leave {budget} tokens for text — use --n-ctx "
                f"{self.backend.n_ctx - budget + 256} or more"
            )
        return budget

    def complete_once(
        self, kind: str, prompt_name: str, max_tokens: int, **values: str
    ) -> tuple[str, float]:
        """One cached call of a prompt, without the guard (the eval's "stuff" baseline):
        the tidied text and the seconds the call took."""
        settings = self.options.generation(max_tokens)
        key = make_key(
            kind,
            step=prompt_name,
            model=self.model_fingerprint,
            n_ctx=self.n_ctx,
            prompt=self.prompts.texts[prompt_name],
            system=self.prompts.texts["system"],
            settings=settings.as_key(),
            **values,
        )
        if not self.refresh and (hit := self.store.get(key)) is not None:
            return str(hit["text"]), float(hit["seconds"])
        user = self.prompts.render(prompt_name, **values)
        g = self.backend.complete(self.prompts.texts["system"], user, settings)
        out = tidy(g.text, cut_short=g.finish_reason == "length")
        self.store.set(key, {"text": out, "seconds": g.seconds})
        return out, g.seconds

    # -- steps

    @staticmethod
    def _to_map(sections: list[pdf.Section], abstract: str, anchor: str) -> list[pdf.Section]:
        """The sections the map step reads: all of them but an abstract the reduce already
        reads whole in its anchor (notes on it would only paraphrase it)."""
        if not abstract or anchor != f"{ABSTRACT_ANCHOR}{' '.join(abstract.split())}":
            return sections
        return [s for s in sections if s.kind != "abstract"] or sections

    @staticmethod
    def _read_headings(sections: Sequence[pdf.Section], chunks: Sequence[Chunk]) -> list[str]:
        """The headings read, in paper order: those of the chunks, and a heading with no
        text of its own ("4 Experimental Results" over 4.1, 4.2) whose subsections follow."""
        in_chunks = {h for c in chunks for h in c.headings}
        return [
            s.heading
            for s in sections
            if s.heading in in_chunks or (s.heading and not s.text.strip())
        ]

    def _chunks(self, title: str, sections: Sequence[pdf.Section]) -> list[Chunk]:
        budget = self.text_budget("map", title, self.options.map_tokens)
        pairs = [(s.heading, s.text) for s in sections]
        return make_chunks(pairs, self.backend.count_tokens, budget, self.options.chunk_tokens)

    def _collapse(
        self, calls: PaperCalls, title: str, notes: list[str], anchor: str = ""
    ) -> list[str]:
        """Merge notes in groups until they fit one reduce call (bounded depth, must shrink)."""
        count = self.backend.count_tokens
        budget = self.text_budget(self._reduce_prompt(), title, self.options.max_tokens, anchor)
        group_budget = self.text_budget("collapse", title, self.options.map_tokens)
        for _depth in range(MAX_COLLAPSE_DEPTH):
            joined = "\n\n".join(notes)
            if count(joined) <= budget:
                return notes
            groups = make_chunks([("", n) for n in notes], count, group_budget)
            merged = [
                calls.cached_notes(
                    "collapse", self.options.map_tokens, g.text, {"title": title, "notes": g.text}
                )
                for g in groups
            ]
            if count("\n\n".join(merged)) >= count(joined):
                break  # this level did not shrink: stop instead of looping
            notes = merged
        # Still too long after the allowed levels: keep what fits, in paper order.
        kept, used = [], 0
        for n in notes:
            used += count(n) + 2
            if used > budget:
                break
            kept.append(n)
        return kept or [notes[0][: budget * 3]]

    def _reduce_prompt(self) -> str:
        return {"paragraph": "reduce", "bullets": "reduce_bullets", "tldr": "tldr"}[
            self.options.style
        ]

    def _anchor(self, abstract: str, kept: Sequence[pdf.Section], withheld: bool) -> str:
        """What anchors the final summary besides the title: the authors' abstract; when it
        is withheld (the eval) or missing, the opening of the paper's first body section."""
        if abstract and not withheld:
            return f"{ABSTRACT_ANCHOR}{self._first_sentences(abstract, ANCHOR_TOKENS)}"
        body = next((s for s in kept if s.kind == "body" and s.text.strip()), None)
        if body is None:
            return ""
        return f"Start of the paper: {self._first_sentences(body.text, ANCHOR_TOKENS)}"

    def _first_sentences(self, text: str, limit: int) -> str:
        """The first sentences of a text within ``limit`` tokens (and a sixth of the
        context): a misdetected, page-long "abstract" must not crowd out the notes."""
        limit = min(limit, self.backend.n_ctx // 6)
        return reading.leading_sentences(text, limit, self.backend.count_tokens)

    @staticmethod
    def _anchor_text(anchor: str) -> str:
        return f"{anchor}\n" if anchor else ""

    def _write(
        self, calls: PaperCalls, plan: PaperPlan, notes: list[str], paper_text: str
    ) -> tuple[str, str]:
        """The reduce, in the chosen style, then the TL;DR: (summary, tldr).

        The guard checks them against the text the model read (``paper_text``), not only the
        notes: a number a map call made up is in the notes but not in the paper; and it
        grounds them in the paper's pages (``SupportJudge``)."""
        title, anchor = plan.title, plan.anchor
        if not notes:
            raise InputError(
                f"'{title}': the model wrote no notes on any part of it — try another --model"
            )
        notes = self._collapse(calls, title, notes, anchor)
        joined = "\n\n".join(notes)
        source = f"{title}\n{anchor}\n{paper_text or joined}"
        if self.options.style == "tldr":
            tldr = self._tldr(calls, plan, joined, source, fallback=False)
            return tldr, tldr
        bullets = self.options.style == "bullets"

        def clean(g: Generation) -> str:
            cut = g.finish_reason == "length"
            return tidy_bullets(g.text, cut) if bullets else tidy(g.text, cut)

        summary = calls.guarded(
            self._reduce_prompt(),
            self.options.max_tokens,
            source,
            clean,
            {"title": title, "abstract": self._anchor_text(anchor), "notes": joined},
            min_words=min(
                SUMMARY_MIN_WORDS, self.options.max_tokens // 4, len(joined.split()) // 4
            ),
            judge=self._judge(plan, require_title=True),
        )
        if not summary.strip():
            raise InputError(
                f"'{title}': the model wrote an empty summary — try another --model, or "
                "--refresh to generate it again"
            )
        return summary, self._tldr(calls, plan, summary, source)

    def _tldr(
        self,
        calls: PaperCalls,
        plan: PaperPlan,
        summary: str,
        source: str,
        fallback: bool = True,
        key_sentence: str = "",
    ) -> str:
        """The one-sentence TL;DR, grounded in the paper. Where the model's is not: with
        ``fallback``, ``key_sentence`` (the paper's most informative sentence) or the
        summary's first well supported one; else it stays, marked."""

        def clean(g: Generation) -> str:
            return first_sentence(tidy(g.text, cut_short=g.finish_reason == "length"))

        judge = replace(self._judge(plan), min_support=TLDR_SUPPORT)
        said = len(calls.warnings)
        budget = self.text_budget("tldr", plan.title, self.options.tldr_tokens)
        summary = reading.leading_sentences(summary, budget, self.backend.count_tokens) or summary
        text = calls.guarded(
            "tldr",
            self.options.tldr_tokens,
            source,
            clean,
            {"title": plan.title, "summary": summary},
            judge=judge,
        )
        fits = len(text.split()) <= TLDR_MAX_WORDS
        if (text and fits and judge.problem(text) is None) or not fallback:
            return text or first_sentence(summary)
        del calls.warnings[said:]  # the model's attempts are replaced, not shown
        if key_sentence:
            return key_sentence
        supported = [
            g.sentence
            for g in ground_text(summary, plan.pages)
            if g.supported and g.support >= TLDR_SUPPORT
        ]
        return supported[0] if supported else text or first_sentence(summary)

    def _judge(self, plan: PaperPlan, require_title: bool = False) -> SupportJudge:
        fact = title_fact(plan.title) if require_title else None
        terms = fact.forms if fact is not None and fact.kind == "title" else ()
        return SupportJudge(plan.pages, terms)

    def _from_sentences(self, calls: PaperCalls, plan: PaperPlan) -> tuple[str, str, list[str]]:
        """Extract (and, in rewrite mode, have the model rewrite) the paper's most
        informative sentences: (summary, tldr, the headings the sentences come from)."""
        # The coverage pass: the title's key phrase and the abstract's numbers (when the
        # abstract is read) must be among what is kept.
        must = (
            []
            if plan.withheld is not None
            else [
                f
                for f in key_facts(plan.document.abstract, plan.title)
                if f.kind in ("number", "title")
            ]
        )
        picked = extract.select(plan.reading.sections, plan.title, must=must)
        if not picked:
            raise InputError(f"'{plan.title}': no sentence of it reads as prose — try --mode write")
        if self.options.style == "bullets":
            extracted = "\n".join(f"- {c.text}" for c in picked)
        else:
            extracted = " ".join(c.text for c in picked)
        summary = extracted
        if self.options.mode == "rewrite" and self.options.style != "tldr":
            judge = self._judge(plan, require_title=True)
            rewritten = calls.guarded(
                "rewrite",
                self.options.max_tokens,
                extracted,
                lambda g: tidy(g.text, cut_short=g.finish_reason == "length"),
                {"title": plan.title, "text": extracted},
                min_words=min(SUMMARY_MIN_WORDS, len(extracted.split()) // 2),
                judge=judge,
            )
            summary = rewritten if judge.problem(rewritten) is None else extracted
        source = f"{plan.title}\n{plan.anchor}\n{extracted}"
        key = max(picked, key=lambda c: c.score).text
        # Extract mode writes nothing: its TL;DR is a picked sentence short enough to be one,
        # one saying what the paper does where there is one (read on three papers, the 135M
        # model's own TL;DRs were vague or wrong: "a new method ... based on MFCCs and GMMs"
        # for a survey whose baseline they are).
        chosen = extract.tldr(picked, TLDR_MAX_WORDS)
        if self.options.mode == "extract" and chosen is not None:
            tldr = chosen.text
        else:
            tldr = self._tldr(calls, plan, summary, source, key_sentence=key)
        if self.options.style == "tldr":
            summary = tldr
        headings = list(dict.fromkeys(c.heading for c in picked if c.heading))
        return summary, tldr, headings

    def _grounded(
        self, calls: PaperCalls, plan: PaperPlan, summary: str, tldr: str
    ) -> tuple[str, list[dict[str, Any]]]:
        """The summary without its unsupported sentences where enough remains (else they
        stay, marked, with a warning), and the grounding of every sentence kept."""
        grounding = ground_text(summary, plan.pages)
        bad = [g for g in grounding if not g.supported]
        kept = [g for g in grounding if g.supported]
        enough = len(kept) >= 2 and sum(len(g.sentence.split()) for g in kept) >= SUMMARY_MIN_WORDS
        if bad and enough and "\n" not in summary.strip():
            summary = " ".join(g.sentence for g in kept)
            grounding = kept
        elif bad:
            calls.warnings.append(
                f"summary: {len(bad)} of {len(grounding)} sentences found on no page of the "
                "paper (marked [?]) — read them with care"
            )

        def entries(part: str, items: list[Grounding]) -> list[dict[str, Any]]:
            return [{"part": part, **g.as_dict()} for g in items]

        return summary, [
            *entries("summary", grounding),
            *entries("tldr", ground_text(tldr, plan.pages)),
        ]
