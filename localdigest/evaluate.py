"""The eval: summarize papers with their abstracts withheld, score against those abstracts.

For every PDF that has an expected abstract (``expected.json``, the format of the team's
corpus: ``file`` and ``abstract_clean``), localdigest summarizes the paper without its
abstract (the abstract section dropped and its sentences scrubbed from every other
section) and the summary is scored against the authors' abstract. Three baselines run in
the same process, with the same model and settings, over the same withheld text:

- ``lead``: the first sentences of the introduction, up to BASELINE_WORDS words;
- ``textrank``: the best TextRank sentences (sumy), up to BASELINE_WORDS words, in order;
- ``stuff``: one call of the model on as much of the paper as fits the context (no map-reduce).

Returns data (an ``EvalReport``); ``render/eval.py`` shows it, the CLI writes its JSON.
"""

from __future__ import annotations

import importlib.util
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from localdigest import pdf
from localdigest.errors import InputError, UsageError
from localdigest.papers import PaperInput
from localdigest.summarize import Summarizer, quality
from localdigest.summarize.withhold import withhold_abstract

SYSTEMS = ("localdigest", "stuff", "lead", "textrank")
BASELINE_WORDS = 150  # about the length the summary prompt asks for (100 to 180 words)
EVAL_KIND = "eval"
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")

# ----------------------------------------------------------------------------- inputs


def require_extras() -> None:
    """The eval's scorers are an optional extra: fail early with the fix."""
    missing = [m for m in ("rouge_score", "sumy") if importlib.util.find_spec(m) is None]
    if missing:
        names = " and ".join(m.replace("_", "-") for m in missing)
        raise UsageError(
            f"localdigest eval needs {names} — run `{quality.EVAL_EXTRA_HINT}` (or `make install`)"
        )


@dataclass(frozen=True)
class EvalPaper:
    path: Path
    reference: str  # the authors' abstract
    arxiv_id: str | None = None
    title: str | None = None


def load_papers(pdfs: Path, expected: Path, limit: int | None = None) -> list[EvalPaper]:
    """Pair the PDFs of a folder with their expected abstracts (by file name); entries
    without an abstract (a damaged file) or without a PDF are left out."""
    if not pdfs.is_dir():
        raise UsageError(f"PDF folder {pdfs} does not exist — pass --pdfs DIR")
    try:
        entries = json.loads(expected.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"Cannot read {expected} ({e}) — pass --expected FILE") from e
    except json.JSONDecodeError as e:
        raise UsageError(f"{expected} is not valid JSON ({e}) — fix the file") from e
    if isinstance(entries, dict):
        entries = list(entries.values())
    papers = []
    for entry in entries:
        reference = (entry.get("abstract_clean") or entry.get("abstract") or "").strip()
        path = pdfs / Path(str(entry.get("file", ""))).name
        if reference and path.is_file():
            papers.append(EvalPaper(path, reference, entry.get("arxiv_id"), entry.get("title")))
    if not papers:
        raise UsageError(f"No PDF in {pdfs} has an expected abstract in {expected}")
    papers.sort(key=lambda p: p.path.stat().st_size)
    return papers[:limit] if limit else papers


# ----------------------------------------------------------------------------- baselines


class SentenceTokenizer:
    """What sumy needs of a tokenizer, without NLTK's downloadable punkt data."""

    language = "english"

    def to_sentences(self, text: str) -> list[str]:
        return [s.strip() for s in _SENTENCE.split(text) if s.strip()]

    def to_words(self, text: str) -> list[str]:
        return re.findall(r"[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*", text)


def _take_words(sentences: Sequence[str], limit: int) -> list[str]:
    taken, count = [], 0
    for s in sentences:
        if count >= limit:
            break
        taken.append(s)
        count += len(s.split())
    return taken


def _prose(sentence: str) -> bool:
    """A sentence worth extracting: mostly words, not a formula or table row."""
    w = sentence.split()
    return len(w) >= 6 and sum(t.isalpha() for t in w) / len(w) >= 0.6


def lead(sections: Sequence[pdf.Section], limit: int = BASELINE_WORDS) -> str:
    """The first sentences of the introduction (else of the first body section)."""
    body = [s for s in sections if s.kind == "body" and s.text.strip()]
    intro = next((s for s in body if "introduction" in s.heading.lower()), None)
    chosen = intro or (body[0] if body else None)
    if chosen is None:
        return ""
    sentences = [s for s in SentenceTokenizer().to_sentences(chosen.text) if _prose(s)]
    return " ".join(_take_words(sentences, limit))


