"""Glue between the command line and the core: settings -> sources, model, summarizer.

Commands call these functions and render what they return.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdigest import config
from localdigest.cache import SUMMARY, Store
from localdigest.errors import InputError, UsageError
from localdigest.papers import PaperFailure, PaperInput, PaperSummary, Result
from localdigest.summarize import Options, Reporter, Summarizer


def store() -> Store:
    return Store(config.cache_dir())


def succeeded(r: Result) -> bool:
    return isinstance(r, PaperSummary)


def render_text(results: Sequence[Result], fmt: str) -> str:
    from localdigest import formats

    return formats.to_json(results) if fmt == "json" else formats.to_markdown(results)


# ----------------------------------------------------------------------------- sources


def resolve_sources(args: Sequence[str]) -> tuple[list[PaperInput], list[PaperFailure]]:
    """Turn CLI arguments into local PDFs; bad ones become failures, the rest go on.

    The same file named twice (directly or through a folder) is summarized once.
    """
    from localdigest.sources.local import display_path, pdfs_in

    papers: list[PaperInput] = []
    failures: list[PaperFailure] = []
    seen: set[Path] = set()
    for arg in args:
        shown = display_path(Path(arg))  # CLI text may hold undecodable bytes
        try:
            found = _arxiv_input(arg)
            items = [found] if found else [PaperInput(display_path(p), p) for p in pdfs_in(arg)]
        except InputError as e:
            failures.append(PaperFailure(shown, e.message, int(e.exit_code)))
            continue
        for item in items:
            real = item.path.resolve()
            if real not in seen:
                seen.add(real)
                papers.append(item)
    return papers, failures


def _arxiv_input(arg: str) -> PaperInput | None:
    """An arXiv id or URL, fetched into the library if missing (None: not one)."""
    if Path(arg).expanduser().exists():
        return None
    try:
        from localdigest.sources import arxiv, library
    except ImportError:  # pragma: no cover - arXiv support not installed
        return None
    if not arxiv.looks_like_arxiv(arg):
        return None
    entry = library.ensure_paper(arg)
    meta = entry.meta
    return PaperInput(
        source=arg,
        path=entry.pdf_path,
        title=meta.title,
        authors=list(meta.authors),
        url=meta.abs_url,
        arxiv_id=meta.arxiv_id,
    )


# ----------------------------------------------------------------------------- summarize


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


@dataclass
class Job:
    papers: list[PaperInput]
    failures: list[PaperFailure]
    summarizer: Summarizer

    def run(self, reporter: Reporter | None = None) -> list[Result]:
        summarizer = self.summarizer.using(reporter=reporter)
        try:
            results = summarizer.run(self.papers)
        finally:
            self.summarizer.store.close()
        _mark_summarized(results)
        return [*self.failures, *results]


def _mark_summarized(results: Sequence[Result]) -> None:
    ids = [r.arxiv_id for r in results if isinstance(r, PaperSummary) and r.arxiv_id]
    if not ids:
        return  # local PDFs only: don't pay for importing the HTTP stack
    from localdigest.sources import library

    for arxiv_id in ids:
        library.mark_summarized(arxiv_id)


def _positive(name: str, v: int | None) -> None:
    if v is not None and v < 1:
        raise UsageError(f"--{name.replace('_', '-')} must be at least 1 (got {v})")


def prepare(req: SummarizeRequest) -> Job:
    """Resolve model, settings and sources; nothing is loaded or computed yet."""
    from localdigest.llm import BackendSettings, backend_factory, default_n_ctx, resolve_model
    from localdigest.summarize import load_prompts

    for name in ("n_ctx", "threads", "max_tokens"):
        _positive(name, getattr(req, name))
    max_pages = int(config.value("max_pages", req.max_pages))
    if max_pages < 0:
        raise UsageError(f"--max-pages must be 0 (no limit) or more (got {max_pages})")
    choice = resolve_model(req.model)  # ModelError (exit 4) before any paper is touched
    n_ctx = config.value("n_ctx", req.n_ctx) or default_n_ctx(choice.info)
    gpu_layers = int(config.value("gpu_layers", req.gpu_layers))
    threads = config.value("threads", req.threads)
    seed = int(config.value("seed", req.seed))
    options = Options(
        max_tokens=int(config.value("max_tokens", req.max_tokens)),
        temperature=float(config.value("temperature", req.temperature)),
        seed=seed,
        include_appendix=req.include_appendix,
        password=req.password,
        max_pages=max_pages or None,
        style=req.style,
        **({"section_tokens": 0} if req.read_all else {}),
    )
    prompts = load_prompts(req.prompts_dir)
    papers, failures = resolve_sources(req.sources)

    factory = backend_factory(
        choice,
        BackendSettings(
            n_ctx=n_ctx, gpu_layers=gpu_layers, threads=threads, seed=seed, verbose=req.verbose
        ),
    )
    summarizer = Summarizer(
        store(),
        prompts,
        options,
        model_name=choice.path.name,
        model_fingerprint=choice.fingerprint,
        n_ctx=n_ctx,
        backend_factory=factory,
        refresh=req.refresh,
    )
    return Job(papers, failures, summarizer)


# ----------------------------------------------------------------------------- show


def cached_summaries() -> list[dict[str, Any]]:
    """Every cached summary, newest first, as rows {key, short, title, model, ...}."""
    rows = []
    s = store()
    try:
        for key, value in s.items(SUMMARY):
            summary = PaperSummary.from_dict(value)
            summary.cached = True
            digest = key.split("/", 1)[1]
            rows.append(
                {
                    "key": key,
                    "short": digest[:8],
                    "title": summary.title,
                    "model": summary.model,
                    "created": summary.created,
                    "tldr": summary.tldr,
                    "summary": summary,
                }
            )
    finally:
        s.close()
    rows.sort(key=lambda r: r["created"], reverse=True)
    return rows


def find_cached(rows: Sequence[dict[str, Any]], query: str) -> dict[str, Any]:
    q = query.lower().strip()
    for row in rows:
        summary: PaperSummary = row["summary"]
        if row["short"].startswith(q) or summary.sha256.startswith(q):
            return row
        if summary.arxiv_id and q.removeprefix("arxiv:").split("v")[0] == summary.arxiv_id:
            return row
    matches = [r for r in rows if q in r["title"].lower()]
    if len(matches) >= 1:
        return matches[0]
    raise UsageError(f"No cached summary matches '{query}' — run `localdigest show` to list them")
