"""The eval: summarize papers with their abstracts withheld, score against those abstracts.

For every PDF that has an expected abstract (``expected.json``, the format of the team's
corpus: ``file`` and ``abstract_clean``), localdigest summarizes the paper without its
abstract (the abstract section dropped and its sentences scrubbed from every other
section) and the summary is scored against the authors' abstract. The baselines
(``baselines``: lead, TextRank, one-call "stuff") run in the same process, with the same
model and settings, over the same withheld text; ``scoring`` scores every system.

Returns data (an ``EvalReport``); ``render/eval.py`` shows it, the CLI writes its JSON.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from localdigest import pdf
from localdigest.config import RunConfig
from localdigest.errors import InputError, UsageError
from localdigest.eval.baselines import lead, stuff, textrank
from localdigest.eval.scoring import EVAL_EXTRA_HINT, score
from localdigest.eval.withhold import withheld_document
from localdigest.papers import PaperInput
from localdigest.summarize import Summarizer
from localdigest.summarize.facts import key_facts
from localdigest.summarize.grounding import PageIndex
from localdigest.summarize.runner import Task
from localdigest.workflows.summarize import prepare

SYSTEMS = ("localdigest", "stuff", "lead", "textrank")

# ----------------------------------------------------------------------------- inputs


def require_extras() -> None:
    """The eval's scorers are an optional extra: fail early with the fix."""
    missing = [m for m in ("rouge_score", "sumy") if importlib.util.find_spec(m) is None]
    if missing:
        names = " and ".join(m.replace("_", "-") for m in missing)
        raise UsageError(
            f"localdigest eval needs {names} — run `{EVAL_EXTRA_HINT}` (or `make install`)"
        )


@dataclass(frozen=True)
class EvalPaper:
    path: Path
    reference: str  # the authors' abstract
    arxiv_id: str | None = None
    title: str | None = None
    body_facts: list[dict[str, Any]] = field(default_factory=list)  # the reader's labels


def load_body_facts(path: Path) -> dict[str, list[dict[str, Any]]]:
    """The reader's labels of what only a paper's body says, by paper (the PDF's name
    without .pdf): ``tests/fixtures/body_facts.json``'s format."""
    try:
        labels = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"Cannot read the body facts {path} ({e}) — fix or pass another") from e
    if not isinstance(labels, list) or not all(
        isinstance(f, dict) and {"paper", "fact", "match"} <= set(f) for f in labels
    ):
        raise UsageError(f"{path} is not a list of {{paper, fact, match}} labels — fix it")
    by_paper: dict[str, list[dict[str, Any]]] = {}
    for f in labels:
        by_paper.setdefault(str(f["paper"]), []).append(f)
    return by_paper


def load_papers(
    pdfs: Path,
    expected: Path,
    limit: int | None = None,
    body_facts: dict[str, list[dict[str, Any]]] | None = None,
) -> list[EvalPaper]:
    """Pair the PDFs of a folder with their expected abstracts (by file name); entries
    without an abstract (a damaged file) or without a PDF are left out. ``body_facts``:
    labels by paper (``load_body_facts``)."""
    if not pdfs.is_dir():
        raise UsageError(f"PDF folder {pdfs} does not exist — pass --pdfs DIR")
    try:
        entries = json.loads(expected.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"Cannot read {expected} ({e}) — pass --expected FILE") from e
    except UnicodeDecodeError as e:
        raise UsageError(f"{expected} is not UTF-8 text ({e.reason}) — fix the file") from e
    except json.JSONDecodeError as e:
        raise UsageError(f"{expected} is not valid JSON ({e}) — fix the file") from e
    if isinstance(entries, dict):
        entries = list(entries.values())
    shape = 'a JSON list of {"file": "pdfs/x.pdf", "abstract_clean": "..."} objects'
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise UsageError(f"{expected} is not {shape} — fix the file or pass another --expected")
    papers = []
    for n, entry in enumerate(entries, 1):
        reference = entry.get("abstract_clean") or entry.get("abstract") or ""
        fields = (entry.get("file", ""), reference, entry.get("arxiv_id"), entry.get("title"))
        if not all(f is None or isinstance(f, str) for f in fields):
            raise UsageError(
                f"Entry {n} of {expected} has a value that is not text — it must be {shape}"
            )
        path = pdfs / Path(str(entry.get("file", ""))).name
        if reference.strip() and path.is_file():
            labels = (body_facts or {}).get(path.stem, [])
            papers.append(
                EvalPaper(
                    path, reference.strip(), entry.get("arxiv_id"), entry.get("title"), labels
                )
            )
    if not papers:
        raise UsageError(f"No PDF in {pdfs} has an expected abstract in {expected}")
    papers.sort(key=lambda p: p.path.stat().st_size)
    return papers[:limit] if limit else papers


# ----------------------------------------------------------------------------- the run