def textrank(sections: Sequence[pdf.Section], limit: int = BASELINE_WORDS) -> str:
    """The best-ranked TextRank sentences (sumy) up to ``limit`` words, in paper order."""
    from sumy.nlp.stemmers import Stemmer
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    text = "\n\n".join(s.text for s in sections if s.kind == "body")
    tokenizer = SentenceTokenizer()
    prose = "\n\n".join(
        " ".join(s for s in tokenizer.to_sentences(p) if _prose(s)) for p in text.split("\n\n")
    )
    # Lower-case: PlaintextParser reads an all-caps line as a heading.
    document = PlaintextParser.from_string(prose, tokenizer).document
    if not document.sentences:
        return ""
    ranker = TextRankSummarizer(Stemmer("english"))
    ranker.stop_words = get_stop_words("english")
    ratings = ranker.rate_sentences(document)
    order = {s: i for i, s in enumerate(document.sentences)}
    best = sorted(document.sentences, key=lambda s: ratings[s], reverse=True)
    chosen: list[Any] = []
    count = 0
    for s in best:
        if count >= limit:
            break
        chosen.append(s)
        count += len(str(s).split())
    return " ".join(str(s) for s in sorted(chosen, key=order.__getitem__))


def _fit_tokens(text: str, count: Callable[[str], int], budget: int) -> str:
    """The longest prefix of whole words that fits ``budget`` tokens (binary search)."""
    words = text.split(" ")
    if count(text) <= budget:
        return text
    lo, hi = 0, len(words)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(" ".join(words[:mid])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return " ".join(words[:lo])


def stuff(summarizer: Summarizer, title: str, sections: Sequence[pdf.Section]) -> tuple[str, float]:
    """One model call on the first n_ctx tokens of the paper; cached like everything else.

    The same model and generation settings as the summarizer; no guard (this is the plain
    "stuff it all in one prompt" approach)."""
    text = "\n\n".join(f"{s.heading}\n{s.text}" if s.heading else s.text for s in sections)
    max_tokens = summarizer.options.max_tokens
    budget = summarizer.text_budget("stuff", title, max_tokens)
    text = _fit_tokens(text, summarizer.backend.count_tokens, budget)
    return summarizer.complete_once(EVAL_KIND, "stuff", max_tokens, title=title, text=text)


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
                "degenerate": sum(1 for r in rows if r["degenerate"]),
                "number_faithfulness": mean("number_faithfulness"),
                "min_number_faithfulness": min(float(r["number_faithfulness"]) for r in rows),
                "on_topic": mean("on_topic"),
                "words": mean("words"),
                "seconds": round(sum(float(r["seconds"]) for r in rows), 1),
            }
        return result

    def targets(self) -> dict[str, Any]:
        """The quality targets of localdigest, each with whether it is met."""
        o = self.overall()
        ours = o.get("localdigest")
        if ours is None:
            return {}
        t: dict[str, Any] = {
            "no_degenerate_summary": {"met": ours["degenerate"] == 0, "value": ours["degenerate"]},
            "number_faithfulness_at_least_0.95": {
                "met": ours["number_faithfulness"] >= 0.95,
                "value": ours["number_faithfulness"],
            },
        }
        if "stuff" in o:  # the target: above one model call on the paper's beginning
            gap = round(ours["rougeL"] - o["stuff"]["rougeL"], 4)
            t["rougeL_above_stuff"] = {"met": gap > 0, "value": gap}
        for base in ("lead", "textrank"):  # reported, not targets (met: None)
            if base in o:
                gap = round(ours["rougeL"] - o[base]["rougeL"], 4)
                t[f"rougeL_gap_to_{base}"] = {"met": None, "value": gap}
        return t

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
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
) -> EvalReport:
    """Summarize and score each paper with its abstract withheld; baselines alongside."""
    options = summarizer.options
    systems = list(SYSTEMS if baselines else SYSTEMS[:1])
    results: list[PaperEval] = []
    report = EvalReport(
        model=summarizer.model_name,
        settings={**options.as_key(withheld=""), "n_ctx": summarizer.n_ctx},
        systems=systems,
        papers=results,
    )
    for i, paper in enumerate(papers, 1):
        name = paper.path.name

        def step(what: str, i: int = i, name: str = name) -> None:
            if progress is not None:
                progress(i, len(papers), name, what)

        step("reading")
        try:
            doc = pdf.extract(paper.path, password=options.password, max_pages=options.max_pages)
        except InputError as e:
            results.append(
                PaperEval(name, paper.title or name, 0, paper.arxiv_id, 0, error=e.message)
            )
            continue
        title = doc.title or paper.title or paper.path.stem
        row = PaperEval(name, title, doc.pages, paper.arxiv_id, len(paper.reference.split()))
        withheld = withhold_abstract(
            doc.kept(options.include_appendix), doc.abstract, paper.reference
        )
        step("summarizing")
        try:
            s = summarizer.summarize(
                PaperInput(str(paper.path), paper.path), document=doc, withhold=paper.reference
            )
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
            row.scores[system] = quality.score(text, paper.reference, doc.text, seconds).as_dict()
        results.append(row)
        if checkpoint is not None:
            checkpoint(report)  # a long run keeps what it has measured so far
    return report
