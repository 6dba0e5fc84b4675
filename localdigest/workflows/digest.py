"""``digest`` and ``export``: choose cached summaries, find their key figures once, write the
newsletter or the notes; and the state that makes a plain ``digest`` cover exactly the
papers summarized since the previous one, and keeps which papers each issue held for
``ask --digest`` (``digest-state.json``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdigest.cache import CachedSummary, Store, cached_summaries, find_cached
from localdigest.config import Paths, RunConfig
from localdigest.errors import UsageError
from localdigest.fsutil import DAMAGED_SUFFIX, load_state, write_atomically
from localdigest.papers import PaperSummary
from localdigest.pdf.figures import KeyFigure, key_figure
from localdigest.publish.bibtex import identity, to_bibtex
from localdigest.publish.digest import Digest, build, created_at
from localdigest.publish.feed import FEED_NAME, with_issue
from localdigest.publish.notes import NoteResult, export_notes, library_extras

STATE_NAME = "digest-state.json"


@dataclass(frozen=True)
class Selection:
    """Which cached summaries a command means: explicit ids, or since a day, or the last N
    (by default: those summarized since the previous digest)."""

    ids: Sequence[str] = ()
    since: dt.date | None = None
    last: int | None = None

    @property
    def default(self) -> bool:
        return not self.ids and self.since is None and self.last is None


def figures_of(papers: Sequence[PaperSummary], paths: Paths) -> dict[str, KeyFigure]:
    """The key figure of each paper whose PDF is still there and has one, by sha256 (found
    once per paper, for the digest and the notes alike). A figure whose file can't be
    published (a link out of the home, no image: ``KeyFigure.read``) is none."""
    found: dict[str, KeyFigure] = {}
    for p in papers:
        if p.path and p.sha256 not in found:
            figure = key_figure(
                Path(p.path), p.sha256, library=paths.library, figures=paths.figures
            )
            if figure is not None and figure.read() is not None:
                found[p.sha256] = figure
    return found


def compose(
    cfg: RunConfig,
    chosen: Selection,
    *,
    figures: bool = True,
    on_damage: Callable[[str], None] | None = None,
) -> Digest:
    """The issue a ``digest`` command means (UsageError when no summary matches)."""
    previous = last_digest_time(cfg.paths, on_damage)
    papers = select(cached(cfg.paths), chosen, after=previous)
    if not papers:
        if chosen.default and previous is not None:
            raise UsageError(
                f"No papers summarized since the last digest ({previous:%Y-%m-%d %H:%M} UTC) — "
                "summarize some, or choose with IDS, --since DATE or --last N"
            )
        raise UsageError(
            "No cached summaries match — run `localdigest summarize` or `localdigest run` first"
        )
    since = chosen.since or (previous.date() if chosen.default and previous else None)
    found = figures_of(papers, cfg.paths) if figures else {}
    return issue(cfg, papers, found, since=since)


def issue(
    cfg: RunConfig,
    papers: Sequence[PaperSummary],
    figures: dict[str, KeyFigure],
    *,
    since: dt.date | None = None,
    today: dt.date | None = None,
) -> Digest:
    """An issue of these papers, named and closed as configured."""
    return build(
        papers,
        name=cfg.newsletter_name,
        closing=cfg.closing,
        today=today,
        since=since,
        figures=figures,
    )


def chosen_papers(cfg: RunConfig, chosen: Selection) -> list[PaperSummary]:
    """The cached summaries ``chosen`` means (UsageError when none match)."""
    papers = select(cached(cfg.paths), chosen)
    if not papers:
        raise UsageError("No cached summaries match — run `localdigest summarize` first")
    return papers


def export(
    cfg: RunConfig,
    papers: Sequence[PaperSummary],
    folder: Path,
    *,
    copy_pdf: bool = False,
    figures: bool = True,
) -> list[NoteResult]:
    """Write or update one note per paper in ``folder``."""
    found = figures_of(papers, cfg.paths) if figures else {}
    return notes(cfg, papers, folder, found, copy_pdf=copy_pdf)


def export_bibtex(cfg: RunConfig, papers: Sequence[PaperSummary], path: Path) -> int:
    """Write one BibTeX entry per paper to ``path`` (the keys the notes carry); how many."""
    write_atomically(path, to_bibtex(papers, library_extras(papers, cfg.paths.library)))
    return len({identity(p) for p in papers})


def notes(
    cfg: RunConfig,
    papers: Sequence[PaperSummary],
    folder: Path,
    figures: dict[str, KeyFigure],
    *,
    copy_pdf: bool = False,
) -> list[NoteResult]:
    """Write or update one note per paper in ``folder``."""
    return export_notes(
        papers,
        folder,
        tags=cfg.tags,
        copy_pdf=copy_pdf,
        extras=library_extras(papers, cfg.paths.library),
        figures=figures,
        library=cfg.paths.library,
    )


def cached(paths: Paths) -> list[CachedSummary]:
    """Every cached summary, newest first."""
    store = Store(paths.cache)
    try:
        return cached_summaries(store)
    finally:
        store.close()


# ----------------------------------------------------------------------------- choosing papers


def select(
    rows: Sequence[CachedSummary], chosen: Selection, after: dt.datetime | None = None
) -> list[PaperSummary]:
    """The summaries a digest covers, in reading order.

    Explicit ids (key prefix, arXiv id, sha256 prefix or title words) keep the order given;
    otherwise papers come in the order they were summarized, filtered by ``since`` (a day),
    then ``after`` (the previous digest) unless ``since``/``last`` is given, and cut to the
    ``last`` N.
    """
    if chosen.last is not None and chosen.last < 1:
        raise UsageError(f"--last must be at least 1 (got {chosen.last})")
    if chosen.ids:
        picked = [find_cached(rows, i).summary for i in chosen.ids]
        return list({s.sha256 or s.key: s for s in reversed(picked)}.values())[::-1]
    papers = newest_per_paper([r.summary for r in rows])
    if chosen.since is not None:
        start = dt.datetime.combine(chosen.since, dt.time(), tzinfo=dt.UTC)
        papers = [p for p in papers if created_at(p) >= start]
    elif after is not None and chosen.last is None:
        papers = [p for p in papers if created_at(p) > after]
    if chosen.last is not None:
        papers = papers[-chosen.last :]
    return papers


def newest_per_paper(summaries: Sequence[PaperSummary]) -> list[PaperSummary]:
    """One summary per PDF (the newest: e.g. made by a better model), oldest first."""
    best: dict[str, PaperSummary] = {}
    for s in summaries:
        ident = s.sha256 or s.key
        if ident not in best or created_at(s) > created_at(best[ident]):
            best[ident] = s
    return sorted(best.values(), key=created_at)


# ----------------------------------------------------------------------------- the state


def state_path(paths: Paths) -> Path:
    return paths.state / STATE_NAME


def last_digest_time(
    paths: Paths, on_damage: Callable[[str], None] | None = None
) -> dt.datetime | None:
    """When the previous digest was made (UTC), or None: never, or the state is damaged
    (then it is moved aside and the next digest starts afresh)."""
    return load_state(state_path(paths), _state_time, on_damage)


def _state_time(data: Any) -> dt.datetime:
    raw = data.get("last_digest") if isinstance(data, dict) else None
    if not isinstance(raw, str):
        raise ValueError("no last_digest time in it")
    when = dt.datetime.fromisoformat(raw)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def update_feed(
    issue: Digest,
    digest_file: Path,
    on_damage: Callable[[str], None] | None = None,
    made: dt.datetime | None = None,
) -> Path:
    """Put the issue written to ``digest_file`` first in the Atom feed beside it
    (``feed.xml``, created when missing); the feed's path. A feed that can't be read is
    moved aside to ``feed.xml.damaged`` and a new one started (``on_damage`` hears why)."""
    path = digest_file.parent / FEED_NAME
    made = made or dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        existing: str | None = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        existing = None
    except (OSError, UnicodeDecodeError) as e:
        existing = f"unreadable: {e}"  # not XML: handled as a damaged feed below
    try:
        text = with_issue(existing, issue, made, digest_file.name)
    except ValueError as e:
        aside = path.with_name(path.name + DAMAGED_SUFFIX)
        try:
            path.replace(aside)
            kept = f"kept as {aside.name}"
        except OSError:
            kept = "replaced"
        if on_damage is not None:
            on_damage(f"{path} is no Atom feed ({e}) — started a new one; the old one was {kept}")
        text = with_issue(None, issue, made, digest_file.name)
    write_atomically(path, text)
    return path


def remember_digest(
    paths: Paths, papers: Sequence[PaperSummary], when: dt.datetime | None = None
) -> None:
    """Record that a digest was made now, so the next one starts after it, and which
    papers it held (``issue_papers``: ``ask --digest``)."""
    when = when or dt.datetime.now(dt.UTC).replace(microsecond=0)
    shas = [p.sha256 for p in papers]
    issues = load_state(state_path(paths), _issues) or []
    issues.append({"made": when.isoformat(), "papers": shas})
    data = {"last_digest": when.isoformat(), "papers": shas, "issues": issues[-ISSUES_KEPT:]}
    write_atomically(state_path(paths), json.dumps(data, indent=2) + "\n")


ISSUES_KEPT = 520  # ten years of weekly issues


def _issues(data: Any) -> list[dict[str, Any]]:
    """The issues a state file lists; one written before issues were kept is its last."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    issues = data.get("issues")
    if issues is None and isinstance(data.get("last_digest"), str):
        issues = [{"made": data["last_digest"], "papers": data.get("papers", [])}]
    if not isinstance(issues, list) or not all(
        isinstance(i, dict) and isinstance(i.get("made"), str) and isinstance(i.get("papers"), list)
        for i in issues
    ):
        raise ValueError("its issues are not a list of {made, papers}")
    return issues


