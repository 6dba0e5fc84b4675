"""The eval: the abstract really is withheld from the model, baselines, report, command."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeBackend, fake_summarizer
from typer.testing import CliRunner

from localdigest import pdf
from localdigest.cli import app
from localdigest.eval import baselines, evaluate
from localdigest.eval.withhold import withheld_document, withhold_abstract
from localdigest.papers import PaperInput
from localdigest.summarize import Options, Summarizer

SHORT = ("1609.09430", "1212.5701", "1503.02531", "1406.2661")


def norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def abstract_sentences(abstract: str) -> list[str]:
    """The abstract's sentences long enough that meeting one again is no coincidence."""
    parts = re.split(r"(?<=[.!?])\s+", abstract)
    return [norm(s) for s in parts if len(s.split()) >= 8]


def make_summarizer(tmp_path: Path, backend: FakeBackend, **options: Any) -> Summarizer:
    return fake_summarizer(
        tmp_path / "cache",
        backend,
        Options(**options),
    )


def corpus_papers(corpus: Path) -> list[evaluate.EvalPaper]:
    return [
        p
        for p in evaluate.load_papers(corpus / "pdfs", corpus / "expected.json")
        if p.path.stem in SHORT
    ]


@pytest.mark.parametrize("drop", [True, False])
def test_the_abstract_never_reaches_the_model(tmp_path: Path, corpus: Path, drop: bool) -> None:
    """Every prompt the model gets, on real PDFs: no sentence of the authors' abstract.
    (Without withholding the same check finds them: it can fail.)"""
    for paper in corpus_papers(corpus):
        fake = FakeBackend()
        s = make_summarizer(tmp_path / paper.path.stem, fake)
        document = pdf.extract(paper.path)
        if drop:
            document = withheld_document(document, paper.reference)
        s.summarize(PaperInput(str(paper.path), paper.path), document=document)
        prompts = norm(" ".join(user for _, user in fake.calls))
        leaked = [a for a in abstract_sentences(paper.reference) if a in prompts]
        if drop:
            assert leaked == [], paper.path.name
        else:
            assert leaked, paper.path.name


def test_withholding_also_scrubs_a_restated_abstract() -> None:
    abstract = "We present a new optimizer that adapts its learning rate per dimension."
    sections = [
        pdf.Section("Abstract", "abstract", abstract, 1),
        pdf.Section(
            "1 Introduction",
            "body",
            "Training is slow. We present a new optimizer that adapts its learning rate per "
            "dimension. It needs no tuning.",
            1,
        ),
    ]
    kept = withhold_abstract(sections, abstract)
    assert [s.heading for s in kept] == ["1 Introduction"]
    assert kept[0].text == "Training is slow. It needs no tuning."


def test_lead_and_textrank_baselines(corpus: Path) -> None:
    paper = next(p for p in corpus_papers(corpus) if p.path.stem == "1212.5701")
    doc = pdf.extract(paper.path)
    sections = withhold_abstract(doc.kept(), doc.abstract, paper.reference)
    lead = baselines.lead(sections)
    assert lead.startswith("The aim of many machine learning methods")
    ranked = baselines.textrank(sections)  # no NLTK data needed
    for text in (lead, ranked):
        assert baselines.BASELINE_WORDS <= len(text.split()) < baselines.BASELINE_WORDS + 80
        leaked = [a for a in abstract_sentences(paper.reference) if a in norm(text)]
        assert leaked == []


def test_evaluate_reports_every_system(tmp_path: Path, corpus: Path) -> None:
    papers = [p for p in corpus_papers(corpus) if p.path.stem == "1609.09430"]
    fake = FakeBackend(n_ctx=2048)
    report = evaluate.evaluate(make_summarizer(tmp_path, fake), papers)
    assert report.papers[0].error is None
    assert set(report.papers[0].scores) == set(evaluate.SYSTEMS)
    # the stuff baseline is one call that fits the context
    stuff = [u for _, u in fake.calls if "from its beginning" in u]
    assert len(stuff) == 1 and fake.prompt_tokens("", stuff[0]) <= fake.n_ctx
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data["overall"]) == set(evaluate.SYSTEMS)
    assert "no_degenerate_summary" in data["targets"]
    assert data["settings"]["drop_abstract"] is True


