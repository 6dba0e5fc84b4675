"""The command line is a promise to users: every command and option stays.

``fixtures/cli_surface.json`` pins each command (and subcommand) with its parameters: the
flags, whether each is required, its default and whether it takes several values. A
change that drops or renames one fails here. A change that adds one on purpose regenerates
the file with ``LOCALDIGEST_REGEN_SURFACE=1 pytest tests/test_cli_surface.py``; an added
option is listed by the test so the commit can say why.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer.main

from localdigest.cli import app

FIXTURE = Path(__file__).with_name("fixtures") / "cli_surface.json"


def _default(value: Any) -> Any:
    if callable(value):
        return "<callable>"
    if isinstance(value, list | tuple):
        return [_default(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _params(command: Any) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for p in command.params:
        if p.name is None:
            continue
        params[p.name] = {
            "kind": p.param_type_name,  # argument or option
            "flags": sorted([*p.opts, *p.secondary_opts]),
            "required": p.required,
            "multiple": bool(p.multiple or p.nargs == -1),
            "default": _default(p.default),
        }
    return params


def surface() -> dict[str, Any]:
    """Every command path (``models pull``) -> its parameters."""
    root = typer.main.get_command(app)
    found: dict[str, Any] = {}

    # Typer vendors its own click: commands and groups are recognised by what they have.
    def walk(command: Any, path: str) -> None:
        found[path or "(root)"] = _params(command)
        if hasattr(command, "commands"):
            for name, sub in sorted(command.commands.items()):
                walk(sub, f"{path} {name}".strip())

    walk(root, "")
    return found


def test_no_command_or_option_is_lost() -> None:
    current = surface()
    if os.environ.get("LOCALDIGEST_REGEN_SURFACE") == "1":
        FIXTURE.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    pinned = json.loads(FIXTURE.read_text())
    lost = [
        f"{cmd} {name}".strip()
        for cmd, params in pinned.items()
        for name in (params if cmd in current else ["(the command)"])
        if cmd not in current or name not in current[cmd]
    ]
    assert lost == []
    changed = [
        f"{cmd} {name}: {params[name]} -> {current[cmd][name]}"
        for cmd, params in pinned.items()
        for name in params
        if params[name] != current[cmd][name]
    ]
    assert changed == []
    added = sorted(
        f"{cmd} {name}".strip()
        for cmd, params in current.items()
        for name in params
        if name not in pinned.get(cmd, {})
    )
    assert added == [], "new commands or options: regenerate the fixture and say why"
