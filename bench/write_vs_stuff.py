"""Map-reduce priced against stuffing, per paper, at one model's measured rates.

Run: `.venv/bin/python bench/write_vs_stuff.py --rates bench/results/model-sizes-X.json
[--shape qwen2.5-3b] [--threads 1] [--limit 3] [PDF|DIR ...]`.

For each paper (the corpus by default), the calls of each recipe are counted in the
model's tokens (the default model's tokenizer, which bench/synthetic.py's models share)
and priced at the rates bench/model_sizes.py measured for --shape on --threads (prefill
rate interpolated at each call's prompt size between its map, reduce and stuff calls;
decode likewise):

- (a) the peers' recipe: the paper's first 5,000 tokens in one call, 300 out (also
  measured whole by model_sizes.py: its "stuff" call);
- (b) localdigest's reading plan stuffed into one call of the stuff prompt, where it fits
  n_ctx 8192 (a summary's max_tokens out);
- write, as each setting plans it (summarize/estimate.py::planned_calls, every answer at
  its limit: a random-weight model never stops early, and a real model's retries are not
  known here): map-reduce at n_ctx 4096 and 1,536-token chunks (the default below 1B);
  fewer, larger chunks (n_ctx 8192, 6,000-token chunks); shorter notes (80 tokens);
  and one pass (n_ctx 8192: the whole plan in one call where it fits, then the TL;DR:
  the default from 1B);
- and, with --counts, map-reduce priced from the token counts (evaluated prompt tokens and
  generated tokens, retries included) of real write-mode runs of the default model
  (model_sizes.py's "write_runs"): what a small real model's retries cost.

Each call's prompt is priced as evaluated whole (llama.cpp reuses a prefix shared with the
previous prompt: an upper bound for map calls). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model_sizes import CALLS, interpolate  # the size bench next to this one

from bench import CORPUS, find_pdfs

STUFF_TOKENS, STUFF_OUT = CALLS[2][1], CALLS[2][2]


@dataclass
class Tokens:
    """The default model's tokenizer at a chosen context (what ``plan`` needs)."""

    backend: Any
    n_ctx: int

    def count_tokens(self, text: str) -> int:
        return int(self.backend.count_tokens(text))

    def prompt_tokens(self, system: str, user: str) -> int:
        return int(self.backend.prompt_tokens(system, user))


