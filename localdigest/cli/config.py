"""``config``: every effective setting and where it came from; ``--edit`` opens the file;
``config set KEY VALUE`` writes one setting into it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from typing import Annotated

import typer

from localdigest import config as settings
from localdigest.cli.common import handle_errors
from localdigest.cli.options import TableFormat
from localdigest.errors import UsageError

config_app = typer.Typer(invoke_without_command=True)


@config_app.callback(invoke_without_command=True)
@handle_errors
def config(
    ctx: typer.Context,
    path: Annotated[bool, typer.Option("--path", help="Print the config file's path.")] = False,
    edit: Annotated[
        bool, typer.Option("--edit", help="Open it in $EDITOR (created with commented defaults).")
    ] = False,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="NAME=VALUE", help="Show the effect of this flag value."),
    ] = None,
    fmt: Annotated[TableFormat, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Show every effective setting and where it came from: flag, env, config or default.

    Precedence: flag > LOCALDIGEST_<NAME> environment variable > config file > default.
    --set NAME=VALUE shows what a command given that flag would use; `config set NAME
    VALUE` writes it into the file.
    """
    if ctx.invoked_subcommand is not None:
        return
    from localdigest.render.settings import settings_json, settings_table

    if path:
        typer.echo(str(settings.config_path()))
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
        flags[key] = settings.parse_value(key, raw)
    rows = settings.describe(flags)
    cfg = settings.config_path()
    if fmt == "json":
        settings_json(rows, cfg)
    else:
        settings_table(rows, cfg, cfg.exists(), settings.unknown_config_keys())


# A value may start with a dash (`gpu_layers -1`): it is the value, not an option.
@config_app.command("set", context_settings={"ignore_unknown_options": True})
@handle_errors
def set_value(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The setting, e.g. max_tokens.")],
    value: Annotated[
        str,
        typer.Argument(metavar="VALUE", help="Its value, as its environment variable takes it."),
    ],
) -> None:
    """Write one setting into the config file (created if missing), keeping its comments.

    The value is read as LOCALDIGEST_<NAME> reads it (lists: comma-separated) and checked
    before the file is replaced; a bad value leaves the file as it was (exit 2).

    Examples:

      localdigest config set max_tokens 300

      localdigest config set categories cs.CL,cs.LG
    """
    from localdigest.render import console

    key = name.strip().replace("-", "_")
    parsed = settings.parse_value(key, value, f"config set {key} {value!r}")
    file = settings.set_in_file(key, parsed)
    console.info(f"Wrote {key} into {file}")


def _edit_config() -> None:
    from localdigest.render import console

    file, created = settings.ensure_config_file()
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
    settings.check_config_file()  # a broken file or value is reported now, not later
    unknown = settings.unknown_config_keys()
    for key in unknown:
        console.warning(f"'{key}' in {file} is no setting — it is ignored")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