@dataclass
class PaperEval:
    file: str
    title: str
    pages: int
    arxiv_id: str | None
    reference_words: int
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)  # system -> Score dict
    texts: dict[str, str] = field(default_factory=dict)  # system -> its summary
    tldr: str = ""  # localdigest's TL;DR
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    # localdigest's model calls, and how many of them (or of their outputs) the guard
    # retried or repaired
    calls: int = 0
    retries: int = 0
    repairs: int = 0


@dataclass
class EvalReport:
    model: str
    settings: dict[str, Any]
    systems: list[str]
    papers: list[PaperEval]
    reader: bool = False  # the abstract was read, as in a normal run

    def overall(self) -> dict[str, dict[str, float]]:
        """Means per system over the papers that have a score for it."""
        result: dict[str, dict[str, float]] = {}
        for system in self.systems:
            rows = [p.scores[system] for p in self.papers if system in p.scores]
            if not rows:
                continue
            n = len(rows)

            def mean(k: str, rows: list[dict[str, Any]] = rows, n: int = n) -> float:
                return round(sum(float(r[k]) for r in rows) / n, 4)

            result[system] = {
                "papers": n,
                "rouge1": mean("rouge1"),
                "rouge2": mean("rouge2"),
                "rougeL": mean("rougeL"),
                "rougeLsum": mean("rougeLsum"),
                "facts": mean("facts"),
                "grounded": mean("grounded"),
                "numbers_without_page": sum(len(r["numbers_without_page"]) for r in rows),
                "scaffolding": sum(1 for r in rows if r["scaffolding"]),
                "degenerate": sum(1 for r in rows if r["degenerate"]),
                "number_faithfulness": mean("number_faithfulness"),
                "min_number_faithfulness": min(float(r["number_faithfulness"]) for r in rows),
                "on_topic": mean("on_topic"),
                "words": mean("words"),
                "max_words": max(int(r["words"]) for r in rows),
                "seconds": round(sum(float(r["seconds"]) for r in rows), 1),
                "overlap_pairs": sum(int(r.get("overlap_pairs", 0)) for r in rows),
            }
            labelled = [float(r["body_facts"]) for r in rows if r.get("body_facts") is not None]
            if labelled:
                result[system]["body_facts"] = round(sum(labelled) / len(labelled), 4)
            tldrs = [
                bool(r["tldr_contribution"]) for r in rows if r.get("tldr_contribution") is not None
            ]
            if tldrs:
                result[system]["tldr_contribution"] = round(sum(tldrs) / len(tldrs), 4)
        return result

    def targets(self) -> dict[str, Any]:
        """The quality targets of localdigest, each with whether it is met."""
        o = self.overall()
        ours = o.get("localdigest")
        if ours is None:
            return {}

        def target(name: str, met: bool, value: Any) -> None:
            t[name] = {"met": met, "value": value}

        t: dict[str, Any] = {}
        target("no_degenerate_summary", ours["degenerate"] == 0, ours["degenerate"])
        target("no_scaffolding", ours["scaffolding"] == 0, ours["scaffolding"])
        target(
            "number_faithfulness_at_least_0.95",
            ours["number_faithfulness"] >= 0.95,
            ours["number_faithfulness"],
        )
        target("grounded_at_least_0.9", ours["grounded"] >= 0.9, ours["grounded"])
        target(
            "no_number_without_page",
            ours["numbers_without_page"] == 0,
            ours["numbers_without_page"],
        )
        target("no_overlap_pairs", ours["overlap_pairs"] == 0, ours["overlap_pairs"])
        if self.reader:  # as a reader runs it: the abstract is read
            target("facts_at_least_0.6", ours["facts"] >= 0.6, ours["facts"])
            if "body_facts" in ours:  # issue 22: more than the abstract
                body = ours["body_facts"]
                target("body_facts_at_least_0.3", body >= 0.3, body)
            if "tldr_contribution" in ours:
                share = ours["tldr_contribution"]
                target("tldr_contribution_at_least_0.9", share >= 0.9, share)
            target("words_at_most_200", ours["max_words"] <= 200, ours["max_words"])
            return t
        for base in ("lead", "textrank"):
            if base in o:
                gap = round(ours["facts"] - o[base]["facts"], 4)
                target(f"facts_at_least_{base}", gap >= 0, gap)
        if "textrank" in o:
            gap = round(ours["rougeL"] - o["textrank"]["rougeL"], 4)
            target("rougeL_at_least_textrank", gap >= 0, gap)
        if "stuff" in o:  # above one model call on the paper's beginning
            gap = round(ours["rougeL"] - o["stuff"]["rougeL"], 4)
            target("rougeL_above_stuff", gap > 0, gap)
        if "lead" in o:  # reported, not a target (met: None)
            t["rougeL_gap_to_lead"] = {
                "met": None,
                "value": round(ours["rougeL"] - o["lead"]["rougeL"], 4),
            }
        return t

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "mode": "reader" if self.reader else "abstract withheld",
            "settings": self.settings,
            "systems": self.systems,
            "overall": self.overall(),
            "targets": self.targets(),
            "papers": [asdict(p) for p in self.papers],
        }


