"""Citation keys and ``export --bibtex``: the file parses with bibtexparser (its own LaTeX
decoder, pylatexenc, reads the values back) and says what the papers are."""

from __future__ import annotations

import json
import random
from pathlib import Path

import bibtexparser
import yaml
from bibtexparser.middlewares import LatexDecodingMiddleware
from conftest import user_paths
from digest_helpers import cache, make_summary
from typer.testing import CliRunner

from localdigest.cli import app
from localdigest.publish.bibtex import PaperExtras, citation_keys, identity, to_bibtex
from localdigest.sources import library
from localdigest.sources.arxiv.ids import ArxivId
from localdigest.sources.arxiv.meta import PaperMeta
from localdigest.sources.references import read_bibtex

runner = CliRunner()


def parse(text: str) -> bibtexparser.Library:
    parsed = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert parsed.failed_blocks == [], [b.error for b in parsed.failed_blocks]
    return parsed


def test_keys_are_surname_year_first_word() -> None:
    papers = [
        make_summary(1, "Attention Is All You Need", arxiv_id="1706.03762",
                     authors=["Ashish Vaswani", "Noam Shazeer"]),
        make_summary(2, "The Élan of Über-Models", authors=["Müller, Jörg"]),
        make_summary(3, "On the Origin of Quarks", arxiv_id="hep-th/9901001", authors=[]),
        make_summary(4, "A (Very) Good Idea", authors=["Ada Lovelace"]),
    ]  # fmt: skip
    extras = {"1706.03762": PaperExtras(published="2017-06-12")}
    keys = citation_keys(papers, extras)
    assert [keys[identity(p)] for p in papers] == [
        "vaswani2017attention",
        "mullerelan",  # accents folded; no arXiv id, no date: no year
        "anon1999origin",  # old-style id 9901 -> 1999; no author
        "lovelacevery",  # small words and punctuation skipped
    ]


def test_keys_are_unique_and_do_not_depend_on_the_order() -> None:
    same = [
        make_summary(n, "Deep Learning", arxiv_id=f"1505.0{n}000", authors=["Yann LeCun"])
        for n in range(1, 5)
    ]
    keys = citation_keys(same, {})
    assert sorted(keys.values()) == [
        "lecun2015deep",
        "lecun2015deepb",
        "lecun2015deepc",
        "lecun2015deepd",
    ]
    shuffled = same[:]
    random.Random(7).shuffle(shuffled)
    assert citation_keys(shuffled, {}) == keys
    assert keys[identity(same[0])] == "lecun2015deep"  # the lowest arXiv id keeps the bare key


def test_specials_round_trip_through_bibtexparser() -> None:
    titles = [
        r"50% of {GPUs} & $10 of C# code_at 1~2^3 \LaTeX",
        "Unmatched } brace and { another",
        "Łukasz's naïve Café: Zürich — “quotes”",
        "@inproceedings{evil, title={x}} and a } closing",
    ]
    authors = [["Łukasz Kaiser", "Ben {Ana}lyst"], ["Research and Development Team"], [], ["A_B"]]
    papers = [
        make_summary(n, t, arxiv_id=f"2401.0000{n}" if n % 2 else None, authors=a)
        for n, (t, a) in enumerate(zip(titles, authors, strict=True), 1)
    ]
    text = to_bibtex(papers, {})
    parsed = parse(text)
    assert len(parsed.entries) == 4
    back = {e.key: e for e in parsed.entries}
    keys = citation_keys(papers, {})
    # pylatexenc reads ~ and ^ as a tilde and a modifier letter; every other character
    # comes back as it was, braces without a partner dropped.
    expected = [
        "50% of {GPUs} & $10 of C# code_at 1~2ˆ3 \\LaTeX",
        "Unmatched brace and another",
        titles[2],
        "@inproceedings{evil, title={x}} and a closing",
    ]
    for paper, title, names in zip(papers, expected, authors, strict=True):
        entry = back[keys[identity(paper)]]
        assert entry["title"] == title
        field = entry.fields_dict.get("author")
        if field is None:
            assert names == []
        elif paper is papers[1]:  # braced: one name, not two
            assert [field.value] == names
        else:
            assert field.value.split(" and ") == names


