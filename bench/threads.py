"""1 thread against 2, side by side, with and without a busy process beside them.

Run: `.venv/bin/python bench/threads.py [--shape qwen2.5-0.5b] [--threads 1,2]
[--rounds 3] [--busy 0,1]`.

One process loads the model once per thread count (bench/synthetic.py's shape, built on
first use) and takes turns: each round prefills the same ~700-token prompt and decodes 64
tokens greedily on each thread count, so a change in the machine's load hits every
count alike. The rounds run once per --busy value: that many CPU-bound processes
(`while True: pass`) beside the measurement. Prints the median prefill and decode tok/s of
each count and the load averages: say what else ran.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # the model builder next to this one
from model_sizes import busy

from localdigest.llm import BackendSettings, GenerationSettings, backend_factory
from localdigest.models import resolve_model

PARAGRAPH = (
    "We propose a method for fine-tuning small language models with gated residual "
    "adapters and measure its accuracy on four text classification benchmarks. "
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", default="qwen2.5-0.5b")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--busy", default="0,1", help="busy processes beside, comma-separated")
    args = ap.parse_args()
    model = synthetic.build(synthetic.SHAPES[args.shape])
    choice = resolve_model(str(model), model.parent)
    counts = [int(t) for t in args.threads.split(",")]
    backends = {t: backend_factory(choice, BackendSettings(2048, threads=t))() for t in counts}
    text = PARAGRAPH * 24  # ~700 tokens
    print(f"{args.shape} Q4_K_M, {args.rounds} rounds, {os.cpu_count()} logical CPUs")
    print("| busy procs | threads | prefill tok/s | decode tok/s | load avg before / after |")
    print("|---:|---:|---:|---:|---|")
    for n in (int(b) for b in args.busy.split(",")):
        speeds: dict[int, list[tuple[float, float]]] = {t: [] for t in counts}
        with busy(n):
            before = os.getloadavg()[0]
            for r in range(args.rounds):
                for t in counts:
                    # a new first line each time: no prompt prefix is reused
                    system = f"Round {r}, {t} threads, {n} busy: summarize."
                    g = backends[t].complete(
                        system, text, GenerationSettings(max_tokens=64, temperature=0.0)
                    )
                    evaluated = g.prompt_tokens - g.reused_tokens
                    decode = (g.completion_tokens - 1) / max(g.seconds - g.prompt_seconds, 1e-9)
                    speeds[t].append((evaluated / g.prompt_seconds, decode))
            after = os.getloadavg()[0]
        for t in counts:
            prefill = statistics.median(s[0] for s in speeds[t])
            decode = statistics.median(s[1] for s in speeds[t])
            print(f"| {n} | {t} | {prefill:.0f} | {decode:.1f} | {before:.1f} / {after:.1f} |")


if __name__ == "__main__":
    main()
