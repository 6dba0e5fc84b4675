"""Constrained notes: with --structured-notes the map's output follows NOTES_GRAMMAR, with
the real model, on every chunk of a real corpus paper."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from model_stores import configured_model

from localdigest import pdf
from localdigest.cache import Store
from localdigest.llm import BackendSettings, backend_factory
from localdigest.summarize import (
    BackendLoader,
    CallContext,
    ModelRef,
    Options,
    PaperCalls,
    load_prompts,
)
from localdigest.summarize.options import NOTES_GRAMMAR
from localdigest.summarize.plan import plan

LINE = re.compile(r"^- (Claim|Method|Result|Limitation): \S.*$")


def test_grammar_is_only_for_the_map_and_keyed() -> None:
    free, structured = Options(), Options(structured_notes=True)
    assert structured.generation(160, "map").grammar == NOTES_GRAMMAR
    assert structured.generation(160, "collapse").grammar is None
    assert "grammar" not in free.generation(160, "map").as_key()  # old keys stay valid
    assert structured.generation(160, "map").as_key()["grammar"] == NOTES_GRAMMAR


@pytest.mark.model
def test_every_chunk_of_a_corpus_paper_gives_structured_notes(tmp_path: Path, corpus: Path) -> None:
    choice = configured_model(None)
    load = backend_factory(choice, BackendSettings(n_ctx=4096, threads=1))
    ctx = CallContext(
        Store(tmp_path / "cache"),
        load_prompts(),
        Options(structured_notes=True),
        ModelRef(choice.name, choice.fingerprint, 4096),
        BackendLoader(load),
    )
    doc = pdf.extract(corpus / "pdfs" / "1406.2661.pdf")
    planned = plan(doc, doc.title, ctx.options, ctx.prompts, ctx.backend)
    notes = PaperCalls(ctx).map(planned.title, planned.chunks)
    assert len(notes) == len(planned.chunks) >= 2
    for note in notes:
        lines = note.splitlines()
        assert lines[0].startswith("- Claim: ") and lines[1].startswith("- Method: "), note
        assert all(LINE.match(line) for line in lines), note
