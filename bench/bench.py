"""localdigest benchmark: `make bench` (or `.venv/bin/python bench/bench.py [PDF|DIR ...]`).

For each paper (default: the team corpus in ../shared/corpus/pdfs) it summarizes the paper
cold (fresh cache) with localdigest and prints one row: pages, tokens of the raw PDF text,
tokens sent to the model, chunks, model calls, seconds for extraction / map / reduce /
total, effective prefill and decode speeds, the sections read, and the time of LangChain's
map-reduce summarize chain on the same paper with the same GGUF and settings.

In the same run it measures the machine's limit (raw llama.cpp prefill of a chunk-sized
prompt and decode of N tokens, same model, context and threads) and - in fresh processes -
a cold `localdigest
summarize` (peak RSS), its warm rerun and `localdigest --help`. Targets are printed as
measured ratios. Results also go to bench/results/bench-<time>.json (git-ignored).

Benchmark-only dependencies: bench/requirements.txt (LangChain, psutil). llama.cpp's
threads spin-wait: run it on an otherwise idle machine (the load average is recorded).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "pdfs"
RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent

# Which sections a summary must always read, by heading words (title: in every prompt).
REQUIRED = {
    "abstract": ("abstract",),
    "introduction": ("introduction",),
    "results": ("result", "experiment", "evaluation", "empirical"),
    "conclusion": ("conclusion", "discussion", "summary"),
}
NOT_METHOD = (
    "abstract",
    "introduction",
    "related",
    "background",
    "result",
    "experiment",
    "evaluation",
    "conclusion",
    "discussion",
    "summary",
    "future work",
)


# ----------------------------------------------------------------------------- recording


@dataclass
class Record:
    """Every generation of one run, to compute speeds from what the model really did."""

    generations: list[Any] = field(default_factory=list)

    def prefill(self) -> tuple[int, float]:
        tokens = sum(g.prompt_tokens - g.reused_tokens for g in self.generations)
        return tokens, sum(g.prompt_seconds for g in self.generations)

    def decode(self) -> tuple[int, float]:
        tokens = sum(g.completion_tokens for g in self.generations)
        return tokens, sum(g.seconds - g.prompt_seconds for g in self.generations)


class Recorder:
    """A backend that records what the real one generates (one call at a time)."""

    parallel_slots = 1

    def __init__(self, inner: Any, record: Record) -> None:
        self.inner = inner
        self.record = record

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def complete(self, system: str, user: str, settings: Any, on_token: Any = None) -> Any:
        g = self.inner.complete(system, user, settings, on_token)
        self.record.generations.append(g)
        return g


# ----------------------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for pkg in (
        "localdigest",
        "llama_cpp_python",
        "pymupdf",
        "langchain-classic",
        "langchain-community",
        "langchain-core",
    ):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def load() -> float:
    return os.getloadavg()[0]


# ----------------------------------------------------------------------------- raw limit


def raw_speeds(llm: Any, tokens: list[int], n_prompt: int, n_gen: int) -> dict[str, float]:
    """llama.cpp alone: evaluate an n_prompt-token prompt, then decode n_gen tokens."""
    import llama_cpp as lib

    ctx = llm._ctx.ctx
    mem = lib.llama_get_memory(ctx)
    n_batch = llm.n_batch
    prompt = (tokens * (n_prompt // max(1, len(tokens)) + 1))[:n_prompt]
    batch = lib.llama_batch_init(n_batch, 0, 1)
    sampler = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
    lib.llama_sampler_chain_add(sampler, lib.llama_sampler_init_greedy())

    def decode(rows: list[tuple[int, int, bool]]) -> None:
        for i, (tok, pos, logits) in enumerate(rows):
            batch.token[i], batch.pos[i], batch.n_seq_id[i] = tok, pos, 1
            batch.seq_id[i][0], batch.logits[i] = 0, logits
        batch.n_tokens = len(rows)
        if lib.llama_decode(ctx, batch) != 0:
            raise RuntimeError("llama_decode failed")

    try:
        best_p = best_d = 0.0
        for _ in range(2):  # best of two: the machine is shared
            lib.llama_memory_clear(mem, True)
            t = time.perf_counter()
            for i in range(0, len(prompt), n_batch):
                piece = prompt[i : i + n_batch]
                last = i + len(piece) == len(prompt)
                decode([(tok, i + j, last and j == len(piece) - 1) for j, tok in enumerate(piece)])
            best_p = max(best_p, len(prompt) / (time.perf_counter() - t))
            tok = lib.llama_sampler_sample(sampler, ctx, -1)
            t = time.perf_counter()
            for k in range(n_gen):
                decode([(tok, len(prompt) + k, True)])
                tok = lib.llama_sampler_sample(sampler, ctx, -1)
            best_d = max(best_d, n_gen / (time.perf_counter() - t))
    finally:
        lib.llama_sampler_free(sampler)
        lib.llama_batch_free(batch)
        lib.llama_memory_clear(mem, True)
        llm.n_tokens = 0
    return {"prefill_tps": best_p, "decode_tps": best_d, "prompt_tokens": n_prompt, "gen": n_gen}


# ----------------------------------------------------------------------------- localdigest


def raw_text(path: Path) -> str:
    """All text PyMuPDF extracts from the PDF, uncleaned: what a naive pipeline reads."""
    import pymupdf

    with pymupdf.open(path) as doc:
        return "\n".join(page.get_text() for page in doc)


def coverage(read: list[str], skipped: list[str], has_abstract: bool) -> dict[str, bool]:
    """Whether each required part was read, by the headings of the sections read.

    A part the paper has no heading for (a theory paper without "Results") counts as
    covered when no section that would hold it was skipped.
    """
    low = [h.lower() for h in read]
    low_skipped = [h.lower() for h in skipped]
    cov = {"title": True}  # the title is in every prompt
    for part, words in REQUIRED.items():
        if part == "abstract":
            cov[part] = has_abstract
            continue
        found = any(w in h for h in low for w in words)
        cov[part] = found or not any(w in h for h in low_skipped for w in words)
    cov["method"] = any(h and not any(w in h for w in NOT_METHOD) for h in low)
    return cov


def run_localdigest(path: Path, backend: Any, args: argparse.Namespace) -> dict[str, Any]:
    from localdigest import config, papers
    from localdigest.workflows.summarize import prepare

    record = Record()
    cfg = config.load(
        model=args.model, n_ctx=args.n_ctx, threads=args.threads, mode=args.mode, refresh=True
    )
    job = prepare([str(path)], cfg)
    from localdigest.summarize import BackendLoader

    job.summarizer = job.summarizer.using(
        load_backend=BackendLoader(lambda: Recorder(backend, record))
    )
    t = time.perf_counter()
    (result,) = job.run()
    wall = time.perf_counter() - t
    if not isinstance(result, papers.PaperSummary):
        return {"paper": path.name, "error": result.error}
    st = result.stats
    raw_tokens = backend.count_tokens(raw_text(path))
    p_tok, p_s = record.prefill()
    d_tok, d_s = record.decode()
    row = {
        "paper": path.name,
        "title": result.title,
        "pages": result.pages,
        "raw_tokens": raw_tokens,
        "text_tokens": st.text_tokens,
        "sent_tokens": st.input_tokens,
        "evaluated_tokens": p_tok,
        "chunks": st.chunks,
        "calls": st.llm_calls,
        "retries": st.retries,
        "repairs": st.repairs,
        "extract_s": st.extract_seconds,
        "map_s": st.map_seconds,
        "reduce_s": st.reduce_seconds,
        "total_s": wall,
        "prefill_tps": p_tok / p_s if p_s else 0.0,
        "decode_tps": d_tok / d_s if d_s else 0.0,
        "output_tokens": d_tok,
        "sections_read": list(dict.fromkeys(result.sections_read)),
        "sections_skipped": result.sections_skipped,
        "sections_shortened": result.sections_shortened,
        "coverage": coverage(
            list(result.sections_read), result.sections_skipped, bool(result.abstract)
        ),
        "tldr": result.tldr,
        "summary": result.summary,
    }
    return row


# ----------------------------------------------------------------------------- LangChain


def run_langchain(path: Path, lc: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """LangChain's map_reduce summarize chain: PyMuPDFLoader pages, split to the same chunk
    size in model tokens, same GGUF, n_ctx, max_tokens, threads, sampling."""
    from langchain_classic.chains.summarize import load_summarize_chain
    from langchain_community.document_loaders import PyMuPDFLoader
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    llm, reduce_llm = lc["map"], lc["reduce"]
    t = time.perf_counter()
    docs = PyMuPDFLoader(str(path)).load()
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=args.chunk_tokens, chunk_overlap=0, length_function=llm.get_num_tokens
    )
    chunks = splitter.split_documents(docs)
    chain = load_summarize_chain(
        llm,
        chain_type="map_reduce",
        reduce_llm=reduce_llm,  # collapsing also goes through the reduce chain
        token_max=lc["token_max"],
    )
    out = chain.invoke({"input_documents": chunks})
    return {
        "langchain_s": time.perf_counter() - t,
        "langchain_chunks": len(chunks),
        "langchain_summary": out["output_text"].strip(),
    }


def langchain_llms(model: Path, args: argparse.Namespace, n_ctx: int) -> dict[str, Any]:
    from langchain_community.llms import LlamaCpp

    from localdigest.llm import llamacpp as llmmod

    common = {
        "model_path": str(model),
        "n_ctx": n_ctx,
        "n_threads": args.threads,
        "n_batch": 512,  # LangChain's default (8) would make its prefill far slower
        "model_kwargs": {"n_ubatch": llmmod.DEFAULT_N_UBATCH},  # same compute step
        "temperature": 0.2,
        "top_p": 0.9,
        "repeat_penalty": 1.15,
        "seed": 42,
        "rope_freq_base": 0.0,  # its default 10000 overrides the model's own RoPE base
        "verbose": False,
    }
    llm = LlamaCpp(max_tokens=args.map_tokens, **common)
    reduce_llm = llm.model_copy(update={"max_tokens": args.max_tokens})  # same loaded model
    return {"map": llm, "reduce": reduce_llm, "token_max": n_ctx - args.max_tokens - 512}


# ----------------------------------------------------------------------------- processes


def timed_process(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Wall time and peak RSS (psutil polling every 20 ms) of a command."""
    import psutil

    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    ps = psutil.Process(proc.pid)
    done = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, ps.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.02)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - t
    done.set()
    th.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-500:]}")
    return {"seconds": wall, "peak_rss": peak}


