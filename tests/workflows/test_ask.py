"""`localdigest ask`: real corpus PDFs read into the passage index, questions answered with
the page that says it, "not found" when nothing does, the library kept in step with what
was summarized and fetched, a damaged index rebuilt with nothing else lost, and a written
answer whose every sentence is cited or marked."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeBackend, fake_summarizer
from typer.testing import CliRunner, Result

from localdigest import config
from localdigest.cache import Store, cached_summaries
from localdigest.cli import app
from localdigest.llm import llamacpp
from localdigest.papers import PaperInput
from localdigest.sources import library
from localdigest.sources.arxiv.ids import ArxivId
from localdigest.sources.arxiv.meta import PaperMeta
from localdigest.summarize import Options
from localdigest.workflows.ask import AskJob, AskRequest, prepare
from localdigest.workflows.digest import remember_digest
from localdigest.workflows.summarize import open_index

runner = CliRunner()
HEADS = "How many attention heads does the base Transformer use?"
ROMANIAN = "What BLEU score does the Transformer reach on WMT English-to-Romanian translation?"
CORPUS_TEXT = "BooksCorpus"
WARMUP = "How many warmup steps did the learning rate schedule use?"
CORPORA = "Which corpus was BERT pre-trained on?"


def ask(*args: str) -> Result:
    return runner.invoke(app, ["ask", *args])


def pdf(corpus: Path, stem: str) -> str:
    return str(corpus / "pdfs" / f"{stem}.pdf")


def as_json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture(scope="module")
def corpus_home(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    """A home whose library is the corpus, read once for the tests that only ask."""
    home = tmp_path_factory.mktemp("corpus-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCALDIGEST_HOME", str(home))
        read = ask("Which papers?", str(corpus / "pdfs"), "--mode", "extract", "-q")
        assert read.exit_code == 3 and "damaged" in read.output  # the one damaged PDF
    return home


@pytest.fixture
def library_of_corpus(corpus_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOCALDIGEST_HOME", str(corpus_home))
    return corpus_home


@pytest.fixture
def no_model_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a model was loaded to answer with quotes")

    monkeypatch.setattr(llamacpp.LlamaCppBackend, "__init__", refuse)


def paths() -> config.Paths:
    return config.load().paths


def summaries() -> list[Any]:
    store = Store(paths().cache)
    try:
        return cached_summaries(store)
    finally:
        store.close()


def summarize_without_index(corpus: Path, *stems: str) -> None:
    """Cached summaries as an earlier localdigest made them: no passage index."""
    store = Store(paths().cache)
    summarizer = fake_summarizer(store, FakeBackend(), Options(mode="extract"))
    for stem in stems:
        summarizer.summarize(PaperInput(pdf(corpus, stem), Path(pdf(corpus, stem))))
    store.close()


# ----------------------------------------------------------------------------- answers


def test_the_page_that_says_it(library_of_corpus: Path) -> None:
    data = as_json(ask(HEADS, "--mode", "extract", "-f", "json"))
    assert set(data) >= {"question", "answer", "written_by", "passages"}
    assert data["question"] == HEADS and data["found"] and data["searched"] == 11
    assert data["answer"] is None and data["written_by"] is None  # no model was asked
    assert len(data["passages"]) == 3
    for p in data["passages"]:
        assert set(p) == {"paper", "title", "section", "pages", "text", "score"}
        assert p["paper"] == "1706.03762" and p["title"] == "Attention Is All You Need"
    heads = [p for p in data["passages"] if "h = 8" in p["text"]]
    assert heads and heads[0]["pages"] == [5, 5]
    assert heads[0]["section"] == "3.2.2 Multi-Head Attention"
    scores = [p["score"] for p in data["passages"]]
    assert scores == sorted(scores, reverse=True)


def test_the_terminal_view_cites_and_says_why_the_quotes_are_the_answer(
    library_of_corpus: Path, no_model_loads: None
) -> None:
    result = ask(HEADS)
    assert result.exit_code == 0, result.output
    assert "[1706.03762 p. 5] Attention Is All You Need — 3.2.2 Multi-Head Attention" in (
        result.stdout
    )
    assert "3. [" in result.stdout and "4. [" not in result.stdout  # --top: 3
    assert (
        "2. [" in ask(HEADS, "--top", "2").stdout and "3. [" not in ask(HEADS, "--top", "2").stdout
    )
    # the embedded demo model is under 1B parameters: it writes nothing, and says so
    assert "The quotes are the answer" in result.stdout and "under 1B" in result.stdout


def test_not_found_instead_of_the_least_bad_passage(library_of_corpus: Path) -> None:
    data = as_json(ask(ROMANIAN, "--mode", "extract", "-f", "json"))
    assert not data["found"] and data["passages"] == [] and data["answer"] is None
    shown = ask(ROMANIAN, "--mode", "extract")
    assert shown.exit_code == 0 and "Not found" in shown.stdout


def test_markdown_for_notes(library_of_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "answer.md"
    result = ask(HEADS, "--mode", "extract", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "Wrote" in result.stderr  # Markdown, by the suffix
    text = out.read_text()
    assert text.startswith(f"## {HEADS}")
    assert "\n> " in text and "— *Attention Is All You Need*" in text
    assert "[1706.03762 p. 5]" in text


def test_usage_errors(corpus: Path) -> None:
    nothing = ask(HEADS)
    assert nothing.exit_code == 2 and "No paper has been read yet" in nothing.output
    wordless = ask("What is it?", pdf(corpus, "1706.03762"))
    assert wordless.exit_code == 2 and "no word to search for" in wordless.output
    assert ask(HEADS, "--top", "0").exit_code == 2
    assert ask(HEADS, "--digest", "latest").exit_code == 2  # no digest made yet


def test_papers_that_cannot_be_read_fail_alone(corpus: Path, tmp_path: Path) -> None:
    result = ask(
        "How big is BERT's WordPiece vocabulary?",
        pdf(corpus, "1810.04805"),
        str(tmp_path / "missing.pdf"),
        pdf(corpus, "1412.6980-corrupt"),
        "--mode",
        "extract",
        "-f",
        "json",
    )
    assert result.exit_code == 3, result.output
    assert "missing.pdf" in result.stderr and "damaged" in result.stderr
    data = json.loads(result.stdout)
    assert data["searched"] == 1 and "30,000 token vocabulary" in data["passages"][0]["text"]


# ----------------------------------------------------------------------------- the library


@pytest.mark.model
def test_what_summarize_reads_is_asked_without_reading_again(corpus: Path) -> None:
    summarized = runner.invoke(
        app, ["summarize", pdf(corpus, "1706.03762"), "--mode", "extract", "-f", "json"]
    )
    assert summarized.exit_code == 0, summarized.output
    index = open_index(paths())
    assert index.counts()[0] == 1
    index.close()
    data = as_json(ask(WARMUP, "--mode", "extract", "-f", "json"))
    assert data["searched"] == 1 and "warmup_steps = 4000" in data["passages"][0]["text"]
    assert not any(n.startswith("Read ") for n in data["notes"])  # nothing read again


def test_papers_summarized_before_are_read_into_a_new_index(corpus: Path) -> None:
    summarize_without_index(corpus, "1810.04805", "1706.03762")
    data = as_json(ask(CORPORA, "--mode", "extract", "-f", "json"))
    assert "Read 2 papers summarized or fetched before" in data["notes"]
    assert data["searched"] == 2 and data["passages"][0]["paper"] == "1810.04805"
    assert CORPUS_TEXT in data["passages"][0]["text"]
    again = as_json(ask(CORPORA, "--mode", "extract", "-f", "json"))
    assert again["notes"] == [] and again["passages"] == data["passages"]


def test_a_damaged_index_is_rebuilt_and_nothing_else_is_lost(corpus: Path) -> None:
    summarize_without_index(corpus, "1810.04805")
    first = as_json(ask(CORPORA, "--mode", "extract", "-f", "json"))
    index_file = paths().cache / "passages.sqlite"
    with index_file.open("r+b") as f:
        f.write(b"\0" * 4096)  # the header gone: not a database any more
    summarized = len(summaries())
    again = as_json(ask(CORPORA, "--mode", "extract", "-f", "json"))
    assert any("The passage index was rebuilt" in n for n in again["notes"])
    assert again["passages"] == first["passages"]
    assert len(summaries()) == summarized == 1  # the cache: untouched


def test_fetched_papers_are_read_when_the_library_changes(corpus: Path) -> None:
    assert ask(CORPORA, pdf(corpus, "1810.04805"), "--mode", "extract").exit_code == 0
    aid = ArxivId("1706.03762", 7)
    folder = library.Library(paths().library).entry_dir(aid)
    folder.mkdir(parents=True)
    shutil.copy(pdf(corpus, "1706.03762"), folder / library.PDF_NAME)
    meta = PaperMeta(
        arxiv_id="1706.03762",
        version=7,
        title="Attention Is All You Need",
        authors=("Ashish Vaswani",),
        abstract="",
        categories=("cs.CL",),
        primary_category="cs.CL",
        published=dt.datetime(2017, 6, 12, tzinfo=dt.UTC),
        updated=None,
        abs_url=aid.abs_url,
        pdf_url=aid.pdf_url(),
    )
    (folder / library.META_NAME).write_text(json.dumps({"format": 1, **meta.to_dict()}))
    data = as_json(ask(HEADS, "--mode", "extract", "-f", "json"))
    assert data["searched"] == 2
    assert data["passages"][0]["paper"] == "1706.03762"  # the arXiv id, as fetched


def test_the_papers_of_a_digest(corpus: Path) -> None:
    summarize_without_index(corpus, "1810.04805", "1706.03762")
    rows = {Path(r.summary.path).stem: r.summary for r in summaries()}
    remember_digest(paths(), [rows["1706.03762"]])
    data = as_json(ask(HEADS, "--digest", "latest", "--mode", "extract", "-f", "json"))
    assert data["searched"] == 1
    assert {p["paper"] for p in data["passages"]} == {"1706.03762"}
    other = as_json(ask(CORPORA, "--digest", "latest", "--mode", "extract", "-f", "json"))
    assert not other["found"]  # BERT's corpora are in the library, not in that issue
    today = dt.date.today().isoformat()
    assert as_json(ask(HEADS, "--digest", today, "-f", "json", "--mode", "extract"))["found"]
    wrong = ask(HEADS, "--digest", "2001-01-01")
    assert wrong.exit_code == 2 and "No digest was made on 2001-01-01" in wrong.output


def test_cache_clear_forgets_the_passages(corpus: Path) -> None:
    assert ask(HEADS, pdf(corpus, "1706.03762"), "--mode", "extract").exit_code == 0
    info = runner.invoke(app, ["cache", "info"])
    assert "Passages for `ask`: 1 papers" in info.stdout
    cleared = runner.invoke(app, ["cache", "clear", "--yes"])
    assert "Removed the passages of 1 papers" in cleared.stdout
    assert "Passages for `ask`: 0 papers" in runner.invoke(app, ["cache", "info"]).stdout


# ----------------------------------------------------------------------------- written


MULTI_HEAD = "How many heads does multi-head attention use?"
INVENTED = "Each head was trained on ImageNet photographs of cats for twelve weeks."


def first_quote_sentence(prompt: str) -> str:
    """The first sentence of the first quote the answer prompt holds."""
    found = re.search(r"^\[1\] .*\n(.+?[.!?])(?=\s)", prompt, re.MULTILINE)
    assert found, prompt
    return found.group(1)


def writing_job(
    corpus: Path, reply: Callable[[str], str], cache: Path
) -> tuple[AskJob, FakeBackend]:
    """An ask job whose writer is the fake model, answering ``reply(prompt)``; its answers
    are cached in ``cache``."""
    question = AskRequest(MULTI_HEAD, [pdf(corpus, "1706.03762")], top=2)
    job = prepare(question, config.load(mode="extract"))
    fake = FakeBackend(replies={"answer": reply})
    job.writer = fake_summarizer(cache, fake, Options(mode="write"))
    job.read()
    return job, fake


def test_a_written_answer_cites_the_quote_that_supports_each_sentence(
    corpus: Path, tmp_path: Path
) -> None:
    job, fake = writing_job(corpus, first_quote_sentence, tmp_path)
    answer = job.answer()
    assert answer.written_by == "fake.gguf" and answer.quotes
    said = first_quote_sentence(fake.calls[0][1])
    assert answer.answer == f"{said} {answer.quotes[0].citation}"
    prompt = fake.calls[0][1]
    assert MULTI_HEAD in prompt  # the question, and the quotes only:
    assert all(q.text in prompt for q in answer.quotes)
    assert prompt.count("\n[") == len(answer.quotes) == 2
    assert job.answer().answer == answer.answer and len(fake.calls) == 1  # cached
    job.close()


def test_a_sentence_no_quote_supports_is_marked_or_the_answer_dropped(
    corpus: Path, tmp_path: Path
) -> None:
    job, _ = writing_job(corpus, lambda user: f"{first_quote_sentence(user)} {INVENTED}", tmp_path)
    answer = job.answer()
    assert answer.answer is not None and answer.answer.endswith(f"{INVENTED} [?]")
    assert any("1 of 2 sentences found in no quote" in n for n in answer.notes)
    job.close()
    job, _ = writing_job(corpus, lambda user: INVENTED, tmp_path / "another")
    answer = job.answer()
    assert answer.answer is None and answer.quotes  # the quotes are the answer, said so
    assert any("not in the quotes" in n for n in answer.notes)
    job.close()


@pytest.mark.model
def test_the_real_model_writes_or_the_quotes_answer(corpus: Path) -> None:
    data = as_json(
        ask(HEADS, pdf(corpus, "1706.03762"), "--mode", "write", "--top", "2", "-f", "json")
    )
    assert len(data["passages"]) == 2
    if data["answer"] is None:
        assert any("quotes are the answer" in n for n in data["notes"])
    else:
        assert data["written_by"].startswith("SmolLM2-135M")
        marks = data["answer"].count("[1706.03762 p.") + data["answer"].count("[?]")
        assert marks >= 1 and data["answer"].rstrip().endswith("]")
