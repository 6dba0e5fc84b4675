"""Ranking a listing by the reader's library: the recorded arXiv feeds, a real BM25 index."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from arxiv_server import FakeArxiv, arxiv_server_fixture  # noqa: F401
from digest_helpers import cache, make_summary
from rich.console import Console
from typer.testing import CliRunner

from localdigest import config
from localdigest.cli import app
from localdigest.render.arxiv import search_table
from localdigest.sources import listing as listing_module
from localdigest.sources.arxiv.feed import parse_listing_feed
from localdigest.sources.arxiv.meta import Filters, PaperMeta
from localdigest.sources.library import seen_store
from localdigest.sources.ranking import INTERESTS, LibraryPaper, rank
from localdigest.workflows import ranked

runner = CliRunner()
RSS = "rss-atom-cs.AI-2025-08-20.86entries.xml"
TRANSFORMER_PAPER = "STPFormer"  # "... Spatio-Temporal Transformer for Traffic Forecasting"
UNRELATED = ["Piano: A Multi-Constraint Pin", "A Biased Random Key Genetic Algorithm"]


@pytest.fixture(scope="module")
def listing(corpus: Path) -> list[PaperMeta]:
    """The recorded cs.AI daily listing (86 papers)."""
    return parse_listing_feed((corpus / "arxiv-api" / RSS).read_bytes(), "cs.AI")


def transformer_library(expected: list[dict[str, Any]]) -> list[LibraryPaper]:
    """Attention Is All You Need and BERT, as the reader's library (titles and abstracts)."""
    papers = []
    for record in expected:
        if record["arxiv_id"].split("v")[0] in ("1706.03762", "1810.04805"):
            papers.append(
                LibraryPaper(
                    record["arxiv_id"], record["title"], record["abstract_clean"], None, None
                )
            )
    assert len(papers) == 2
    return papers


def position(papers: list[PaperMeta], order: list[int], prefix: str) -> int:
    [found] = [rank for rank, i in enumerate(order) if papers[i].title.startswith(prefix)]
    return found


def test_a_transformer_paper_ranks_above_unrelated_ones(
    listing: list[PaperMeta], expected: list[dict[str, Any]]
) -> None:
    ranking = rank(listing, transformer_library(expected))
    assert len(ranking.scores) == len(listing) == 86
    order = ranking.order()
    transformer = position(listing, order, TRANSFORMER_PAPER)
    for title in UNRELATED:
        assert transformer < position(listing, order, title)
    score = ranking.scores[order[transformer]]
    assert "transformer" in score.matched_terms or "attention" in score.matched_terms
    assert score.similar_to in {"Attention Is All You Need"} | {
        t for t in [p.title for p in transformer_library(expected)]
    }
    # Papers about attention or transformers score higher, on average, than the rest.
    about = [
        s.relevance
        for p, s in zip(listing, ranking.scores, strict=True)
        if "transformer" in p.title.lower() or "attention" in p.title.lower()
    ]
    rest = [
        s.relevance
        for p, s in zip(listing, ranking.scores, strict=True)
        if "transformer" not in p.title.lower() and "attention" not in p.title.lower()
    ]
    assert len(about) >= 4
    assert sum(about) / len(about) > 2 * sum(rest) / len(rest)
    assert all(0.0 <= s.relevance <= 1.0 for s in ranking.scores)


def test_an_empty_library_ranks_nothing(listing: list[PaperMeta]) -> None:
    ranking = rank(listing, [])
    assert ranking.empty and ranking.order() == []
    assert ranked.by_relevance(listing, ranking) == (listing, [])


def test_interests_alone_rank_the_listing(listing: list[PaperMeta]) -> None:
    ranking = rank(listing, [], "traffic forecasting with spatio-temporal transformers")
    best = listing[ranking.order()[0]]
    assert best.title.startswith(TRANSFORMER_PAPER)
    assert ranking.scores[ranking.order()[0]].similar_to == INTERESTS


def test_a_listed_paper_is_not_matched_with_itself(listing: list[PaperMeta]) -> None:
    mine = listing[10]
    library = [LibraryPaper(mine.arxiv_id, mine.title, mine.abstract, None, mine.arxiv_id)]
    ranking = rank(listing, library)
    assert ranking.scores[10].relevance == 0.0  # its only match would have been itself
    twin = dataclasses.replace(mine, arxiv_id="9999.99999")
    assert rank([twin], library).scores[0].relevance > 0.5  # the same text, another paper


def test_a_library_sharing_no_word_with_the_listing_ranks_nothing_higher(
    listing: list[PaperMeta],
) -> None:
    library = [LibraryPaper("qcd", "Lattice chromodynamics", "gluon quark lattice", None)]
    ranking = rank(listing[:3], library)
    assert [s.relevance for s in ranking.scores] == [0.0, 0.0, 0.0]
    assert all(s.matched_terms == () and s.similar_to is None for s in ranking.scores)


