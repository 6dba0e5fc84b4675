"""Prefill and decode speed of the models at hand, side by side.

Run: `.venv/bin/python bench/model_speed.py [MODEL ...]`.

Loads each model given (default: the embedded SmolLM2-135M and the Gemma 3 270M test
model) through localdigest's own backend, then, in turns (so load changes hit every model
alike), prefills the same ~700-token prompt and decodes 64 tokens greedily, --rounds times.
Prints the median prefill and decode speeds, the file size and the ratios to the first
model. Decoding on a CPU reads every weight once per token, so decode speed should fall
about as the file size grows; this is what the two models here can show of that.
"""

from __future__ import annotations

import argparse
import os
import statistics
from pathlib import Path

from localdigest import config
from localdigest.llm import BackendSettings, GenerationSettings, backend_factory
from localdigest.models import resolve_model

ROOT = Path(__file__).resolve().parents[1]
PARAGRAPH = (
    "We propose a method for fine-tuning small language models with gated residual "
    "adapters and measure its accuracy on four text classification benchmarks. "
)


def main() -> None:
    gemma = os.environ.get("LOCALDIGEST_TEST_GEMMA") or str(
        ROOT / ".venv/models/gemma-3-270m-q4_k_m.gguf"
    )
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["embedded", gemma])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    backends = []
    models_dir = config.load().paths.models
    for name in args.models:
        choice = resolve_model(name, models_dir)
        load = backend_factory(choice, BackendSettings(n_ctx=2048, threads=args.threads))
        backends.append((choice, load()))
    user = "Summarize this text.\n\n" + PARAGRAPH * 28
    settings = GenerationSettings(max_tokens=64, temperature=0.0)
    prefill: dict[str, list[float]] = {c.name: [] for c, _ in backends}
    decode: dict[str, list[float]] = {c.name: [] for c, _ in backends}
    for r in range(args.rounds):
        for choice, backend in backends:
            # A new first token each round: no prompt prefix is reused from the last call.
            g = backend.complete(f"Round {r}: you are a careful reader.", user, settings)
            prefill[choice.name].append(g.prompt_tokens / g.prompt_seconds)
            decode[choice.name].append(
                max(g.completion_tokens - 1, 1) / max(g.seconds - g.prompt_seconds, 1e-9)
            )
    print(f"load average {os.getloadavg()[0]:.1f}, threads {args.threads}")
    base = None
    for choice, _ in backends:
        p, d = statistics.median(prefill[choice.name]), statistics.median(decode[choice.name])
        size = choice.info.size / 1e6
        base = base or (p, d, size)
        print(
            f"{choice.name:40s} {size:6.0f} MB  prefill {p:7.1f} tok/s  decode {d:6.1f} tok/s  "
            f"(size x{size / base[2]:.2f}, prefill x{p / base[0]:.2f}, decode x{d / base[1]:.2f})"
        )


if __name__ == "__main__":
    main()
