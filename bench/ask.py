"""How fast `ask` reads and answers: `make bench-ask` (or `.venv/bin/python bench/ask.py`).

Three measurements, offline, on the team corpus (../shared/corpus/pdfs):

1. Reading: for each readable corpus paper, extract mode's time (the summarizer with the
   embedded demo model, cold cache, the model loaded beforehand) next to the time indexing
   adds (cutting the same document into passages and storing them: what the summarizer's
   hook does). Target: indexing < 10% of extract mode's time per paper.
2. A library of N papers (default 10,000): the corpus papers' passages stored again and
   again under different ids (each copy its own paper, sha256 and arXiv id), through the
   index's own ``add``; the time per paper added, at the start and at the end.
3. Questions over that library: the 70 questions of tests/fixtures/questions.json searched
   in-process (median, 90th percentile, slowest), then a few whole `localdigest ask`
   commands (a fresh process: interpreter, imports, search, output). Target: < 0.3 s.

``--bm25s`` also builds the alternative the index was chosen against: bm25s over the same
passages' terms (build time, which adding one paper costs too, and its query time).

The machine is shared: say what else ran (the load average is printed) with any number
quoted from here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localdigest.pdf import Document

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "pdfs"
QUESTIONS = ROOT / "tests" / "fixtures" / "questions.json"
LIBRARY = Path.home() / ".cache" / "localdigest" / "bench-ask"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=10_000, help="library size (10000)")
    parser.add_argument("--home", type=Path, default=LIBRARY, help=f"where (default {LIBRARY})")
    parser.add_argument("--pdfs", type=Path, default=CORPUS)
    parser.add_argument("--commands", type=int, default=5, help="whole `ask` commands timed")
    parser.add_argument("--bm25s", action="store_true", help="also time bm25s on the same")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    results: dict[str, object] = {"load_at_start": os.getloadavg()[0]}
    documents = read_corpus(args.pdfs)
    results["reading"] = reading(documents)
    results["library"] = build_library(documents, args.papers, args.home)
    results["questions"] = questions(args.home, args.commands)
    if args.bm25s:
        results["bm25s"] = bm25s_compared(documents, args.papers)
    results["load_at_end"] = os.getloadavg()[0]
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def read_corpus(folder: Path) -> list[Document]:
    from localdigest import pdf

    documents = []
    for path in sorted(folder.glob("*.pdf")):
        try:
            documents.append(pdf.extract(path))
        except pdf.PdfError:
            print(f"  skipped {path.name} (damaged)")
    return documents


def reading(documents: list[Document]) -> dict[str, object]:
    """Extract mode's seconds per paper next to the seconds indexing adds to it."""
    from localdigest import config
    from localdigest.cache import Store
    from localdigest.index import PassageIndex
    from localdigest.papers import PaperInput
    from localdigest.summarize import passages
    from localdigest.workflows.summarize import prepare

    print("\n1. Reading a paper: extract mode vs indexing (seconds per paper)")
    with tempfile.TemporaryDirectory() as tmp:
        job = prepare([], config.load(mode="extract", refresh=True))
        summarizer = job.summarizer.using(store=Store(Path(tmp) / "cache"))
        _ = summarizer.backend  # the model loads here, not in the first paper's time
        index = PassageIndex(Path(tmp) / "passages.sqlite")
        index.counts()  # the file is made here, not in the first paper's time
        rows = []
        for doc in documents:
            paper = PaperInput(doc.path.stem, doc.path)
            extract = summarizer.summarize(paper).stats.seconds
            started = time.perf_counter()
            passages.index_document(index, paper, doc, doc.title)
            indexed = time.perf_counter() - started
            rows.append((doc.path.stem, extract, indexed))
            print(
                f"  {doc.path.stem:14} extract {extract:6.3f}  index {indexed:6.3f}  "
                f"({indexed / extract:5.1%})"
            )
        index.close()
    total_extract = sum(r[1] for r in rows)
    total_index = sum(r[2] for r in rows)
    print(
        f"  all {len(rows)}: extract {total_extract:.2f} s, index {total_index:.2f} s "
        f"({total_index / total_extract:.1%} of extract mode's time)"
    )
    return {"papers": rows, "extract_s": total_extract, "index_s": total_index}


