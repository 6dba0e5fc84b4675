"""Reading the reader's library: BibTeX and CSL-JSON exports with their quirks, and a
zotero.sqlite built here with Zotero's own schema for the tables read."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from zotero_db import make_zotero

from localdigest.errors import InputError
from localdigest.sources.imported import ImportedLibrary
from localdigest.sources.references import (
    kind_of,
    latex_text,
    read_bibtex,
    read_csl_json,
    read_zotero,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_bibtex_export_with_braces_accents_macros_and_missing_abstracts() -> None:
    items = {i.key: i for i in read_bibtex(FIXTURES / "library.bib")}
    assert len(items) == 11
    react = items["yao2023react"]
    assert react.title == "ReAct: Synergizing Reasoning and Acting in Language Models"
    assert react.authors[:2] == ("Shunyu Yao", "Jeffrey Zhao")
    assert react.keywords == ("LLM agents", "tool use", "reasoning")
    assert react.arxiv_id == "2210.03629" and react.added == "2023-02-01"
    tool = items["schick2023toolformer"]
    assert "Roberto Dessì" in tool.authors  # {\`\i}
    assert tool.title.startswith("Toolformer: ") and tool.abstract == ""  # none exported
    assert tool.arxiv_id == "2302.04761"  # from "arXiv preprint arXiv:2302.04761"
    assert items["wu2023autogen"].arxiv_id == "2308.08155"  # the DOI / the URL
    assert "others" not in items["wu2023autogen"].authors
    assert items["shinn2023reflexion"].arxiv_id == "2303.11366"  # a note
    assert "Joseph C. O'Brien" in items["park2023generative"].authors
    assert "sandbox & multi-agent" in items["park2023generative"].abstract  # \&
    assert items["jin2024timellm"].title.startswith("Time-LLM: ")  # {{...}}
    assert items["nie2023patchtst"].arxiv_id == "2211.14730"  # a versioned abs URL
    assert items["zhou2021informer"].arxiv_id is None  # it names none


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"Erd{\H{o}}s, P{\'a}l", "Erdős, Pál"),
        (r"G\"{o}del and na\"ive \c{c}a \ss{} \o\ {\L}ukasz", "Gödel and naïve ça ß ø Łukasz"),
        (r"{\'{\i}}ndice \~n \AA{}ngstr\"om", "índice ñ Ångström"),
        (r"pages 1--5 \emph{very} 50\% \& \$x\$ ~mid", "pages 1–5 very 50% & $x$ mid"),
    ],
)
def test_latex_in_values_becomes_text(tex: str, text: str) -> None:
    assert latex_text(tex) == text


def test_csl_json_export_with_markup_literal_names_and_raw_dates() -> None:
    items = {i.key: i for i in read_csl_json(FIXTURES / "library.csl.json")}
    assert len(items) == 3  # the entry without a title is no reference
    voyager = items["voyager"]
    assert voyager.title == (
        "Voyager: An Open-Ended Embodied Agent with Large Language Models"
    )  # <i> and <span class="nocase"> gone
    assert voyager.authors == ("Guanzhi Wang", "NVIDIA Research", "Anima Anandkumar")
    assert voyager.keywords == ("embodied agents", "lifelong learning", "Minecraft")
    assert voyager.arxiv_id == "2305.16291" and voyager.added == "2023-05-01"
    react = items["http://zotero.org/users/local/abc/items/R3ACT001"]
    assert react.arxiv_id == "2210.03629" and react.added == "2022-10-06"
    old = items["pinacho2020"]
    assert old.authors == ("José de Muñoz",) and old.added == "2024-03-02"  # accessed


def test_bad_exports_fail_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("[{", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        read_csl_json(tmp_path / "broken.json")
    (tmp_path / "list.json").write_text('"a string"', encoding="utf-8")
    with pytest.raises(InputError, match="not a CSL-JSON list"):
        read_csl_json(tmp_path / "list.json")
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="BibTeX file"):
        kind_of(tmp_path / "notes.txt")
    (tmp_path / "fake.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(InputError, match="not a Zotero database"):
        read_zotero(tmp_path / "fake.sqlite")


def test_zotero_database_read_while_zotero_holds_it(tmp_path: Path) -> None:
    path = make_zotero(tmp_path / "zotero.sqlite")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    zotero = sqlite3.connect(path)  # a running Zotero holds its database
    zotero.execute("BEGIN EXCLUSIVE")
    try:
        items = {i.key: i for i in read_zotero(path)}
    finally:
        zotero.rollback()
        zotero.close()
    assert set(items) == {"TIMELLM1", "INFORMR2"}  # no note, attachment or trashed item
    llm = items["TIMELLM1"]
    assert llm.authors == ("Ming Jin", "Shiyu Wang", "Time Series Group")
    assert llm.keywords == ("forecasting", "LLM")
    assert llm.arxiv_id == "2310.01728" and llm.added == "2024-11-02T09:15:00+00:00"
    informer = items["INFORMR2"]
    assert informer.keywords == ("forecasting", "Time series")  # tag and collection
    assert informer.doi == "10.1609/aaai.v35i12.17325" and informer.abstract == ""
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # nothing written
    assert not list(tmp_path.glob("zotero.sqlite-*"))  # no journal left beside it


def test_reimporting_replaces_a_source_and_merges_one_paper_from_two(tmp_path: Path) -> None:
    bib = read_bibtex(FIXTURES / "library.bib")
    library = ImportedLibrary(tmp_path)
    first = library.replace(tmp_path / "refs.bib", "bibtex", bib)
    assert (first.new, first.gone) == (11, 0)
    library.save()
    again = ImportedLibrary(tmp_path)
    same = again.replace(tmp_path / "refs.bib", "bibtex", bib)
    assert (same.new, same.gone, len(same.source.items)) == (0, 0, 11)
    fewer = again.replace(tmp_path / "refs.bib", "bibtex", bib[:-1])
    assert (fewer.new, fewer.gone) == (0, 1)
    again.replace(tmp_path / "refs.json", "csl-json", read_csl_json(FIXTURES / "library.csl.json"))
    again.save()
    papers = ImportedLibrary(tmp_path).papers()
    # ReAct is in both exports: one paper. 10 + 3 - 1.
    assert len(papers) == 12
    assert sum(p.arxiv_id == "2210.03629" for p in papers) == 1
    react = next(p for p in papers if p.arxiv_id == "2210.03629")
    assert react.terms and "react" in react.terms and "@yao_shunyu" in react.terms


def test_a_damaged_library_file_is_set_aside(tmp_path: Path) -> None:
    (tmp_path / "imported-library.json").write_text("{not json", encoding="utf-8")
    said: list[str] = []
    assert ImportedLibrary(tmp_path, said.append).sources == []
    assert "damaged" in said[0] and (tmp_path / "imported-library.json.damaged").exists()