def test_arxiv_entries_carry_eprint_fields_and_read_back_as_a_library() -> None:
    paper = make_summary(1, "Attention Is All You Need", arxiv_id="1706.03762",
                         authors=["Ashish Vaswani", "Łukasz Kaiser"])  # fmt: skip
    extras = {"1706.03762": PaperExtras(primary_category="cs.CL", doi="10.5555/3295222")}
    [entry] = parse(to_bibtex([paper], extras)).entries
    assert entry.entry_type == "misc" and entry.key == "vaswani2017attention"
    assert entry["eprint"] == "1706.03762" and entry["archivePrefix"] == "arXiv"
    assert entry["primaryClass"] == "cs.CL" and entry["year"] == "2017"
    assert entry["url"] == "https://arxiv.org/abs/1706.03762" and entry["doi"] == "10.5555/3295222"
    journal = PaperExtras(journal_ref="Advances in NeurIPS 30 (2017)")
    [article] = parse(to_bibtex([paper], {"1706.03762": journal})).entries
    assert article.entry_type == "article" and article["journal"].startswith("Advances")


def test_export_bibtex_and_notes_share_the_keys(tmp_path: Path) -> None:
    aid = ArxivId("1706.03762", 7)
    folder = library.Library(user_paths().library).entry_dir(aid)
    folder.mkdir(parents=True)
    (folder / library.PDF_NAME).write_bytes(b"%PDF-1.4\n%%EOF\n")
    meta = PaperMeta(
        arxiv_id="1706.03762",
        version=7,
        title="Attention Is All You Need",
        authors=("Ashish Vaswani",),
        abstract="",
        categories=("cs.CL", "cs.LG"),
        primary_category="cs.CL",
        published=None,
        updated=None,
        abs_url=aid.abs_url,
        pdf_url="https://arxiv.org/pdf/1706.03762v7",
    )
    (folder / library.META_NAME).write_text(json.dumps({"format": 1, **meta.to_dict()}))
    cache(
        make_summary(1, meta.title, arxiv_id="1706.03762", authors=["Ashish Vaswani"]),
        make_summary(2, "Attention, Again & {Again}", authors=["Ashish Vaswani"]),
    )
    bib, vault = tmp_path / "out" / "papers.bib", tmp_path / "vault"

    only_bib = runner.invoke(app, ["export", "--bibtex", str(bib)])
    assert only_bib.exit_code == 0, only_bib.output
    assert "Wrote 2 BibTeX entries" in only_bib.stderr and not vault.exists()
    entries = {e.key: e for e in parse(bib.read_text(encoding="utf-8")).entries}
    assert set(entries) == {"vaswani2017attention", "vaswaniattention"}
    assert entries["vaswani2017attention"]["primaryClass"] == "cs.CL"  # from the library
    assert entries["vaswaniattention"]["title"] == "Attention, Again & {Again}"
    # What the library import reads back: the same titles and authors.
    read = {r.key: r for r in read_bibtex(bib)}
    assert read["vaswani2017attention"].arxiv_id == "1706.03762"
    assert read["vaswani2017attention"].authors == ("Ashish Vaswani",)
    assert read["vaswaniattention"].title == "Attention, Again & {Again}".replace("{", "").replace(
        "}", ""
    )

    both = runner.invoke(
        app, ["export", "--notes", str(vault), "--bibtex", str(bib), "--format", "json"]
    )
    assert both.exit_code == 0, both.output
    report = json.loads(both.stdout)
    assert report["bibtex"] == {"path": str(bib), "entries": 2}
    citekeys = set()
    for note in report["notes"]:
        front = yaml.safe_load(Path(note["path"]).read_text(encoding="utf-8").split("---\n")[1])
        citekeys.add(front["citekey"])
    assert citekeys == set(entries)
