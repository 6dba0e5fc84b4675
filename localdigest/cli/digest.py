"""``digest`` and ``export``: choose cached summaries, write the newsletter or the notes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from localdigest.cli.common import emit, handle_errors
from localdigest.cli.options import (
    DigestFormat,
    FormatOpt,
    LastOpt,
    NoFiguresOpt,
    PaperIdsArg,
    SinceOpt,
    parse_day,
)
from localdigest.errors import UsageError


def digest(
    ids: PaperIdsArg = None,
    since: SinceOpt = None,
    last: LastOpt = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: print).")
    ] = None,
    fmt: Annotated[
        DigestFormat | None,
        typer.Option("--format", "-f", help="markdown, json or html (default: by suffix)."),
    ] = None,
    audio: Annotated[
        Path | None,
        typer.Option(metavar="FILE.wav", help="Also read it aloud into a WAV file (espeak-ng)."),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Newsletter name (config: newsletter_name).")
    ] = None,
    closing: Annotated[str | None, typer.Option(help="Closing line (config: closing).")] = None,
    no_figures: NoFiguresOpt = False,
) -> None:
    """Write a newsletter from cached summaries (default: all summarized since the last digest).

    An opening line with the newsletter's name and the period, "This article was written
    by <model> on <date>.", an "In this issue" list, one "# <title>" section per paper
    (authors, arXiv or file link, the paper's key figure, TL;DR, summary) and a closing
    line. The HTML page embeds the figures, so it is one file that opens offline. Written
    to a file (-o), the issue also goes first in the Atom feed beside it (feed.xml).

    Examples:

      localdigest digest -o digest.md

      localdigest digest --last 5 --format html -o digest.html

      localdigest digest 1706.03762 1810.04805 --audio digest.wav
    """
    from localdigest import config
    from localdigest.fsutil import check_output
    from localdigest.publish import digest as newsletter
    from localdigest.publish.formats import format_for
    from localdigest.render import console
    from localdigest.workflows import digest as workflow

    if output is not None:
        output = check_output(output)
    if audio is not None:
        audio = check_output(audio, "--audio")
    cfg = config.load(newsletter_name=name, closing=closing)
    chosen = workflow.Selection(ids or (), parse_day(since), last)
    issue = workflow.compose(cfg, chosen, figures=not no_figures, on_damage=console.warning)
    emit(newsletter.render(issue, format_for(output, fmt)), output)
    if output is not None:
        workflow.update_feed(issue, output, on_damage=console.warning)
    if audio is not None:
        _speak(newsletter.to_markdown(issue), audio)
    workflow.remember_digest(cfg.paths, issue.papers)


def _speak(markdown: str, path: Path) -> None:
    from localdigest.publish import audio
    from localdigest.render import console

    written = audio.synthesize(audio.speech_text(markdown), path)
    console.info(f"Wrote {written} ({written.stat().st_size / 1e6:.1f} MB)")


def export(
    ids: PaperIdsArg = None,
    notes: Annotated[
        Path | None,
        typer.Option("--notes", help="Vault folder for the notes (config: notes_dir)."),
    ] = None,
    bibtex: Annotated[
        Path | None,
        typer.Option(
            "--bibtex",
            metavar="FILE",
            help="Write a BibTeX entry per paper to FILE (notes then only with --notes).",
        ),
    ] = None,
    copy_pdf: Annotated[
        bool, typer.Option("--copy-pdf", help="Copy each PDF into <notes>/attachments/.")
    ] = False,
    since: SinceOpt = None,
    last: LastOpt = None,
    no_figures: NoFiguresOpt = False,
    fmt: FormatOpt = "table",
) -> None:
    """Export summaries as Markdown notes (YAML front matter) for a vault such as Obsidian,
    or as BibTeX entries.

    One note per paper, named after its title, with its BibTeX citation key (citekey).
    Re-exporting updates each note in place (found by its arXiv id or PDF hash), keeping
    what you wrote below the marker line. --bibtex FILE writes an entry per paper (arXiv's
    eprint fields) under the same keys.

    Examples:

      localdigest export --notes ~/Vault/Papers --copy-pdf

      localdigest export --bibtex papers.bib --last 10

      localdigest export --notes ~/Vault/Papers --last 5 --format json
    """
    from localdigest import config
    from localdigest.fsutil import check_folder, check_output
    from localdigest.render import console
    from localdigest.render.notes import notes_results
    from localdigest.workflows import digest as workflow

    cfg = config.load(notes_dir=notes)
    # The configured notes folder is the default of plain `export`; with --bibtex only
    # a --notes given here writes notes too.
    folder = notes if bibtex is not None else cfg.notes_dir
    if folder is None and bibtex is None:
        raise UsageError(
            "Where to? Give --notes DIR or --bibtex FILE, or set notes_dir in the config file"
        )
    if folder is not None:
        check_folder(folder, "--notes")
    if bibtex is not None:
        bibtex = check_output(bibtex, "--bibtex")
    papers = workflow.chosen_papers(cfg, workflow.Selection(ids or (), parse_day(since), last))
    results = []
    if folder is not None:
        results = workflow.export(cfg, papers, folder, copy_pdf=copy_pdf, figures=not no_figures)
    entries = workflow.export_bibtex(cfg, papers, bibtex) if bibtex is not None else 0
    if fmt == "json":
        console.print_json(
            {
                "notes": [r.to_dict() for r in results],
                "bibtex": {"path": str(bibtex), "entries": entries} if bibtex else None,
            }
        )
        return
    if folder is not None:
        notes_results(results)
    if bibtex is not None:
        console.info(f"Wrote {entries} BibTeX entries to {bibtex}")


def register(app: typer.Typer) -> None:
    app.command("digest")(handle_errors(digest))
    app.command("export")(handle_errors(export))
