"""Map-reduce summarization of papers. Returns data; never prints.

For each paper: look up the finished summary in the cache (no model, no PDF parsing on a
hit), else extract the text, chunk it in model tokens, summarize each chunk (the map, each
note cached as soon as it is made so an interrupted run resumes), merge the notes into one
paragraph (the reduce; notes that don't fit one call are collapsed in groups first, with a
bounded depth where each level must shrink) and a one-sentence TL;DR.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Protocol, cast

from localdigest import guard, pdf, reading
from localdigest.cache import NOTES, SUMMARY, Store, make_key
from localdigest.chunking import Chunk, chunk_budget, make_chunks
from localdigest.errors import InputError, UsageError
from localdigest.llm import Backend, BatchBackend, Generation, GenerationSettings
from localdigest.prompts import Prompts
from localdigest.sources.local import display_path

MAX_COLLAPSE_DEPTH = 3
# The reduce asks for 4-6 sentences: under this many words (or a quarter of --max-tokens,
# or a quarter of the notes' words, whichever is less) the guard generates it again.
# The eval had found one-sentence "paragraphs" (11 words).
SUMMARY_MIN_WORDS = 40
# Tokens of the abstract (or, without one, of the paper's opening) that anchor the reduce.
ANCHOR_TOKENS = 400
ABSTRACT_ANCHOR = "Abstract by the authors: "
SUMMARY_SCHEMA = 1
# paragraph: the newsletter paragraph; bullets: labelled claims / method / results /
# limitations lines; tldr: only the one-sentence TL;DR (one call after the map).
STYLES = ("paragraph", "bullets", "tldr")


@dataclass(frozen=True)
class Options:
    """Everything besides the PDF and the model that changes a summary."""

    max_tokens: int = 320  # the final summary paragraph
    map_tokens: int = 160  # one chunk's notes
    tldr_tokens: int = 64
    temperature: float = 0.2
    top_p: float = 0.9
    repeat_penalty: float = 1.15
    seed: int = 42
    chunk_tokens: int = 1536  # preferred chunk size (the budget is the hard limit)
    include_appendix: bool = False
    # Body sections are read up to this many tokens of their leading paragraphs (twice
    # that for introduction and conclusion); surveys of related work are skipped. 0: read
    # every kept section whole. See reading.py.
    section_tokens: int = reading.SECTION_TOKENS
    password: str | None = None
    max_pages: int | None = None
    style: str = "paragraph"
    guard: bool = True  # retry/trim degenerate or off-topic output (off: for measuring)
    # Evaluation: the abstract section is not read, and no sentence of the abstract (nor of
    # ``withhold``, e.g. the reference abstract) reaches the model through another section.
    drop_abstract: bool = False
    withhold: str = ""

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise UsageError(f"Unknown style '{self.style}' — use one of: {', '.join(STYLES)}")

    def generation(self, max_tokens: int) -> GenerationSettings:
        return GenerationSettings(
            max_tokens=max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            repeat_penalty=self.repeat_penalty,
            seed=self.seed,
        )

    def as_key(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("password")  # opening a file differently does not change its text
        d["guard"] = guard.VERSION if self.guard else False
        return d


@dataclass
class Stats:
    chunks: int = 0
    pages_read: int = 0
    text_tokens: int = 0  # tokens of all extracted text (kept and skipped)
    input_tokens: int = 0  # tokens sent to the model (prompts included)
    output_tokens: int = 0
    llm_calls: int = 0
    notes_written: int = 0  # chunk notes computed by this run (not taken from the cache)
    retries: int = 0  # model calls the output guard asked for again
    repairs: int = 0  # flawed outputs the guard repaired (cut) instead of a retry
    seconds: float = 0.0
    extract_seconds: float = 0.0
    map_seconds: float = 0.0
    reduce_seconds: float = 0.0
    prompt_seconds: float = 0.0  # prefill time inside model calls
    decode_seconds: float = 0.0

    def add(self, g: Generation) -> None:
        self.llm_calls += 1
        self.input_tokens += g.prompt_tokens
        self.output_tokens += g.completion_tokens
        self.prompt_seconds += g.prompt_seconds
        self.decode_seconds += g.seconds - g.prompt_seconds


@dataclass
class PaperSummary:
    source: str  # what the user gave: a path, an id or URL
    path: str
    sha256: str
    title: str
    pages: int
    model: str
    tldr: str
    summary: str
    key: str = ""
    cached: bool = False
    created: str = ""
    authors: list[str] = field(default_factory=list)
    url: str | None = None
    arxiv_id: str | None = None
    abstract: str = ""
    sections_read: list[str] = field(default_factory=list)
    sections_skipped: list[str] = field(default_factory=list)
    sections_shortened: list[str] = field(default_factory=list)  # read in part (leads)
    warnings: list[str] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PaperSummary:
        data = dict(data)
        data.pop("schema", None)
        data["stats"] = Stats(**data.get("stats", {}))
        return cls(**data)


@dataclass
class PaperFailure:
    source: str
    error: str
    exit_code: int


@dataclass
class PaperInput:
    """A resolved source: a local PDF plus what we know about it beforehand."""

    source: str
    path: Path
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    url: str | None = None
    arxiv_id: str | None = None


class Reporter(Protocol):
    """Progress events; the CLI shows them with rich, tests ignore them."""

    def paper_start(self, paper: PaperInput) -> None: ...
    def chunks_planned(self, total: int) -> None: ...
    def chunk_done(self, cached: bool) -> None: ...
    def tokens(self, count: int, seconds: float) -> None: ...
    def paper_done(self, result: PaperSummary | PaperFailure) -> None: ...


class NullReporter:
    def paper_start(self, paper: PaperInput) -> None: ...
    def chunks_planned(self, total: int) -> None: ...
    def chunk_done(self, cached: bool) -> None: ...
    def tokens(self, count: int, seconds: float) -> None: ...
    def paper_done(self, result: PaperSummary | PaperFailure) -> None: ...


# ----------------------------------------------------------------------------- output hygiene

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
# Echoes of our own prompt scaffolding that small models copy into their answers.
_ECHO = re.compile(
    r"<{2,}\s*(?:PAPER|NOTES|SUMMARY)?|(?:PAPER|NOTES|SUMMARY)?\s*>{2,}"  # our delimiters, or
    r"|^\s*(PAPER|NOTES|SUMMARY|Notes|Summary paragraph|Merged notes|"  # the two-arrow
    r"One-sentence TL;DR|TL;DR)\s*:?\s*$",  # copies small models make of them
    re.MULTILINE,
)
_CITATION = re.compile(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]?(?=[\s.,;:]|$)")


def tidy(text: str, cut_short: bool) -> str:
    """One clean paragraph: no prompt echoes or citation marks, no repeated sentences,
    and no sentence cut off by max_tokens."""
    text = _CITATION.sub("", _ECHO.sub(" ", text))
    text = re.sub(r"(?m)^\s*#{1,6}\s.*$", " ", text)  # markdown headings small models add
    text = re.sub(r"\s+", " ", text).strip()
    seen: set[str] = set()
    kept: list[str] = []
    for sentence in _SENTENCE.split(text):
        norm = re.sub(r"\W+", " ", sentence.lower()).strip()
        if not norm or norm in seen:
            continue
        seen.add(norm)
        kept.append(sentence.strip())
    if cut_short and len(kept) > 1 and not kept[-1].endswith((".", "!", "?")):
        kept.pop()
    return " ".join(kept)


# Lines of notes that are not notes: markdown headings and lone labels ("Summary",
# "Conclusion:"). SmolLM2 ends some notes with "## 6 Summary" and a one-line summary of its
# own, which the reduce then copied as the whole summary (the eval's 11-word "paragraph").
_NOT_A_NOTE = re.compile(r"^\s*(#{1,6}\s.*|[A-Za-z]+(\s[A-Za-z]+)?\s*:?)\s*$")


def tidy_notes(text: str) -> str:
    """Notes keep their line structure; prompt echoes, headings, labels and repeated
    lines go."""
    seen: set[str] = set()
    lines = []
    for line in _ECHO.sub("", text).splitlines():
        if _NOT_A_NOTE.match(line):
            continue
        norm = re.sub(r"\W+", " ", line.lower()).strip()
        if norm and norm not in seen:
            seen.add(norm)
            lines.append(line.rstrip())
    return "\n".join(lines)


def tidy_bullets(text: str, cut_short: bool) -> str:
    """Bullet lines (the ``bullets`` style): echoes and citations out, one bullet per line."""
    lines = []
    for line in tidy_notes(_CITATION.sub("", text)).splitlines():
        line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip()
        if line:
            lines.append(f"- {line}")
    if cut_short and len(lines) > 1 and not lines[-1].endswith((".", "!", "?")):
        lines.pop()
    return "\n".join(lines)


def first_sentence(text: str) -> str:
    return _SENTENCE.split(text.strip(), maxsplit=1)[0] if text.strip() else ""


# ----------------------------------------------------------------------------- withholding

_WORD = re.compile(r"[a-z0-9]+")
LEAK_SHARE = 0.5  # a sentence sharing this much of its word trigrams with the abstract leaks


def _trigrams(text: str) -> set[tuple[str, ...]]:
    w = _WORD.findall(text.lower())
    return {tuple(w[i : i + 3]) for i in range(len(w) - 2)}


def withhold_abstract(sections: Sequence[pdf.Section], *texts: str) -> list[pdf.Section]:
    """The sections without the abstract: the abstract section is dropped, and every other
    sentence that mostly repeats a sentence of ``texts`` (the abstract, as detected or as
    given) is removed, so that it cannot leak through an introduction that restates it."""
    grams: set[tuple[str, ...]] = set()
    for t in texts:
        grams |= _trigrams(t)
    kept = []
    for section in sections:
        if section.kind == "abstract":
            continue
        paragraphs = []
        for para in section.text.split("\n\n"):
            sentences = []
            for sentence in _SENTENCE.split(para):
                own = _trigrams(sentence)
                if own and len(own & grams) / len(own) >= LEAK_SHARE:
                    continue
                sentences.append(sentence)
            if sentences:
                paragraphs.append(" ".join(sentences))
        kept.append(replace(section, text="\n\n".join(paragraphs)))
    return kept


class _Deferred(Exception):
    """A retry asked for while a batched generation holds the model: the batch makes it."""

    def __init__(self, settings: GenerationSettings) -> None:
        super().__init__()
        self.settings = settings


class _Prefilled:
    """The backend, answering map prompts from a batched generation first (see _map)."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.ready: dict[tuple[str, GenerationSettings], Generation] = {}
        self.running = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def complete(
        self, system: str, user: str, settings: GenerationSettings, on_token: Any = None
    ) -> Generation:
        made = self.ready.get((user, settings))
        if made is not None:
            return made
        if self.running:
            raise _Deferred(settings)
        return self.inner.complete(system, user, settings, on_token)