def process_checks(paper: Path, args: argparse.Namespace, model_size: int) -> dict[str, Any]:
    env = dict(os.environ, LOCALDIGEST_HOME=tempfile.mkdtemp(prefix="ld-bench-cli-"))
    ld = str(BIN / "localdigest")
    base = [ld, "summarize", str(paper), "--threads", str(args.threads), "--format", "json"]
    if args.model:
        base += ["--model", args.model]
    cold = timed_process(base, env)
    warm = min((timed_process(base, env) for _ in range(3)), key=lambda r: r["seconds"])
    start = min(timed_process([sys.executable, "-c", "pass"], env)["seconds"] for _ in range(3))
    help_s = min(timed_process([ld, "--help"], env)["seconds"] for _ in range(3))
    return {
        "paper": paper.name,
        "cold_s": cold["seconds"],
        "peak_rss_mb": cold["peak_rss"] / 2**20,
        "model_mb": model_size / 2**20,
        "warm_s": warm["seconds"],
        "python_start_s": start,
        "warm_beyond_start_s": warm["seconds"] - start,
        "help_s": help_s,
    }


# ----------------------------------------------------------------------------- report


def med(rows: list[dict[str, Any]], key: str) -> float:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else float("nan")


def report(res: dict[str, Any]) -> str:
    rows = [r for r in res["papers"] if "error" not in r]
    m, s, lim = res["machine"], res["settings"], res["limit"]
    out = [
        f"localdigest bench — {res['started']}",
        f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; load average "
        f"{res['load_before']:.2f} before, {res['load_after']:.2f} after",
        "versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v),
        "settings: " + ", ".join(f"{k}={v}" for k, v in s.items()),
        f"raw llama.cpp (same model/settings): prefill {lim['prefill_tps']:.0f} tok/s "
        f"({lim['prompt_tokens']}-token prompt), decode {lim['decode_tps']:.1f} tok/s "
        f"({lim['gen']} tokens, 1 sequence)",
        "",
        "| paper | pages | raw tok | sent tok | sent/raw | evaluated tok | eval/raw | chunks "
        "| calls | extract s | map s | reduce s | total s | prefill tok/s | decode tok/s "
        "| LangChain s | ratio |",
        "|---|" + "---:|" * 16,
    ]
    for r in res["papers"]:
        if "error" in r:
            out.append(f"| {r['paper']} | error: {r['error'][:80]} |" + " |" * 15)
            continue
        lc = r.get("langchain_s")
        out.append(
            f"| {r['paper']} | {r['pages']} | {r['raw_tokens']} | {r['sent_tokens']} | "
            f"{r['sent_tokens'] / r['raw_tokens']:.2f} | {r['evaluated_tokens']} | "
            f"{r['evaluated_tokens'] / r['raw_tokens']:.2f} | {r['chunks']} | {r['calls']} | "
            f"{r['extract_s']:.2f} | {r['map_s']:.1f} | {r['reduce_s']:.1f} | "
            f"{r['total_s']:.1f} | {r['prefill_tps']:.0f} | {r['decode_tps']:.0f} | "
            + (f"{lc:.1f} | {r['total_s'] / lc:.2f} |" if lc else "— | — |")
        )
    out.append("")
    for r in rows:
        missing = [k for k, v in r["coverage"].items() if not v]
        out.append(
            f"{r['paper']}: read {len(r['sections_read'])} sections"
            + (f", MISSING {', '.join(missing)}" if missing else ", all required covered")
            + f"; skipped: {', '.join(h or '(front)' for h in r['sections_skipped']) or '-'}"
            + f"; read in part: {', '.join(r.get('sections_shortened', [])) or '-'}"
            + f"; guard: {r.get('retries', 0)} retries, {r.get('repairs', 0)} repairs"
        )
    out.append("")
    t = res["targets"]
    out.append("targets (medians over the papers):")
    for name, (value, goal, ok) in t.items():
        out.append(f"  {'MET ' if ok else 'MISS'} {name}: {value} (target {goal})")
    if res.get("process"):
        p = res["process"]
        out.append(
            f"process ({p['paper']}): cold {p['cold_s']:.1f} s, warm rerun {p['warm_s']:.2f} s "
            f"(python start {p['python_start_s']:.2f} s), --help {p['help_s']:.2f} s, "
            f"peak RSS {p['peak_rss_mb']:.0f} MB (model {p['model_mb']:.0f} MB)"
        )
    return "\n".join(out)


