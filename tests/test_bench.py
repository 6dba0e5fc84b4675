"""The benchmark's section-coverage report, and what the corpus PDFs skip."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from localdigest import pdf
from localdigest.summarize import reading

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ld_bench", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defined
    spec.loader.exec_module(module)
    return module


def test_coverage_of_a_complete_reading(bench: ModuleType) -> None:
    read = ["Abstract", "1 Introduction", "2 Related Work", "3 Method", "4 Experiments",
            "5 Conclusion"]  # fmt: skip
    cov = bench.coverage(read, ["References"], True)
    assert cov == {
        "title": True,
        "abstract": True,
        "introduction": True,
        "results": True,
        "conclusion": True,
        "method": True,
    }


def test_coverage_reports_what_is_missing(bench: ModuleType) -> None:
    cov = bench.coverage(["1 Introduction", "2 Related Work"], ["6 Conclusions"], False)
    assert not cov["abstract"]
    assert not cov["method"]  # related work is not the method
    assert not cov["conclusion"]  # skipped
    assert cov["results"]  # the paper has no results heading at all: nothing was skipped


CONTENT = re.compile(r"introduction|conclusion|method|result|experiment", re.IGNORECASE)


def test_corpus_skips_only_back_matter(corpus: Path, bench: ModuleType) -> None:
    checked = 0
    for path in sorted((corpus / "pdfs").glob("*.pdf")):
        try:
            doc = pdf.extract(path)
        except pdf.PdfError:
            continue  # the deliberately damaged file
        kept, skipped = doc.kept(), doc.skipped()
        for s in skipped:
            assert s.kind in ("front", "contents", "acknowledgments", "references", "appendix")
            if s.kind == "appendix":  # after the references: numbered or lettered sections
                refs = [x.page for x in skipped if x.kind == "references"]
                assert not refs or s.page >= min(refs), (path.name, s.heading)
            elif s.kind != "front":
                assert re.search(r"reference|acknowledg|content", s.heading, re.I), (
                    path.name,
                    s.heading,
                )
            else:  # front matter: title block, keywords — never a content section
                assert not CONTENT.search(s.heading), (path.name, s.heading)
        read = [s.heading for s in kept]
        cov = bench.coverage(read, [s.heading for s in skipped], bool(doc.abstract))
        assert all(cov.values()), (path.name, cov)
        # The reading plan (surveys skipped, long sections read by their leads) still
        # covers every required part.
        plan = reading.plan(kept, lambda t: len(t.split()))
        read = [s.heading for s in plan.sections]
        gone = [s.heading for s in skipped] + plan.skipped
        cov = bench.coverage(read, gone, bool(doc.abstract))
        assert all(cov.values()), (path.name, cov, plan.skipped)
        checked += 1
    assert checked >= 10


def test_bench_drives_the_summarizer_through_public_api(bench: ModuleType) -> None:
    """The bench's per-paper run on the fake backend (so a change to the summarizer's API
    cannot leave `make bench` broken unnoticed)."""
    import argparse

    from conftest import FakeBackend

    sample = Path(__file__).resolve().parents[1] / "examples" / "sample-paper.pdf"
    args = argparse.Namespace(model=None, n_ctx=None, threads=1, mode="write")
    fake = FakeBackend()
    row = bench.run_localdigest(sample, fake, args)
    assert row["chunks"] >= 1 and row["calls"] == len(fake.calls)
    assert row["sent_tokens"] > 0 and row["summary"]
    assert fake.kinds().count("map") == row["chunks"]
