"""Server bench: llama.cpp's llama-server with 1, 2 and 4 parallel slots against the
in-process one-by-one path, over the same papers, in one run.

`make bench-server` (or `.venv/bin/python bench/server_bench.py [PDF|DIR ...] [--limit N]`).

Each row summarizes every paper cold (a fresh cache), with the default model and settings
in write mode (the mode that calls the model; auto extracts with the 135M model):

- ``in-process``: ``localdigest summarize`` as it runs by default (one model in this
  process, one call after another, localdigest's default threads);
- ``llama-server -np N``: the same papers through ``--server`` with ``--parallel N``: the
  server built from the llama.cpp source the installed llama-cpp-python was built from
  (bench/llama_server.py, cached outside the repository), started with ``-np N``, ``-c`` N
  times the context (each slot gets the whole context) and all cores.

Printed per row: wall seconds, papers per hour, model calls, generated tokens, aggregate
decode tokens/s (all tokens generated / wall time), guard retries, and the ratio of papers
per hour to the in-process row; the load average before and after each row (the machine
may be shared: ratios measured side by side in one run are what to compare). Results go
to bench/results/server-<time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import llama_server  # the build script next to this one

from bench import CORPUS, RESULTS, find_pdfs, machine  # the in-process bench next to it


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(port: int, proc: subprocess.Popen[bytes], seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama-server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass  # not listening yet, or 503 while loading
        time.sleep(0.5)
    raise RuntimeError("llama-server did not become healthy")


def summarize_row(label: str, papers: list[Path], request: dict[str, Any]) -> dict[str, Any]:
    """Summarize ``papers`` cold with these request fields; the row's numbers."""
    from localdigest import config
    from localdigest.papers import PaperSummary
    from localdigest.workflows.summarize import prepare

    os.environ["LOCALDIGEST_HOME"] = tempfile.mkdtemp(prefix="ld-bench-server-")
    load_before = os.getloadavg()[0]
    t = time.perf_counter()
    # write mode: the mode that makes model calls (auto would extract with the 135M model)
    cfg = config.load(mode="write", refresh=True, **request)
    job = prepare([str(p) for p in papers], cfg)
    results = job.run()
    wall = time.perf_counter() - t
    done = [r for r in results if isinstance(r, PaperSummary)]
    tokens = sum(r.stats.output_tokens for r in done)
    row = {
        "row": label,
        "papers": len(done),
        "failed": [getattr(r, "error", "") for r in results if not isinstance(r, PaperSummary)],
        "wall_s": round(wall, 1),
        "papers_per_hour": round(len(done) / wall * 3600, 1),
        "calls": sum(r.stats.llm_calls for r in done),
        "retries": sum(r.stats.retries for r in done),
        "output_tokens": tokens,
        "decode_tok_s": round(tokens / wall, 1),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "summaries": {Path(r.path).name: r.summary for r in done},
    }
    print(json.dumps({k: v for k, v in row.items() if k != "summaries"}), flush=True)
    return row


