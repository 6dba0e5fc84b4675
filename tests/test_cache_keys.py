"""Cache keys are a promise to users: a cache made by an earlier localdigest is still served.

The keys every step writes (chunk notes, collapse notes, the summary; in the eval also the
"stuff" baseline) are pinned in ``fixtures/cache_keys.json`` for the committed sample paper
and two corpus papers, summarized with the fake backend. A change that alters any key on
purpose (a new prompt, a guard version) regenerates the file with
``LOCALDIGEST_REGEN_KEYS=1 pytest tests/test_cache_keys.py`` and says why in its commit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeBackend, fake_summarizer

from localdigest.cache import Store
from localdigest.eval import evaluate
from localdigest.papers import PaperInput
from localdigest.summarize import Summarizer

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).with_name("fixtures") / "cache_keys.json"
SAMPLE = ROOT / "examples" / "sample-paper.pdf"
CORPUS_PAPERS = ("1406.2661", "1706.03762")


class RecordingStore(Store):
    """A store that remembers every key written, in order."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.written: list[str] = []

    def set(self, key: str, value: dict[str, Any]) -> None:
        self.written.append(key)
        super().set(key, value)


def recording_summarizer(folder: Path) -> tuple[Summarizer, RecordingStore]:
    store = RecordingStore(folder)
    fake = FakeBackend()
    summarizer = fake_summarizer(
        store,
        fake,
    )
    return summarizer, store


def summarize_keys(tmp_path: Path, pdf: Path) -> list[str]:
    summarizer, store = recording_summarizer(tmp_path / "summarize")
    summarizer.summarize(PaperInput(str(pdf), pdf))
    store.close()
    return store.written


def eval_keys(tmp_path: Path, pdf: Path, reference: str) -> list[str]:
    summarizer, store = recording_summarizer(tmp_path / "eval")
    evaluate.evaluate(summarizer, [evaluate.EvalPaper(pdf, reference)], baselines=True)
    store.close()
    return store.written


def current_keys(tmp_path: Path, corpus: Path | None) -> dict[str, Any]:
    keys: dict[str, Any] = {"sample-paper": {"summarize": summarize_keys(tmp_path / "s", SAMPLE)}}
    if corpus is not None:
        entries = json.loads((corpus / "expected.json").read_text())
        expected = {Path(e["file"]).name: e for e in entries}
        for stem in CORPUS_PAPERS:
            pdf = corpus / "pdfs" / f"{stem}.pdf"
            reference = expected[pdf.name]["abstract_clean"]
            keys[stem] = {
                "summarize": summarize_keys(tmp_path / stem, pdf),
                "eval": eval_keys(tmp_path / f"{stem}-eval", pdf, reference),
            }
    return keys


def test_cache_keys_are_unchanged(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    try:
        corpus: Path | None = request.getfixturevalue("corpus")
    except pytest.skip.Exception:
        corpus = None  # the sample paper's keys are still checked
    keys = current_keys(tmp_path, corpus)
    if os.environ.get("LOCALDIGEST_REGEN_KEYS") == "1":
        FIXTURE.write_text(json.dumps(keys, indent=1) + "\n")
    pinned = json.loads(FIXTURE.read_text())
    for paper, steps in keys.items():
        assert steps == pinned[paper], paper
    assert len(keys["sample-paper"]["summarize"]) >= 2  # notes and the summary
