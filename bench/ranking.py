"""How fast listings are ranked: `make bench-ranking` (or `.venv/bin/python bench/ranking.py`).

Builds a listing of N papers (default 1000) from the recorded arXiv responses of the team
corpus (../shared/corpus/arxiv-api: 106 real titles and abstracts; beyond those, each
further paper joins the first half of one abstract to the second half of another, so every
paper is a different text) and a library of the corpus papers' abstracts plus L listed
abstracts, then times, each in a fresh process and repeated: importing the ranking stack,
`rank()` itself, and the whole process (interpreter start to scores). Offline throughout.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
FEEDS = [
    "rss-atom-cs.AI-2025-08-20.86entries.xml",
    "api-2026-search-testing-start0-max10.xml",
    "api-2016-search-au_del_maestro.xml",
]


def recorded_entries() -> list[tuple[str, str]]:
    entries = []
    for name in FEEDS:
        text = (CORPUS / "arxiv-api" / name).read_text(encoding="utf-8")
        for entry in re.findall(r"<entry>.*?</entry>", text, re.DOTALL):
            title = re.search(r"<title>(.*?)</title>", entry, re.DOTALL)
            abstract = re.search(r"<summary>(.*?)</summary>", entry, re.DOTALL)
            if title and abstract:
                entries.append(
                    (" ".join(html.unescape(title[1]).split()), html.unescape(abstract[1]))
                )
    return entries


def one_run(listed: int, library: int) -> dict[str, float]:
    """Runs in a fresh process (``--child``): times from interpreter start."""
    started = time.perf_counter()
    from localdigest.sources.arxiv.meta import PaperMeta
    from localdigest.sources.ranking import LibraryPaper, rank

    base = recorded_entries()
    rng = random.Random(7)
    now = datetime(2025, 8, 20, tzinfo=UTC)
    papers = []
    for n in range(listed):
        title, abstract = base[n % len(base)]
        if n >= len(base):
            other = rng.choice(base)[1].split()
            words = abstract.split()
            abstract = " ".join(words[: len(words) // 2] + other[len(other) // 2 :])
        papers.append(
            PaperMeta(f"2508.{n:05d}", 1, title, (), abstract, (), "cs.AI", now, now, "", "")
        )
    expected = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
    shelf = [
        LibraryPaper(r["arxiv_id"], r["title"], r["abstract_clean"], now - timedelta(days=n))
        for n, r in enumerate(expected)
    ]
    shelf += [
        LibraryPaper(f"lib{n}", t, a, now - timedelta(days=30 + n))
        for n, (t, a) in enumerate(base[:library])
    ]
    t0 = time.perf_counter()
    import bm25s  # noqa: F401  (the import rank() does on first use, timed on its own)

    t1 = time.perf_counter()
    ranking = rank(papers, shelf)
    t2 = time.perf_counter()
    assert len(ranking.scores) == listed
    return {
        "setup_s": t0 - started,
        "import_s": t1 - t0,
        "rank_s": t2 - t1,
        "listed": listed,
        "library": len(shelf),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listed", type=int, default=1000, help="papers in the listing")
    parser.add_argument("--library", type=int, default=50, help="listed abstracts also read")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not (CORPUS / "arxiv-api").is_dir():
        print(f"The team corpus is not at {CORPUS} — nothing to rank", file=sys.stderr)
        return 2
    if args.child:
        print(json.dumps(one_run(args.listed, args.library)))
        return 0
    runs = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "--child", f"--listed={args.listed}",
             f"--library={args.library}"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        row = json.loads(out.stdout)
        row["process_s"] = time.perf_counter() - started
        runs.append(row)
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(
        f"ranking {args.listed} listed papers against {runs[0]['library']} library papers, "
        f"{args.repeat} fresh processes, load average {load}:"
    )
    for key, label in [
        ("import_s", "import bm25s + numpy"),
        ("rank_s", "rank()"),
        ("process_s", "whole process"),
    ]:
        values = [r[key] for r in runs]
        print(
            f"  {label:22} median {statistics.median(values):.3f} s "
            f"(min {min(values):.3f}, max {max(values):.3f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
