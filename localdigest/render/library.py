"""The reader's library on the terminal: what an import did, what came from where, and
what is followed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from localdigest.render import console

if TYPE_CHECKING:
    from localdigest.sources.imported import Source
    from localdigest.workflows.library import Followed, ImportResult


def import_results(results: Sequence[ImportResult]) -> None:
    """One line per source imported; a source that failed in red on stderr."""
    for r in results:
        if r.error is not None:
            console.error(r.error.message)
            continue
        changes = f"{r.new} new" + (f", {r.gone} gone from the source" if r.gone else "")
        console.out.print(
            f"{escape(str(r.path))}  [dim]{r.kind}[/]  {r.items} items ({changes})",
            highlight=False,
            soft_wrap=True,
        )
        for skipped in r.skipped:
            console.warning(f"skipped {skipped}")


def sources_table(sources: Sequence[Source], where: str) -> None:
    """What the imported library holds, by source."""
    if not sources:
        console.info(
            "Nothing imported yet — `localdigest library import refs.bib` (or a CSL-JSON "
            "export, zotero.sqlite, a folder of PDFs)"
        )
        return
    table = Table(title=f"Imported library ({escape(where)})", title_justify="left")
    table.add_column("source", overflow="fold")
    table.add_column("kind")
    table.add_column("items", justify="right")
    table.add_column("with abstract", justify="right")
    table.add_column("imported")
    for s in sources:
        abstracts = sum(1 for i in s.items if i.abstract)
        when = s.imported_at[:16].replace("T", " ")
        table.add_row(escape(s.path), s.kind, str(len(s.items)), str(abstracts), when)
    console.out.print(table)


def followed(result: Followed) -> None:
    authors = ", ".join(result.authors) or "none"
    keywords = ", ".join(f'"{k}"' for k in result.keywords) or "none"
    console.out.print(f"Authors followed: {escape(authors)}", highlight=False, soft_wrap=True)
    console.out.print(f"Keywords followed: {escape(keywords)}", highlight=False, soft_wrap=True)
    if result.file is not None:
        console.info(f"Saved in {result.file}")
    for env in result.overridden:
        console.warning(f"{env} is set and overrides the config file — unset it to use these")