def test_eval_command_without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sumy" else real(name, *a)
    )
    result = CliRunner().invoke(app, ["eval", "--pdfs", "."])
    assert result.exit_code == 2
    assert "pip install 'localdigest[eval]'" in result.output


def test_eval_command_needs_papers(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval"])
    assert result.exit_code == 2 and "--pdfs" in result.output
    (tmp_path / "pdfs").mkdir()
    (tmp_path / "expected.json").write_text("[]")  # found next to the PDF folder
    result = CliRunner().invoke(app, ["eval", "--pdfs", str(tmp_path / "pdfs")])
    assert result.exit_code == 2 and "No PDF" in result.output


def test_targets_and_reported_gaps() -> None:
    def score(rl: float) -> dict[str, Any]:
        return {
            "rouge1": rl,
            "rouge2": rl,
            "rougeL": rl,
            "rougeLsum": rl,
            "facts": rl * 3,
            "grounded": 1.0,
            "numbers_without_page": [],
            "scaffolding": [],
            "degenerate": False,
            "number_faithfulness": 1.0,
            "on_topic": 1.0,
            "words": 100,
            "seconds": 1.0,
        }

    paper = evaluate.PaperEval("a.pdf", "A", 1, None, 100)
    paper.scores = {"localdigest": score(0.16), "stuff": score(0.15), "lead": score(0.17)}
    report = evaluate.EvalReport("m", {}, ["localdigest", "stuff", "lead"], [paper])
    t = report.targets()
    assert t["rougeL_above_stuff"] == {"met": True, "value": 0.01}
    assert t["rougeL_gap_to_lead"] == {"met": None, "value": -0.01}
    assert t["no_degenerate_summary"]["met"] and t["number_faithfulness_at_least_0.95"]["met"]
    assert t["facts_at_least_lead"] == {"met": False, "value": -0.03}
    assert t["grounded_at_least_0.9"]["met"] and t["no_scaffolding"]["met"]
    report.reader = True
    assert report.targets()["facts_at_least_0.6"] == {"met": False, "value": 0.48}


def test_eval_with_calls_in_flight_scores_what_one_by_one_scores(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through a server with --parallel 3 the eval summarizes the papers side by side
    first; the report is the one a one-by-one eval writes."""
    from model_server import LLAMA_SERVER_PROPS, StandIn

    from localdigest import config

    papers = corpus_papers(corpus)[:2]
    # every call takes 50-80 ms: calls started together are in flight together
    server = StandIn(props=dict(LLAMA_SERVER_PROPS), min_delay=0.05, max_delay=0.08).start()
    reports = []
    try:
        for parallel in (1, 3):
            monkeypatch.setenv("LOCALDIGEST_HOME", str(tmp_path / f"p{parallel}"))
            cfg = config.load(server=server.url, parallel=parallel)
            report = evaluate.run_eval(cfg, papers, baselines=False)
            reports.append(
                [
                    (p.file, p.texts, {k: v["rouge1"] for k, v in p.scores.items()})
                    for p in report.papers
                ]
            )
        assert server.most_in_flight > 1
    finally:
        server.stop()
    assert reports[0] == reports[1] and len(reports[0]) == 2


def test_reader_eval_side_by_side_makes_each_summary_once(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--reader through a server: the summaries made side by side are the ones the scoring
    loop asks for (the abstract read), so no paper is summarized a second time."""
    from model_server import LLAMA_SERVER_PROPS, StandIn

    from localdigest import config

    papers = corpus_papers(corpus)[:2]
    server = StandIn(props=dict(LLAMA_SERVER_PROPS), max_delay=0.01).start()
    calls = []
    try:
        for parallel in (1, 3):
            monkeypatch.setenv("LOCALDIGEST_HOME", str(tmp_path / f"p{parallel}"))
            before = len(server.completions())
            cfg = config.load(server=server.url, parallel=parallel, mode="write")
            evaluate.run_eval(cfg, papers, reader=True)
            calls.append(len(server.completions()) - before)
    finally:
        server.stop()
    assert calls[0] > 0 and calls[1] == calls[0]
