"""What ``export`` (and ``run --notes``) did to each note."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.markup import escape

from localdigest.render.console import err, info, out

if TYPE_CHECKING:
    from localdigest.publish.notes import NoteResult


def notes_results(results: Sequence[NoteResult]) -> None:
    styles = {"created": "green", "updated": "cyan", "unchanged": "dim"}
    for r in results:
        style = styles[r.status]
        out.print(
            f"[{style}]{r.status:9}[/] {escape(str(r.path))}", highlight=False, soft_wrap=True
        )
        if r.warning:
            err.print(f"[yellow]Warning:[/] {escape(r.warning)}", highlight=False, soft_wrap=True)
    counts = {k: sum(r.status == k for r in results) for k in styles}
    info(
        f"{len(results)} notes: {counts['created']} created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged"
    )
