"""Summarize a request: settings and model resolved, sources fetched, papers summarized.

``prepare`` resolves everything that can fail fast (flags, the model file's header, the
prompt files, which inputs exist) without loading the model or touching the network.
``Job.fetch`` then downloads arXiv papers that are not in the library yet (with a progress
callback), and ``Job.run`` summarizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from localdigest import config
from localdigest.cache import open_store
from localdigest.llm import (
    BackendSettings,
    ModelChoice,
    backend_factory,
    default_n_ctx,
    resolve_model,
)
from localdigest.papers import PaperFailure, PaperInput, PaperSummary, Result
from localdigest.sources import inputs
from localdigest.summarize import Options, Reporter, Summarizer, load_prompts

if TYPE_CHECKING:
    from localdigest.sources.library import ProgressFn


@dataclass
class SummarizeRequest:
    sources: Sequence[str]
    model: str | None = None
    n_ctx: int | None = None
    gpu_layers: int | None = None
    threads: int | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    seed: int | None = None
    refresh: bool = False
    prompts_dir: Path | None = None
    include_appendix: bool = False
    password: str | None = None
    max_pages: int | None = None
    verbose: bool = False
    style: str = "paragraph"  # paragraph, bullets or tldr
    read_all: bool = False  # every kept section whole (no reading plan)
    mode: str | None = None  # auto, write, extract or rewrite (None: the configured one)
    structured_notes: bool = False  # the map's notes follow a grammar (write mode)


@dataclass
class Job:
    """A prepared request: what to summarize, and the summarizer that will do it."""

    resolved: inputs.Resolved
    summarizer: Summarizer
    papers: list[PaperInput] | None = None  # known once fetched

    @property
    def failures(self) -> list[PaperFailure]:
        return self.resolved.failures

    def fetch(self, progress: ProgressFn | None = None) -> list[PaperInput]:
        """Download arXiv papers missing from the library; the papers to summarize."""
        if self.papers is None:
            self.papers = inputs.fetch(self.resolved, progress)
        return self.papers

    def run(self, reporter: Reporter | None = None) -> list[Result]:
        """Summarize every paper (fetching first if that was not done): failures first."""
        papers = self.fetch()
        summarizer = self.summarizer.using(reporter=reporter)
        try:
            results = summarizer.run(papers)
        finally:
            self.summarizer.store.close()
        _mark_summarized(results)
        return [*self.failures, *results]


def _mark_summarized(results: Sequence[Result]) -> None:
    ids = [r.arxiv_id for r in results if isinstance(r, PaperSummary) and r.arxiv_id]
    if not ids:
        return  # local PDFs only: don't pay for importing the HTTP stack
    from localdigest.sources import library  # requests: only when arXiv papers were summarized

    for arxiv_id in ids:
        library.mark_summarized(arxiv_id)


SMALL_MODEL = 1_000_000_000  # parameters: under this, "auto" extracts instead of writing


def resolve_mode(mode: str, choice: ModelChoice) -> str:
    """``auto`` as a concrete mode: extract for a model under SMALL_MODEL parameters (the
    eval measured its own writing losing most of a paper's facts), write otherwise."""
    if mode != "auto":
        return mode
    parameters = choice.info.parameters
    return "extract" if parameters is not None and parameters < SMALL_MODEL else "write"


def prepare(req: SummarizeRequest) -> Job:
    """Resolve model, settings and sources; nothing is loaded, fetched or computed yet.

    Every setting is checked by ``config`` (type and range) whether it came from a flag,
    the environment or the config file."""
    max_pages = int(config.value("max_pages", req.max_pages))
    choice = resolve_model(req.model)  # ModelError (exit 4) before any paper is touched
    n_ctx = config.value("n_ctx", req.n_ctx) or default_n_ctx(choice.info)
    gpu_layers = int(config.value("gpu_layers", req.gpu_layers))
    threads = config.value("threads", req.threads)
    seed = int(config.value("seed", req.seed))
    options = Options(
        mode=resolve_mode(str(config.value("mode", req.mode)), choice),
        max_tokens=int(config.value("max_tokens", req.max_tokens)),
        temperature=float(config.value("temperature", req.temperature)),
        seed=seed,
        include_appendix=req.include_appendix,
        password=req.password,
        max_pages=max_pages or None,
        style=req.style,
        structured_notes=req.structured_notes,
    )
    if req.read_all:
        options = replace(options, section_tokens=0)
    prompts = load_prompts(req.prompts_dir)
    resolved = inputs.resolve(req.sources)
    factory = backend_factory(
        choice,
        BackendSettings(
            n_ctx=n_ctx, gpu_layers=gpu_layers, threads=threads, seed=seed, verbose=req.verbose
        ),
    )
    summarizer = Summarizer(
        open_store(),
        prompts,
        options,
        model_name=choice.name,
        model_fingerprint=choice.fingerprint,
        n_ctx=n_ctx,
        backend_factory=factory,
        refresh=req.refresh,
    )
    return Job(resolved, summarizer)