def issue_papers(
    paths: Paths, which: str, on_damage: Callable[[str], None] | None = None
) -> list[str]:
    """The sha256 of every paper of the newsletter issue ``which``: ``latest``, or a day
    (YYYY-MM-DD, the local date it was made on: every issue of that day)."""
    issues = load_state(state_path(paths), _issues, on_damage) or []
    if not issues:
        raise UsageError(
            f"--digest {which}: no digest was made yet — run `localdigest digest` or "
            "`localdigest run` first, or name the papers"
        )
    if which == "latest":
        chosen = issues[-1:]
    else:
        try:
            day = dt.date.fromisoformat(which)
        except ValueError:
            raise UsageError(
                f"--digest {which!r} is not 'latest' or a date — use YYYY-MM-DD"
            ) from None
        chosen = [i for i in issues if _made_on(i) == day]
        if not chosen:
            days = ", ".join(sorted({str(_made_on(i)) for i in issues})[-5:])
            raise UsageError(f"No digest was made on {which} — the latest were made on {days}")
    return list(dict.fromkeys(str(sha) for issue in chosen for sha in issue["papers"]))


def _made_on(issue: dict[str, Any]) -> dt.date:
    made = dt.datetime.fromisoformat(issue["made"])
    return (made if made.tzinfo else made.replace(tzinfo=dt.UTC)).astimezone().date()