def test_recently_read_papers_count_more(listing: list[PaperMeta]) -> None:
    paper = listing[0]
    now = datetime(2025, 8, 20, tzinfo=UTC)
    other = LibraryPaper("x", "Unrelated", "protein folding in yeast cells", now, None)
    same = LibraryPaper("y", paper.title, paper.abstract, now - timedelta(days=400), None)
    old = rank([paper], [other, same]).scores[0].relevance
    recent = rank([paper], [dataclasses.replace(same, when=now), other]).scores[0].relevance
    assert recent > old > 0


def test_older_listed_papers_weigh_less(listing: list[PaperMeta]) -> None:
    paper = listing[0]
    assert paper.published is not None
    library = [LibraryPaper("y", paper.title, paper.abstract, None, None)]
    older = dataclasses.replace(paper, arxiv_id="0000.00001", published=paper.published)
    newer = dataclasses.replace(
        paper, arxiv_id="0000.00002", published=paper.published + timedelta(days=3 * 365)
    )
    scores = rank([older, newer], library).scores
    assert scores[0].relevance == pytest.approx(scores[1].relevance / 2, rel=0.01)


# ----------------------------------------------------------------------------- commands


def cache_transformer_summaries(expected: list[dict[str, Any]]) -> None:
    """The library through the front door: two cached summaries with their abstracts."""
    for n, paper in enumerate(transformer_library(expected), 1):
        s = make_summary(n, paper.title, arxiv_id=paper.key.split("v")[0])
        cache(dataclasses.replace(s, abstract=paper.text, summary=paper.text))


def test_search_json_has_relevance_and_sorts_by_it(
    arxiv_server: FakeArxiv, expected: list[dict[str, Any]]
) -> None:
    cache_transformer_summaries(expected)
    args = ["search", "--today", "-c", "cs.AI", "--format", "json"]
    listed = json.loads(runner.invoke(app, args).stdout)
    assert all(isinstance(p["relevance"], float) for p in listed)
    assert all(isinstance(p["matched_terms"], list) for p in listed)
    result = runner.invoke(app, [*args, "--sort", "relevance"])
    assert result.exit_code == 0, result.output
    ranked_rows = json.loads(result.stdout)
    values = [p["relevance"] for p in ranked_rows]
    assert values == sorted(values, reverse=True) and values[0] > 0
    assert [p["n"] for p in ranked_rows] == list(range(1, len(ranked_rows) + 1))
    titles = [p["title"] for p in ranked_rows]
    first_transformer = next(i for i, t in enumerate(titles) if t.startswith(TRANSFORMER_PAPER))
    assert all(first_transformer < i for i, t in enumerate(titles) if t.startswith("Piano"))
    assert sorted(titles) == sorted(p["title"] for p in listed)  # the same papers, reordered


def test_search_table_shows_relevance_and_matched_terms(
    arxiv_server: FakeArxiv, expected: list[dict[str, Any]]
) -> None:
    cache_transformer_summaries(expected)
    result = runner.invoke(
        app, ["search", "--today", "-c", "cs.AI", "--sort", "relevance", "--max", "5"]
    )
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0]
    assert "rel" in header and "matched" not in header  # 80 columns: terms under the title
    assert re.search(r"↳ \w", result.stdout)
    assert any(w in result.stdout for w in ("attention", "transformer", "bert", "layer"))

    cfg = config.load()
    seen = seen_store(cfg.paths.state)
    papers = listing_module.today(arxiv_server.client, seen, Filters(("cs.AI",)))
    ranking = ranked.rank_listing(papers, cfg)
    wide = Console(file=io.StringIO(), width=160)
    wide.print(search_table(papers, {}, width=160, scores=ranking.scores))
    text = wide.file.getvalue()  # type: ignore[attr-defined]
    assert "matched" in text.splitlines()[0] and "↳" not in text


def test_empty_library_says_so_and_keeps_arxivs_order(arxiv_server: FakeArxiv) -> None:
    plain = runner.invoke(app, ["search", "--today", "-c", "cs.AI", "--format", "json"])
    args = ["search", "--today", "-c", "cs.AI", "--format", "json", "--sort", "relevance"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "library is empty" in result.stderr
    rows = json.loads(result.stdout)
    assert [p["arxiv_id"] for p in rows] == [p["arxiv_id"] for p in json.loads(plain.stdout)]
    assert all(p["relevance"] is None and p["matched_terms"] == [] for p in rows)
    table = runner.invoke(app, ["search", "--today", "-c", "cs.AI", "--max", "3"])
    assert "matched" not in table.stdout.splitlines()[0]