Progress = Callable[[int, int, str, str], None]  # (index, total, paper, step)


def evaluate(
    summarizer: Summarizer,
    papers: Sequence[EvalPaper],
    *,
    baselines: bool = True,
    progress: Progress | None = None,
    checkpoint: Callable[[EvalReport], None] | None = None,
    reader: bool = False,
) -> EvalReport:
    """Summarize and score each paper with its abstract withheld; baselines alongside.

    ``reader``: as a reader runs it, the abstract read (so no baselines: they would copy
    it); the summary is scored against the abstract's key facts."""
    options = summarizer.options
    baselines = baselines and not reader
    systems = list(SYSTEMS if baselines else SYSTEMS[:1])
    results: list[PaperEval] = []
    withheld_key = None if reader else ""
    report = EvalReport(
        model=summarizer.model.name,
        settings={**options.as_key(withheld=withheld_key), "n_ctx": summarizer.model.n_ctx},
        systems=systems,
        papers=results,
        reader=reader,
    )
    docs: dict[Path, pdf.Document] = {}
    if summarizer.in_flight > 1 and summarizer.backend.supports_concurrency:
        docs = _summarize_side_by_side(summarizer, papers, progress, reader)
    for i, paper in enumerate(papers, 1):
        name = paper.path.name

        def step(what: str, i: int = i, name: str = name) -> None:
            if progress is not None:
                progress(i, len(papers), name, what)

        step("reading")
        try:
            doc = docs.get(paper.path) or _read(paper, options.password, options.max_pages)
        except InputError as e:
            results.append(
                PaperEval(name, paper.title or name, 0, paper.arxiv_id, 0, error=e.message)
            )
            continue
        title = doc.title or paper.title or paper.path.stem
        row = PaperEval(name, title, doc.pages, paper.arxiv_id, len(paper.reference.split()))
        given = doc if reader else withheld_document(doc, paper.reference)
        withheld = given.kept(options.include_appendix)
        pages = PageIndex.of_sections(withheld)
        facts = key_facts(paper.reference, paper.title or title)
        step("summarizing")
        try:
            s = summarizer.summarize(PaperInput(str(paper.path), paper.path), document=given)
        except InputError as e:
            row.error = e.message
            results.append(row)
            continue
        row.warnings = [w for w in s.warnings if w not in doc.warnings]
        row.calls, row.retries, row.repairs = s.stats.llm_calls, s.stats.retries, s.stats.repairs
        outputs = {"localdigest": (s.summary, s.stats.seconds)}
        if baselines:
            step("baselines")
            outputs["stuff"] = stuff(summarizer, title, withheld)
            t = time.perf_counter()
            outputs["lead"] = (lead(withheld), time.perf_counter() - t)
            t = time.perf_counter()
            outputs["textrank"] = (textrank(withheld), time.perf_counter() - t)
        for system, (text, seconds) in outputs.items():
            row.texts[system] = text
            row.scores[system] = score(
                text,
                paper.reference,
                doc.text,
                seconds,
                facts,
                pages,
                tldr=s.tldr if system == "localdigest" else None,
                body_facts=paper.body_facts,
            ).as_dict()
        row.tldr = s.tldr
        results.append(row)
        if checkpoint is not None:
            checkpoint(report)  # a long run keeps what it has measured so far
    return report


def _summarize_side_by_side(
    summarizer: Summarizer, papers: Sequence[EvalPaper], progress: Progress | None, reader: bool
) -> dict[Path, pdf.Document]:
    """With a server: every paper's summary made with many calls in flight and cached, as
    the per-paper loop asks for it (withheld, or read whole with ``reader``), so the loop
    reads them; the extracted documents, for the loop."""
    options = summarizer.options
    docs: dict[Path, pdf.Document] = {}
    items = []
    for paper in papers:
        try:
            doc = _read(paper, options.password, options.max_pages)
        except InputError:
            continue  # the loop reports it
        docs[paper.path] = doc
        given = doc if reader else withheld_document(doc, paper.reference)  # as the loop's
        items.append(Task(PaperInput(str(paper.path), paper.path), None, given))
    if progress is not None:
        progress(0, len(papers), f"{len(items)} papers", "summarizing side by side")
    summarizer.run(items)
    return docs


def _read(paper: EvalPaper, password: str | None, max_pages: int | None) -> pdf.Document:
    return pdf.extract(paper.path, password=password, max_pages=max_pages)


def run_eval(
    cfg: RunConfig,
    papers: Sequence[EvalPaper],
    *,
    baselines: bool = True,
    progress: Progress | None = None,
    checkpoint: Callable[[EvalReport], None] | None = None,
    reader: bool = False,
) -> EvalReport:
    """``evaluate`` with the model and settings of a run's config."""
    job = prepare([], cfg)
    try:
        return evaluate(
            job.summarizer,
            papers,
            baselines=baselines,
            progress=progress,
            checkpoint=checkpoint,
            reader=reader,
        )
    finally:
        job.summarizer.store.close()
