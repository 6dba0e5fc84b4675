"""Build cached summaries directly (no model) for the digest, notes and routine tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from localdigest import config
from localdigest.cache import Store
from localdigest.papers import PaperSummary
from localdigest.publish import notes
from localdigest.publish.digest import Digest
from localdigest.publish.notes import NoteResult
from localdigest.summarize import SUMMARY_SCHEMA
from localdigest.workflows import digest as workflow

MODEL = "SmolLM2-135M-Instruct.Q4_1.gguf"


def make_summary(
    n: int,
    title: str,
    *,
    created: dt.datetime | None = None,
    arxiv_id: str | None = None,
    path: Path | None = None,
    authors: list[str] | None = None,
    summary: str | None = None,
    model: str = MODEL,
) -> PaperSummary:
    sha = f"{n:064x}"
    created = created or dt.datetime(2024, 5, 6 + n % 20, 9, 0, tzinfo=dt.UTC)
    return PaperSummary(
        source=arxiv_id or str(path or f"paper{n}.pdf"),
        path=str(path or Path(f"/papers/paper{n}.pdf")),
        sha256=sha,
        title=title,
        pages=4,
        model=model,
        tldr=f"Paper {n} in one sentence.",
        summary=summary or f"Paper {n} proposes a method.\n\nIt improves accuracy by {n} points.",
        key=f"summary/{sha}",
        created=created.isoformat(timespec="seconds"),
        authors=authors if authors is not None else [f"Author {n}", "Second Author"],
        url=f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None,
        arxiv_id=arxiv_id,
    )


def cache(*summaries: PaperSummary) -> None:
    """Put summaries where the user's cache keeps them (``LOCALDIGEST_HOME``)."""
    store = Store(config.load().paths.cache)
    try:
        for s in summaries:
            store.set(s.key, {"schema": SUMMARY_SCHEMA, **s.to_dict()})
    finally:
        store.close()


def build_issue(
    papers: Sequence[PaperSummary],
    *,
    figures: bool = True,
    name: str | None = None,
    closing: str | None = None,
    **kw: Any,
) -> Digest:
    """An issue of these papers as the digest workflow builds it (the user's config, key
    figures found once)."""
    cfg = config.load(newsletter_name=name, closing=closing)
    found = workflow.figures_of(papers, cfg.paths) if figures else {}
    return workflow.issue(cfg, papers, found, **kw)


def export(
    papers: Sequence[PaperSummary],
    vault: Path,
    *,
    figures: bool = True,
    tags: Sequence[str] | None = None,
    **kw: Any,
) -> list[NoteResult]:
    """Notes of these papers as the export workflow writes them (figures found once)."""
    cfg = config.load(tags=list(tags) if tags is not None else None)
    found = workflow.figures_of(papers, cfg.paths) if figures else {}
    return notes.export_notes(papers, vault, tags=cfg.tags, figures=found, **kw)
