"""Plain-text outputs of summaries: JSON and Markdown (rich tables live in render/)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from localdigest.papers import ROLE_LABELS, Grounding, PaperFailure, PaperSummary, Result
from localdigest.publish.markup import file_uri, md_inline, md_link, md_text
from localdigest.text import page_mark, safe_json

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


_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use stand-ins for a mark's brackets


def marked(text: str, entries: Sequence[Grounding], brackets: tuple[str, str] = ("[", "]")) -> str:
    """``text`` with each grounded sentence followed by its page mark (``[p. 2, 15]``, or
    ``[?]`` when no page supports it); ``entries`` are a summary's grounding, in order.
    Line breaks (a list of bullets) are kept."""
    out: list[str] = []
    pos = 0
    for entry in entries:
        at = text.find(entry.sentence, pos)
        if not entry.sentence or at < 0:
            continue
        end = at + len(entry.sentence)
        mark = page_mark(entry.pages) if entry.supported else "[?]"
        mark = brackets[0] + mark[1:-1] + brackets[1]
        out.append(f"{text[pos:end]} {mark}")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def with_pages(
    summary: PaperSummary, part: str = "summary", escape: Callable[[str], str] | None = None
) -> str:
    """The summary (or the TL;DR, ``part="tldr"``) with the pages each sentence comes from
    after it: ``... 93.3% [p. 2, 15]``; ``[?]`` marks a sentence no page supports. The text
    goes through ``escape`` (Markdown, HTML) and the marks stay as they are."""
    text = summary.tldr if part == "tldr" else summary.summary
    text = marked(text, summary.grounded(part), brackets=(_OPEN, _CLOSE))
    if escape is not None:
        text = escape(text)
    return text.replace(_OPEN, "[").replace(_CLOSE, "]")


def labelled(
    summary: PaperSummary, escape: Callable[[str], str] | None = None
) -> list[tuple[str, str]]:
    """(label, paragraph with its page marks) for each paragraph of the summary: "What the
    abstract does not say" before the second part of an extracted one, "" where none."""
    text = with_pages(summary, escape=escape)
    return [(ROLE_LABELS.get(role, ""), para) for role, para in summary.paragraphs(text)]


def md_summary(summary: PaperSummary) -> str:
    """The summary as Markdown paragraphs, each part's label in bold."""
    return "\n\n".join(
        f"**{label}:** {para}" if label else para for label, para in labelled(summary, md_text)
    )


def to_text(results: Sequence[Result], fmt: str) -> str:
    """Summaries as ``json`` or ``markdown`` text."""
    return to_json(results) if fmt == "json" else to_markdown(results)


def result_dict(r: Result) -> dict[str, Any]:
    if isinstance(r, PaperFailure):
        return {"source": r.source, "error": r.error, "exit_code": r.exit_code}
    d = r.to_dict()
    d.pop("abstract", None)
    d["written_by"] = r.written_by  # "model" keeps naming the model of the cache key
    return d


def to_json(results: Sequence[Result]) -> str:
    return safe_json([result_dict(r) for r in results]) + "\n"


def to_markdown(results: Sequence[Result]) -> str:
    """One section per paper; every text from a paper, a file name or the model escaped."""
    parts: list[str] = []
    for r in results:
        if isinstance(r, PaperFailure):
            parts.append(
                f"# {md_inline(r.source)}\n\n**Could not summarize:** {md_text(r.error)}\n"
            )
            continue
        meta = [f"{r.pages} pages", md_inline(r.credit)]
        if r.authors:
            meta.insert(0, md_inline(", ".join(r.authors)))
        link = r.url or file_uri(r.path)
        meta.append(md_link(r.url or r.path, link))
        parts.append(
            f"# {md_inline(r.title)}\n\n*{' · '.join(meta)}*\n\n"
            f"**TL;DR:** {with_pages(r, 'tldr', md_text)}\n\n{md_summary(r)}\n"
        )
    return "\n".join(parts)
