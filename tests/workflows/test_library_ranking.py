"""The reader's library imported and followed, ranking a real listing (the recorded cs.AI
announcements of 2025-08-20) through the commands a reader types."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from arxiv_server import FakeArxiv, arxiv_server_fixture  # noqa: F401
from typer.testing import CliRunner
from zotero_db import make_zotero

from localdigest import config
from localdigest.cli import app
from localdigest.sources.arxiv.feed import parse_listing_feed
from localdigest.sources.arxiv.meta import PaperMeta
from localdigest.sources.ranking import rank
from localdigest.workflows import ranked

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RSS = "rss-atom-cs.AI-2025-08-20.86entries.xml"
# The listing's papers on the library's two topics (LLM agents; time-series forecasting),
# judged by hand from their titles and abstracts (tests/fixtures/library-topics.json).
TOPICS = json.loads((FIXTURES / "library-topics.json").read_text(encoding="utf-8"))
ON_TOPIC = set(TOPICS["agents"]) | set(TOPICS["forecasting"])


@pytest.fixture(scope="module")
def listing(corpus: Path) -> list[PaperMeta]:
    return parse_listing_feed((corpus / "arxiv-api" / RSS).read_bytes(), "cs.AI")


def import_(*sources: str | Path) -> Any:
    result = runner.invoke(app, ["library", "import", *map(str, sources), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def on_topic_in_top(papers: list[PaperMeta], order: list[int], count: int = 10) -> int:
    return sum(papers[i].arxiv_id in ON_TOPIC for i in order[:count])


def test_importing_a_bib_puts_the_library_topics_on_top(listing: list[PaperMeta]) -> None:
    before = on_topic_in_top(listing, list(range(len(listing))))  # arXiv's order
    [result] = import_(FIXTURES / "library.bib")
    assert (result["kind"], result["items"], result["new"]) == ("bibtex", 11, 11)
    ranking = ranked.rank_listing(listing, config.load())
    after = on_topic_in_top(listing, ranking.order())
    assert before <= 3 and after >= 7, (before, after)
    top = ranking.scores[ranking.order()[0]]
    assert top.matched_terms and top.similar_to is not None
    # EventTSF shares an author (Ming Jin) and its subject with Time-LLM: both say so.
    event = next(k for k, p in enumerate(listing) if p.title.startswith("EventTSF"))
    assert ranking.order()[0] == event
    [time_llm] = [p for p in ranked.library_papers(config.load().paths) if "Time-LLM" in p.title]
    alone = rank(listing, [time_llm])
    assert alone.order()[0] == event and "Ming Jin" in alone.scores[event].matched_terms


def test_reimport_is_idempotent_and_library_lists_what_came_from_where(
    tmp_path: Path, corpus: Path
) -> None:
    bib = tmp_path / "refs.bib"
    shutil.copy(FIXTURES / "library.bib", bib)
    import_(bib)
    assert import_(bib)[0]["new"] == 0
    pdfs = tmp_path / "papers"
    pdfs.mkdir()
    for name in ("1706.03762.pdf", "1810.04805.pdf", "1412.6980-corrupt.pdf"):
        shutil.copy(corpus / "pdfs" / name, pdfs / name)
    result = runner.invoke(app, ["library", "import", str(pdfs), "--format", "json"])
    assert result.exit_code == 0, result.output
    [folder] = json.loads(result.stdout)
    assert (folder["kind"], folder["items"]) == ("pdfs", 2)
    assert folder["skipped"] and "1412.6980-corrupt.pdf" in folder["skipped"][0]
    assert import_(pdfs)[0]["new"] == 0  # unchanged files are not read again
    listed = json.loads(runner.invoke(app, ["library", "--format", "json"]).stdout)
    assert listed["items"] == 13
    assert [(s["path"], s["kind"], s["items"]) for s in listed["sources"]] == [
        (str(bib.resolve()), "bibtex", 11),
        (str(pdfs.resolve()), "pdfs", 2),
    ]
    table = runner.invoke(app, ["library"])
    assert "bibtex" in table.stdout and "pdfs" in table.stdout
    titles = {p.title for p in ranked.library_papers(config.load().paths)}
    assert "Attention Is All You Need" in titles  # read from the PDF's first page
    removed = runner.invoke(app, ["library", "remove", str(bib)])
    assert removed.exit_code == 0 and "11 items" in removed.stderr
    assert json.loads(runner.invoke(app, ["library", "--format", "json"]).stdout)["items"] == 2
    gone = runner.invoke(app, ["library", "remove", str(pdfs), "--format", "json"])
    assert json.loads(gone.stdout) == {"removed": str(pdfs.resolve()), "kind": "pdfs", "items": 2}


def test_a_missing_source_fails_alone(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["library", "import", str(tmp_path / "gone.bib"), str(FIXTURES / "library.bib")]
    )
    assert result.exit_code == 3
    assert "No such file or folder" in result.stderr and "Traceback" not in result.output
    assert "11 items" in result.stdout  # the other source is imported
    nothing = runner.invoke(app, ["library", "import"])  # no Zotero at its default place
    assert nothing.exit_code == 2 and "No Zotero database at" in nothing.stderr


def test_zotero_at_its_default_place(tmp_path: Path) -> None:
    home = Path.home()  # the test's own HOME (conftest)
    (home / "Zotero").mkdir(parents=True)
    make_zotero(home / "Zotero" / "zotero.sqlite")
    [result] = import_()
    assert (result["kind"], result["items"]) == ("zotero", 2)


def test_followed_authors_and_keywords_lead_and_exclude_still_hides(
    listing: list[PaperMeta], tmp_path: Path
) -> None:
    result = runner.invoke(app, ["follow", "knowledge graph", "-a", "Carsten Lutz"])
    assert result.exit_code == 0 and "Carsten Lutz" in result.stdout
    cfg = config.load()
    assert cfg.authors == ("Carsten Lutz",) and cfg.origins["authors"] == "config"
    ranking = ranked.rank_listing(listing, cfg)  # no library at all: following ranks
    order = ranking.order()
    first = ranking.scores[order[0]]
    assert listing[order[0]].title.startswith("Fitting Ontologies")  # by Carsten Lutz
    assert first.matched_terms[0] == "by Carsten Lutz" and first.relevance >= 0.5
    graphs = [listing[i].title for i in order[1:3]]
    assert all("Knowledge Graph" in t for t in graphs), graphs
    assert ranking.scores[order[1]].matched_terms[0] == '"knowledge graph"'
    again = runner.invoke(app, ["follow", "Knowledge Graph", "--format", "json"])
    assert json.loads(again.stdout)["keywords"] == ["knowledge graph"]  # not twice
    gone = runner.invoke(app, ["follow", "--remove", "-a", "carsten lutz", "--format", "json"])
    assert json.loads(gone.stdout) == {"authors": [], "keywords": ["knowledge graph"]}


def test_search_today_after_import_shows_why(arxiv_server: FakeArxiv) -> None:
    import_(FIXTURES / "library.bib")
    args = ["search", "--today", "-c", "cs.AI", "--sort", "relevance", "--format", "json"]
    rows = json.loads(runner.invoke(app, args).stdout)
    assert sum(r["arxiv_id"] in ON_TOPIC for r in rows[:10]) >= 7
    assert all(r["matched_terms"] for r in rows[:10])
    excluded = runner.invoke(app, [*args, "--exclude", "agent"])
    kept = json.loads(excluded.stdout)
    assert kept and not any("agent" in (r["title"] + r["abstract"]).lower() for r in kept)
