"""The `localdigest models` table."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from localdigest.render.console import out


def models_table(rows: Sequence[dict[str, Any]], models_dir: Path) -> None:
    table = Table(title=f"Models (folder: {escape(str(models_dir))})", expand=True)
    for col in ("", "Name", "Size", "Arch", "Quant", "Context", "Chat template", "Path"):
        table.add_column(col, overflow="fold")
    for r in rows:
        mark = "[green]default[/]" if r["default"] else ""
        size = f"{r['size'] / 1e6:.0f} MB"
        if r.get("error"):
            table.add_row(
                mark, escape(r["name"]), size, "[red]unusable[/]", "", "", "", escape(r["error"])
            )
            continue
        name = escape(r["name"]) + (" [dim](embedded)[/]" if r["embedded"] else "")
        table.add_row(
            mark,
            name,
            size,
            r["architecture"],
            r["quantization"],
            str(r["context"] or "?"),
            "yes" if r["chat_template"] else "no (plain)",
            escape(str(r["path"])),
        )
    out.print(table)