def price(calls: list[tuple[int, int]], row: dict[str, Any]) -> float:
    """Seconds of ``calls`` (prompt tokens, generated tokens) at ``row``'s rates."""
    measured = [row[name] for name, _, _ in CALLS]
    prefill = sorted((c["prompt_tokens"], c["prefill_tok_s"]) for c in measured)
    decode = sorted((c["prompt_tokens"], c["decode_tok_s"]) for c in measured)
    return sum(p / interpolate(p, prefill) + g / interpolate(p, decode) for p, g in calls)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", help=f"PDFs or folders (default {CORPUS})")
    ap.add_argument("--rates", type=Path, help="a model_sizes.py results JSON")
    ap.add_argument(
        "--flat-rates",
        help="PREFILL,DECODE tok/s at every prompt size, instead of --rates (e.g. 70,19)",
    )
    ap.add_argument("--shape", default="qwen2.5-3b")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=3)
    ap.add_argument("--counts", action="store_true", help="also price the real runs' counts")
    args = ap.parse_args()

    from localdigest import pdf
    from localdigest.llm import BackendSettings, backend_factory
    from localdigest.models import resolve_model
    from localdigest.summarize import Options, load_prompts
    from localdigest.summarize.estimate import planned_calls
    from localdigest.summarize.plan import plan

    if args.flat_rates:
        prefill, decode = (float(x) for x in args.flat_rates.split(","))
        flat = {"prefill_tok_s": prefill, "decode_tok_s": decode}
        row = {name: {"prompt_tokens": size, **flat} for name, size, _ in CALLS}
        data: dict[str, Any] = {}
    elif args.rates:
        data = json.loads(args.rates.read_text())
        shape, threads = args.shape, args.threads
        [row] = [r for r in data["rows"] if r["shape"] == shape and r["threads"] == threads]
    else:
        raise SystemExit("give --rates (a model_sizes.py results JSON) or --flat-rates")
    choice = resolve_model(None, Path("models"))
    backend = backend_factory(choice, BackendSettings(2048, threads=1))()
    prompts = load_prompts()
    system = prompts.texts["system"]
    variants = {
        "map-reduce, n_ctx 4096, 1,536-token chunks": (4096, Options()),
        "map-reduce, n_ctx 8192, 6,000-token chunks": (8192, Options(chunk_tokens=6000)),
        "map-reduce, n_ctx 4096, 80-token notes": (4096, Options(map_tokens=80)),
        "one pass (n_ctx 8192), else map-reduce": (8192, Options(one_pass=True)),
    }
    pdfs = [p for p in find_pdfs(args.paths) if "corrupt" not in p.name][: args.limit]
    table: dict[str, list[float]] = {}
    shares, fits = [], 0
    for path in pdfs:
        doc = pdf.extract(path)
        title = doc.title or path.stem
        text_tokens = backend.count_tokens(doc.text)
        shares.append(min(1.0, STUFF_TOKENS / text_tokens))
        a = price([(STUFF_TOKENS, STUFF_OUT)], row)
        seconds: dict[str, float] = {"(a) first 5,000 tokens, one call": a}
        planned: dict[str, Any] = {}
        for name, (n_ctx, options) in variants.items():
            tokens = Tokens(backend, n_ctx)
            p = plan(doc, title, replace(options, mode="write"), prompts, tokens)
            calls = planned_calls(p, options, prompts, tokens)
            limits = {c.kind: c.max_tokens for c in calls}
            priced = [
                (c.prompt_tokens + c.reads_count * limits.get(c.reads, 0), c.max_tokens)
                for c in calls
            ]
            planned[name] = p
            seconds[f"{name} ({len(calls)} calls)"] = price(priced, row)
        whole = planned["one pass (n_ctx 8192), else map-reduce"]
        if whole.one_pass:
            fits += 1
            b_prompt = backend.prompt_tokens(
                system, prompts.render("stuff", title=title, text=whole.chunks[0].text)
            )
            seconds["(b) the reading plan, one call"] = price(
                [(b_prompt, Options().max_tokens)], row
            )
        if args.counts:
            for r in data.get("write_runs", []):
                if r["paper"] == path.name:
                    n = r["llm_calls"]
                    real = [(r["input_tokens"] // n, r["output_tokens"] / n)] * n
                    label = f"map-reduce, the default model's real counts ({n} calls)"
                    seconds[label] = price(real, row)
        b = seconds.get("(b) the reading plan, one call")
        share = min(1.0, STUFF_TOKENS / text_tokens)
        print(f"\n{path.name}: {doc.pages} pages, {text_tokens} tokens of text; "
              f"(a) reads {share:.0%} of it", flush=True)  # fmt: skip
        for name, s in seconds.items():
            ratio = f"{s / b:.2f}x (b)" if b else "(b) does not fit"
            print(f"  {name}: {s / 60:.1f} min, {ratio}", flush=True)
            table.setdefault(name.split(" (")[0] if "calls)" in name else name, []).append(s)
    print("\n| recipe | mean min/paper | papers |\n|---|---:|---:|")
    for name, values in table.items():
        print(f"| {name} | {sum(values) / len(values) / 60:.1f} | {len(values)} |")
    print(
        f"\n{args.shape} Q4_K_M, {args.threads} thread(s), rates from "
        f"{args.rates.name if args.rates else '--flat-rates ' + args.flat_rates} "
        f"(map prefill {row['map']['prefill_tok_s']:.0f} tok/s, decode "
        f"{row['map']['decode_tok_s']:.1f}); the plan fits 8192 tokens in {fits} of "
        f"{len(pdfs)} papers; (a) reads {sum(shares) / len(shares):.0%} of a paper on average."
    )


if __name__ == "__main__":
    main()