def build_library(documents: list[Document], size: int, home: Path) -> dict[str, object]:
    """The corpus's passages stored ``size`` times over, as different papers."""
    from localdigest.index import IndexedPaper, PassageIndex
    from localdigest.summarize import passages

    index_path = home / "cache" / "passages.sqlite"
    index = PassageIndex(index_path)
    held, _ = index.counts()
    print(f"\n2. A library of {size:,} papers at {index_path}")
    if held == size:
        print(f"  already built ({held:,} papers): reused")
        index.close()
        return {"papers": held, "reused": True, "bytes": index_path.stat().st_size}
    index.clear()
    cut = [(doc, passages.passages(doc), " ".join(passages.terms(doc.title))) for doc in documents]
    times = []
    started = time.perf_counter()
    for n in range(size):
        doc, parts, title_terms = cut[n % len(cut)]
        stem = doc.path.stem
        paper = IndexedPaper(
            sha256=f"{n:064x}",
            title=doc.title,
            path=f"bench/{stem}-{n}.pdf",
            arxiv_id=f"bench.{n:05d}",
        )
        t = time.perf_counter()
        index.add(paper, parts, title_terms)
        times.append(time.perf_counter() - t)
        if (n + 1) % 1000 == 0:
            print(f"  {n + 1:6,} papers, {time.perf_counter() - started:5.0f} s", flush=True)
    index.set_note("backfill", None)
    index.close()
    first = statistics.mean(times[:100])
    last = statistics.mean(times[-100:])
    size_mb = index_path.stat().st_size / 1e6
    print(
        f"  adding a paper: {first * 1000:.1f} ms (first 100), {last * 1000:.1f} ms "
        f"(last 100); file {size_mb:.0f} MB"
    )
    return {
        "papers": size,
        "add_first_ms": first * 1000,
        "add_last_ms": last * 1000,
        "megabytes": size_mb,
    }


def questions(home: Path, commands: int) -> dict[str, object]:
    from localdigest.index import PassageIndex
    from localdigest.summarize import passages

    asked = [q["question"] for q in json.loads(QUESTIONS.read_text())]
    index = PassageIndex(home / "cache" / "passages.sqlite")
    papers, held = index.counts()
    print(f"\n3. {len(asked)} questions over {papers:,} papers ({held:,} passages)")
    times = []
    for question in asked:
        t = time.perf_counter()
        index.search(passages.query(question), 3)
        times.append(time.perf_counter() - t)
    index.close()
    first = times[0]
    times.sort()
    median, p90, worst = statistics.median(times), times[int(0.9 * len(times))], times[-1]
    print(
        f"  in-process search: median {median:.3f} s, 90th percentile {p90:.3f} s, "
        f"slowest {worst:.3f} s (the first question: {first:.3f} s)"
    )
    one_step = fts5_alone(home / "cache" / "passages.sqlite", asked)
    env = {**os.environ, "LOCALDIGEST_HOME": str(home)}
    whole = []
    for question in asked[:commands]:
        t = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "localdigest",
                "ask",
                question,
                "--mode",
                "extract",
                "--format",
                "json",
                "--quiet",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        whole.append(time.perf_counter() - t)
    if whole:
        print(
            f"  whole `localdigest ask` commands: median {statistics.median(whole):.3f} s "
            f"(of {len(whole)}: {', '.join(f'{w:.2f}' for w in whole)})"
        )
    return {
        "search_median_s": median,
        "search_p90_s": p90,
        "search_max_s": worst,
        "fts5_alone_s": one_step,
        "command_s": whole,
    }


def fts5_alone(path: Path, asked: list[str]) -> list[float]:
    """What the two steps replace: FTS5's own bm25() over every passage that holds any of
    the question's terms, best 3."""
    import sqlite3

    from localdigest.summarize import passages

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    times = []
    for question in asked:
        match = " OR ".join(f'"{t}"' for t in passages.query(question).terms)
        t = time.perf_counter()
        db.execute(
            "SELECT rowid FROM terms WHERE terms MATCH ? ORDER BY bm25(terms, 1.0, 0.5, 0.5) "
            "LIMIT 3",
            (match,),
        ).fetchall()
        times.append(time.perf_counter() - t)
    db.close()
    times.sort()
    print(
        f"  FTS5's bm25() alone, every passage with any term: median "
        f"{statistics.median(times):.3f} s, 90th percentile {times[int(0.9 * len(times))]:.3f} s"
    )
    return times


def bm25s_compared(documents: list[Document], size: int) -> dict[str, object]:
    import bm25s
    import numpy as np

    from localdigest.summarize import passages

    print(f"\n4. bm25s over the same {size:,} papers' passages")
    cut = [
        [p.terms.split() + p.section_terms.split() for p in passages.passages(doc)]
        for doc in documents
    ]
    corpus = [terms for n in range(size) for terms in cut[n % len(cut)]]
    started = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    build = time.perf_counter() - started
    asked = [q["question"] for q in json.loads(QUESTIONS.read_text())]
    times = []
    for question in asked:
        wanted = [t for t in passages.query(question).terms if t in retriever.vocab_dict]
        t = time.perf_counter()
        scores = retriever.get_scores(wanted)
        np.argpartition(-scores, 3)[:3]
        times.append(time.perf_counter() - t)
    times.sort()
    print(
        f"  build (and so adding one paper): {build:.1f} s; search median "
        f"{statistics.median(times):.3f} s, slowest {times[-1]:.3f} s"
    )
    return {"build_s": build, "search_median_s": statistics.median(times)}


if __name__ == "__main__":
    main()
