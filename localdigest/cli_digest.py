"""The ``digest``, ``export``, ``run`` and ``config`` commands: parse, call the core, render.

``register(app)`` adds them to the main Typer app. The work happens in
``localdigest.digest``, ``notes``, ``routine``, ``audio`` and ``config``; terminal output in
``localdigest.render.digest``. Heavy modules are imported inside the commands so that
``localdigest --help`` stays instant.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import subprocess
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from localdigest.errors import UsageError

if TYPE_CHECKING:
    from localdigest.routine import Plan


class DigestFormat(StrEnum):
    markdown = "markdown"
    json = "json"
    html = "html"


class ConfigFormat(StrEnum):
    table = "table"
    json = "json"


def parse_day(text: str | None, flag: str = "--since") -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a date — use YYYY-MM-DD") from None


def interactive() -> bool:
    """Whether we may ask questions: stdin is a terminal."""
    return sys.stdin.isatty()


# ----------------------------------------------------------------------------- digest


# Options shared by `digest` and `export` (which papers to take).
SinceOption = Annotated[
    str | None, typer.Option(metavar="YYYY-MM-DD", help="Papers summarized since this day.")
]
LastOption = Annotated[
    int | None, typer.Option(metavar="N", help="The N papers summarized most recently.")
]


def digest_command(
    ids: Annotated[
        list[str] | None,
        typer.Argument(help="Papers: key prefix, arXiv id, sha256 prefix or title words."),
    ] = None,
    since: SinceOption = None,
    last: LastOption = None,
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
) -> None:
    """Write a newsletter from cached summaries (default: all summarized since the last digest).

    An opening line with the newsletter's name and the period, "This article was written
    by <model> on <date>.", an "In this issue" list, one "# <title>" section per paper
    (authors, arXiv or file link, TL;DR, summary) and a closing line.

    Examples:

      localdigest digest -o digest.md

      localdigest digest --last 5 --format html -o digest.html

      localdigest digest 1706.03762 1810.04805 --audio digest.wav
    """
    from localdigest import digest, pipeline
    from localdigest.cli import emit

    since_day = parse_day(since)
    previous = digest.last_digest_time()
    default_selection = not ids and since_day is None and last is None
    papers = digest.select(
        pipeline.cached_summaries(), ids=ids or (), since=since_day, last=last, after=previous
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
    issue = digest.build(papers, since=period_start, name=name, closing=closing)
    fmt_name = digest.format_for(output, fmt.value if fmt else None)
    emit(digest.render(issue, fmt_name), output)
    if audio is not None:
        _speak(digest.to_markdown(issue), audio)
    digest.remember_digest(papers)


def _speak(markdown: str, path: Path) -> None:
    from localdigest import audio
    from localdigest.render import console

    written = audio.synthesize(audio.speech_text(markdown), path)
    console.info(f"Wrote {written} ({written.stat().st_size / 1e6:.1f} MB)")


# ----------------------------------------------------------------------------- export


def export_command(
    ids: Annotated[
        list[str] | None,
        typer.Argument(help="Papers: key prefix, arXiv id, sha256 prefix or title words."),
    ] = None,
    notes: Annotated[
        Path | None,
        typer.Option("--notes", help="Vault folder for the notes (config: notes_dir)."),
    ] = None,
    copy_pdf: Annotated[
        bool, typer.Option("--copy-pdf", help="Copy each PDF into <notes>/attachments/.")
    ] = False,
    since: SinceOption = None,
    last: LastOption = None,
) -> None:
    """Export summaries as Markdown notes (YAML front matter) for a vault such as Obsidian.

    One note per paper, named after its title. Re-exporting updates each note in place
    (found by its arXiv id or PDF hash), keeping what you wrote below the marker line.

    Example: localdigest export --notes ~/Vault/Papers --copy-pdf
    """
    from localdigest import config, digest, pipeline
    from localdigest import notes as notes_mod
    from localdigest.render.digest import notes_results

    folder = config.value("notes_dir", notes)
    if not folder:
        raise UsageError("Where to? Give --notes DIR, or set notes_dir in the config file")
    papers = digest.select(
        pipeline.cached_summaries(), ids=ids or (), since=parse_day(since), last=last
    )
    if not papers:
        raise UsageError("No cached summaries match — run `localdigest summarize` first")
    results = notes_mod.export_notes(
        papers,
        Path(folder),
        copy_pdf=copy_pdf,
        extras=notes_mod.library_extras(papers),
    )
    notes_results(results)


# ----------------------------------------------------------------------------- run


def run_command(
    terms: Annotated[
        list[str] | None, typer.Argument(help="Search words (default: whole categories).")
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option("--category", "-c", help="arXiv category (config: categories)."),
    ] = None,
    include: Annotated[
        list[str] | None, typer.Option(help="Phrase a paper must mention (config: include).")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="Phrase that hides a paper (config: exclude).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help="Only papers submitted since.")
    ] = None,
    max_results: Annotated[
        int | None, typer.Option("--max", min=1, help="Most papers to list (config: run_max).")
    ] = None,
    include_seen: Annotated[
        bool, typer.Option("--include-seen", help="Also list papers earlier searches showed.")
    ] = False,
    pick: Annotated[
        str | None, typer.Option(metavar="1,4,7", help="Summarize these numbers of the list.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Summarize every paper listed.")] = False,
    top: Annotated[
        int | None, typer.Option(metavar="N", min=1, help="Summarize the first N listed.")
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(help="Folder for digest-YYYY-MM-DD.md (config: digest_dir, default .)."),
    ] = None,
    notes: Annotated[
        Path | None, typer.Option("--notes", help="Also export notes here (config: notes_dir).")
    ] = None,
    restart: Annotated[
        bool, typer.Option("--restart", help="Drop an unfinished run instead of resuming it.")
    ] = False,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="GGUF path or name in the models folder.")
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option(help="Most tokens in each summary paragraph.")
    ] = None,
    n_ctx: Annotated[int | None, typer.Option(help="Context size.")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads.")] = None,
    gpu_layers: Annotated[int | None, typer.Option(help="Layers offloaded to the GPU.")] = None,
) -> None:
    """The weekly routine: search arXiv -> choose -> fetch -> summarize -> dated digest.

    Searches the configured categories (with include/exclude) for papers no earlier search
    listed, lets you pick from a numbered list (or --pick 1,4,7, --all, --top N), then
    fetches, summarizes and writes digest-YYYY-MM-DD.md. Stopped half-way? Run it again:
    it resumes the same run, reusing fetched PDFs and cached summaries.

    Examples:

      localdigest run

      localdigest run -c cs.CL --include "retrieval" --top 3 --out-dir ~/digests
    """
    from localdigest import routine
    from localdigest.render import console

    chosen_ways = sum([pick is not None, all_, top is not None])
    if chosen_ways > 1:
        raise UsageError("Choose papers one way: --pick, --all or --top")
    if restart and routine.discard_unfinished():
        console.info("Dropped the unfinished run.")
    plan = routine.load_unfinished()
    if plan is not None:
        console.info(_resume_message(plan))
    if (plan is None or plan.picks is None) and chosen_ways == 0 and not interactive():
        raise UsageError(
            "No terminal to ask which papers to summarize — use --pick 1,4,7, --all or --top N"
        )
    if plan is None:
        from localdigest.sources.listing import SearchSpec

        spec = SearchSpec(
            terms=list(terms or []),
            categories=category,
            include=include,
            exclude=exclude,
            since=parse_day(since),
            max_results=max_results,
            only_new=not include_seen,
        )
        plan = routine.search(spec)
        if not plan.papers:
            console.info("No new papers since your last search — nothing to do.")
            return
    if plan.picks is None:
        _show_list(plan)
        picks = _picks(plan, pick, all_, top)
        routine.choose(plan, picks)
    if not plan.picks:
        plan.done = True
        routine.save(plan)
        console.info("Nothing chosen — no digest written.")
        return
    _run_chosen(plan, out_dir, notes, model, max_tokens, n_ctx, threads, gpu_layers)


def _resume_message(plan: Plan) -> str:
    started = plan.started[:16].replace("T", " ")
    if plan.picks is None:
        return f"Resuming the run started {started}: {len(plan.papers)} papers listed."
    return (
        f"Resuming the run started {started}: {len(plan.picks)} chosen papers "
        "(use --restart to start over)."
    )


def _show_list(plan: Plan) -> None:
    from localdigest.render import arxiv as render
    from localdigest.sources import library

    states = {p.arxiv_id: library.local_state(p.arxiv_id) for p in plan.papers}
    render.print_search_results(plan.papers, states)


def _picks(plan: Plan, pick: str | None, all_: bool, top: int | None) -> list[int]:
    from localdigest import routine
    from localdigest.render import console

    count = len(plan.papers)
    if pick is not None:
        return routine.parse_pick(pick, count)
    if all_:
        return list(range(1, count + 1))
    if top is not None:
        return list(range(1, min(top, count) + 1))
    while True:
        answer = typer.prompt(
            "Which papers? (e.g. 1,4,7 or 2-5, all, none)", default="none", show_default=False
        )
        try:
            return routine.parse_pick(answer, count)
        except UsageError as e:
            console.warning(e.message)


def _run_chosen(
    plan: Plan,
    out_dir: Path | None,
    notes: Path | None,
    model: str | None,
    max_tokens: int | None,
    n_ctx: int | None,
    threads: int | None,
    gpu_layers: int | None,
) -> None:
    from localdigest import config, pipeline, routine
    from localdigest.cli import summarize_with_progress
    from localdigest.render import arxiv as render_arxiv
    from localdigest.render import console

    with render_arxiv.download_progress() as progress:
        fetched = routine.fetch(plan, progress)
    for r in fetched:
        if r.error is not None:
            console.warning(f"{r.input}: {r.error.message}")
    request = pipeline.SummarizeRequest(
        sources=routine.summarize_sources(fetched),
        model=model,
        n_ctx=n_ctx,
        gpu_layers=gpu_layers,
        threads=threads,
        max_tokens=max_tokens,
    )
    results = summarize_with_progress(request)
    for r in results:
        if not pipeline.succeeded(r):
            console.warning(f"{r.source}: {getattr(r, 'error', 'failed')}")
    entries = [r.entry for r in fetched if r.entry is not None]
    papers = routine.with_metadata(results, entries)
    path = routine.finish(plan, papers, out_dir)
    console.info(f"Wrote the digest of {len(papers)} papers: {path}")
    folder = config.value("notes_dir", notes)
    if folder:
        from localdigest import notes as notes_mod
        from localdigest.render.digest import notes_results

        notes_results(
            notes_mod.export_notes(papers, Path(folder), extras=notes_mod.library_extras(papers))
        )
    error = routine.exit_error(fetched, results)
    if error is not None:
        console.error(error.message)
        raise typer.Exit(int(error.exit_code))


# ----------------------------------------------------------------------------- config


def config_command(
    path: Annotated[bool, typer.Option("--path", help="Print the config file's path.")] = False,
    edit: Annotated[
        bool, typer.Option("--edit", help="Open it in $EDITOR (created with commented defaults).")
    ] = False,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="NAME=VALUE", help="Show the effect of this flag value."),
    ] = None,
    fmt: Annotated[ConfigFormat, typer.Option("--format", "-f", help="table or json.")] = (
        ConfigFormat.table
    ),
) -> None:
    """Show every effective setting and where it came from: flag, env, config or default.

    Precedence: flag > LOCALDIGEST_<NAME> environment variable > config file > default.
    --set NAME=VALUE shows what a command given that flag would use.
    """
    from localdigest import config
    from localdigest.render.digest import settings_json, settings_table

    if path:
        typer.echo(str(config.config_path()))
        return
    if edit:
        _edit_config()
        return
    flags = {}
    for item in set_ or []:
        name, eq, raw = item.partition("=")
        if not eq:
            raise UsageError(f"--set {item!r}: use NAME=VALUE, e.g. --set max_tokens=200")
        key = name.strip().replace("-", "_")
        flags[key] = config.parse_value(key, raw)
    rows = config.describe(flags)
    cfg = config.config_path()
    if fmt is ConfigFormat.json:
        settings_json(rows, cfg)
    else:
        settings_table(rows, cfg, cfg.exists(), config.unknown_config_keys())


def _edit_config() -> None:
    from localdigest import config
    from localdigest.render import console

    file, created = config.ensure_config_file()
    if created:
        console.info(f"Created {file} with every default commented out.")
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        fallback = next((e for e in ("nano", "vi") if shutil.which(e)), None)
        if fallback is None:
            raise UsageError(f"Set $EDITOR to your editor, or edit {file} by hand")
        editor = fallback
    try:
        code = subprocess.run([*shlex.split(editor), str(file)], check=False).returncode
    except OSError as e:
        raise UsageError(f"Cannot start the editor {editor!r} ({e}) — fix $EDITOR") from e
    if code != 0:
        raise UsageError(f"The editor {editor!r} exited with {code}; {file} is as it left it")
    config.config_file_values()  # a broken file is reported now, not by the next command
    unknown = config.unknown_config_keys()
    for key in unknown:
        console.warning(f"'{key}' in {file} is no setting — it is ignored")


def register(app: typer.Typer) -> None:
    """Add ``digest``, ``export``, ``run`` and ``config`` to ``app``."""
    from localdigest.cli import handle_errors

    app.command("digest")(handle_errors(digest_command))
    app.command("export")(handle_errors(export_command))
    app.command("run")(handle_errors(run_command))
    app.command("config")(handle_errors(config_command))
