"""The client side's papers per hour: how many papers one core prepares for model servers.

`.venv/bin/python bench/client_rate.py [PDF|DIR ...] [--rounds 2]` (default: the corpus).

With ``--server``, localdigest's own work per paper is the client side: parse the PDF,
plan what to read and cut it into chunks in the model's tokens (write mode, the embedded
model's tokenizer: what ``--server URL --model GGUF`` counts with), and render each map
call's prompt; the server does the rest. Extract mode is all client side (no model call):
its whole summary, grounding included, is timed too. Each paper cold (``--refresh``, a
fresh home), one process, one thread, every paper --rounds times (the median is kept).

Printed: seconds per paper for each step, and papers per hour of one core; compare with a
model server's papers per hour (docs/performance.md) to see how many servers one client
core feeds. The machine may be shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import find_pdfs  # the in-process bench next to this one
from localdigest import config, pdf
from localdigest.papers import PaperInput
from localdigest.workflows.summarize import prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdfs", nargs="*", help="PDFs or folders (default: the corpus)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    os.environ["LOCALDIGEST_HOME"] = tempfile.mkdtemp(prefix="client-rate-")
    write = prepare([], config.load(mode="write", threads=1, refresh=True)).summarizer
    extract = write.using(options=replace(write.options, mode="extract"))  # the same model
    write.backend.count_tokens("load the tokenizer before the clock starts")
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    steps: dict[str, list[float]] = {"parse": [], "plan": [], "prompts": [], "extract": []}
    chunks = pages = 0
    for path in find_pdfs(args.pdfs):
        try:
            pdf.extract(path)
        except pdf.PdfError:
            continue  # the corpus's deliberately damaged file
        times: dict[str, list[float]] = {k: [] for k in steps}
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            doc = pdf.extract(path)
            t1 = time.perf_counter()
            planned = write.plan(doc, doc.title or path.stem)
            t2 = time.perf_counter()
            for chunk in planned.chunks:  # what each map call sends (calls.PaperCalls._map)
                sections = ", ".join(chunk.headings) or "(untitled)"
                write.prompts.render("map", title=planned.title, sections=sections, text=chunk.text)
            t3 = time.perf_counter()
            extract.summarize(PaperInput(str(path), path))
            t4 = time.perf_counter()
            for name, seconds in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                times[name].append(seconds)
        for name in steps:
            steps[name].append(statistics.median(times[name]))
        chunks += len(planned.chunks)
        pages += doc.pages
        medians = ", ".join(f"{k} {statistics.median(v):.3f} s" for k, v in times.items())
        print(f"{path.name}: {doc.pages} pages, {len(planned.chunks)} chunks, {medians}")
    n = len(steps["parse"])
    mean = {k: sum(v) / n for k, v in steps.items()}
    client = mean["parse"] + mean["plan"] + mean["prompts"]
    print(f"\n{n} papers, {pages} pages, {chunks} chunks; mean seconds per paper on one core:")
    print(", ".join(f"{k} {v:.3f}" for k, v in mean.items()))
    print(f"write mode's client side (parse + plan + prompts): {client:.3f} s per paper, "
          f"{3600 / client:,.0f} papers/hour per core")  # fmt: skip
    print(f"extract mode's whole summary: {mean['extract']:.3f} s per paper, "
          f"{3600 / mean['extract']:,.0f} papers/hour per core")  # fmt: skip
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
