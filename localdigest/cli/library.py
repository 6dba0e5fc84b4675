"""``library`` (list, ``import``, ``remove``) and ``follow``: the reader's own library and
what they follow, which rank every listing (``search``, ``run``)."""

from __future__ import annotations

from typing import Annotated

import typer

from localdigest.cli.common import handle_errors
from localdigest.cli.options import TableFormat
from localdigest.errors import ExitCode

FormatOpt = Annotated[TableFormat, typer.Option("--format", help="A table, or JSON for scripts.")]

library_app = typer.Typer(
    help="Your own library (BibTeX, CSL-JSON, Zotero, PDFs): what ranks each listing.",
)


@library_app.callback(invoke_without_command=True)
@handle_errors
def library(ctx: typer.Context, output: FormatOpt = "table") -> None:
    """List what your imported library holds: each source, its kind and how many items.

    Examples: localdigest library; localdigest library --format json
    """
    if ctx.invoked_subcommand is not None:
        return
    from localdigest import config
    from localdigest.render import console
    from localdigest.render import library as render
    from localdigest.workflows import library as workflow

    cfg = config.load()
    sources = workflow.sources(cfg, on_damage=console.warning)
    if output == "json":
        render.print_json(
            {
                "file": str(cfg.paths.data / "imported-library.json"),
                "items": sum(len(s.items) for s in sources),
                "sources": [
                    {
                        "path": s.path,
                        "kind": s.kind,
                        "items": len(s.items),
                        "imported_at": s.imported_at,
                    }
                    for s in sources
                ],
            }
        )
    else:
        render.sources_table(sources, str(cfg.paths.data / "imported-library.json"))


@library_app.command("import")
@handle_errors
def library_import(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[SOURCE]...",
            help="A BibTeX file (.bib), a CSL-JSON export (.json), Zotero's zotero.sqlite or "
            "a folder of PDFs (default: ~/Zotero/zotero.sqlite).",
        ),
    ] = None,
    output: FormatOpt = "table",
) -> None:
    """Import your reference library: its titles, abstracts, authors and keywords rank
    every listing (`search`, `run`).

    Importing a source again replaces what it gave before (nothing is doubled; what you
    removed there goes). Zotero's database is read without disturbing a running Zotero.
    Exit code 3 if some sources could not be read (the others are still imported).

    Examples: localdigest library import refs.bib; localdigest library import
    ~/Zotero/zotero.sqlite papers/
    """
    from localdigest import config
    from localdigest.render import console
    from localdigest.render import library as render
    from localdigest.workflows import library as workflow

    results = workflow.import_sources(config.load(), sources or [], on_damage=console.warning)
    if output == "json":
        render.print_json([r.to_dict() for r in results])
    else:
        render.import_results(results)
    if any(r.error is not None for r in results):
        raise typer.Exit(int(ExitCode.INPUT))


@library_app.command("remove")
@handle_errors
def library_remove(
    source: Annotated[str, typer.Argument(help="The source as `localdigest library` lists it.")],
) -> None:
    """Forget an imported source (the source itself is not touched).

    Example: localdigest library remove ~/refs.bib
    """
    from localdigest import config
    from localdigest.render import console
    from localdigest.workflows import library as workflow

    gone = workflow.forget(config.load(), source)
    console.info(f"Removed {gone.path} ({len(gone.items)} items) from the imported library")


def follow(
    keywords: Annotated[
        list[str] | None,
        typer.Argument(metavar="[KEYWORD]...", help="Phrases to follow (quote several words)."),
    ] = None,
    author: Annotated[
        list[str] | None,
        typer.Option("--author", "-a", help="An author to follow; repeat for several."),
    ] = None,
    remove: Annotated[
        bool, typer.Option("--remove", help="Stop following these authors and keywords.")
    ] = False,
    output: FormatOpt = "table",
) -> None:
    """Follow authors and keywords: their papers rank first in `search` and `run`, with
    the reason among the matched terms ("by Tri Dao", "\\"state space\\"").

    Kept in the config file as the settings `authors` and `keywords`. Without arguments:
    what you follow now. A name matches by last name and first initial (accents and case
    aside); a last name alone matches any first name. Keywords match as whole words in the
    title or abstract; `exclude` still hides a paper that has one.

    Examples: localdigest follow "state space model" --author "Tri Dao";
    localdigest follow --remove --author Dao
    """
    from localdigest import config
    from localdigest.render import library as render
    from localdigest.workflows import library as workflow

    result = workflow.follow(config.load(), author or [], keywords or [], remove=remove)
    if output == "json":
        render.print_json(result.to_dict())
    else:
        render.followed(result)


def register(app: typer.Typer) -> None:
    app.add_typer(library_app, name="library")
    app.command("follow")(handle_errors(follow))
