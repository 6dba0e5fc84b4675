"""In-process map decoding, revisited: is anything faster than one call after another?

`.venv/bin/python bench/inprocess_batching.py [PDF] [--chunks 4] [--threads 1]`

The map prompts of one paper (the very chunks ``localdigest summarize`` sends) are
generated, side by side in one process and one run, four ways:

1. one by one (``LlamaCppBackend.complete``: the default path);
2. batched in one unified KV cache (``complete_many``: every sequence attends over every
   sequence's cells);
3. batched with one KV stream per sequence (llama.cpp's non-unified cache, as llama-server
   uses for its slots: ``kv_unified = false``, each stream as large as the context);
4. one by one with llama-cpp-python's prompt-lookup speculative decoding (drafts copied
   from the chunk, verified in one batch), with 2 and with 10 draft tokens;

and one by one again at the end, to see how far the machine's load moved meanwhile.

Printed: seconds, generated tokens and their rate, the peak KV memory each layout needs,
and how close each way's notes are to the one-by-one notes (same first words; word
overlap), plus how many the output guard would reject. Results also go to
bench/results/inprocess-<time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "pdfs"
RESULTS = ROOT / "bench" / "results"


def map_prompts(path: Path, chunks: int) -> tuple[str, list[str], Any]:
    """The system prompt and the first ``chunks`` map prompts of ``path``, as summarize
    renders them, and the summarizer (its options and prompts)."""
    from localdigest.papers import PaperInput
    from localdigest.workflows.summarize import SummarizeRequest, prepare

    job = prepare(SummarizeRequest(sources=[str(path)], refresh=True, mode="write"))  # chunks
    s = job.summarizer
    plan = s.plan(PaperInput(str(path), path))
    users = []
    for chunk in plan.chunks[:chunks]:
        sections = ", ".join(chunk.headings) or "(untitled)"
        users.append(s.prompts.render("map", title=plan.title, sections=sections, text=chunk.text))
    return s.prompts.texts["system"], users, s


def overlap(a: str, b: str) -> float:
    x, y = set(a.lower().split()), set(b.lower().split())
    return len(x & y) / len(x | y) if x | y else 1.0


def measure(name: str, fn: Any, reference: list[str] | None, options: Any) -> dict[str, Any]:
    from localdigest.summarize import guard
    from localdigest.summarize.hygiene import tidy_notes

    load = os.getloadavg()[0]
    t = time.perf_counter()
    gens = fn()
    seconds = time.perf_counter() - t
    texts = [g.text for g in gens]
    tokens = sum(g.completion_tokens for g in gens)
    row: dict[str, Any] = {
        "way": name,
        "seconds": round(seconds, 2),
        "tokens": tokens,
        "tok_s": round(tokens / seconds, 1),
        "load": round(load, 2),
        "rejected": sum(guard.problem(tidy_notes(x), None, False) is not None for x in texts),
        "texts": texts,
    }
    if reference is not None:
        row["same_start"] = sum(
            a.split()[:4] == b.split()[:4] for a, b in zip(reference, texts, strict=True)
        )
        row["overlap"] = round(
            sum(overlap(a, b) for a, b in zip(reference, texts, strict=True)) / len(texts), 3
        )
    print(json.dumps({k: v for k, v in row.items() if k != "texts"}), flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pdf", nargs="?", type=Path, default=CORPUS / "1706.03762.pdf")
    ap.add_argument("--chunks", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n-ctx", type=int, default=4096)
    args = ap.parse_args(argv)
    os.environ.setdefault("LOCALDIGEST_HOME", "/tmp/ld-bench-inprocess")

    import llama_cpp

    from localdigest import config
    from localdigest.llm.llamacpp import LlamaCppBackend, multi_sequence_context, quiet_stderr
    from localdigest.models import resolve_model

    choice = resolve_model(config.value("model"), config.models_dir())
    system, users, s = map_prompts(args.pdf, args.chunks)
    settings = s.options.generation(s.options.map_tokens)
    n = len(users)
    rows = []
    print(f"{args.pdf.name}: {n} map prompts, threads {args.threads}, n_ctx {args.n_ctx}")

    one = LlamaCppBackend(choice, n_ctx=args.n_ctx, threads=args.threads)
    ref = measure("one by one", lambda: [one.complete(system, u, settings) for u in users], None, s)
    rows.append(ref)

    unified = LlamaCppBackend(choice, n_ctx=args.n_ctx, threads=args.threads, parallel=n)
    rows.append(
        measure(
            f"batched x{n}, unified KV",
            lambda: unified.complete_many(system, users, settings),
            ref["texts"],
            s,
        )
    )

    # One stream per sequence (and the holder of the shared prefix), each as large as the
    # context: the KV cache is (n + 1) times the one-by-one cache.
    with multi_sequence_context(n + 1, unified=False), quiet_stderr(True):
        streams = LlamaCppBackend(
            choice, n_ctx=args.n_ctx * (n + 1), threads=args.threads, parallel=n
        )
    streams.n_ctx = args.n_ctx
    rows.append(
        measure(
            f"batched x{n}, one KV stream each",
            lambda: streams.complete_many(system, users, settings),
            ref["texts"],
            s,
        )
    )

    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    for drafts in (2, 10):
        spec = LlamaCppBackend(choice, n_ctx=args.n_ctx, threads=args.threads)
        with quiet_stderr(True):
            # llama-cpp-python sizes its logits buffer from the logits_all argument while
            # a draft model forces logits for every token: both must be on.
            spec.llm = llama_cpp.Llama(
                model_path=str(choice.path),
                n_ctx=args.n_ctx,
                n_batch=512,
                n_ubatch=256,
                n_threads=args.threads,
                n_threads_batch=args.threads,
                logits_all=True,
                draft_model=LlamaPromptLookupDecoding(num_pred_tokens=drafts),
                verbose=False,
            )
        rows.append(
            measure(
                f"one by one, prompt lookup x{drafts}",
                lambda spec=spec: [spec.complete(system, u, settings) for u in users],
                ref["texts"],
                s,
            )
        )

    # the first way again, last: how much the machine's load moved the numbers meanwhile
    again = LlamaCppBackend(choice, n_ctx=args.n_ctx, threads=args.threads)
    rows.append(
        measure(
            "one by one (again)",
            lambda: [again.complete(system, u, settings) for u in users],
            ref["texts"],
            s,
        )
    )
    out = RESULTS / f"inprocess-{dt.datetime.now():%Y-%m-%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"pdf": args.pdf.name, "threads": args.threads, "rows": rows}, indent=1)
    )
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
