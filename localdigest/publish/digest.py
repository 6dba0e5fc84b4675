"""The newsletter: assemble summaries into an issue, write Markdown, JSON or HTML.

Everything here returns data or text; nothing prints. The shape follows the newsletter this
tool replaces::

    Welcome to <name>'s weekly AI newsletter for <period>.
    This article was written by <model file> on <date>.
    In this issue: <titles>
    # <Paper title>
    <authors> · <arXiv or file link>
    <TL;DR> <summary paragraph(s)>
    ...
    <closing line>

Which summaries an issue covers, and when the last one was made, is the workflow's
business (``workflows.digest``).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localdigest.errors import UsageError
from localdigest.papers import ROLE_LABELS, PaperSummary
from localdigest.pdf.figures import KeyFigure
from localdigest.publish.formats import md_summary, with_pages
from localdigest.publish.markup import (
    file_uri,
    html_paragraphs,
    html_text,
    md_inline,
    md_link,
    md_text,
    safe_url,
)
from localdigest.text import one_line, paragraphs, safe_json

FORMATS = ("markdown", "json", "html")
MONTHS = [
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
]


@dataclass
class Digest:
    """One issue of the newsletter, ready to render."""

    name: str
    written: dt.date
    start: dt.date
    end: dt.date
    papers: list[PaperSummary]
    closing: str
    categories: dict[str, list[str]] = field(default_factory=dict)  # arxiv id -> categories
    figures: dict[str, KeyFigure] = field(default_factory=dict)  # sha256 -> its key figure

    def figure(self, paper: PaperSummary) -> KeyFigure | None:
        return self.figures.get(paper.sha256)

    @property
    def models(self) -> list[str]:
        """The models that wrote summaries of this issue (extracted ones name none)."""
        return list(dict.fromkeys(p.model for p in self.papers if p.written_by != "extraction"))

    @property
    def period(self) -> str:
        return format_period(self.start, self.end)

    @property
    def opening(self) -> str:
        return f"Welcome to {self.name}'s weekly AI newsletter for {self.period}."

    @property
    def byline(self) -> str:
        models = self.models
        when = self.written.isoformat()
        if not models:
            chosen = "This article's summaries were chosen from each paper"
            return f"{chosen} on {when}: no model wrote them."
        who = models[0] if len(models) == 1 else ", ".join(models[:-1]) + " and " + models[-1]
        if any(p.written_by == "extraction" for p in self.papers):
            who += " (the other summaries are sentences chosen from the papers)"
        return f"This article was written by {who} on {when}."


# ----------------------------------------------------------------------------- small helpers


def format_period(start: dt.date, end: dt.date) -> str:
    """``6–12 May 2024``, ``28 April – 4 May 2024``, ``30 December 2023 – 5 January 2024``."""
    if start > end:
        start, end = end, start
    last = f"{end.day} {MONTHS[end.month - 1]} {end.year}"
    if start == end:
        return last
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{last}"
    if start.year == end.year:
        return f"{start.day} {MONTHS[start.month - 1]} – {last}"
    return f"{start.day} {MONTHS[start.month - 1]} {start.year} – {last}"


def created_at(summary: PaperSummary) -> dt.datetime:
    """When a summary was made (UTC); summaries without a time sort first."""
    try:
        when = dt.datetime.fromisoformat(summary.created)
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def paper_link(summary: PaperSummary) -> tuple[str, str]:
    """(label, URL): the arXiv abstract page when known, else the PDF as a file:// URI."""
    if summary.arxiv_id:
        return (
            f"arXiv:{summary.arxiv_id}",
            summary.url or f"https://arxiv.org/abs/{summary.arxiv_id}",
        )
    if summary.url:
        return summary.url, summary.url
    path = Path(summary.path).expanduser()
    return path.name or summary.source, file_uri(summary.path)


def build(
    papers: Sequence[PaperSummary],
    *,
    name: str,
    closing: str,
    today: dt.date | None = None,
    since: dt.date | None = None,
    categories: dict[str, list[str]] | None = None,
    figures: dict[str, KeyFigure] | None = None,
) -> Digest:
    """Assemble a digest; ``figures`` are the papers' key figures by sha256 (the workflow
    finds them: ``workflows.digest.figures_of``)."""
    if not papers:
        raise UsageError("No papers for the digest — summarize some first")
    today = today or dt.date.today()
    made = [created_at(p).date() for p in papers if p.created]
    start = since or (min(made) if made else today)
    return Digest(
        name=one_line(name),
        written=today,
        start=min(start, today),
        end=today,
        papers=list(papers),
        closing=closing.strip(),
        categories=categories or {},
        figures=figures or {},
    )


