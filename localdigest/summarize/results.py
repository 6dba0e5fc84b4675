"""A paper's result as given now: shared by the one-by-one run (summarizer.py) and the
concurrent one (concurrent.py), so both write the same thing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from localdigest.errors import InputError
from localdigest.papers import PaperFailure, PaperInput, PaperSummary
from localdigest.sources.local import display_path
from localdigest.text import visible


def as_given(summary: PaperSummary, paper: PaperInput) -> PaperSummary:
    """A summary (cached, or made for the same bytes under another name) as the paper given
    now: its source, and the title, authors and link known for it (a PDF first summarized
    as a local file and now given as an arXiv id gets the arXiv metadata)."""
    changes: dict[str, Any] = {"source": paper.source}
    if paper.title:
        changes["title"] = visible(paper.title)
    if paper.authors:
        changes["authors"] = list(paper.authors)
    if paper.url:
        changes["url"] = paper.url
    if paper.arxiv_id:
        changes["arxiv_id"] = paper.arxiv_id
        changes["path"] = display_path(paper.path.resolve())
    return replace(summary, **changes)


def unreadable(paper: PaperInput, e: OSError) -> PaperFailure:
    """The failure of a file that cannot be read."""
    return PaperFailure(
        paper.source,
        f"Cannot read {paper.path} ({e.strerror or e}) — check the file",
        int(InputError.exit_code),
    )
