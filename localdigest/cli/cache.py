"""``cache info`` and ``cache clear``."""

from __future__ import annotations

from typing import Annotated

import typer

from localdigest.cli.common import answered, handle_errors

cache_app = typer.Typer(help="Inspect or clear the on-disk cache.", no_args_is_help=True)


@cache_app.command("info")
@handle_errors
def cache_info() -> None:
    """Where the cache is, its size and what it holds (and the passage index `ask` reads)."""
    from localdigest import config
    from localdigest.cache import Store
    from localdigest.render import console
    from localdigest.workflows.summarize import open_index

    paths = config.load().paths
    info = Store(paths.cache).info()
    console.out.print(f"Cache: {info['path']}")
    console.out.print(f"Size:  {info['bytes'] / 1e6:.1f} MB")
    for kind, n in sorted(info["entries"].items()):
        console.out.print(f"  {kind}: {n} entries")
    index = open_index(paths)
    papers, passages = index.counts()
    index.close()  # a checkpoint: the file holds everything
    size = index.path.stat().st_size / 1e6
    console.out.print(f"Passages for `ask`: {papers} papers, {passages} passages ({size:.1f} MB)")


@cache_app.command("clear")
@handle_errors
def cache_clear(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Delete every cached note and summary, and the passages `ask` searches (downloaded
    PDFs are kept; `ask` reads them again)."""
    from localdigest import config
    from localdigest.cache import Store
    from localdigest.render import console
    from localdigest.workflows.summarize import open_index

    paths = config.load().paths
    store = Store(paths.cache)
    question = f"Delete everything in {store.directory}?"
    if not yes and not answered(lambda: typer.confirm(question), at_end=False):
        console.out.print("Nothing deleted.")
        return  # declining is an answer, not a failure: exit 0
    removed = store.clear()
    if removed is None:
        console.out.print(f"The cache was damaged: removed it, {store.directory} is a fresh one.")
    else:
        console.out.print(f"Removed {removed} entries.")
    index = open_index(paths)
    papers = index.clear()
    index.close()
    console.out.print(f"Removed the passages of {papers} papers.")


def register(app: typer.Typer) -> None:
    app.add_typer(cache_app, name="cache")
