"""Plain-text outputs of summaries: JSON and Markdown (rich tables live in render/)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from localdigest.papers import PaperFailure, PaperSummary, Result
from localdigest.summarize.grounding import marked

# What an output file's suffix says about its format.
SUFFIX_FORMATS = {".json": "json", ".html": "html", ".htm": "html", ".md": "markdown"}


def format_for(
    output: Path | None,
    fmt: str | None,
    allowed: Sequence[str] = ("markdown", "json", "html"),
    default: str = "markdown",
) -> str:
    """The format asked for, else the one the output file's suffix names (when it is one
    of ``allowed``), else ``default``."""
    if fmt is not None:
        return fmt
    by_suffix = SUFFIX_FORMATS.get(output.suffix.lower()) if output else None
    return by_suffix if by_suffix is not None and by_suffix in allowed else default


def with_pages(summary: PaperSummary, part: str = "summary") -> str:
    """The summary (or the TL;DR, ``part="tldr"``) with the pages each sentence comes from
    after it: ``... 93.3% [p. 2, 15]``; ``[?]`` marks a sentence no page supports."""
    text = summary.tldr if part == "tldr" else summary.summary
    return marked(text, summary.grounded(part))


def to_text(results: Sequence[Result], fmt: str) -> str:
    """Summaries as ``json`` or ``markdown`` text."""
    return to_json(results) if fmt == "json" else to_markdown(results)


def result_dict(r: Result) -> dict[str, Any]:
    if isinstance(r, PaperFailure):
        return {"source": r.source, "error": r.error, "exit_code": r.exit_code}
    d = r.to_dict()
    d.pop("abstract", None)
    return d


def to_json(results: Sequence[Result]) -> str:
    return json.dumps([result_dict(r) for r in results], indent=2, ensure_ascii=False) + "\n"


def to_markdown(results: Sequence[Result]) -> str:
    parts: list[str] = []
    for r in results:
        if isinstance(r, PaperFailure):
            parts.append(f"# {r.source}\n\n**Could not summarize:** {r.error}\n")
            continue
        meta = [f"{r.pages} pages", f"model {r.model}"]
        if r.authors:
            meta.insert(0, ", ".join(r.authors))
        link = r.url or r.path
        parts.append(
            f"# {r.title}\n\n*{' · '.join(meta)} · [{link}]({link})*\n\n"
            f"**TL;DR:** {with_pages(r, 'tldr')}\n\n{with_pages(r)}\n"
        )
    return "\n".join(parts)
