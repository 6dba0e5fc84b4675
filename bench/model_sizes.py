"""Minutes per paper by model size: random-weight GGUFs of real shapes, side by side.

Run: `make bench-sizes` (or `.venv/bin/python bench/model_sizes.py [PDF|DIR ...]
[--shapes qwen2.5-0.5b,qwen2.5-1.5b,qwen2.5-3b] [--threads 1,2] [--load 0] [--limit 3]`).

1. Token counts of real write-mode runs: `localdigest summarize PAPER --mode write
   --format json` with the default model (SmolLM2-135M, whose tokenizer the synthetic
   models share) on --limit corpus papers, in a cache of the bench's own (a rerun with the
   same model and settings reads the first run's stats back instead of running again).
2. Per shape (bench/synthetic.py builds it on first use, ~3 min for the 3B) and thread
   count, each in a fresh process (its peak RSS is the model's): load time, then one call
   of each size this project makes: a map (~1,500 tokens in, 160 out), a reduce (~2,500
   in, 320 out), and the peers' recipe measured whole: the first 5,000 tokens of a paper
   stuffed into one call, 300 out. --load N runs N busy processes beside it.
3. Minutes per paper: "stuff" is the measured call; "write" is priced from step 1's counts
   at the measured rates (prefill rate at the run's mean prompt size, interpolated between
   the three calls). A random model's own write-mode run is not timed: its noise never
   meets an end token and fails the output guard, so it would time retries, not a summary.

Results: a Markdown table and bench/results/model-sizes-<time>.json (git-ignored). llama.cpp's
threads spin while they wait: say what else ran (the load averages are recorded).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # the model builder next to this one

from bench import CORPUS, RESULTS, find_pdfs, machine  # the in-process bench next to it

BIN = Path(sys.executable).parent
# (name, prompt tokens, generated tokens): localdigest's map and reduce calls, the peers'
# stuff-the-first-5,000-tokens recipe (zotero-arxiv-daily's context) with its answer.
CALLS = (("map", 1500, 160), ("reduce", 2500, 320), ("stuff", 5000, 300))
N_CTX = 6144  # room for the stuff call's prompt, template and answer
STUFF_INSTRUCTION = (
    "Summarize this research paper in one dense paragraph: its core assertions, "
    "methodology, results, potential critiques and implications."
)


# ----------------------------------------------------------------------------- one process


def paper_text(pdf: Path) -> str:
    """The raw text of a PDF, page after page, as the peers' recipe takes it."""
    import pymupdf

    with pymupdf.open(pdf) as doc:
        return "\n".join(page.get_text() for page in doc)


def cut_to(backend: Any, system: str, text: str, tokens: int) -> str:
    """The longest start of ``text`` (whole words) whose prompt is at most ``tokens``."""
    words = text.split()
    low, high = 0, len(words)
    while low < high:
        mid = (low + high + 1) // 2
        if backend.prompt_tokens(system, " ".join(words[:mid])) <= tokens:
            low = mid
        else:
            high = mid - 1
    return " ".join(words[:low])


def measure(model: Path, threads: int, text: str) -> dict[str, Any]:
    """Load ``model`` and make the three calls: the worker process's whole job."""
    import llama_cpp  # noqa: F401  (imported before the clock starts: load time is the model's)

    from localdigest.llm import BackendSettings, GenerationSettings, backend_factory
    from localdigest.models import resolve_model

    start = time.perf_counter()
    choice = resolve_model(str(model), model.parent)
    backend = backend_factory(choice, BackendSettings(N_CTX, threads=threads))()
    result: dict[str, Any] = {"load_s": time.perf_counter() - start, "threads": threads}
    for i, (name, prompt, out) in enumerate(CALLS):
        # A different first line each call: no prompt prefix is reused from the last one.
        system = f"Call {i}: {STUFF_INSTRUCTION}"
        user = cut_to(backend, system, text, prompt)
        g = backend.complete(system, user, GenerationSettings(max_tokens=out, temperature=0.0))
        evaluated = g.prompt_tokens - g.reused_tokens
        result[name] = {
            "prompt_tokens": g.prompt_tokens,
            "evaluated": evaluated,
            "generated": g.completion_tokens,
            "seconds": g.seconds,
            "prefill_tok_s": evaluated / g.prompt_seconds,
            "decode_tok_s": (g.completion_tokens - 1) / max(g.seconds - g.prompt_seconds, 1e-9),
        }
    result["rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9
    return result


# ----------------------------------------------------------------------------- the run


@contextmanager
def busy(processes: int) -> Iterator[None]:
    """``processes`` CPU-bound processes running beside the measurement."""
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)
    ]
    try:
        yield
    finally:
        for p in spinners:
            p.kill()
            p.wait()


