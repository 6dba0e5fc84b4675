"""The ``config`` command's views: every setting, its value and where it came from."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from localdigest.render.console import err, info, out, print_json

SOURCE_STYLE = {
    "flag": "bold magenta",
    "env": "bold cyan",
    "config": "bold green",
    "default": "dim",
}


def _value(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)


def settings_table(
    rows: Sequence[tuple[str, Any, str, str]], path: Path, exists: bool, unknown: Sequence[str]
) -> None:
    """Every setting, its effective value and where it came from."""
    state = "" if exists else " [dim](not created yet — `localdigest config --edit`)[/]"
    info(f"Config file: {escape(str(path))}{state}")
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("setting", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("source", no_wrap=True)
    table.add_column("meaning", style="dim", overflow="fold")
    for name, value, source, help_text in rows:
        style = SOURCE_STYLE.get(source, "")
        table.add_row(name, escape(_value(value)), f"[{style}]{source}[/]", escape(help_text))
    out.print(table)
    for key in unknown:
        err.print(f"[yellow]Warning:[/] '{escape(key)}' in the config file is no setting — ignored")


def settings_json(rows: Sequence[tuple[str, Any, str, str]], path: Path) -> None:
    data = {
        "config_file": str(path),
        "settings": [{"name": n, "value": v, "source": s, "help": h} for n, v, s, h in rows],
    }
    print_json(data)
