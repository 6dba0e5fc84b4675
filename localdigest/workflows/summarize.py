"""Summarize a request: settings and model resolved, sources fetched, papers summarized.

``prepare`` resolves everything that can fail fast (flags, the model file's header, the
prompt files, which inputs exist) without loading the model or touching the network.
``SummarizeJob.fetch`` then downloads arXiv papers that are not in the library yet (with a progress
callback), and ``SummarizeJob.run`` summarizes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from localdigest import config
from localdigest.cache import open_store
from localdigest.errors import UsageError
from localdigest.llm import (
    Backend,
    BackendSettings,
    backend_factory,
    connect_server,
    default_n_ctx,
    resolve_model,
)
from localdigest.papers import (
    Mode,
    ModeSetting,
    PaperFailure,
    PaperInput,
    PaperSummary,
    Result,
    Style,
)
from localdigest.sources import inputs
from localdigest.summarize import (
    BackendLoader,
    ModelRef,
    Options,
    Reporter,
    Summarizer,
    load_prompts,
)

if TYPE_CHECKING:
    from localdigest.sources.library import ProgressFn

# The server's API key: read from the environment only, sent as a bearer token, never
# written anywhere (not a setting, so `localdigest config` never shows it).
API_KEY_ENV = "LOCALDIGEST_API_KEY"


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
    style: Style = "paragraph"
    read_all: bool = False  # every kept section whole (no reading plan)
    server: str | None = None  # an OpenAI-compatible base URL: every model call goes there
    server_model: str | None = None  # which of the server's models
    parallel: int | None = None  # model calls in flight at once (with a server)
    mode: ModeSetting | None = None  # None: the configured one
    structured_notes: bool = False  # the map's notes follow a grammar (write mode)


@dataclass
class SummarizeJob:
    """A prepared request: what to summarize, and the summarizer that will do it."""

    resolved: inputs.Resolved
    summarizer: Summarizer
    papers: list[PaperInput] | None = None  # known once fetched

    @property
    def concurrency(self) -> int:
        """Model calls in flight at once (1: one after another)."""
        return self.summarizer.in_flight

    @property
    def failures(self) -> list[PaperFailure]:
        return self.resolved.failures

    def fetch(self, progress: ProgressFn | None = None) -> list[PaperInput]:
        """Download arXiv papers missing from the library; the papers to summarize."""
        if self.papers is None:
            from localdigest.workflows import arxiv

            client = arxiv.client() if self.resolved.to_fetch else None
            self.papers = inputs.fetch(self.resolved, client, progress)
        return self.papers

    def run(self, reporter: Reporter | None = None) -> list[Result]:
        """Summarize every paper (fetching first if that was not done): failures first."""
        papers = self.fetch()
        summarizer = (
            self.summarizer if reporter is None else self.summarizer.using(reporter=reporter)
        )
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


def resolve_mode(mode: ModeSetting, parameters: int | None) -> Mode:
    """``auto`` as a concrete mode: extract for a model under SMALL_MODEL parameters (the
    eval measured its own writing losing most of a paper's facts), write otherwise (also
    when the size is unknown: a server's model that reports none)."""
    if mode != "auto":
        return mode
    return "extract" if parameters is not None and parameters < SMALL_MODEL else "write"


def prepare(req: SummarizeRequest) -> SummarizeJob:
    """Resolve model, settings and sources; nothing is loaded, fetched or computed yet
    (with a server: the server is asked what it serves, since the cache keys hold it).

    Every setting is checked by ``config`` (type and range) whether it came from a flag,
    the environment or the config file."""
    server = config.value("server", req.server)
    parallel = config.value("parallel", req.parallel)
    if not server and req.parallel is not None:
        raise UsageError(
            "--parallel needs --server: the in-process model makes one call at a time "
            "(decoding several at once was measured slower on CPU: docs/performance.md)"
        )
    seed = int(config.value("seed", req.seed))
    if not server:  # ModelError (exit 4) before any paper is touched
        model_name, fingerprint, n_ctx, factory, parameters = _in_process(req, seed)
        concurrency = 1
    max_pages = int(config.value("max_pages", req.max_pages))
    mode: ModeSetting = config.value("mode", req.mode)
    options = Options(  # checked now; "auto" becomes a mode once the model's size is known
        mode="write" if mode == "auto" else mode,
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
    if server:  # asked last: flags, prompts and inputs are checked without it
        model_name, fingerprint, n_ctx, factory, concurrency, parameters = _server(
            req, str(server), parallel
        )
    options = replace(options, mode=resolve_mode(mode, parameters))
    summarizer = Summarizer(
        open_store(),
        prompts,
        options,
        ModelRef(model_name, fingerprint, n_ctx),
        BackendLoader(factory),
        refresh=req.refresh,
        in_flight=concurrency,
    )
    return SummarizeJob(resolved, summarizer)


def _in_process(
    req: SummarizeRequest, seed: int
) -> tuple[str, str, int, Callable[[], Backend], int | None]:
    """The local GGUF, loaded on first need: (name, fingerprint, n_ctx, factory, its
    parameter count)."""
    choice = resolve_model(req.model)  # ModelError (exit 4) before any paper is touched
    n_ctx = config.value("n_ctx", req.n_ctx) or default_n_ctx(choice.info)
    settings = BackendSettings(
        n_ctx=n_ctx,
        gpu_layers=int(config.value("gpu_layers", req.gpu_layers)),
        threads=config.value("threads", req.threads),
        seed=seed,
        verbose=req.verbose,
    )
    factory = backend_factory(choice, settings)
    return choice.name, choice.fingerprint, n_ctx, factory, choice.info.parameters


def _server(
    req: SummarizeRequest, url: str, parallel: int | None
) -> tuple[str, str, int, Callable[[], Backend], int, int | None]:
    """The server, asked what it serves: (name, fingerprint, n_ctx, factory, calls in
    flight, the model's parameter count when known). ``--model`` names the same GGUF
    here, for exact token counts."""
    from localdigest.llm.server import ServerSettings

    local = resolve_model(req.model) if req.model else None
    backend, served = connect_server(
        ServerSettings(
            url=url,
            model=config.value("server_model", req.server_model),
            n_ctx=config.value("n_ctx", req.n_ctx),
            local_model=local,
            api_key=os.environ.get(API_KEY_ENV) or None,
            timeout=float(config.value("server_timeout")),
            retries=int(config.value("server_retries")),
        )
    )
    if req.structured_notes and not served.takes_grammar:
        raise UsageError(
            f"--structured-notes needs llama.cpp's grammars, and the server at {served.where} "
            f"({served.info.kind}) takes none — use llama-server, or drop --structured-notes"
        )
    concurrency = int(parallel or backend.parallel_slots)
    parameters = local.info.parameters if local else served.parameters
    return (
        backend.name,
        backend.fingerprint,
        backend.n_ctx,
        lambda: backend,
        concurrency,
        parameters,
    )
