"""Build cached summaries directly (no model) for the digest, notes and routine tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from localdigest.cache import open_store
from localdigest.papers import PaperSummary
from localdigest.summarize import SUMMARY_SCHEMA

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
    """Put summaries where ``cache.cached_summaries()`` finds them."""
    store = open_store()
    try:
        for s in summaries:
            store.set(s.key, {"schema": SUMMARY_SCHEMA, **s.to_dict()})
    finally:
        store.close()
