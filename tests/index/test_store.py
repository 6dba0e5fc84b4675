"""The passage index: papers in and out whole, BM25 over passage, section and title, "not
found" when nothing answers, and damage repaired without touching anything else."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from localdigest.cache import Store, make_key
from localdigest.errors import CacheError
from localdigest.index import IndexedPaper, Passage, PassageIndex, Query
from localdigest.index import store as store_module
from localdigest.summarize.passages import query, terms


def passage(text: str, section: str = "1 Intro", page: int = 1, at: int = 0) -> Passage:
    t = (at, at)
    return Passage(section, page, page, text, " ".join(terms(text)), " ".join(terms(section)), t)


def paper(sha: str, title: str = "A Paper") -> IndexedPaper:
    return IndexedPaper(sha, title, f"/papers/{sha}.pdf")


FILLER = [
    "We compare optimizers on image classification with a convolutional network.",
    "The experiments use a learning rate of 0.001 and a batch size of 128 throughout.",
    "Related work on recurrent networks is discussed in the next section.",
]


@pytest.fixture
def index(tmp_path: Path) -> PassageIndex:
    index = PassageIndex(tmp_path / "passages.sqlite")
    index.add(
        paper("a" * 64, "Attention Is All You Need"),
        [
            passage("We employ h = 8 parallel attention layers, or heads.", "3.2 Attention", 5),
            passage("The base model trained for 100,000 steps on 8 GPUs.", "5 Training", 7, 1),
            *(passage(t, "6 Results", 8, i) for i, t in enumerate(FILLER, 2)),
        ],
        " ".join(terms("Attention Is All You Need")),
    )
    index.add(
        paper("b" * 64, "Adam: A Method for Stochastic Optimization"),
        [
            passage("Good default settings are alpha = 0.001 and beta1 = 0.9.", "2 Algorithm", 2),
            *(passage(t, "6 Experiments", 6, i) for i, t in enumerate(FILLER, 1)),
        ],
        " ".join(terms("Adam: A Method for Stochastic Optimization")),
    )
    yield index
    index.close()


def test_the_passage_that_answers_comes_first(index: PassageIndex) -> None:
    found = index.search(query("How many attention heads does the model use?"), 3)
    assert found.answers and found.searched == 2
    best = found.hits[0]
    assert best.paper.title == "Attention Is All You Need"
    assert (best.section, best.pages) == ("3.2 Attention", (5, 5))
    assert [h.score for h in found.hits] == sorted((h.score for h in found.hits), reverse=True)


def test_the_title_weighs_in(index: PassageIndex) -> None:
    # "settings" and "default" are in one passage; the title says which paper "Adam" is
    found = index.search(query("Which default settings does Adam recommend?"), 1)
    assert found.hits[0].paper.sha256 == "b" * 64


def test_within_some_papers(index: PassageIndex) -> None:
    q = query("What learning rate and batch size were used?")
    everywhere = {h.paper.sha256 for h in index.search(q, 10).hits}
    assert everywhere == {"a" * 64, "b" * 64}
    only = index.search(q, 10, within={"b" * 64})
    assert {h.paper.sha256 for h in only.hits} == {"b" * 64} and only.searched == 1
    assert index.search(q, 10, within=set()).hits == []


def test_no_text_is_shown_twice(tmp_path: Path) -> None:
    # A setting, and its result in the next paragraph: the window over both takes the
    # place of the setting alone; the result alone, part of a passage shown, is left out.
    setting = passage("We ran the task without wiping the external memory.", "4 Tests", 6, 0)
    result = passage("Learning was slower and less robust.", "4 Tests", 6, 1)
    other = passage("The external memory is wiped between tasks.", "3 Model", 3, 2)
    window = Passage(
        "4 Tests",
        6,
        6,
        f"{setting.text} {result.text}",
        f"{setting.terms} {result.terms}",
        setting.section_terms,
        (0, 1),
    )
    index = PassageIndex(tmp_path / "passages.sqlite")
    index.add(paper("a" * 64), [setting, result, other, window], "a paper")
    index.add(paper("b" * 64), [passage(t, at=i) for i, t in enumerate(FILLER)], "b paper")
    hits = index.search(query("What happens without wiping the external memory?"), 3).hits
    index.close()
    assert sorted(h.text for h in hits) == sorted([window.text, other.text])


def test_two_windows_sharing_a_paragraph_are_shown_as_one() -> None:
    def row(n: int, text: str, span: tuple[int, int], paper: int = 1) -> store_module._Row:
        return store_module._Row(n, "", "", "", paper, "4 Tests", 6, 6 + span[1] // 3, text, *span)

    single = row(1, "Beta two.", (1, 1))
    ab, bc = row(2, "Alpha one. Beta two.", (0, 1)), row(3, "Beta two. Gamma three.", (1, 2))
    cd, other = row(4, "Gamma three. Delta four.", (2, 3)), row(5, "Else.", (0, 0), paper=2)
    shown = store_module._distinct(
        [(4.0, single), (3.0, ab), (2.0, bc), (1.5, cd), (1.0, other)], 3
    )
    assert [(score, r.text, r.span_first, r.span_last, r.last_page) for score, r in shown] == [
        (4.0, "Alpha one. Beta two. Gamma three.", 0, 2, 6),  # the single, then ab, then bc
        (1.0, "Else.", 0, 0, 6),  # cd would make four: left out
    ]


def test_a_small_library_is_searched_with_every_term(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "masked" and "tokens" are in 4 passages of 40, "hide" in one: in a large library
    # (past POSTINGS) only "hide" would pick candidates; here every term does.
    answer = passage("We mask 15% of the input tokens; the masked tokens are predicted.", at=0)
    rest = [passage("The hide of the model.", at=1)]
    rest += [passage(f"Masked tokens in setting {i}.", at=i) for i in range(2, 5)]
    rest += [passage(f"Filler passage number {i} about nothing.", at=i) for i in range(5, 40)]
    index = PassageIndex(tmp_path / "passages.sqlite")
    index.add(paper("a" * 64), [answer, *rest], "a paper")
    asked = query("Which masked tokens does it hide?")
    assert answer.text in [h.text for h in index.search(asked, 10).hits]
    monkeypatch.setattr(store_module, "POSTINGS", 3)  # as in a large library
    assert answer.text not in [h.text for h in index.search(asked, 10).hits]
    index.close()


def test_not_found(index: PassageIndex) -> None:
    # the library knows heads and attention, but no passage says anything about Romanian
    assert not index.search(query("What BLEU does the model reach on Romanian?"), 3).answers
    assert not index.search(query("Which tokenizer handles Klingon?"), 3).answers
    # a named thing no paper names: not the least bad passage about the rest
    assert not index.search(query("How many heads does DistilBERT use?"), 3).answers
    assert index.search(query("How many heads are used?"), 3).answers


def test_a_paper_is_replaced_whole(index: PassageIndex) -> None:
    _, before = index.counts()
    index.add(paper("a" * 64, "Attention"), [passage("One passage about heads only.")], "attention")
    assert index.counts() == (2, before - 5 + 1)
    hits = index.search(query("heads"), 10).hits
    assert [h.text for h in hits if h.paper.sha256 == "a" * 64] == ["One passage about heads only."]
    with sqlite3.connect(index.path) as db:  # the totals BM25 averages over stay in step
        total = sum(len(b.split()) for (b,) in db.execute("SELECT body FROM terms"))
        kept = dict(db.execute("SELECT key, value FROM meta"))
    assert float(kept["length:body"]) == total


def test_a_failed_write_leaves_nothing_of_the_paper(index: PassageIndex) -> None:
    before = index.counts()
    broken = Passage("s", 1, 1, None, "term", "s", (1, 1))  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):  # a bug: said as it is, nothing repaired
        index.add(paper("c" * 64), [passage("A first passage is written."), broken], "t")
    assert index.counts() == before and not index.has("c" * 64)
    assert index.repaired is None


@pytest.mark.parametrize("how", ["not a database", "malformed"])
def test_damage_is_repaired_and_nothing_else_is_touched(tmp_path: Path, how: str) -> None:
    cache = Store(tmp_path)  # the diskcache shares the folder
    key = make_key("summary", paper=1)
    cache.set(key, {"kept": True})
    index = PassageIndex(tmp_path / "passages.sqlite")
    for n in range(30):
        index.add(paper(f"{n:064x}"), [passage(f"{t} {n}") for t in FILLER * 5], "paper")
    index.set_note("backfill", None)
    index.close()
    with (tmp_path / "passages.sqlite").open("r+b") as f:
        if how == "not a database":
            f.write(os.urandom(4096))
        else:  # the header is fine, the pages after it are garbage
            f.seek(8192)
            f.write(b"\xff" * 65536)
    repaired = PassageIndex(tmp_path / "passages.sqlite")
    found = repaired.search(query("learning rate"), 3)
    assert repaired.repaired  # said, and a fresh index: empty, marked to be filled again
    assert found.hits == [] and repaired.counts() == (0, 0)
    assert repaired.note("backfill") == "pending"
    repaired.add(paper("d" * 64), [passage("The learning rate is 0.1.")], "paper")
    assert repaired.search(query("learning rate"), 3).hits
    assert cache.get(key) == {"kept": True}  # the cache next to it: untouched
    repaired.close()
    cache.close()


def test_an_index_of_another_format_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = PassageIndex(tmp_path / "passages.sqlite")
    index.add(paper("a" * 64), [passage("Something about heads.")], "t")
    index.set_note("backfill", None)
    index.close()
    monkeypatch.setattr(store_module, "FORMAT", "next")
    again = PassageIndex(tmp_path / "passages.sqlite")
    assert again.counts() == (0, 0) and again.note("backfill") == "pending"
    assert again.repaired and "format" in again.repaired
    again.close()


def test_a_folder_that_cannot_be_written_is_a_cache_error(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    index = PassageIndex(blocked / "passages.sqlite")
    with pytest.raises(CacheError, match="passage index"):
        index.counts()


def test_a_query_with_terms_no_passage_has(index: PassageIndex) -> None:
    found = index.search(Query(("zzzz", "yyyy")), 3)
    assert found.hits == [] and not found.answers and found.searched == 2
