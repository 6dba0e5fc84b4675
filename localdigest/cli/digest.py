"""``digest`` and ``export``: choose cached summaries, write the newsletter or the notes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from localdigest.cli.common import emit, handle_errors
from localdigest.cli.options import (
    DigestFormat,
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
    from localdigest.cache import cached_summaries
    from localdigest.fsutil import check_output
    from localdigest.publish import digest as newsletter
    from localdigest.publish.formats import format_for

    if output is not None:
        output = check_output(output)
    if audio is not None:
        audio = check_output(audio, "--audio")
    since_day = parse_day(since)
    from localdigest.render import console

    previous = newsletter.last_digest_time(on_damage=console.warning)
    default_selection = not ids and since_day is None and last is None
    papers = newsletter.select(
        cached_summaries(), ids=ids or (), since=since_day, last=last, after=previous
    )
    if not papers:
        if default_selection and previous is not None:
            raise UsageError(
                f"No papers summarized since the last digest ({previous:%Y-%m-%d %H:%M} UTC) — "
                "summarize some, or choose with IDS, --since DATE or --last N"
            )
        raise UsageError(
            "No cached summaries match — run `localdigest summarize` or `localdigest run` first"
        )
    period_start = since_day or (previous.date() if default_selection and previous else None)
    issue = newsletter.build(
        papers, since=period_start, name=name, closing=closing, figures=not no_figures
    )
    emit(newsletter.render(issue, format_for(output, fmt)), output)
    if audio is not None:
        _speak(newsletter.to_markdown(issue), audio)
    newsletter.remember_digest(papers)


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
) -> None:
    """Export summaries as Markdown notes (YAML front matter) for a vault such as Obsidian.

    One note per paper, named after its title. Re-exporting updates each note in place
    (found by its arXiv id or PDF hash), keeping what you wrote below the marker line.

    Example: localdigest export --notes ~/Vault/Papers --copy-pdf
    """
    from localdigest import config
    from localdigest.cache import cached_summaries
    from localdigest.fsutil import check_folder
    from localdigest.publish import digest as newsletter
    from localdigest.publish.notes import export_notes, library_extras
    from localdigest.render.notes import notes_results

    folder = config.value("notes_dir", notes)
    if not folder:
        raise UsageError("Where to? Give --notes DIR, or set notes_dir in the config file")
    check_folder(Path(folder), "--notes")
    papers = newsletter.select(cached_summaries(), ids=ids or (), since=parse_day(since), last=last)
    if not papers:
        raise UsageError("No cached summaries match — run `localdigest summarize` first")
    results = export_notes(
        papers,
        Path(folder),
        copy_pdf=copy_pdf,
        extras=library_extras(papers),
        figures=not no_figures,
    )
    notes_results(results)


def register(app: typer.Typer) -> None:
    app.command("digest")(handle_errors(digest))
    app.command("export")(handle_errors(export))