def render(digest: Digest, fmt: str) -> str:
    if fmt == "json":
        return to_json(digest)
    if fmt == "html":
        return to_html(digest)
    if fmt == "markdown":
        return to_markdown(digest)
    raise UsageError(f"Unknown digest format '{fmt}' — use {', '.join(FORMATS)}")


def to_markdown(digest: Digest) -> str:
    out = [md_text(digest.opening), "", md_text(digest.byline), "", "**In this issue:**", ""]
    out += [f"{n}. {md_inline(p.title)}" for n, p in enumerate(digest.papers, 1)]
    for p in digest.papers:
        label, url = paper_link(p)
        meta = [md_inline(", ".join(p.authors))] if p.authors else []
        meta.append(md_link(label, url))
        out += ["", f"# {md_inline(p.title)}", "", f"*{' · '.join(meta)}*", ""]
        figure = digest.figure(p)
        if figure is not None and (image := file_uri(str(figure.path))):
            out += [f"![{md_inline(figure.label)}](<{image}>)", ""]
        if p.tldr.strip():
            out += [f"**TL;DR:** {with_pages(p, 'tldr', lambda t: md_text(one_line(t)))}", ""]
        out.append(md_summary(p) or "(no summary)")
    out += ["", md_text(digest.closing), ""] if digest.closing else [""]
    return "\n".join(out)


def figure_dict(figure: KeyFigure | None) -> dict[str, Any] | None:
    if figure is None:
        return None
    return {
        "path": str(figure.path),
        "number": figure.number,
        "caption": figure.caption,
        "page": figure.page,
        "width": figure.width,
        "height": figure.height,
    }


def paper_dict(p: PaperSummary, figure: KeyFigure | None = None) -> dict[str, Any]:
    label, url = paper_link(p)
    return {
        "title": one_line(p.title),
        "authors": list(p.authors),
        "arxiv_id": p.arxiv_id,
        "link": url,
        "link_label": label,
        "tldr": one_line(p.tldr),
        "summary": "\n\n".join(paragraphs(p.summary)),
        "summary_with_pages": "\n\n".join(paragraphs(with_pages(p))),
        "grounding": p.grounding,
        "model": p.model,
        "written_by": p.written_by,
        "summarized": p.created,
        "sha256": p.sha256,
        "key": p.key,
        "path": p.path,
        "figure": figure_dict(figure),
    }


def to_json(digest: Digest) -> str:
    data = {
        "name": digest.name,
        "date": digest.written.isoformat(),
        "period": {"start": digest.start.isoformat(), "end": digest.end.isoformat()},
        "models": digest.models,
        "opening": digest.opening,
        "byline": digest.byline,
        "in_this_issue": [one_line(p.title) for p in digest.papers],
        "papers": [paper_dict(p, digest.figure(p)) for p in digest.papers],
        "closing": digest.closing,
    }
    return safe_json(data) + "\n"


