"""The weekly routine behind ``localdigest run``: search -> choose -> fetch -> summarize -> digest.

Each step returns data; the command renders it and asks which papers. The plan of the
current run (the papers listed, the ones chosen) is saved in the state folder as soon as
it exists, so a run stopped anywhere (Ctrl-C, network down, a crash) is resumed by running
the same command again: no new search (which would hide the papers already marked as seen),
no new question, fetched PDFs and cached summaries reused. The plan is closed when its
digest is written; ``--restart`` drops an unfinished one.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localdigest.config import Paths, RunConfig
from localdigest.errors import InputError, LocaldigestError, NetworkError, UsageError
from localdigest.fsutil import load_state, write_atomically
from localdigest.papers import PaperFailure, PaperSummary, Result
from localdigest.pdf.figures import KeyFigure
from localdigest.publish.digest import to_markdown
from localdigest.publish.formats import result_dict
from localdigest.publish.notes import NoteResult
from localdigest.sources.arxiv.meta import PaperMeta
from localdigest.sources.ranking import Score
from localdigest.workflows import digest
from localdigest.workflows.summarize import prepare

if TYPE_CHECKING:  # the library and the listing import the arXiv stack: only when used
    from localdigest.sources.library import FetchResult, LibraryEntry, ProgressFn
    from localdigest.sources.listing import SearchSpec

PLAN_NAME = "run-plan.json"
PLAN_FORMAT = 1


@dataclass
class RunPlan:
    """One run of the routine, saved after every step that changes it."""

    started: str
    papers: list[PaperMeta]
    picks: list[int] | None = None  # 1-based numbers into papers; None: not chosen yet
    digest_path: str | None = None
    done: bool = False
    scores: list[Score] = field(default_factory=list)  # one per paper; none: empty library
    path: Path | None = field(default=None, compare=False)  # where it is saved

    @property
    def chosen(self) -> list[PaperMeta]:
        return [self.papers[n - 1] for n in self.picks or []]

    def top(self, count: int) -> list[int]:
        """The 1-based numbers of the ``count`` most relevant papers (in the order listed);
        the first ``count`` listed when nothing ranked them."""
        if not self.scores:
            return list(range(1, min(count, len(self.papers)) + 1))
        best = sorted(range(len(self.scores)), key=lambda n: -self.scores[n].relevance)
        return sorted(n + 1 for n in best[:count])

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "started": self.started,
            "papers": [p.to_dict() for p in self.papers],
            "picks": self.picks,
            "digest_path": self.digest_path,
            "done": self.done,
            "scores": [s.to_dict() for s in self.scores],
        }

    @classmethod
    def from_dict(cls, data: Any) -> RunPlan:
        """Read a saved plan, checking every field: ValueError for anything ``to_dict``
        could not have written (a list, picks out of range, an id that is no arXiv id)."""
        if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
            raise ValueError("not a run plan of this localdigest")
        started, papers, picks = data.get("started"), data.get("papers"), data.get("picks")
        if not isinstance(started, str) or not isinstance(papers, list):
            raise ValueError("no start time or no list of papers")
        metas = [PaperMeta.from_dict(p) for p in papers]
        if picks is not None:
            numbers = picks if isinstance(picks, list) else [picks]
            if not all(
                isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= len(metas)
                for n in numbers
            ):
                raise ValueError(f"the papers chosen ({picks!r}) are not numbers of the list")
        digest_path = data.get("digest_path")
        if digest_path is not None and not isinstance(digest_path, str):
            raise ValueError(f"digest_path {digest_path!r} is not a path")
        done = data.get("done", False)
        if not isinstance(done, bool):
            raise ValueError(f"done {done!r} is not true or false")
        scores = [_score(s) for s in data.get("scores") or []]
        if scores and len(scores) != len(metas):
            raise ValueError(f"{len(scores)} scores for {len(metas)} papers")
        return cls(started, metas, picks, digest_path, done, scores)


def _score(data: Any) -> Score:
    """One saved ranking score, checked like the rest of the plan."""
    if not isinstance(data, dict):
        raise ValueError("a score is not an object")
    relevance, terms, similar = (data.get(k) for k in ("relevance", "matched_terms", "similar_to"))
    if isinstance(relevance, bool) or not isinstance(relevance, int | float):
        raise ValueError(f"relevance {relevance!r} is not a number")
    if not math.isfinite(relevance):
        raise ValueError(f"relevance {relevance!r} is not a number")
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise ValueError("matched_terms is not a list of texts")
    if similar is not None and not isinstance(similar, str):
        raise ValueError(f"similar_to {similar!r} is not a text")
    return Score(float(relevance), tuple(terms), similar)


# ----------------------------------------------------------------------------- the plan on disk


def plan_path(paths: Paths) -> Path:
    return paths.state / PLAN_NAME


def load_unfinished(paths: Paths, on_damage: Callable[[str], None] | None = None) -> RunPlan | None:
    """The plan of a run that has not written its digest yet, or None. A damaged plan
    means starting afresh (it is moved aside; ``on_damage`` hears why)."""
    path = plan_path(paths)
    plan = load_state(path, RunPlan.from_dict, on_damage)
    return None if plan is None or plan.done else replace(plan, path=path)


def save(plan: RunPlan) -> None:
    assert plan.path is not None, "a plan is saved where it was loaded or made"
    write_atomically(plan.path, json.dumps(plan.to_dict(), indent=2, ensure_ascii=False))


def discard_unfinished(paths: Paths) -> bool:
    """Forget an unfinished run (``--restart``); True if there was one."""
    had = load_unfinished(paths) is not None
    if had:
        plan_path(paths).unlink(missing_ok=True)
    return had


# ----------------------------------------------------------------------------- steps


def search(cfg: RunConfig, spec: SearchSpec, sort: str = "relevance") -> RunPlan:
    """Search arXiv as configured, rank the list by the reader's library (most relevant
    first unless ``sort`` is "submitted") and save it as a new plan (papers marked as seen)."""
    from localdigest.sources import listing  # the arXiv stack: only when a run searches
    from localdigest.sources.library import seen_store
    from localdigest.workflows import arxiv, ranked

    papers = listing.search(
        arxiv.client(cfg),
        seen_store(cfg.paths.state),
        spec.terms,
        arxiv.filters(cfg),
        spec.since,
        spec.only_new,
        cfg.run_max,
    )
    ranking = ranked.rank_listing(papers, cfg)
    scores = ranking.scores
    if sort == "relevance":
        papers, scores = ranked.by_relevance(papers, ranking)
    plan = RunPlan(_now().isoformat(), papers, scores=scores, path=plan_path(cfg.paths))
    if papers:
        save(plan)
    return plan


def choose(plan: RunPlan, picks: Sequence[int]) -> RunPlan:
    """Record the papers chosen; choosing none closes the run (no digest)."""
    plan.picks = list(picks)
    plan.done = not picks
    save(plan)
    return plan


def fetch(cfg: RunConfig, plan: RunPlan, progress: ProgressFn | None = None) -> list[FetchResult]:
    """Download the chosen papers into the library (those already there cost nothing)."""
    from localdigest.sources.library import Library  # the arXiv stack: only to fetch
    from localdigest.workflows import arxiv

    wanted = [p.versioned_id for p in plan.chosen]
    return Library(cfg.paths.library).fetch(wanted, arxiv.client(cfg), progress)


def summarize_sources(results: Sequence[FetchResult]) -> list[str]:
    """The ``summarize`` sources of the papers that are in the library now."""
    return [str(r.entry.arxiv_id) for r in results if r.entry is not None]


def with_metadata(
    results: Sequence[PaperSummary | PaperFailure], entries: Sequence[LibraryEntry]
) -> list[PaperSummary]:
    """The successful summaries, relabelled with the arXiv metadata of the run.

    A summary cached from an earlier run of the same PDF (maybe given as a file) keeps its
    text but gets this paper's title, authors, link and library path.
    """
    by_source = {str(e.arxiv_id): e for e in entries}
    papers = []
    for r in results:
        if not isinstance(r, PaperSummary):
            continue
        entry = by_source.get(r.source)
        if entry is not None:
            meta = entry.meta
            r = replace(
                r,
                title=meta.title or r.title,
                authors=list(meta.authors) or r.authors,
                url=meta.abs_url,
                arxiv_id=meta.arxiv_id,
                path=str(entry.pdf_path),
            )
        papers.append(r)
    return papers


def digest_file(plan: RunPlan, out_dir: Path, today: dt.date) -> Path:
    """``digest-YYYY-MM-DD.md`` in ``out_dir`` (``-2``, ``-3`` when another run made one)."""
    if plan.digest_path and not Path(plan.digest_path).is_dir():
        return Path(plan.digest_path)
    path = out_dir / f"digest-{today.isoformat()}.md"
    n = 2
    while path.exists():
        path = out_dir / f"digest-{today.isoformat()}-{n}.md"
        n += 1
    return path


def finish(
    cfg: RunConfig,
    plan: RunPlan,
    papers: Sequence[PaperSummary],
    figures: dict[str, KeyFigure],
    today: dt.date | None = None,
    warn: Callable[[str], None] | None = None,
) -> Path:
    """Write the digest of the run and the feed beside it, remember it, and close the
    plan; return the file."""
    if not papers:
        raise InputError(
            "No chosen paper could be summarized, so no digest was written — see the errors "
            "above; run again to retry, or `localdigest run --restart` to start over"
        )
    today = today or dt.date.today()
    folder = cfg.digest_dir
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out-dir {folder} is a file — give a folder")
    path = digest_file(plan, folder, today)
    plan.digest_path = str(path)
    save(plan)
    previous = digest.last_digest_time(cfg.paths)
    since = previous.date() if previous else None
    issue = digest.issue(cfg, papers, figures, today=today, since=since)
    write_atomically(path, to_markdown(issue))
    digest.update_feed(issue, path, on_damage=warn)
    digest.remember_digest(cfg.paths, papers)
    plan.done = True
    save(plan)
    return path


def exit_error(
    fetched: Sequence[FetchResult], results: Sequence[PaperSummary | PaperFailure]
) -> LocaldigestError | None:
    """The error a partly failed run ends with: network (5) before inputs (3); None if all ok."""
    errors = [r.error for r in fetched if r.error is not None]
    if any(isinstance(e, NetworkError) for e in errors):
        return next(e for e in errors if isinstance(e, NetworkError))
    failed = len(errors) + sum(isinstance(r, PaperFailure) for r in results)
    if failed:
        return InputError(f"{failed} chosen paper(s) failed; the digest has the others")
    return None


@dataclass
class RunOutcome:
    """What a run did: fetched, summarized, the digest it wrote, the notes it exported."""

    fetched: list[FetchResult]
    results: list[Result]
    papers: list[PaperSummary]  # the summaries in the digest
    digest_path: Path
    notes: list[NoteResult] = field(default_factory=list)
    error: LocaldigestError | None = None  # the exit error of a partly failed run

    def to_dict(self) -> dict[str, Any]:
        """For ``run --format json``: the digest, its papers, the inputs that failed (to
        fetch or to summarize) and the notes exported."""
        failed = [
            {"source": f.input, "error": f.error.message, "exit_code": int(f.error.exit_code)}
            for f in self.fetched
            if f.error is not None
        ]
        failed += [result_dict(r) for r in self.results if isinstance(r, PaperFailure)]
        return {
            "digest": str(self.digest_path),
            "papers": [result_dict(p) for p in self.papers],
            "failed": failed,
            "notes": [n.to_dict() for n in self.notes],
            "error": self.error.message if self.error is not None else None,
        }


NOTHING_DONE: dict[str, Any] = {
    "digest": None,
    "papers": [],
    "failed": [],
    "notes": [],
    "error": None,
}  # ``RunOutcome.to_dict`` of a run that summarized nothing


Summarize = Callable[[Sequence[str], RunConfig], list[Result]]


def summarize_plainly(sources: Sequence[str], cfg: RunConfig) -> list[Result]:
    """Summarize without showing progress (the command passes its own)."""
    return prepare(sources, cfg).run()


def run_chosen(
    cfg: RunConfig,
    plan: RunPlan,
    *,
    figures: bool = True,
    downloads: Callable[[], AbstractContextManager[ProgressFn]] | None = None,
    summarize: Summarize = summarize_plainly,
    warn: Callable[[str], None] = lambda message: None,
) -> RunOutcome:
    """Fetch, summarize, write the digest and export the notes of the chosen papers.

    ``downloads`` opens a download progress display for the fetch step, ``summarize`` runs
    the summarize step (the command's shows its own progress); ``warn`` hears about each
    paper that could not be fetched or summarized as soon as it is known. The run goes on
    with the others.
    """
    if downloads is None:
        fetched = fetch(cfg, plan)
    else:
        with downloads() as progress:
            fetched = fetch(cfg, plan, progress)
    for f in fetched:
        if f.error is not None:
            warn(f"{f.input}: {f.error.message}")
    results = summarize(summarize_sources(fetched), cfg)
    for r in results:
        if isinstance(r, PaperFailure):
            warn(f"{r.source}: {r.error}")
    entries = [f.entry for f in fetched if f.entry is not None]
    papers = with_metadata(results, entries)
    found = digest.figures_of(papers, cfg.paths) if figures else {}  # once, for both
    path = finish(cfg, plan, papers, found, warn=warn)
    outcome = RunOutcome(fetched, results, papers, path, error=exit_error(fetched, results))
    if cfg.notes_dir is not None:
        outcome.notes = digest.notes(cfg, papers, cfg.notes_dir, found)
    return outcome


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
