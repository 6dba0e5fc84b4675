"""The ETA checked: each paper's estimate (made before it ran) against its measured time.

Run: `.venv/bin/python bench/eta.py [PDF|DIR ...] [--models default,gemma,qwen2.5-1.5b]
[--papers 2] [--max-pages 2] [--threads 1] [--mode write]`.

Per model, in a fresh LOCALDIGEST_HOME (nothing cached, no rates known), two commands:

1. a warm-up `localdigest summarize` of the first PDF: the model has no rates yet, so the
   run has no estimate; its calls teach the rates;
2. `localdigest summarize` of the next --papers PDFs in one command: the line "About N
   for K papers" against the command's wall time (which also holds loading the model and
   reading the PDFs), and each paper's JSON `stats.estimated_seconds` against its
   `stats.seconds`.

Models: `default` (the embedded SmolLM2-135M), `gemma` (LOCALDIGEST_TEST_GEMMA, else
.venv/models/gemma-3-270m-q4_k_m.gguf), or a synthetic shape of bench/synthetic.py (built
on first use). A random-weight model never stops early and fails the guard, so its runs
are all retries: what it writes is noise, the time it takes is still a time to estimate.
--max-pages keeps runs short on a busy machine (the estimate is per paper, whatever its
length). Results: a Markdown table and bench/results/eta-<time>.json (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # the model builder next to this one

from bench import CORPUS, RESULTS, ROOT, find_pdfs, machine

BIN = Path(sys.executable).parent
ABOUT = re.compile(r"About ((?:\d+ h )?\d+ (?:min|s)) for (\d+) papers?")


def model_path(name: str) -> str | None:
    """What ``-m`` gets for a model name of this bench (None: the default model)."""
    if name == "default":
        return None
    if name == "gemma":
        gemma = os.environ.get("LOCALDIGEST_TEST_GEMMA")
        return gemma or str(ROOT / ".venv" / "models" / "gemma-3-270m-q4_k_m.gguf")
    return str(synthetic.build(synthetic.SHAPES[name]))


def summarize(home: Path, model: str | None, pdfs: list[Path], args: Any) -> dict[str, Any]:
    cmd = [str(BIN / "localdigest"), "summarize", *map(str, pdfs), "--format", "json"]
    cmd += ["--mode", args.mode, "--threads", str(args.threads)]
    if model:
        cmd += ["-m", model]
    if args.max_pages:
        cmd += ["--max-pages", str(args.max_pages)]
    env = {**os.environ, "LOCALDIGEST_HOME": str(home)}
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    about = ABOUT.search(out.stderr)
    return {
        "wall_s": wall,
        "about": about.group(0) if about else "",
        "about_s": seconds_of(about.group(1)) if about else 0.0,
        "papers": [{"paper": Path(p["path"]).name, **p["stats"]} for p in json.loads(out.stdout)],
    }


def seconds_of(text: str) -> float:
    """ "6 min" / "40 s" / "1 h 20 min" -> seconds."""
    hours = re.search(r"(\d+) h", text)
    minutes = re.search(r"(\d+) min", text)
    secs = re.search(r"(\d+) s\b", text)
    return (
        (int(hours.group(1)) * 3600 if hours else 0)
        + (int(minutes.group(1)) * 60 if minutes else 0)
        + (int(secs.group(1)) if secs else 0)
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", help=f"PDFs or folders (default {CORPUS})")
    ap.add_argument("--models", default="default,gemma,qwen2.5-1.5b", help="comma-separated")
    ap.add_argument("--papers", type=int, default=2, help="papers checked after the warm-up")
    ap.add_argument("--max-pages", type=int, default=2, help="0: whole papers")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--mode", default="write", choices=("write", "rewrite"))
    args = ap.parse_args()
    pdfs = [p for p in find_pdfs(args.paths) if "corrupt" not in p.name][: args.papers + 1]
    started = dt.datetime.now().isoformat(timespec="seconds")
    print(f"{started}, load average {os.getloadavg()[0]:.1f}", flush=True)
    rows: list[dict[str, Any]] = []
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"eta-{started.replace(':', '')}.json"
    data = {"started": started, "machine": machine(), "args": vars(args), "rows": rows}
    lines = [
        "| model | run | paper | estimated s | measured s | measured / estimated |",
        "|---|---|---|---:|---:|---:|",
    ]
    for name in args.models.split(","):
        model = model_path(name)
        with tempfile.TemporaryDirectory() as home:
            for run, papers in (("warm-up", pdfs[:1]), ("check", pdfs[1:])):
                loads = os.getloadavg()[0]
                result = summarize(Path(home), model, papers, args)
                row = {"model": name, "run": run, "loadavg_before": loads, **result}
                rows.append(row)
                out.write_text(json.dumps(data, indent=2))
                for p in result["papers"]:
                    est, real = p["estimated_seconds"], p["seconds"]
                    ratio = f"{real / est:.2f}" if est else "—"
                    line = f"| {name} | {run} | {p['paper']} | {est:.0f} | {real:.0f} | {ratio} |"
                    lines.append(line)
                    print(line, flush=True)
                ratio = f"{result['wall_s'] / result['about_s']:.2f}" if result["about_s"] else "—"
                line = (
                    f'| {name} | {run} | whole command: "{result["about"]}" vs wall time | '
                    f"{result['about_s']:.0f} | {result['wall_s']:.0f} | {ratio} |"
                )
                lines.append(line)
                print(line, flush=True)
    print("\n" + "\n".join(lines))
    print(
        f"\n--mode {args.mode}, --threads {args.threads}, --max-pages {args.max_pages or 'all'}; "
        f"load average at the end {os.getloadavg()[0]:.1f}. results: {out}"
    )


if __name__ == "__main__":
    main()