def run_worker(model: Path, threads: int, text_file: Path, load: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", str(model), "--threads", str(threads)]
    with busy(load):
        before = os.getloadavg()[0]
        out = subprocess.run([*cmd, "--text", str(text_file)], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{model.name} on {threads} threads failed:\n{out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout)
    result.update(load=load, loadavg_before=before, loadavg_after=os.getloadavg()[0])
    return result


def write_counts(pdfs: list[Path], limit: int) -> list[dict[str, Any]]:
    """The stats of real write-mode runs of the default model, ``limit`` papers that
    summarize (the corpus's damaged PDF does not)."""
    home = synthetic.cache_dir().parent / "bench-write-home"
    # One thread: the counts, not the speed, are wanted, and they are the same on a busy machine.
    env = {**os.environ, "LOCALDIGEST_HOME": str(home), "LOCALDIGEST_THREADS": "1"}
    runs: list[dict[str, Any]] = []
    for pdf in pdfs:
        if len(runs) == limit:
            break
        cmd = [str(BIN / "localdigest"), "summarize", str(pdf), "--mode", "write"]
        out = subprocess.run([*cmd, "--format", "json"], capture_output=True, text=True, env=env)
        if out.returncode != 0:
            print(f"  {pdf.name}: not summarized ({out.stderr.strip()[-200:]})", flush=True)
            continue
        [paper] = json.loads(out.stdout)
        stats = paper["stats"]
        if not stats["llm_calls"]:
            raise SystemExit(f"{pdf.name}: a write-mode run with no model call: clear {home}")
        runs.append({"paper": pdf.name, "cached": paper["cached"], **stats})
        print(f"  {pdf.name}: {stats['llm_calls']} calls, {stats['input_tokens']} tokens in, "
              f"{stats['output_tokens']} out{' (cached run)' if paper['cached'] else ''}",
              flush=True)  # fmt: skip
    return runs


def interpolate(x: float, points: list[tuple[float, float]]) -> float:
    """The value at ``x`` on the line through ``points`` (sorted by x), flat beyond them."""
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


def write_mode_minutes(row: dict[str, Any], runs: list[dict[str, Any]]) -> float:
    """Mean minutes per paper of ``runs``' calls at ``row``'s measured rates. Every prompt
    token is priced as evaluated (llama.cpp reuses a shared prefix: an upper bound)."""
    calls = [row[name] for name, _, _ in CALLS]
    prefill = [(c["prompt_tokens"], c["prefill_tok_s"]) for c in calls]
    decode = [(c["prompt_tokens"], c["decode_tok_s"]) for c in calls]
    minutes = []
    for r in runs:
        size = r["input_tokens"] / r["llm_calls"]
        seconds = r["input_tokens"] / interpolate(size, prefill)
        seconds += r["output_tokens"] / interpolate(size, decode)
        minutes.append(seconds / 60)
    return sum(minutes) / len(minutes)


def table(rows: list[dict[str, Any]], runs: list[dict[str, Any]]) -> str:
    share = sum(min(1.0, CALLS[2][1] / r["text_tokens"]) for r in runs) / len(runs)
    lines = [
        "| model (Q4_K_M) | threads | busy procs | load s | RSS GB | map prefill / decode "
        "tok/s | reduce prefill / decode tok/s | stuff min/paper | write min/paper | "
        "stuff reads |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        m, r = row["map"], row["reduce"]
        lines.append(
            f"| {row['shape']} | {row['threads']} | {row['load']} | {row['load_s']:.1f} | "
            f"{row['rss_gb']:.2f} | {m['prefill_tok_s']:.0f} / {m['decode_tok_s']:.1f} | "
            f"{r['prefill_tok_s']:.0f} / {r['decode_tok_s']:.1f} | "
            f"{row['stuff']['seconds'] / 60:.1f} | {row['write_minutes']:.1f} | {share:.0%} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", help=f"PDFs or folders (default {CORPUS})")
    ap.add_argument("--shapes", default=",".join(synthetic.SHAPES), help="comma-separated")
    ap.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    ap.add_argument("--load", type=int, default=0, help="busy processes beside each run")
    ap.add_argument("--limit", type=int, default=3, help="papers whose write runs are priced")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--text", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, int(args.threads), args.text.read_text())))
        return
    threads = [int(t) for t in args.threads.split(",")]
    started = dt.datetime.now().isoformat(timespec="seconds")
    print(f"{started}, load average {os.getloadavg()[0]:.1f}", flush=True)
    pdfs = find_pdfs(args.paths)
    print("write-mode token counts of the default model:", flush=True)
    runs = write_counts(pdfs, args.limit)
    if not runs:
        raise SystemExit("no paper summarized: nothing to price write mode with")
    rows: list[dict[str, Any]] = []
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"model-sizes-{started.replace(':', '')}.json"
    data = {"started": started, "machine": machine(), "write_runs": runs, "rows": rows}
    with tempfile.TemporaryDirectory() as tmp:
        text_file = Path(tmp) / "paper.txt"
        text_file.write_text(paper_text(next(p for p in pdfs if p.name == runs[0]["paper"])))
        for name in args.shapes.split(","):
            shape = synthetic.SHAPES[name]
            if not synthetic.model_path(shape).exists():
                print(f"{name}: building it (~3 min for the 3B)...", flush=True)
            model = synthetic.build(shape)
            for t in threads:
                row = {"shape": name, "file_mb": model.stat().st_size / 1e6}
                row.update(run_worker(model, t, text_file, args.load))
                row["write_minutes"] = write_mode_minutes(row, runs)
                rows.append(row)
                out.write_text(json.dumps(data, indent=2))  # row by row: a stopped run keeps them
                print(table([row], runs).splitlines()[-1], flush=True)
    print(f"\n{table(rows, runs)}\n")
    print(
        "stuff: measured, one call of the paper's first 5,000 tokens (300 out); write: "
        f"priced from {len(runs)} real write-mode runs of the default model "
        f"({', '.join(r['paper'] for r in runs)}: mean "
        f"{sum(r['llm_calls'] for r in runs) / len(runs):.0f} calls, "
        f"{sum(r['input_tokens'] for r in runs) / len(runs):.0f} tokens in, "
        f"{sum(r['output_tokens'] for r in runs) / len(runs):.0f} out, guard retries "
        "included) at each row's rates; random weights fail the output guard, so their own "
        "write-mode runs are not timed. 'stuff reads': the share of the paper's extracted "
        f"text in the first 5,000 tokens. Load average at the end {os.getloadavg()[0]:.1f}."
    )
    print(f"results: {out}")


if __name__ == "__main__":
    main()