def targets(res: dict[str, Any]) -> dict[str, tuple[str, str, bool]]:
    rows = [r for r in res["papers"] if "error" not in r]
    lim = res["limit"]
    t: dict[str, tuple[str, str, bool]] = {}
    lc = [r["total_s"] / r["langchain_s"] for r in rows if r.get("langchain_s")]
    if lc:
        v = statistics.median(lc)
        t["time vs LangChain map-reduce"] = (f"{v:.2f}x", "<= 0.5x", v <= 0.5)
    v = statistics.median([r["sent_tokens"] / r["raw_tokens"] for r in rows])
    t["tokens sent / raw text tokens"] = (f"{v:.2f}x", "<= 0.6x", v <= 0.6)
    v = statistics.median([r["evaluated_tokens"] / r["raw_tokens"] for r in rows])
    t["tokens evaluated (KV-cached prefixes not counted) / raw"] = (
        f"{v:.2f}x",
        "<= 0.6x",
        v <= 0.6,
    )
    cov = all(all(r["coverage"].values()) for r in rows)
    t["title/abstract/intro/method/results/conclusion read"] = (
        "all papers" if cov else "not all (see above)",
        "all papers",
        cov,
    )
    v = med(rows, "prefill_tps") / lim["prefill_tps"]
    t["prefill speed vs raw llama.cpp"] = (f"{v:.2f}x", ">= 0.9x", v >= 0.9)
    v = med(rows, "decode_tps") / lim["decode_tps"]
    t["decode speed vs raw llama.cpp (1 seq)"] = (f"{v:.2f}x", ">= 0.9x", v >= 0.9)
    p = res.get("process")
    if p:
        t["warm rerun beyond process start"] = (
            f"{p['warm_beyond_start_s']:.2f} s",
            "< 0.5 s",
            p["warm_beyond_start_s"] < 0.5,
        )
        t["localdigest --help"] = (f"{p['help_s']:.2f} s", "< 0.3 s", p["help_s"] < 0.3)
        t["peak RSS - model size"] = (
            f"{p['peak_rss_mb'] - p['model_mb']:.0f} MB",
            "<= 300 MB",
            p["peak_rss_mb"] - p["model_mb"] <= 300,
        )
    return t


