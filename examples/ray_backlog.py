"""Summarize a backlog of thousands of PDFs on Ray Data, with localdigest's own stages.

    pip install "localdigest[ray]"
    python examples/ray_backlog.py backlog/ summaries/ --mode extract          # no model call
    python examples/ray_backlog.py backlog/ summaries/ \\
        --server http://gpu-box:8000/v1 --parallel 8 --workers 4             # vLLM, llama-server

Each Ray worker prepares one summarizer (``workflows.summarize.prepare``: the model or the
server client, the prompts, the cache) and runs its batches of papers through
``Summarizer.run``, the path ``localdigest summarize`` takes: the same reading plan, guard,
grounding and cache keys. Results go to Parquet (one row a paper: ``source``, ``error``,
``result``, the paper's entry of ``summarize --format json``) and into the cache, so
``localdigest summarize``, ``digest`` and ``show`` on the same papers answer from it.

On a cluster (``--address auto``), every node must see the PDFs at the same path and the
output folder; each node fills its own cache (its ``LOCALDIGEST_HOME``), Parquet is the
result. The passage index ``ask`` searches is not filled here: ``localdigest ask QUESTION
backlog/`` reads the folder into it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import ray

from localdigest import config
from localdigest.errors import InputError, LocaldigestError
from localdigest.papers import PaperFailure, PaperInput
from localdigest.publish.formats import result_dict
from localdigest.sources import inputs
from localdigest.text import safe_json
from localdigest.workflows.summarize import prepare


class Summarize:
    """One per Ray worker: the model (or the server's client) and the cache, opened once."""

    def __init__(self, cfg: config.RunConfig) -> None:
        self.summarizer = prepare([], cfg).summarizer

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        papers = [
            PaperInput(s, Path(p)) for s, p in zip(batch["source"], batch["path"], strict=True)
        ]
        results = self.summarizer.run(papers)  # a bad PDF is a failure row, the rest go on
        return {
            "source": [p.source for p in papers],
            "error": [r.error if isinstance(r, PaperFailure) else "" for r in results],
            "result": [safe_json(result_dict(r), indent=None) for r in results],
        }


def backlog(folder: str, out: str, cfg: config.RunConfig, workers: int, batch: int) -> int:
    """Summarize every PDF under ``folder`` into Parquet files in ``out`` (a row a PDF, a
    failure too); the number of PDFs."""
    # A missing model or an unreachable server fails here, not on every worker.
    prepare([], cfg).summarizer.store.close()
    resolved = inputs.resolve([folder], cfg.paths.library)
    if resolved.failures:
        raise InputError(resolved.failures[0].error)
    papers = [p for p in resolved.items if isinstance(p, PaperInput)]  # no arXiv id here
    rows = [{"source": p.source, "path": str(p.path)} for p in papers]
    if not ray.is_initialized():  # a local instance, or the cluster at RAY_ADDRESS
        ray.init(include_dashboard=False)
    summaries = ray.data.from_items(rows).map_batches(
        Summarize,
        fn_constructor_kwargs={"cfg": cfg},
        batch_size=batch,
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1 if cfg.server else cfg.threads or 1,
    )
    summaries.write_parquet(out)
    return len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a folder of PDFs (searched recursively)")
    parser.add_argument("out", help="the folder the Parquet files are written to")
    parser.add_argument("--mode", help="auto, write, extract or rewrite (as summarize)")
    parser.add_argument("--model", "-m", help="a GGUF, as summarize's --model")
    parser.add_argument("--server", help="an OpenAI-compatible server's URL (vLLM...)")
    parser.add_argument("--parallel", type=int, help="calls in flight per worker (--server)")
    parser.add_argument("--threads", type=int, default=1, help="per in-process model (1)")
    parser.add_argument("--workers", type=int, default=2, help="Ray workers (default 2)")
    parser.add_argument("--batch", type=int, default=8, help="papers per batch (default 8)")
    parser.add_argument("--address", help="a Ray cluster ('auto'); default: a local one")
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # offline: no usage report
    if args.address:
        os.environ["RAY_ADDRESS"] = args.address
    try:
        cfg = config.load(
            mode=args.mode,
            model=args.model,
            threads=args.threads,
            server=args.server,
            parallel=args.parallel,
        )
        done = backlog(args.folder, args.out, cfg, args.workers, args.batch)
    except LocaldigestError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return int(e.exit_code)
    print(f"{done} PDFs: a row each in {args.out} (failures in 'error'), cache {cfg.paths.cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