HTML_STYLE = """
body { margin: 0; background: #f6f5f1; color: #1f2328;
  font: 17px/1.6 Georgia, 'Iowan Old Style', 'Times New Roman', serif; }
main { max-width: 42rem; margin: 0 auto; padding: 2.5rem 1.25rem 4rem; background: #fff; }
header p { margin: .3rem 0; }
.byline, .meta { color: #59636e; font-size: .9rem;
  font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; }
nav { margin: 1.5rem 0; padding: .8rem 1.2rem; background: #f3f1ea; border-radius: 6px; }
nav h2 { margin: 0; font-size: 1rem; font-family: system-ui, sans-serif; }
nav ol { margin: .4rem 0 0; padding-left: 1.4rem; }
article { border-top: 1px solid #e4e2dc; padding-top: 1rem; margin-top: 2rem; }
article h2 { font-size: 1.45rem; line-height: 1.25; margin: .2rem 0 .4rem; }
.tldr { font-style: italic; }
main { overflow-wrap: break-word; }
figure { margin: 1.2rem 0; }
figure img { display: block; max-width: 100%; max-height: 30rem; width: auto; height: auto;
  margin: 0 auto; background: #fff; border-radius: 4px; }
figcaption { margin-top: .4rem; color: #59636e; font-size: .85rem; line-height: 1.4;
  font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; }
a { color: #0b5cad; }
footer { margin-top: 2.5rem; border-top: 1px solid #e4e2dc; padding-top: 1rem; }
@media (prefers-color-scheme: dark) {
  body { background: #161b22; color: #e6edf3; } main { background: #0d1117; }
  nav { background: #1c2128; } a { color: #58a6ff; } .byline, .meta { color: #9198a1; }
  article, footer { border-color: #30363d; } figcaption { color: #9198a1; }
  figure img { padding: .5rem; box-sizing: border-box; }
}
@page { margin: 16mm 15mm; }
@media print {
  body { background: #fff; color: #000; font-size: 11pt; }
  main { max-width: none; padding: 0; background: #fff; }
  nav { background: none; border: 1px solid #ccc; }
  a { color: #000; }
  article { break-before: auto; }
  figure, .meta, .tldr, h2 { break-inside: avoid; }
  h2 { break-after: avoid; }
  figure img { max-height: 60vh; width: auto; }
}
""".strip()


def _html_link(label: str, url: str) -> str:
    href = safe_url(url)
    return f'<a href="{html_text(href)}">{html_text(label)}</a>' if href else html_text(label)


def to_html(digest: Digest) -> str:
    """One self-contained page: inline CSS, no scripts, every text escaped."""

    e = html_text
    title = f"{digest.name} — {digest.period}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Nothing leaves the file: no scripts, styles and images only from inside it.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">",
        '<meta name="color-scheme" content="light dark">',
        f"<title>{e(title)}</title>",
        f"<style>\n{HTML_STYLE}\n</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        f"<h1>{e(digest.name)}</h1>",
        f'<p class="opening">{e(digest.opening)}</p>',
        f'<p class="byline">{e(digest.byline)}</p>',
        "</header>",
        '<nav aria-label="In this issue">',
        "<h2>In this issue</h2>",
        "<ol>",
    ]
    for n, p in enumerate(digest.papers, 1):
        parts.append(f'<li><a href="#paper-{n}">{e(one_line(p.title))}</a></li>')
    parts += ["</ol>", "</nav>"]
    for n, p in enumerate(digest.papers, 1):
        figure = digest.figure(p)
        parts += html_article(p, n, _html_figure(figure) if figure is not None else "")
    if digest.closing:
        parts.append(f"<footer><p>{e(digest.closing)}</p></footer>")
    parts += ["</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def html_article(p: PaperSummary, n: int, figure: str = "") -> list[str]:
    """One paper of an issue as HTML lines (the page's, and the feed entry's): title,
    authors and link, ``figure`` (HTML, or none), TL;DR, summary; every text escaped."""
    e = html_text
    label, url = paper_link(p)
    meta = f"{e(', '.join(p.authors))} · " if p.authors else ""
    parts = [
        f'<article id="paper-{n}">',
        f"<h2>{e(one_line(p.title))}</h2>",
        f'<p class="meta">{meta}{_html_link(label, url)}</p>',
    ]
    if figure:
        parts.append(figure)
    if p.tldr.strip():
        tldr = with_pages(p, "tldr", lambda t: e(one_line(t)))
        parts.append(f'<p class="tldr"><strong>TL;DR:</strong> {tldr}</p>')
    for role, text in p.paragraphs(with_pages(p)):
        name = ROLE_LABELS.get(role, "")
        lead = f"<strong>{e(name)}:</strong> " if name else ""
        parts += [f"<p>{lead}{para}</p>" for para in html_paragraphs(text)]
    parts.append("</article>")
    return parts


def _html_figure(figure: KeyFigure) -> str:
    """The figure inlined as a data URI, so the page stays one file that opens offline."""
    image = figure.read()
    if image is None:
        return ""  # gone since it was found, a planted link, or no image: the page goes without
    data = base64.b64encode(image[0]).decode("ascii")
    size = f' width="{figure.width}" height="{figure.height}"' if figure.width else ""
    label = html_text(figure.label)
    return (
        f'<figure><img src="data:{image[1]};base64,{data}" alt="{label}"{size}>'
        f"<figcaption>{label}</figcaption></figure>"
    )
