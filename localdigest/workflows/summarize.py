"""Summarize a command's sources: the model resolved, sources fetched, papers summarized.

``prepare`` resolves everything that can fail fast (flags, the model file's header, the
prompt files, which inputs exist) without loading the model or touching the network.
``SummarizeJob.fetch`` then downloads arXiv papers that are not in the library yet (with a progress
callback), and ``SummarizeJob.run`` summarizes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from localdigest.cache import Store
from localdigest.config import Paths, RunConfig
from localdigest.errors import ModelError, UsageError
from localdigest.index import PassageIndex
from localdigest.llm import (
    Backend,
    BackendSettings,
    backend_factory,
    connect_server,
    local_engine,
    no_local_engine,
)
from localdigest.llm.llamacpp import default_threads
from localdigest.llm.tokens import EstimatingBackend
from localdigest.models import default_n_ctx, resolve_model
from localdigest.models.inventory import LARGE_MODEL
from localdigest.papers import Mode, ModeSetting, PaperFailure, PaperInput, PaperSummary, Result
from localdigest.sources import inputs
from localdigest.summarize import (
    BackendLoader,
    ModelRef,
    Options,
    Reporter,
    Summarizer,
    load_prompts,
)
from localdigest.summarize.rates import RateLog, rates_key

if TYPE_CHECKING:
    from localdigest.sources.library import ProgressFn


@dataclass
class SummarizeJob:
    """A prepared command: what to summarize, and the summarizer that will do it."""

    cfg: RunConfig
    resolved: inputs.Resolved
    summarizer: Summarizer
    papers: list[PaperInput] | None = None  # known once fetched
    runs_on: str = ""  # where an ``ollama:`` model runs, and why (said before the work)

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
            client = None
            if self.resolved.to_fetch:  # the HTTP stack: only when arXiv papers are missing
                from localdigest.workflows import arxiv

                client = arxiv.client(self.cfg)
            library = self.cfg.paths.library
            self.papers = inputs.fetch(self.resolved, client, library, progress)
        return self.papers

    def run(self, reporter: Reporter | None = None) -> list[Result]:
        """Summarize every paper (fetching first if that was not done): failures first.
        Every paper read is also cut into passages in the index ``ask`` searches."""
        papers = self.fetch()
        index = open_index(self.cfg.paths)
        summarizer = self.summarizer.using(index=index)
        if reporter is not None:
            summarizer = summarizer.using(reporter=reporter)
        try:
            results = summarizer.run(papers)
        finally:
            if summarizer.rates is not None:
                summarizer.rates.save()  # what this run's calls taught, for the next estimate
            self.summarizer.store.close()
            index.close()
        ids = [r.arxiv_id for r in results if isinstance(r, PaperSummary) and r.arxiv_id]
        if ids:  # local PDFs only: the arXiv stack is not imported
            from localdigest.sources.library import Library

            library = Library(self.cfg.paths.library)
            for arxiv_id in ids:
                library.mark_summarized(arxiv_id)
        return [*self.failures, *results]


INDEX_NAME = "passages.sqlite"


def open_index(paths: Paths) -> PassageIndex:
    """The passage index ``ask`` searches, kept with the cache (opened on first use)."""
    return PassageIndex(paths.cache / INDEX_NAME)


SMALL_MODEL = LARGE_MODEL  # parameters: under this, "auto" extracts instead of writing


def resolve_mode(mode: ModeSetting, parameters: int | None) -> Mode:
    """``auto`` as a concrete mode: extract for a model under SMALL_MODEL parameters (the
    eval measured its own writing losing most of a paper's facts), write otherwise (also
    when the size is unknown: a server's model that reports none)."""
    if mode != "auto":
        return mode
    return "extract" if parameters is not None and parameters < SMALL_MODEL else "write"


def prepare(sources: Sequence[str], cfg: RunConfig, piped: bytes | None = None) -> SummarizeJob:
    """Resolve the model and the sources; nothing is loaded, fetched or computed yet (with a
    server: the server is asked what it serves, since the cache keys hold it). ``piped``:
    what standard input held, the PDF a ``-`` among the sources stands for.

    ``--server ollama`` / ``lmstudio`` are those servers' local addresses; ``-m
    ollama:NAME`` without ``--server`` goes to the running Ollama when it answers, and
    runs the model's blob in-process only when it does not."""
    server, server_model, runs_on = _where(cfg)
    if not server and cfg.origins.get("parallel") == "flag":
        raise UsageError(
            "--parallel needs --server: the in-process model makes one call at a time "
            "(decoding several at once was measured slower on CPU: docs/performance.md)"
        )
    if not server:  # ModelError (exit 4) before any paper is touched
        model, factory, parameters = _in_process(cfg)
        in_flight = 1
    options = Options(  # "auto" becomes a mode once the model's size is known
        mode="write" if cfg.mode == "auto" else cfg.mode,
        max_tokens=cfg.max_tokens,
        temperature=cfg.temperature,
        seed=cfg.seed,
        include_appendix=cfg.include_appendix,
        password=cfg.password,
        max_pages=cfg.max_pages or None,
        style=cfg.style,
        structured_notes=cfg.structured_notes,
    )
    if cfg.read_all:
        options = replace(options, section_tokens=0)
    prompts = load_prompts(cfg.prompts_dir)
    resolved = inputs.resolve(sources, cfg.paths.library, piped)
    if server:  # asked last: flags, prompts and inputs are checked without it
        model, factory, in_flight, parameters = _server(cfg, server, server_model)
    mode = resolve_mode(cfg.mode, parameters)
    if not server and not local_engine():
        model, factory = _without_engine(model, mode)
    store = Store(cfg.paths.cache)
    # A model of 1B parameters or more writes from the whole reading plan in one call
    # where it fits: priced against map-reduce in docs/performance.md.
    one_pass = parameters is not None and parameters >= LARGE_MODEL
    summarizer = Summarizer(
        store,
        prompts,
        replace(options, mode=mode, one_pass=one_pass),
        model,
        BackendLoader(factory),
        refresh=cfg.refresh,
        in_flight=in_flight,
        # The ETA: the in-process model's rates (a server's calls overlap, and a timing
        # call there would be one more request to an engine others may share)
        rates=None
        if server
        else RateLog(
            store, rates_key(model.fingerprint, model.n_ctx, model.threads, model.gpu_layers)
        ),
    )
    return SummarizeJob(cfg, resolved, summarizer, runs_on=runs_on)


def _where(cfg: RunConfig) -> tuple[str | None, str | None, str]:
    """The server to send calls to (None: in-process), which of its models, and for an
    ``ollama:`` model, a line saying where it runs."""
    from localdigest.llm.local_servers import ollama_answers, ollama_root, server_url

    server = server_url(cfg.server)
    prefix, _, name = (cfg.model or "").partition(":")
    if server or prefix.lower() != "ollama" or not name:
        return server, cfg.server_model, ""
    root = ollama_root()
    if not ollama_answers(root):
        return None, None, f"Ollama does not answer at {root}: {cfg.model} runs in-process"
    tagged = name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"
    model = cfg.server_model or tagged
    return f"{root}/v1", model, f"{cfg.model} runs on the Ollama server at {root}"


def _in_process(cfg: RunConfig) -> tuple[ModelRef, Callable[[], Backend], int | None]:
    """The local GGUF, loaded on first need: (its identity, the factory, its parameter
    count)."""
    # ModelError (exit 4) before any paper is touched
    choice = resolve_model(cfg.model, cfg.paths.models, cfg.origins.get("model", "flag"))
    n_ctx = cfg.n_ctx or default_n_ctx(choice.info)
    threads = cfg.threads or default_threads()
    settings = BackendSettings(
        n_ctx=n_ctx,
        gpu_layers=cfg.gpu_layers,
        threads=threads,
        seed=cfg.seed,
        verbose=cfg.verbose,
    )
    factory = backend_factory(choice, settings)
    model = ModelRef(choice.name, choice.fingerprint, n_ctx, threads, cfg.gpu_layers)
    return model, factory, choice.info.parameters


def _without_engine(model: ModelRef, mode: Mode) -> tuple[ModelRef, Callable[[], Backend]]:
    """Where llama-cpp-python (the ``local`` extra) is not installed: extract mode with the
    model's tokens estimated (another identity in the cache keys: the reading plan may
    differ), or the one line that says how to add it."""
    if mode != "extract":
        raise no_local_engine(model.name)
    estimated = replace(model, fingerprint=f"{model.fingerprint}+estimated-tokens")
    return estimated, lambda: EstimatingBackend(
        estimated.name, estimated.fingerprint, estimated.n_ctx
    )


def _server(
    cfg: RunConfig, url: str, server_model: str | None
) -> tuple[ModelRef, Callable[[], Backend], int, int | None]:
    """The server, asked what it serves: (its identity, the factory, calls in flight, the
    model's parameter count when known). ``--model`` names the same GGUF here, for exact
    token counts (an ``ollama:`` model served by an Ollama elsewhere may have none here)."""
    from localdigest.llm.server import ServerSettings

    try:
        local = resolve_model(cfg.model, cfg.paths.models) if cfg.model else None
    except ModelError:
        if not (cfg.model or "").lower().startswith("ollama:"):
            raise
        local = None
    backend = connect_server(
        ServerSettings(
            url=url,
            model=server_model,
            n_ctx=cfg.n_ctx,
            local_model=local,
            api_key=cfg.api_key,
            timeout=cfg.server_timeout,
            retries=cfg.server_retries,
        )
    )
    if cfg.structured_notes and not backend.takes_grammar:
        raise UsageError(
            f"--structured-notes needs llama.cpp's grammars, and the server at {backend.where} "
            f"({backend.info.kind}) takes none — use llama-server, or drop --structured-notes"
        )
    in_flight = int(cfg.parallel or backend.parallel_slots)
    parameters = local.info.parameters if local else backend.parameters
    model = ModelRef(backend.name, backend.fingerprint, backend.n_ctx)
    return model, lambda: backend, in_flight, parameters