def server_row(
    binary: Path, model: Path, slots: int, n_ctx: int, threads: int, papers: list[Path]
) -> dict[str, Any]:
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="ld-llama-server-")) / "server.log"
    cmd = [str(binary), "-m", str(model), "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["-c", str(n_ctx * slots), "-np", str(slots), "-t", str(threads), "--no-webui"]
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT)
    try:
        wait_healthy(port, proc)
        row = summarize_row(
            f"llama-server -np {slots} -t {threads}",
            papers,
            {"server": f"http://127.0.0.1:{port}/v1", "parallel": slots},
        )
        row["server"] = {"threads": threads, "ctx_total": n_ctx * slots, "log": str(log)}
        return row
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def report(res: dict[str, Any]) -> str:
    base = res["rows"][0]
    lines = [
        f"localdigest server bench — {res['started']}",
        f"machine: {res['cpu']}, {res['cores']} cores; papers: {', '.join(res['papers'])}",
        f"llama-server: built from llama-cpp-python {res['llama_cpp_python']}'s llama.cpp",
        "",
        "| row | papers | wall s | papers/hour | calls | retries | tokens | decode tok/s "
        "| ratio | load before/after |",
        "|---|" + "---:|" * 9,
    ]
    for r in res["rows"]:
        ratio = r["papers_per_hour"] / base["papers_per_hour"] if base["papers_per_hour"] else 0
        lines.append(
            f"| {r['row']} | {r['papers']} | {r['wall_s']} | {r['papers_per_hour']} | "
            f"{r['calls']} | {r['retries']} | {r['output_tokens']} | {r['decode_tok_s']} | "
            f"{ratio:.2f}x | {r['load_before']}/{r['load_after']} |"
        )
    servers = [r for r in res["rows"] if "server" in r]
    best = max(servers, key=lambda r: r["papers_per_hour"], default=None)
    if best is not None and base["papers_per_hour"]:
        ratio = best["papers_per_hour"] / base["papers_per_hour"]
        ok = "MET " if ratio >= 1.5 else "MISS"
        lines.append(
            f"\n{ok} best server row ({best['row']}) vs in-process: {ratio:.2f}x (target >= 1.5x)"
        )
        same = next(
            (r for r in res["rows"] if r.get("threads") == best["server"]["threads"]),
            base if best["server"]["threads"] == res["in_process_threads"] else None,
        )
        if same is not None and same["papers_per_hour"]:
            ratio = best["papers_per_hour"] / same["papers_per_hour"]
            lines.append(
                f"     and vs in-process on the same threads ({same['row']}): {ratio:.2f}x"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", help=f"PDFs or folders (default {CORPUS})")
    ap.add_argument("--limit", type=int, help="at most N papers (the smallest first)")
    ap.add_argument("--slots", default="1,2,4", help="llama-server -np values (default 1,2,4)")
    ap.add_argument(
        "--server-threads",
        default=str(os.cpu_count() or 2),
        help="llama-server -t values (default: all cores); each with every --slots value",
    )
    ap.add_argument("--output", type=Path, help="JSON file (default bench/results/...)")
    args = ap.parse_args(argv)

    from localdigest import config
    from localdigest.llm.llamacpp import default_threads
    from localdigest.models import default_n_ctx, resolve_model

    papers = [p for p in find_pdfs(args.paths) if "corrupt" not in p.name]
    papers.sort(key=lambda p: p.stat().st_size)
    papers = papers[: args.limit] if args.limit else papers
    cfg = config.load()
    choice = resolve_model(cfg.model, cfg.paths.models, cfg.origins["model"])
    n_ctx = default_n_ctx(choice.info)
    binary = llama_server.build()
    cpu = machine()["cpu"]
    res: dict[str, Any] = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "papers": [p.name for p in papers],
        "model": choice.path.name,
        "n_ctx": n_ctx,
        "in_process_threads": default_threads(),
        "llama_cpp_python": llama_server.installed_version(),
        "rows": [],
    }
    print(f"server bench: {len(papers)} papers, model {choice.path.name}", flush=True)
    res["rows"].append(summarize_row("in-process (one by one)", papers, {}))
    server_threads = [int(x) for x in args.server_threads.split(",")]
    for threads in sorted(set(server_threads) - {default_threads()}):
        # the same cores as a server row: what the server adds beyond using them
        row = summarize_row(f"in-process --threads {threads}", papers, {"threads": threads})
        row["threads"] = threads
        res["rows"].append(row)
    for threads in server_threads:
        for slots in [int(x) for x in args.slots.split(",")]:
            res["rows"].append(server_row(binary, choice.path, slots, n_ctx, threads, papers))
    text = report(res)
    print(text)
    out = args.output or RESULTS / f"server-{res['started'].replace(':', '')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**res, "report": text}, indent=1, ensure_ascii=False))
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