# ----------------------------------------------------------------------------- the summarizer


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
    ) -> None:
        self.store = store
        self.prompts = prompts
        self.options = options
        self.model_name = model_name
        self.model_fingerprint = model_fingerprint
        self.n_ctx = n_ctx
        self._factory = backend_factory
        self._backend: Backend | None = None
        self.reporter: Reporter = reporter or NullReporter()
        self.refresh = refresh
        self._warnings: list[str] = []  # the guard's, for the paper being summarized

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = self._factory()
        return self._backend

    # -- keys

    def summary_key(self, sha256: str) -> str:
        return make_key(
            SUMMARY,
            schema=SUMMARY_SCHEMA,
            pdf=sha256,
            extractor=pdf.EXTRACTOR_VERSION,
            model=self.model_fingerprint,
            n_ctx=self.n_ctx,
            prompts=self.prompts.fingerprint,
            options=self.options.as_key(),
        )

    def _notes_key(self, prompt_name: str, title: str, body: str, max_tokens: int) -> str:
        return make_key(
            NOTES,
            model=self.model_fingerprint,
            n_ctx=self.n_ctx,
            prompt=self.prompts.texts[prompt_name],
            system=self.prompts.texts["system"],
            title=title,
            body=body,
            settings=self.options.generation(max_tokens).as_key(),
            guard=guard.NOTES_VERSION if self.options.guard else False,
        )

    # -- public

    def run(self, papers: Sequence[PaperInput]) -> list[PaperSummary | PaperFailure]:
        """Summarize each paper; a failed paper becomes a PaperFailure, the rest go on.

        Only input errors are per paper; anything that would fail every paper the same way
        (the model, the context size, the cache) and KeyboardInterrupt stop the run. A file
        given twice under different names (same bytes) is summarized once.
        """
        results: list[PaperSummary | PaperFailure] = []
        done: dict[str, PaperSummary] = {}
        for paper in papers:
            self.reporter.paper_start(paper)
            result: PaperSummary | PaperFailure
            try:
                sha = pdf.file_sha256(paper.path)
                if sha in done:
                    result = replace(done[sha], source=paper.source, cached=True)
                else:
                    result = done[sha] = self.summarize(paper, sha)
            except InputError as e:
                result = PaperFailure(paper.source, e.message, int(e.exit_code))
            except OSError as e:
                result = PaperFailure(
                    paper.source,
                    f"Cannot read {paper.path} ({e.strerror or e}) — check the file",
                    int(InputError.exit_code),
                )
            self.reporter.paper_done(result)
            results.append(result)
        return results

    def summarize(self, paper: PaperInput, sha: str | None = None) -> PaperSummary:
        started = time.perf_counter()
        sha = sha or pdf.file_sha256(paper.path)
        key = self.summary_key(sha)
        if not self.refresh:
            hit = self.store.get(key)
            if hit is not None:
                summary = PaperSummary.from_dict(hit)
                summary.cached = True
                summary.source = paper.source
                return summary

        stats = Stats()
        t = time.perf_counter()
        doc = pdf.extract(
            paper.path, password=self.options.password, max_pages=self.options.max_pages
        )
        stats.extract_seconds = time.perf_counter() - t
        title = paper.title or doc.title or paper.path.stem
        kept = doc.kept(self.options.include_appendix)
        if self.options.drop_abstract:
            kept = withhold_abstract(kept, doc.abstract, self.options.withhold)
        anchor = self._anchor(doc.abstract, kept)
        self._warnings = []

        t = time.perf_counter()
        plan = reading.plan(kept, self.backend.count_tokens, self.options.section_tokens)
        mapped = self._to_map(plan.sections, doc.abstract, anchor)
        anchored = [s.heading for s in plan.sections if s not in mapped]
        chunks = self._chunks(title, mapped)
        stats.chunks = len(chunks)
        stats.text_tokens = self.backend.count_tokens(doc.text)
        notes = self._map(title, chunks, stats)
        stats.map_seconds = time.perf_counter() - t

        t = time.perf_counter()
        paper_text = "\n\n".join(c.text for c in chunks)
        summary_text, tldr = self._write(title, anchor, notes, stats, paper_text)
        stats.reduce_seconds = time.perf_counter() - t
        stats.seconds = time.perf_counter() - started
        stats.pages_read = (
            doc.pages if self.options.max_pages is None else min(doc.pages, self.options.max_pages)
        )

        result = PaperSummary(
            source=paper.source,
            path=display_path(paper.path.resolve()),
            sha256=sha,
            title=title,
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
            sections_read=[*anchored, *self._read_headings(mapped, chunks)],
            sections_skipped=[
                *(s.heading for s in doc.skipped(self.options.include_appendix)),
                *plan.skipped,
            ],
            sections_shortened=plan.shortened,
            warnings=[*doc.warnings, *self._warnings],
            stats=stats,
        )
        self.store.set(key, {"schema": SUMMARY_SCHEMA, **result.to_dict()})
        return result

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

    # -- steps

    def _budget(self, prompt_name: str, title: str, max_tokens: int, anchor: str = "") -> int:
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

    def _chunks(self, title: str, sections: Sequence[pdf.Section]) -> list[Chunk]:
        budget = self._budget("map", title, self.options.map_tokens)
        pairs = [(s.heading, s.text) for s in sections]
        return make_chunks(pairs, self.backend.count_tokens, budget, self.options.chunk_tokens)

    def _call(self, name: str, stats: Stats, max_tokens: int, **values: str) -> Generation:
        user = self.prompts.render(name, **values)
        g = self.backend.complete(
            self.prompts.texts["system"],
            user,
            self.options.generation(max_tokens),
            on_token=self.reporter.tokens,
        )
        stats.add(g)
        return g

    def _guarded_call(
        self,
        name: str,
        stats: Stats,
        max_tokens: int,
        source: str,
        clean: Callable[[Generation], str],
        check_numbers: bool = True,
        min_words: int = 0,
        **values: str,
    ) -> tuple[str, str | None]:
        """A call whose output goes through the degeneration guard (unless it is off):
        the cleaned text, and a warning when the guard could not fix it."""
        user = self.prompts.render(name, **values)
        system = self.prompts.texts["system"]

        def generate(settings: GenerationSettings) -> Generation:
            g = self.backend.complete(system, user, settings, on_token=self.reporter.tokens)
            stats.add(g)
            return g

        settings = self.options.generation(max_tokens)
        if not self.options.guard:
            return clean(generate(settings)), None
        result = guard.guarded(
            generate,
            settings,
            source,
            label=name,
            clean=clean,
            check_numbers=check_numbers,
            min_words=min_words,
        )
        stats.retries += result.attempts - 1
        stats.repairs += result.repaired
        return result.text, result.warning

    def _cached_call(
        self, name: str, stats: Stats, max_tokens: int, body_key: str, **values: str
    ) -> str:
        """A notes-producing call whose result is cached on its own (resume after Ctrl-C)."""
        key = self._notes_key(name, values.get("title", ""), body_key, max_tokens)
        if not self.refresh:
            hit = self.store.get(key)
            if hit is not None:
                self.reporter.chunk_done(cached=True)
                if hit.get("warning"):
                    self._warnings.append(str(hit["warning"]))
                return str(hit["text"])
        source = values.get("text") or values.get("notes") or ""
        text, warning = self._guarded_call(
            name,
            stats,
            max_tokens,
            source,
            lambda g: tidy_notes(g.text),
            False,  # notes: the summary's numbers are checked against them later
            **values,
        )
        if warning:
            self._warnings.append(warning)
        self.store.set(key, {"text": text, "warning": warning})
        if name == "map":
            stats.notes_written += 1
        self.reporter.chunk_done(cached=False)
        return text

    def _map(self, title: str, chunks: Sequence[Chunk], stats: Stats) -> list[str]:
        """Notes on each chunk, each cached as soon as it is written.

        With a backend that can decode several prompts at once (``complete_many``), the
        uncached chunks go through one batched generation; each note then goes through the
        same cache-and-check path as a single call (``_cached_call``), fed the batched
        generation as its first attempt. A retry the output check asks for is generated
        by the batch too, reusing the chunk's evaluated prompt, and the check runs again.
        """
        self.reporter.chunks_planned(len(chunks))
        calls = []
        for chunk in chunks:
            sections = ", ".join(chunk.headings) or "(untitled)"
            values = {"title": title, "sections": sections, "text": chunk.text}
            calls.append((f"{sections}\n{chunk.text}", values))
        max_tokens = self.options.map_tokens
        notes: dict[int, str] = {}
        todo = [
            i
            for i, (body, values) in enumerate(calls)
            if self.refresh
            or self.store.get(self._notes_key("map", title, body, max_tokens)) is None
        ]
        if self.backend.supports_batch and len(todo) > 1:
            many = cast(BatchBackend, self.backend).complete_many
            settings = self.options.generation(max_tokens)
            users = [self.prompts.render("map", **calls[i][1]) for i in todo]
            prefilled = _Prefilled(self.backend)
            self._backend = prefilled
            tried: dict[int, GenerationSettings] = {}  # the settings of each one's last retry

            def done(j: int, g: Generation) -> GenerationSettings | None:
                i = todo[j]
                body, values = calls[i]
                prefilled.ready[(users[j], tried.get(j, settings))] = g
                scratch = Stats()  # counted once the note is finished (attempts replay)
                try:
                    notes[i] = self._cached_call("map", scratch, max_tokens, body, **values)
                except _Deferred as retry:
                    tried[j] = retry.settings
                    return retry.settings  # generated again in the batch
                for f in fields(Stats):
                    setattr(stats, f.name, getattr(stats, f.name) + getattr(scratch, f.name))
                return None

            try:
                many(self.prompts.texts["system"], users, settings, self.reporter.tokens, done)
            finally:
                self._backend = prefilled.inner
        for i, (body, values) in enumerate(calls):
            if i not in notes:
                notes[i] = self._cached_call("map", stats, max_tokens, body, **values)
        return [notes[i] for i in range(len(calls)) if notes[i].strip()]

    def _collapse(self, title: str, notes: list[str], stats: Stats, anchor: str = "") -> list[str]:
        """Merge notes in groups until they fit one reduce call (bounded depth, must shrink)."""
        count = self.backend.count_tokens
        budget = self._budget(self._reduce_prompt(), title, self.options.max_tokens, anchor)
        group_budget = self._budget("collapse", title, self.options.map_tokens)
        for _depth in range(MAX_COLLAPSE_DEPTH):
            joined = "\n\n".join(notes)
            if count(joined) <= budget:
                return notes
            groups = make_chunks([("", n) for n in notes], count, group_budget)
            merged = [
                self._cached_call(
                    "collapse", stats, self.options.map_tokens, g.text, title=title, notes=g.text
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

    def _anchor(self, abstract: str, kept: Sequence[pdf.Section]) -> str:
        """What anchors the final summary besides the title: the authors' abstract; when it
        is withheld (the eval) or missing, the opening of the paper's first body section."""
        if abstract and not self.options.drop_abstract:
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
        self, title: str, anchor: str, notes: list[str], stats: Stats, paper_text: str = ""
    ) -> tuple[str, str]:
        """The reduce, in the chosen style, then the TL;DR: (summary, tldr).

        The guard checks them against the text the model read (``paper_text``), not only the
        notes: a number a map call made up is in the notes but not in the paper."""
        if not notes:
            raise InputError(
                f"'{title}': the model wrote no notes on any part of it — try another --model"
            )
        notes = self._collapse(title, notes, stats, anchor)
        joined = "\n\n".join(notes)
        source = f"{title}\n{anchor}\n{paper_text or joined}"
        if self.options.style == "tldr":
            tldr = self._tldr(title, joined, stats, source)
            return tldr, tldr
        bullets = self.options.style == "bullets"

        def clean(g: Generation) -> str:
            cut = g.finish_reason == "length"
            return tidy_bullets(g.text, cut) if bullets else tidy(g.text, cut)

        summary, warning = self._guarded_call(
            self._reduce_prompt(),
            stats,
            self.options.max_tokens,
            source,
            clean,
            min_words=min(
                SUMMARY_MIN_WORDS, self.options.max_tokens // 4, len(joined.split()) // 4
            ),
            title=title,
            abstract=self._anchor_text(anchor),
            notes=joined,
        )
        if warning:
            self._warnings.append(warning)
        tldr = self._tldr(title, summary, stats, source)
        return summary, tldr

    def _tldr(self, title: str, summary: str, stats: Stats, source: str) -> str:
        def clean(g: Generation) -> str:
            return first_sentence(tidy(g.text, cut_short=g.finish_reason == "length"))

        text, warning = self._guarded_call(
            "tldr", stats, self.options.tldr_tokens, source, clean, title=title, summary=summary
        )
        if warning:
            self._warnings.append(warning)
        return text or first_sentence(summary)
