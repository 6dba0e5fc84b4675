"""How fast the reader's library is imported and listings are ranked by it, and how well:
`make bench-ranking` (also part of `make bench`), or `.venv/bin/python bench/ranking.py`.

Speed: writes a BibTeX library of L entries (default 5,000) and builds a listing of N papers
(default 1,000), both from the recorded arXiv responses of the team corpus
(../shared/corpus/arxiv-api: 106 real titles and abstracts; beyond those, each further
paper joins the first half of one abstract to the second half of another, so every paper
is a different text; library entries carry LaTeX accents and braces as exports do). Then,
each in a fresh process and repeated: `library import` of that file (parse, terms, write),
and ranking the listing by the imported library (import numpy, read the imported library,
`rank()`). Offline throughout.

Quality (``--quality``): the recorded cs.AI announcements of 2025-08-20 (86 papers) ranked
by tests/fixtures/library.bib (two topics), and how many of the top 10 are on those topics
(tests/fixtures/library-topics.json) in arXiv's order and after the import.
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
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURES = ROOT / "tests" / "fixtures"
FEEDS = [
    "rss-atom-cs.AI-2025-08-20.86entries.xml",
    "api-2026-search-testing-start0-max10.xml",
    "api-2016-search-au_del_maestro.xml",
]


def recorded_entries() -> list[tuple[str, str, list[str]]]:
    """(title, abstract, authors) of every recorded entry."""
    entries = []
    for name in FEEDS:
        text = (CORPUS / "arxiv-api" / name).read_text(encoding="utf-8")
        for entry in re.findall(r"<entry>.*?</entry>", text, re.DOTALL):
            title = re.search(r"<title>(.*?)</title>", entry, re.DOTALL)
            abstract = re.search(r"<summary>(.*?)</summary>", entry, re.DOTALL)
            names = re.findall(r"<name>(.*?)</name>", entry) or re.findall(
                r"<dc:creator>(.*?)</dc:creator>", entry
            )
            authors = [a.strip() for n in names for a in html.unescape(n).split(",")]
            if title and abstract:
                entries.append(
                    (
                        " ".join(html.unescape(title[1]).split()),
                        html.unescape(abstract[1]),
                        authors,
                    )
                )
    return entries


def papers(count: int, seed: int) -> list[tuple[str, str, list[str]]]:
    """``count`` different papers made from the recorded ones (see the module docstring)."""
    base = recorded_entries()
    rng = random.Random(seed)
    made = []
    for n in range(count):
        title, abstract, authors = base[n % len(base)]
        if n >= len(base):
            other = rng.choice(base)[1].split()
            words = abstract.split()
            abstract = " ".join(words[: len(words) // 2] + other[len(other) // 2 :])
            title = f"{title} ({n})"
        made.append((title, abstract, authors))
    return made


def write_bib(path: Path, count: int) -> None:
    entries = []
    for n, (title, abstract, authors) in enumerate(papers(count, seed=11)):
        names = " and ".join(authors[:6]) or "Anonymous"
        abstract = abstract.replace("%", r"\%").replace("&", r"\&")
        entries.append(
            f"@article{{entry{n},\n  title = {{{{{title}}}}},\n  author = {{{names}}},\n"
            f'  year = {{{2015 + n % 10}}},\n  abstract = {{{abstract} G{{\\"o}}del}},\n'
            f"  keywords = {{topic{n % 20}; G\\'{{e}}n\\'{{e}}ral}}\n}}\n"
        )
    path.write_text("\n".join(entries), encoding="utf-8")


def child_import(home: Path, bib: Path) -> dict[str, float]:
    started = time.perf_counter()
    import os

    os.environ["LOCALDIGEST_HOME"] = str(home)
    from localdigest import config
    from localdigest.workflows.library import import_sources

    t0 = time.perf_counter()
    [result] = import_sources(config.load(), [str(bib)])
    t1 = time.perf_counter()
    assert result.error is None, result.error
    return {"setup_s": t0 - started, "import_s": t1 - t0, "items": result.items}


def child_rank(home: Path, listed: int) -> dict[str, float]:
    started = time.perf_counter()
    from localdigest.sources.arxiv.meta import PaperMeta
    from localdigest.sources.imported import ImportedLibrary
    from localdigest.sources.ranking import rank

    now = datetime(2025, 8, 20, tzinfo=UTC)
    listing = [
        PaperMeta(f"2508.{n:05d}", 1, t, tuple(a), ab, (), "cs.AI", now, now, "", "")
        for n, (t, ab, a) in enumerate(papers(listed, seed=7))
    ]
    t0 = time.perf_counter()
    import numpy  # noqa: F401  (the import rank() does on first use, timed on its own)

    t1 = time.perf_counter()
    library = ImportedLibrary(home).papers()
    t2 = time.perf_counter()
    ranking = rank(listing, library)
    t3 = time.perf_counter()
    assert len(ranking.scores) == listed
    return {
        "setup_s": t0 - started,
        "numpy_s": t1 - t0,
        "load_s": t2 - t1,
        "rank_s": t3 - t2,
        "ranking_s": t3 - t1,
        "listed": listed,
        "library": len(library),
    }


def quality() -> dict[str, int]:
    from localdigest.sources.arxiv.feed import parse_listing_feed
    from localdigest.sources.imported import ImportedLibrary
    from localdigest.sources.ranking import rank
    from localdigest.sources.references import read_bibtex

    rss = CORPUS / "arxiv-api" / FEEDS[0]
    listing = parse_listing_feed(rss.read_bytes(), "cs.AI")
    topics = json.loads((FIXTURES / "library-topics.json").read_text(encoding="utf-8"))
    on = set(topics["agents"]) | set(topics["forecasting"])
    with tempfile.TemporaryDirectory() as folder:
        library = ImportedLibrary(Path(folder))
        library.replace(FIXTURES / "library.bib", "bibtex", read_bibtex(FIXTURES / "library.bib"))
        order = rank(listing, library.papers()).order()
    return {
        "listed": len(listing),
        "on_topic": len(on),
        "top10_before": sum(p.arxiv_id in on for p in listing[:10]),
        "top10_after": sum(listing[i].arxiv_id in on for i in order[:10]),
    }


def timed(args: list[str], repeat: int) -> list[dict[str, float]]:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, *args], capture_output=True, text=True, check=True
        )
        row = json.loads(out.stdout)
        row["process_s"] = time.perf_counter() - started
        runs.append(row)
    return runs


def show(label: str, runs: list[dict[str, float]], key: str) -> None:
    values = [r[key] for r in runs]
    print(
        f"  {label:34} median {statistics.median(values):.3f} s "
        f"(min {min(values):.3f}, max {max(values):.3f})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listed", type=int, default=1000, help="papers in the listing")
    parser.add_argument("--library", type=int, default=5000, help="entries in the library")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quality", action="store_true", help="the top-10 measure only")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not (CORPUS / "arxiv-api").is_dir():
        print(f"The team corpus is not at {CORPUS} — nothing to rank", file=sys.stderr)
        return 2
    if args.child:
        what, home = args.child
        if what == "import":
            row = child_import(Path(home), Path(home) / "library.bib")
        else:
            row = child_rank(Path(home), args.listed)
        print(json.dumps(row))
        return 0
    q = quality()
    print(
        f"quality: of the top 10 of {q['listed']} listed papers ({q['on_topic']} on the "
        f"library's topics), {q['top10_before']} on topic in arXiv's order, "
        f"{q['top10_after']} after importing tests/fixtures/library.bib"
    )
    if args.quality:
        return 0
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        write_bib(home / "library.bib", args.library)
        imports = timed(["--child", "import", folder], args.repeat)
        ranks = timed(["--child", "rank", folder, f"--listed={args.listed}"], args.repeat)
    print(
        f"importing a {args.library}-entry BibTeX library, then ranking {args.listed} listed "
        f"papers by it; {args.repeat} fresh processes each, load average {load} at the start:"
    )
    show("library import (parse, terms, save)", imports, "import_s")
    show("import: whole process", imports, "process_s")
    show("import numpy", ranks, "numpy_s")
    show("read the imported library", ranks, "load_s")
    show("rank()", ranks, "rank_s")
    show("ranking (numpy + read + rank)", ranks, "ranking_s")
    show("ranking: whole process", ranks, "process_s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