# ----------------------------------------------------------------------------- sweep


def sweep(choice: Any, args: argparse.Namespace, sample_pdf: Path) -> list[dict[str, Any]]:
    """Raw speeds for each candidate setting: the measurements behind llm/llamacpp.py's defaults."""
    from localdigest.llm.llamacpp import LlamaCppBackend

    rows = []
    base = {"flash_attn": True, "n_batch": 512, "threads": 1, "use_mmap": True}
    configs = [
        base,
        {**base, "flash_attn": False},
        {**base, "n_batch": 128},
        {**base, "use_mmap": False},
        {**base, "threads": 2},
    ]
    for cfg in configs:
        b = LlamaCppBackend(choice, n_ctx=4096, **cfg)
        tokens = b.llm.tokenize(raw_text(sample_pdf).encode(), add_bos=False)
        row: dict[str, Any] = {**cfg, "load": load()}
        row.update(raw_speeds(b.llm, tokens, 1024, 64))
        rows.append(row)
        print(json.dumps(row), flush=True)
        del b
    return rows


# ----------------------------------------------------------------------------- main


def find_pdfs(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for p in [Path(x) for x in paths] or [CORPUS]:
        found += sorted(p.rglob("*.pdf")) if p.is_dir() else [p]
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", help=f"PDFs or folders (default {CORPUS})")
    ap.add_argument("--model", help="GGUF path or name (default: localdigest's default)")
    ap.add_argument("--limit", type=int, help="at most N papers")
    ap.add_argument("--threads", type=int, default=None, help="default: localdigest's")
    ap.add_argument("--n-ctx", type=int, default=None)
    ap.add_argument("--no-langchain", action="store_true", help="skip the LangChain runs")
    ap.add_argument(
        "--mode",
        default="write",
        choices=["auto", "write", "extract", "rewrite"],
        help="how summaries are written (default write: the map-reduce path LangChain's is "
        "compared with)",
    )
    ap.add_argument("--no-process", action="store_true", help="skip the fresh-process checks")
    ap.add_argument("--output", type=Path, help="JSON file (default bench/results/...)")
    ap.add_argument(
        "--sweep",
        action="store_true",
        help="only measure raw speeds for candidate settings (threads, "
        "flash attention, batch size, mmap)",
    )
    args = ap.parse_args(argv)

    os.environ["LOCALDIGEST_HOME"] = tempfile.mkdtemp(prefix="ld-bench-")
    from localdigest import config
    from localdigest.llm import llamacpp as llmmod
    from localdigest.models import default_n_ctx, resolve_model
    from localdigest.summarize import Options

    opts = Options()
    args.map_tokens, args.max_tokens, args.chunk_tokens = (
        opts.map_tokens,
        opts.max_tokens,
        opts.chunk_tokens,
    )
    cfg = config.load(model=args.model)
    choice = resolve_model(cfg.model, cfg.paths.models, cfg.origins["model"])
    args.threads = args.threads or llmmod.default_threads()
    n_ctx = args.n_ctx or default_n_ctx(choice.info)
    papers = find_pdfs(args.paths)[: args.limit]
    if args.sweep:
        rows = sweep(choice, args, papers[0])
        out = args.output or RESULTS / f"sweep-{dt.datetime.now():%Y-%m-%dT%H%M%S}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1))
        print(f"results: {out}")
        return 0
    res: dict[str, Any] = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "load_before": load(),
        "settings": {
            "model": choice.path.name,
            "mode": args.mode,
            "n_ctx": n_ctx,
            "threads": args.threads,
            "n_batch": llmmod.DEFAULT_N_BATCH,
            "n_ubatch": llmmod.DEFAULT_N_UBATCH,
            "flash_attn": llmmod.DEFAULT_FLASH_ATTN,
            "chunk_tokens": args.chunk_tokens,
            "map_tokens": args.map_tokens,
            "max_tokens": args.max_tokens,
        },
    }
    print(
        f"benchmarking {len(papers)} papers on {res['machine']['cpu']} "
        f"(load {res['load_before']:.2f})",
        flush=True,
    )
    backend = llmmod.LlamaCppBackend(choice, n_ctx=n_ctx, threads=args.threads)
    sample = backend.llm.tokenize(raw_text(papers[0]).encode(), add_bos=False)
    res["limit"] = raw_speeds(backend.llm, sample, args.chunk_tokens, 128)
    print(f"raw llama.cpp: {res['limit']}", flush=True)
    lc = None if args.no_langchain else langchain_llms(choice.path, args, n_ctx)
    res["papers"] = []
    for path in papers:
        row = run_localdigest(path, backend, args)
        print(f"localdigest {path.name}: {row.get('total_s', 0):.1f} s", flush=True)
        if lc is not None and "error" not in row:
            try:
                row.update(run_langchain(path, lc, args))
            except Exception as e:  # a failure of the reference recipe is reported, not fatal
                row["langchain_error"] = f"{type(e).__name__}: {e}"
        res["papers"].append(row)
        print(
            json.dumps(
                {
                    k: v
                    for k, v in row.items()
                    if k
                    not in (
                        "summary",
                        "tldr",
                        "langchain_summary",
                        "sections_read",
                        "sections_skipped",
                    )
                }
            ),
            flush=True,
        )
    ok = [r for r in res["papers"] if "error" not in r]
    if not args.no_process and ok:
        shortest = min(ok, key=lambda r: r["sent_tokens"])
        path = next(p for p in papers if p.name == shortest["paper"])
        res["process"] = process_checks(path, args, choice.path.stat().st_size)
    res["load_after"] = load()
    res["targets"] = targets(res)
    text = report(res)
    print(text)
    out = args.output or RESULTS / f"bench-{res['started'].replace(':', '')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**res, "report": text}, indent=1, ensure_ascii=False))
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
