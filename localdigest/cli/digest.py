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
    line. The HTML page embeds the figures, so it is one file that opens offline.

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
    copy_pdf: Annotated[
        bool, typer.Option("--copy-pdf", help="Copy each PDF into <notes>/attachments/.")
    ] = False,
    since: SinceOpt = None,
    last: LastOpt = None,
    no_figures: NoFiguresOpt = False,
    fmt: FormatOpt = "table",
) -> None:
    """Export summaries as Markdown notes (YAML front matter) for a vault such as Obsidian.

    One note per paper, named after its title. Re-exporting updates each note in place
    (found by its arXiv id or PDF hash), keeping what you wrote below the marker line.

    Examples:

      localdigest export --notes ~/Vault/Papers --copy-pdf

      localdigest export --notes ~/Vault/Papers --last 5 --format json
    """
    from localdigest import config
    from localdigest.fsutil import check_folder
    from localdigest.render.console import print_json
    from localdigest.render.notes import notes_results
    from localdigest.workflows import digest as workflow

    cfg = config.load(notes_dir=notes)
    if cfg.notes_dir is None:
        raise UsageError("Where to? Give --notes DIR, or set notes_dir in the config file")
    check_folder(cfg.notes_dir, "--notes")
    chosen = workflow.Selection(ids or (), parse_day(since), last)
    results = workflow.export(cfg, chosen, cfg.notes_dir, copy_pdf=copy_pdf, figures=not no_figures)
    if fmt == "json":
        print_json([r.to_dict() for r in results])
    else:
        notes_results(results)


def register(app: typer.Typer) -> None:
    app.command("digest")(handle_errors(digest))
    app.command("export")(handle_errors(export))
