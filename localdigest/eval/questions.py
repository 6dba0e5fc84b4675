"""The question eval of ``ask``: recall@3, MRR and "not found" on hand-made questions.

The questions (``tests/fixtures/questions.json``: ``question``, ``paper``, ``pages``,
``answer``, ``match``) are asked of an index of every PDF in a folder, read afresh into a
temporary index (the user's is not touched). A passage answers when it is on the question's
paper (the PDF's file name without .pdf), on one of its pages, and holds the answer as
``labels.matches`` reads it. For each answerable question: the rank of the first passage
that answers among the ``DEPTH`` shown (none when the index said "not found"); recall@3 is
the share answered in the first three, MRR the mean of 1/rank. For each question no paper
answers (``paper`` null): whether ``ask`` said "not found".

The ranking's few settings (``rank.ANSWERS_AT``, the field weights, the passages' sizes
and windows, the terms' folding) were chosen on the questions at even positions of the
file; the odd ones are held out.
Both halves are reported apart (``halves``), so a number tuned on its own questions shows.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from localdigest import pdf
from localdigest.errors import InputError, UsageError
from localdigest.eval.labels import matches, tokens
from localdigest.index import PassageIndex
from localdigest.papers import PaperInput
from localdigest.summarize import passages

DEPTH = 10  # passages ranked per question (MRR's reach)
TARGETS = {"recall_at_3": 0.8, "mrr": 0.6, "not_found": 0.8}


@dataclass(frozen=True)
class QuestionScore:
    question: str
    paper: str | None  # None: no paper answers it
    pages: list[int]
    half: str  # "even" (the settings were chosen on it) or "odd" (held out)
    rank: int | None  # the first passage that answers, 1-based (None: none shown does)
    said_not_found: bool
    shown: list[str]  # the citations of the first three passages
    seconds: float


@dataclass
class QuestionReport:
    questions: str
    papers: int
    passages: int
    read_seconds: float
    rows: list[QuestionScore] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # PDFs that could not be read

    def scores(self, half: str | None = None) -> dict[str, Any]:
        """recall@3, MRR, the not-found rate on unanswerable questions and the false
        not-found rate on answerable ones, over one half or all questions."""
        rows = [r for r in self.rows if half is None or r.half == half]
        answerable = [r for r in rows if r.paper is not None]
        probes = [r for r in rows if r.paper is None]

        def share(n: float, of: int) -> float:
            return round(n / of, 4) if of else 0.0

        return {
            "answerable": len(answerable),
            "recall_at_3": share(
                sum(r.rank is not None and r.rank <= 3 for r in answerable), len(answerable)
            ),
            "mrr": share(sum(1 / r.rank for r in answerable if r.rank), len(answerable)),
            "false_not_found": share(sum(r.said_not_found for r in answerable), len(answerable)),
            "unanswerable": len(probes),
            "not_found": share(sum(r.said_not_found for r in probes), len(probes)),
            "seconds_per_question": share(sum(r.seconds for r in rows), len(rows)),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "papers": self.papers,
            "passages": self.passages,
            "read_seconds": round(self.read_seconds, 2),
            "overall": self.scores(),
            "halves": {half: self.scores(half) for half in ("even", "odd")},
            "targets": TARGETS,
            "skipped": self.skipped,
            "rows": [asdict(r) for r in self.rows],
        }


def load_questions(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(
            f"Cannot read the questions in {path} ({e}) — pass --questions FILE"
        ) from e
    keys = {"question", "paper", "pages", "match"}
    if not isinstance(data, list) or not all(isinstance(q, dict) and keys <= set(q) for q in data):
        raise UsageError(
            f"{path} is not a list of {{question, paper, pages, match}} — see "
            "tests/fixtures/questions.json"
        )
    return data


def run_questions(
    questions: Path, pdfs: Path, progress: Callable[[str], None] | None = None
) -> QuestionReport:
    """Read every PDF of ``pdfs`` into a fresh index and ask it each question."""
    asked = load_questions(questions)
    if not pdfs.is_dir():
        raise UsageError(f"PDF folder {pdfs} does not exist — pass --pdfs DIR")
    with tempfile.TemporaryDirectory(prefix="localdigest-questions-") as tmp:
        index = PassageIndex(Path(tmp) / "passages.sqlite")
        try:
            report = _read_all(index, pdfs, questions, progress)
            for i, q in enumerate(asked):
                report.rows.append(_ask(index, q, "even" if i % 2 == 0 else "odd"))
        finally:
            index.close()
    return report


def _read_all(
    index: PassageIndex, pdfs: Path, questions: Path, progress: Callable[[str], None] | None
) -> QuestionReport:
    started = time.perf_counter()
    skipped = []
    for path in sorted(pdfs.glob("*.pdf")):
        if progress is not None:
            progress(f"reading {path.name}")
        try:
            document = pdf.extract(path)
        except InputError as e:
            skipped.append(f"{path.name}: {e.message}")
            continue
        paper = PaperInput(path.stem, path)
        passages.index_document(index, paper, document, document.title or path.stem)
    papers, held = index.counts()
    return QuestionReport(str(questions), papers, held, time.perf_counter() - started, [], skipped)


def _ask(index: PassageIndex, q: dict[str, Any], half: str) -> QuestionScore:
    started = time.perf_counter()
    found = index.search(passages.query(q["question"]), DEPTH)
    seconds = time.perf_counter() - started
    hits = found.hits if found.answers else []
    rank = None
    if q["paper"] is not None:
        for n, hit in enumerate(hits, 1):
            first, last = hit.pages
            on_page = any(first <= page <= last for page in q["pages"])
            if (
                Path(hit.paper.path).stem == q["paper"]
                and on_page
                and matches(q["match"], [tokens(hit.text)])
            ):
                rank = n
                break
    shown = [f"{Path(h.paper.path).stem} p. {h.pages[0]}" for h in hits[:3]]
    return QuestionScore(
        q["question"], q["paper"], list(q["pages"]), half, rank, not found.answers, shown, seconds
    )
