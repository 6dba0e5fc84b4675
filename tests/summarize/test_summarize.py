"""Map-reduce orchestration on a fake backend: calls, cache, resume, collapse."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FAKE_FINDINGS, FAKE_TITLE, FakeBackend, fake_summarizer

from localdigest import pdf
from localdigest.eval.withhold import withheld_document
from localdigest.models.inventory import LARGE_MODEL, context_for
from localdigest.papers import PaperFailure, PaperInput, PaperSummary
from localdigest.summarize import Options, Summarizer, load_prompts
from localdigest.summarize.hygiene import tidy, tidy_notes


def make_doc(path: Path, paragraphs: int = 12, words: int = 60) -> pdf.Document:
    body = "\n\n".join(
        f"Paragraph {i} " + "measured result " * (words // 2) for i in range(paragraphs)
    )
    sections = [
        pdf.Section("Abstract", "abstract", "We study things.", 1),
        pdf.Section("1 Introduction", "body", f"{FAKE_FINDINGS}\n\n{body}", 1),
        pdf.Section("References", "references", "[1] A. Author. A paper. 2020.", 3),
        pdf.Section("A Proofs", "appendix", "Proof text " * 50, 4),
    ]
    return pdf.Document(path, pdf.file_sha256(path), 4, FAKE_TITLE, "We study things.", sections)


@pytest.fixture
def paper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PaperInput:
    path = tmp_path / "paper.pdf"
    path.write_bytes(b"%PDF-1.7 fake bytes for hashing")
    docs = {path: make_doc(path)}

    def extract(p: Path, **_: object) -> pdf.Document:
        if p not in docs:
            raise pdf.PdfError(f"{p} is not a PDF — check the file")
        return docs[p]

    monkeypatch.setattr(pdf, "extract", extract, raising=False)
    return PaperInput(str(path), path)


def summarizer(tmp_path: Path, backend: FakeBackend, **kw: object) -> Summarizer:
    options = Options(chunk_tokens=kw.pop("chunk_tokens", 300))  # type: ignore[arg-type]
    return fake_summarizer(
        tmp_path / "cache",
        backend,
        options,
        **kw,
    )


def test_map_then_reduce_then_tldr(tmp_path: Path, paper: PaperInput) -> None:
    fake = FakeBackend()
    result = summarizer(tmp_path, fake).summarize(paper)
    kinds = fake.kinds()
    n_map = kinds.count("map")
    assert n_map == result.stats.chunks >= 2
    assert kinds == ["map"] * n_map + ["reduce", "tldr"]
    assert result.summary.startswith("The paper proposes")
    assert result.tldr == "A method that improves accuracy."
    assert result.stats.llm_calls == n_map + 2
    # references and the appendix never reach the model by default
    assert not any("A. Author" in u or "Proof text" in u for _, u in fake.calls)
    assert result.sections_skipped == ["References", "A Proofs"]


def test_second_run_makes_no_model_call(tmp_path: Path, paper: PaperInput) -> None:
    first = summarizer(tmp_path, FakeBackend()).summarize(paper)
    fake = FakeBackend()
    again = summarizer(tmp_path, fake).summarize(paper)
    assert fake.calls == []
    assert again.cached and again.summary == first.summary


def test_refresh_recomputes(tmp_path: Path, paper: PaperInput) -> None:
    summarizer(tmp_path, FakeBackend()).summarize(paper)
    fake = FakeBackend()
    summarizer(tmp_path, fake, refresh=True).summarize(paper)
    assert "reduce" in fake.kinds()


def test_include_appendix_reads_it(tmp_path: Path, paper: PaperInput) -> None:
    fake = FakeBackend()
    s = fake_summarizer(tmp_path / "c", fake, Options(include_appendix=True))
    s.summarize(paper)
    assert any("Proof text" in u for k, u in fake.calls if k == "map")


def test_interrupt_then_resume_reuses_finished_chunks(tmp_path: Path, paper: PaperInput) -> None:
    interrupted = FakeBackend(fail_after=2)
    with pytest.raises(KeyboardInterrupt):
        summarizer(tmp_path, interrupted).summarize(paper)
    assert interrupted.kinds() == ["map", "map"]
    resumed = FakeBackend()
    result = summarizer(tmp_path, resumed).summarize(paper)
    assert resumed.kinds().count("map") == result.stats.chunks - 2
    assert result.stats.notes_written == result.stats.chunks - 2


def test_changed_prompt_or_model_misses_cache(tmp_path: Path, paper: PaperInput) -> None:
    summarizer(tmp_path, FakeBackend()).summarize(paper)
    other = FakeBackend()
    other.fingerprint = "another-model"
    summarizer(tmp_path, other).summarize(paper)
    assert "reduce" in other.kinds()

    custom = tmp_path / "prompts"
    custom.mkdir()
    (custom / "reduce.txt").write_text("Summarize the notes.\n<<<NOTES\n{notes}\nNOTES>>>\n")
    fake = FakeBackend()
    s = fake_summarizer(
        tmp_path / "cache", fake, Options(chunk_tokens=300), prompts=load_prompts(custom)
    )
    s.summarize(paper)
    assert fake.kinds().count("map") == 0  # chunk notes are still valid
    assert fake.kinds() == ["reduce", "tldr"]


def test_notes_that_do_not_fit_are_collapsed_with_bounded_depth(
    tmp_path: Path, paper: PaperInput
) -> None:
    # Distinct words: a repeated word would be trimmed as a loop by the degeneration guard.
    long_note = {"map": lambda u: "- " + " ".join(f"detail{i}" for i in range(150))}
    fake = FakeBackend(n_ctx=700, replies=long_note)
    result = summarizer(tmp_path, fake, chunk_tokens=200).summarize(paper)
    kinds = fake.kinds()
    assert "collapse" in kinds
    assert kinds[-2:] == ["reduce", "tldr"]
    assert result.summary


def test_collapse_that_does_not_shrink_stops(tmp_path: Path, paper: PaperInput) -> None:
    # A model that answers every collapse with an even longer text must not loop forever.
    replies = {
        "map": lambda u: "- " + " ".join(f"detail{i}" for i in range(150)),
        "collapse": lambda u: "- " + " ".join(f"longer{i}" for i in range(400)),
    }
    fake = FakeBackend(n_ctx=700, replies=replies)
    summarizer(tmp_path, fake, chunk_tokens=200).summarize(paper)
    assert "reduce" in fake.kinds()  # (retried: the fake's summary is short for such notes)
    assert fake.kinds().count("collapse") <= 20


def test_tiny_context_gives_clear_error(tmp_path: Path, paper: PaperInput) -> None:
    from localdigest.errors import UsageError

    with pytest.raises(UsageError, match="--n-ctx"):
        summarizer(tmp_path, FakeBackend(n_ctx=200)).summarize(paper)


def test_bad_paper_fails_alone(tmp_path: Path, paper: PaperInput) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf")
    results = summarizer(tmp_path, FakeBackend()).run([PaperInput(str(bad), bad), paper])
    assert isinstance(results[0], PaperFailure) and results[0].exit_code == 3
    assert isinstance(results[1], PaperSummary)


def test_tidy_drops_repeats_and_cut_sentence() -> None:
    text = "It works well. It works well. It is fast. And then the"
    assert tidy(text, cut_short=True) == "It works well. It is fast."
    assert tidy(text, cut_short=False).endswith("And then the")


def test_same_file_twice_is_summarized_once(tmp_path: Path, paper: PaperInput) -> None:
    fake = FakeBackend()
    results = summarizer(tmp_path, fake).run([paper, PaperInput("again", paper.path)])
    assert fake.kinds().count("reduce") == 1
    assert [r.source for r in results] == [paper.source, "again"]
    assert results[1].cached


def test_tidy_removes_prompt_echoes_and_citations() -> None:
    text = "It uses attention [12, 14].\nPAPER:\nIt reaches 28.4 BLEU [3].\n<<<NOTES"
    assert tidy(text, cut_short=False) == "It uses attention. It reaches 28.4 BLEU."
    # SmolLM2 sometimes copies the closing delimiter with one arrow missing.
    text = "It uses attention. PAPER>> It reaches 28.4 BLEU. NOTES>>>"
    assert tidy(text, cut_short=False) == "It uses attention. It reaches 28.4 BLEU."


def test_an_abstract_the_reduce_reads_whole_is_not_mapped(
    tmp_path: Path, paper: PaperInput
) -> None:
    fake = FakeBackend()
    result = summarizer(tmp_path, fake).summarize(paper)
    maps = [u for k, u in fake.calls if k == "map"]
    reduce = next(u for k, u in fake.calls if k == "reduce")
    assert not any("We study things." in u for u in maps)
    assert "Abstract by the authors: We study things." in reduce
    assert result.sections_read[0] == "Abstract"  # read, by the reduce
    # withheld (the eval): neither mapped nor anchored
    fake = FakeBackend()
    s = summarizer(tmp_path / "e", fake)
    result = s.summarize(paper, document=withheld_document(pdf.extract(paper.path), ""))
    assert not any("We study things." in u for _, u in fake.calls)
    assert "Abstract" not in result.sections_read


def test_notes_lose_headings_and_labels_the_reduce_would_copy() -> None:
    note = (
        "## 4 BERT\nBERT is pre-trained.\nSummary\n## 6 Summary\nPre-training helps.\nConclusion:"
    )
    assert tidy_notes(note) == "BERT is pre-trained.\nPre-training helps."


def test_a_heading_over_its_subsections_counts_as_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.pdf"
    path.write_bytes(b"%PDF-1.7 another fake")
    sections = [
        pdf.Section("1 Introduction", "body", "We study things. " * 20, 1),
        pdf.Section("4 Experimental Results", "body", "", 2),  # only its subsections
        pdf.Section("4.1 Data", "body", "The data has clips. " * 20, 2),
        pdf.Section("References", "references", "[1] A. Author.", 3),
    ]
    doc = pdf.Document(path, pdf.file_sha256(path), 3, "T", "", sections)
    monkeypatch.setattr(pdf, "extract", lambda p, **_: doc, raising=False)
    result = summarizer(tmp_path, FakeBackend()).summarize(PaperInput(str(path), path))
    assert result.sections_read == ["1 Introduction", "4 Experimental Results", "4.1 Data"]


def test_no_section_without_a_heading_is_reported(tmp_path: Path, corpus: Path) -> None:
    """The untitled title block is skipped, but it is no section a reader could look up."""
    pdf_path = corpus / "pdfs" / "1706.03762.pdf"
    result = summarizer(tmp_path, FakeBackend()).summarize(PaperInput(str(pdf_path), pdf_path))
    for listed in (result.sections_read, result.sections_skipped, result.sections_shortened):
        assert (listed and all(h.strip() for h in listed)) or not listed
    assert "References" in result.sections_skipped


def test_page_marks_the_model_writes_are_stripped_before_grounding(
    tmp_path: Path, paper: PaperInput
) -> None:
    # issue 25.12: "... on average [p. 2]." came out as "\[p. [p. 1] 2\]" and a TL;DR
    # ending in "[p."; the grounding adds the real marks.
    fake = FakeBackend(
        replies={
            "reduce": lambda _: (
                "The paper proposes a method [p. 2]. It improves accuracy by 3 points [p. 1, 3]."
            ),
            "tldr": lambda _: "A method that improves accuracy [p. 9].",
        }
    )
    result = summarizer(tmp_path, fake).summarize(paper)
    assert "[p" not in result.summary and "[p" not in result.tldr
    assert result.summary.startswith("The paper proposes a method.")
    assert all("[" not in g.sentence for g in result.grounding)
    assert tidy("Fast [pp. 3-5] and small [?].", cut_short=False) == "Fast and small."


# ----------------------------------------------------------------------------- one pass
# A model of 1B parameters or more writes from the whole reading plan in one call where it
# fits the context (no notes, no reduce), and gets an 8192-token context by default.

# Long enough for the guard's minimum, every sentence on the fake paper's pages
SUMMARY = (
    f"{FAKE_FINDINGS} Each paragraph of the study reports a measured result for the method. "
    "The measured result of every paragraph shows that the proposed method improves "
    "accuracy by 3 points over the baseline."
)


def test_a_plan_that_fits_is_written_in_one_call(tmp_path: Path, paper: PaperInput) -> None:
    fake = FakeBackend(replies={"map": lambda _: SUMMARY})
    s = summarizer(tmp_path, fake)
    result = s.using(options=Options(one_pass=True)).summarize(paper)
    assert fake.kinds() == ["map", "tldr"]  # the stuff prompt (one PAPER fence), the TL;DR
    assert "Summary paragraph:" in fake.calls[0][1] and "Paper title:" in fake.calls[0][1]
    assert "Paragraph 11" in fake.calls[0][1]  # the whole plan, to its last paragraph
    assert result.stats.chunks == 1 and result.stats.llm_calls == 2
    assert result.summary.startswith("The paper proposes")


def test_a_plan_that_does_not_fit_is_map_reduced(tmp_path: Path, paper: PaperInput) -> None:
    fake = FakeBackend(n_ctx=700)
    s = summarizer(tmp_path, fake)
    result = s.using(options=Options(one_pass=True, chunk_tokens=300)).summarize(paper)
    n_map = fake.kinds().count("map")
    assert n_map == result.stats.chunks >= 2
    assert fake.kinds() == ["map"] * n_map + ["reduce", "tldr"]


def test_one_pass_is_in_the_key_only_when_on() -> None:
    assert "one_pass" not in Options().as_key()  # keys made before it stay the same
    assert Options(one_pass=True).as_key()["one_pass"] is True


def test_a_large_model_gets_a_larger_default_context() -> None:
    memory = 64 << 30
    assert context_for(32768, 2 << 30, 36864, memory, parameters=LARGE_MODEL - 1) == 4096
    assert context_for(32768, 2 << 30, 36864, memory, parameters=3 * LARGE_MODEL) == 8192
    # still halved where memory is short
    assert context_for(32768, 2 << 30, 36864, 3 << 30, parameters=3 * LARGE_MODEL) < 8192
