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
    table.add_column("Model", overflow="fold", ratio=1)
    for col in ("Size", "Arch", "Quant", "Context", "Template"):
        table.add_column(col, no_wrap=True)
    for r in rows:
        name = f"[bold]{escape(r['name'])}[/]"
        if r["default"]:
            name += " [green](default)[/]"
        if r["embedded"]:
            name += " [dim](embedded)[/]"
        name += f"\n[dim]{escape(str(r['path']))}[/]"
        size = f"{r['size'] / 1e6:.0f} MB"
        if r.get("error"):
            table.add_row(f"{name}\n[red]{escape(r['error'])}[/]", size, "[red]unusable[/]")
            continue
        table.add_row(
            name,
            size,
            r["architecture"],
            r["quantization"],
            str(r["context"] or "?"),
            "chat" if r["chat_template"] else "plain",
        )
    out.print(table)
