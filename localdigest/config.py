"""Settings and where each one came from.

Precedence, highest first: command-line flag > ``LOCALDIGEST_*`` environment variable >
config file (TOML, ``config_path()``) > built-in default. ``resolve`` returns the value
together with its source so ``localdigest config`` can show both.

Every value goes through one check, whatever its source (``Setting.check``): its type
(a whole number, a number, text, a list of texts) and its range, declared once below. A
bad value is a ``UsageError`` (exit 2) naming the setting as it was given
(``--threads 0``, ``LOCALDIGEST_THREADS=-5``, ``threads = "many"`` in the file), the value
and what is expected.
"""

from __future__ import annotations

import contextlib
import math
import os
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, get_args

from localdigest import defaults
from localdigest.errors import UsageError
from localdigest.fsutil import DAMAGED_SUFFIX, write_atomically
from localdigest.papers import ModeSetting, Style

APP_NAME = "localdigest"
# The server's API key: read from the environment only, sent as a bearer token, never
# written anywhere (not a setting, so `localdigest config` never shows it).
API_KEY_ENV = "LOCALDIGEST_API_KEY"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    kind: type = str  # str, int, float, bool or list (of str): how values are parsed, checked
    low: float | None = None  # smallest value allowed (numbers)
    high: float | None = None  # largest value allowed (numbers)
    flag: str = ""  # the command-line flag, when it is not --<name>
    why: str = ""  # said after the range when a value is refused
    choices: tuple[str, ...] = ()  # the texts allowed (str settings), when only some are

    @property
    def env(self) -> str:
        return f"LOCALDIGEST_{self.name.upper()}"

    @property
    def option(self) -> str:
        return self.flag or f"--{self.name.replace('_', '-')}"

    @property
    def expected(self) -> str:
        """What a value must be, in words."""
        if self.kind is list:
            return 'a list of texts, e.g. ["a", "b"]'
        if self.kind is bool:
            return "true or false"
        if self.kind is str:
            return f"one of {', '.join(self.choices)}" if self.choices else "text (a string)"
        what = "a whole number" if self.kind is int else "a number"
        low, high = _shown(self.low), _shown(self.high)
        if low is not None and high is not None:
            what += f" from {low} to {high}"
        elif low is not None:
            what += f" of at least {low}"
        elif high is not None:
            what += f" of at most {high}"
        return what + (f" ({self.why})" if self.why else "")

    def check(self, value: Any, given: str, fix: str = "") -> Any:
        """``value`` as this setting's type, or a UsageError naming ``given`` (how it was
        written: ``--threads 0``, ``LOCALDIGEST_THREADS=-5``, ``threads = 'many'``)."""
        if value is None:
            return None
        checked = _typed(self, value)
        if checked is None:
            raise self.refused(given, fix)
        return checked

    def parse(self, raw: str, given: str, fix: str = "") -> Any:
        """A value written as text (an environment variable, ``config --set``)."""
        if self.kind is list:
            return self.check([p.strip() for p in raw.split(",") if p.strip()], given, fix)
        if self.kind is bool:
            if raw.strip().lower() not in _BOOLS:
                raise self.refused(given, fix)
            return _BOOLS[raw.strip().lower()]
        if self.kind in (int, float):
            try:
                number = self.kind(raw.strip())
            except ValueError:
                raise self.refused(given, fix) from None
            return self.check(number, given, fix)
        return self.check(raw, given, fix)  # text: its choices, where it has some

    def refused(self, given: str, fix: str) -> UsageError:
        tail = f" — {fix}" if fix else ""
        return UsageError(f"{given} is not valid: {self.name} must be {self.expected}{tail}")


def _shown(bound: float | None) -> str | None:
    if bound is None:
        return None
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _typed(setting: Setting, value: Any) -> Any:
    """The value as the setting's type when it is one and in range, else None."""
    kind = setting.kind
    if kind is list:
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return list(value)
        return None
    if kind is str:
        if setting.choices:
            return value if isinstance(value, str) and value in setting.choices else None
        return value if isinstance(value, str | os.PathLike) else None
    if kind is bool:
        return value if isinstance(value, bool) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if kind is int:
        if isinstance(value, float):
            return None
    elif not math.isfinite(value):
        return None
    if setting.low is not None and value < setting.low:
        return None
    if setting.high is not None and value > setting.high:
        return None
    return kind(value)


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting("home", None, "one folder for everything: cache, library, state, logs"),
        Setting("models_dir", None, "folder searched for *.gguf files (default: ./models or data)"),
        Setting("model", None, "model: path, models-folder name, ollama:NAME, hf:ORG/REPO/FILE"),
        Setting(
            "model_hint", True, "say under a summary the demo model wrote how to do better", bool
        ),
        Setting("n_ctx", None, "context window (default: trained context, max 4096)", int, 1),
        Setting("gpu_layers", 0, "layers offloaded to the GPU (-1 = all)", int, -1),
        Setting("threads", None, "CPU threads (default: one per physical core)", int, 1, 4096),
        Setting(
            "server", None, "OpenAI-compatible server URL for every model call, or ollama/lmstudio"
        ),
        Setting("server_model", None, "which of the server's models (default: its only one)"),
        Setting(
            "parallel", None, "model calls in flight at once (default: server's slots)", int, 1
        ),
        Setting("server_timeout", 600.0, "seconds one server request may take in all", float, 1),
        Setting("server_retries", 5, "retries of a failed server request (backoff)", int, 0, 100),
        Setting(
            "max_tokens", defaults.MAX_TOKENS, "most tokens the final summary may have", int, 1
        ),
        Setting("temperature", defaults.TEMPERATURE, "sampling temperature", float, 0, 2),
        Setting(
            "seed",
            defaults.SEED,
            "sampling seed",
            int,
            0,
            2**32 - 1,
            why="-1, a random seed, is not reproducible",
        ),
        Setting("max_pages", 200, "pages read per PDF at most (0 = no limit)", int, 0),
        Setting(
            "mode",
            "auto",
            "how summaries are written: auto, write, extract or rewrite",
            choices=get_args(ModeSetting),
        ),
        Setting("categories", ["cs.AI", "cs.LG", "cs.CL", "stat.ML"], "arXiv categories", list),
        Setting("include", [], "phrases a listed paper must mention (any)", list),
        Setting("exclude", [], "phrases that hide a listed paper", list),
        Setting("newsletter_name", "localdigest", "name in the digest's opening line"),
        Setting("closing", "Thanks for reading!", "the digest's closing line"),
        Setting("tags", ["paper"], "tags written into exported notes", list),
        Setting("arxiv_api", "https://export.arxiv.org/api/query", "arXiv API endpoint"),
        Setting("arxiv_pdf", "https://arxiv.org/pdf", "base URL of arXiv PDFs"),
        Setting("arxiv_rss", "https://rss.arxiv.org/atom", "base URL of arXiv's Atom feeds"),
        Setting("arxiv_delay", 3.0, "seconds between arXiv API calls", float, 0, 3600),
        Setting(
            "digest_dir", ".", "folder where `run` writes digest-YYYY-MM-DD.md", flag="--out-dir"
        ),
        Setting(
            "notes_dir", None, "notes vault folder for `export` (and `run --notes`)", flag="--notes"
        ),
        Setting("run_max", 20, "most papers `run` lists to choose from", int, 1, flag="--max"),
        Setting(
            "interests",
            "",
            "what you want to read about, in your own words (ranks `search` and `run`)",
        ),
        Setting("authors", [], "authors you follow: their papers rank first (`follow`)", list),
        Setting("keywords", [], "phrases you follow: papers with them rank higher", list),
    ]
}


def config_path() -> Path:
    """The TOML config file (``LOCALDIGEST_CONFIG`` overrides the platform default)."""
    env = os.environ.get("LOCALDIGEST_CONFIG")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME)) / "config.toml"


@cache
def _read_config_file(path: Path, mtime: float) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"Config file {path} is not valid TOML ({e}) — fix or delete it") from e
    except OSError as e:
        raise UsageError(f"Cannot read the config file {path} ({e.strerror or e}) — fix it") from e
    return {k.replace("-", "_"): v for k, v in data.items()}


def config_file_values() -> dict[str, Any]:
    path = config_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    return _read_config_file(path, mtime)


_BOOLS = {"1": True, "true": True, "yes": True, "on": True}
_BOOLS |= {"0": False, "false": False, "no": False, "off": False}


def resolve(name: str, flag: Any = None) -> tuple[Any, str]:
    """Return ``(value, source)`` for one setting; source is flag/env/config/default.

    The value is checked (``Setting.check``) whatever its source: UsageError if it is not
    of the setting's type or outside its range."""
    setting = SETTINGS[name]
    if flag is not None:
        return setting.check(flag, f"{setting.option} {flag}"), "flag"
    raw = os.environ.get(setting.env)
    if raw:
        return setting.parse(raw, f"{setting.env}={raw!r}", "fix or unset it"), "env"
    file_values = config_file_values()
    if name in file_values:
        return _checked_file_value(setting, file_values[name]), "config"
    return setting.default, "default"


# ----------------------------------------------------------------------------- the run's config


@dataclass(frozen=True)
class Paths:
    """Where localdigest keeps things. By default each kind in the platform's folder for it
    (``platform``): the library in the user data folder, the run's state in the state
    folder, logs in the log folder, and only what can be computed again (the cache, key
    figures of local PDFs, the models index) in the cache folder, which cleaners empty.
    With ``LOCALDIGEST_HOME`` (or ``home`` in the config file) everything is under that one
    folder (``under``), as it always was."""

    home: Path  # the cache's folder: the cache, figures, the models index (recomputable)
    models: Path  # the models folder searched for *.gguf files
    data: Path  # the library and the imported library: the user's
    state: Path  # the run plan, the seen store, the digest state
    logs: Path
    one_folder: bool = False  # everything under ``home`` (LOCALDIGEST_HOME was set)

    @classmethod
    def under(cls, home: Path, models: Path | None = None) -> Paths:
        """Everything under ``home`` (``LOCALDIGEST_HOME``)."""
        return cls(home, models or _models_default(home), home, home, home / "logs", True)

    @classmethod
    def platform(cls, models: Path | None = None) -> Paths:
        """Each kind of file in the platform's folder for it (platformdirs)."""
        import platformdirs

        data = platformdirs.user_data_path(APP_NAME)
        return cls(
            platformdirs.user_cache_path(APP_NAME),
            models or _models_default(data),
            data,
            platformdirs.user_state_path(APP_NAME),
            platformdirs.user_log_path(APP_NAME),
        )

    @property
    def cache(self) -> Path:  # summaries and notes (diskcache): recomputable
        return self.home / "cache"

    @property
    def library(self) -> Path:  # fetched PDFs and their metadata
        return self.data / "library"

    @property
    def figures(self) -> Path:  # key figures of PDFs outside the library: recomputable
        return self.home / "figures"


def _models_default(data: Path) -> Path:
    """``./models`` where there is one (a checkout has it), else ``models`` in ``data``."""
    here = Path("models")
    return here if here.is_dir() else data / "models"


# Where each file of the user's lived before it had its own folder: everything was under
# the cache folder (``Paths.home``). These are the names the stages give them
# (sources.library, sources.imported, workflows.weekly / digest / schedule); a file set
# aside as damaged (``<name>.damaged``) moves with it.
_OLD_DATA = ("library", "imported-library.json")
_OLD_STATE = ("run-plan.json", "seen.json", "digest-state.json")
_OLD_LOGS = "logs"


def move_old_layout(paths: Paths) -> str | None:
    """Move the user's files from the old layout (all under the cache folder) to their own
    folders, once: what is already at the new place stays, and what would overwrite it is
    left where it was (nothing is lost). A one-line notice, or None when nothing moved.
    Nothing happens under ``LOCALDIGEST_HOME``, whose layout did not change."""
    if paths.one_folder or not paths.home.is_dir():
        return None
    old = paths.home
    moves = [(n, paths.data) for n in _OLD_DATA] + [(n, paths.state) for n in _OLD_STATE]
    moves += [(n + DAMAGED_SUFFIX, folder) for n, folder in moves]
    tally = _Tally()
    for name, folder in moves:
        _move(old / name, folder / name, tally)
    _move(old / _OLD_LOGS, paths.logs, tally)
    if not tally.moved and not tally.failed:
        return None
    places = dict.fromkeys(str(p) for p in (paths.data, paths.state, paths.logs))
    said = f"Moved {tally.moved} of your files from {old} to {', '.join(places)}"
    said += " (a cache cleaner empties the cache folder)"
    if tally.kept:
        said += f"; {tally.kept} stayed in the old place (the new one has them)"
    if tally.failed:
        said += f"; could not move {tally.failed[0]} — move it by hand"
    return said


@dataclass
class _Tally:
    moved: int = 0  # files
    kept: int = 0  # left in the old place: the new place has one of that name
    failed: list[str] = field(default_factory=list)


def _move(old: Path, new: Path, tally: _Tally) -> None:
    """``old`` moved to ``new``; a folder whose new place exists is merged file by file."""
    import shutil

    if not old.exists() and not old.is_symlink():
        return
    try:
        if not new.exists() and not new.is_symlink():
            files = sum(not p.is_dir() for p in old.rglob("*")) if old.is_dir() else 1
            new.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(old, new)
            tally.moved += files
        elif old.is_dir() and not old.is_symlink() and new.is_dir():
            for child in sorted(old.iterdir()):
                _move(child, new / child.name, tally)
            with contextlib.suppress(OSError):
                old.rmdir()  # emptied (not when something stayed)
        else:
            tally.kept += 1  # both have it: the new one is the one in use
    except OSError as e:
        tally.failed.append(f"{old} ({e.strerror or e})")


@dataclass(frozen=True)
class RunConfig:
    """Every setting of one command, resolved once (flag > env > config file > default)
    and checked; ``origins`` says where each came from. Built by ``load`` in the CLI and
    handed down: no stage reads a setting itself."""

    paths: Paths
    # the model
    model: str | None
    model_hint: bool
    n_ctx: int | None
    gpu_layers: int
    threads: int | None
    server: str | None
    server_model: str | None
    parallel: int | None
    server_timeout: float
    server_retries: int
    # the summary
    max_tokens: int
    temperature: float
    seed: int
    max_pages: int  # 0: no limit
    mode: ModeSetting
    # arXiv
    categories: tuple[str, ...]
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    arxiv_api: str
    arxiv_pdf: str
    arxiv_rss: str
    arxiv_delay: float
    # the weekly routine
    newsletter_name: str
    closing: str
    tags: tuple[str, ...]
    digest_dir: Path
    notes_dir: Path | None
    run_max: int
    interests: str
    authors: tuple[str, ...]  # followed: their papers rank first
    keywords: tuple[str, ...]  # followed: papers that mention them rank higher
    origins: dict[str, str] = field(default_factory=dict, compare=False)
    # The server's API key: from the environment only, never written or shown.
    api_key: str | None = field(default=None, repr=False)
    # This command's own flags (no settings: never in the environment or the file).
    refresh: bool = False  # compute again, ignoring (and overwriting) the cache
    prompts_dir: Path | None = None
    include_appendix: bool = False
    password: str | None = field(default=None, repr=False)  # of encrypted PDFs
    verbose: bool = False  # llama.cpp's own log
    style: Style = "paragraph"
    read_all: bool = False  # every kept section whole (no reading plan)
    structured_notes: bool = False  # the map's notes follow a grammar (write mode)


def load(**flags: Any) -> RunConfig:
    """The run's config: each setting from its flag (``flags[name]``, None when not
    given), else ``LOCALDIGEST_<NAME>``, else the config file, else its default; the
    command's own flags (``refresh``, ``style``...) as given."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for name in SETTINGS:
        values[name], origins[name] = resolve(name, flags.pop(name, None))
    own = {k: v for k, v in flags.items() if v is not None}
    home = values.pop("home")
    models_dir = values.pop("models_dir")
    models = Path(models_dir).expanduser() if models_dir else None
    for name in ("categories", "include", "exclude", "tags", "authors", "keywords"):
        values[name] = tuple(values[name])
    for name in ("digest_dir", "notes_dir"):
        if values[name] is not None:
            values[name] = Path(values[name]).expanduser()
    return RunConfig(
        paths=user_paths(home, models),
        origins=origins,
        api_key=os.environ.get(API_KEY_ENV) or None,
        **values,
        **own,
    )


def user_paths(home: str | None, models: Path | None = None) -> Paths:
    """All under ``home`` (the ``home`` setting) when it is set, else the platform's folders."""
    return Paths.under(Path(home).expanduser(), models) if home else Paths.platform(models)


# ----------------------------------------------------------------------------- the digest side
# Settings of the weekly routine (``localdigest digest / export / run``), kept together here.


def parse_value(name: str, raw: str, given: str = "") -> Any:
    """Parse a setting given as text (``config --set``, ``config set``) the way its env
    variable is parsed; ``given``: how it was written, for the error."""
    if name not in SETTINGS:
        known = ", ".join(sorted(SETTINGS))
        raise UsageError(f"Unknown setting '{name}' — known settings: {known}")
    return SETTINGS[name].parse(raw, given or f"--set {name}={raw!r}")


def check_config_file() -> None:
    """Every known setting in the config file checked now (``config --edit`` reports a bad
    value at once, not when a command first uses it)."""
    for name, raw in config_file_values().items():
        if name in SETTINGS:
            _checked_file_value(SETTINGS[name], raw)


def _checked_file_value(setting: Setting, raw: Any) -> Any:
    return setting.check(raw, f"{setting.name} = {raw!r} in {config_path()}", "fix the file")


def describe(flags: dict[str, Any] | None = None) -> list[tuple[str, Any, str, str]]:
    """Every setting as ``(name, effective value, source, help)``, in declaration order.

    ``flags`` are values given on a command line (source ``flag``); the rest come from
    ``resolve``: environment, config file, default.
    """
    flags = flags or {}
    rows = []
    for name, setting in SETTINGS.items():
        value, source = resolve(name, flags.get(name))
        if name == "models_dir" and not value:  # the folder the default stands for
            value = str(user_paths(resolve("home")[0]).models)
        if name == "server" and isinstance(value, str):
            value = mask_password(value)
        rows.append((name, value, source, setting.help))
    return rows


def mask_password(url: str) -> str:
    """A URL with the password of its ``user:password@`` replaced by ``***`` (up to the
    last ``@``: a password with an unescaped ``/`` or ``@`` is hidden whole too)."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.partition(':')[0]}:***@{host}"


def unknown_config_keys() -> list[str]:
    """Keys in the config file that are no setting (typos): they are ignored."""
    return sorted(k for k in config_file_values() if k not in SETTINGS)


def _toml_value(value: Any) -> str:
    """``value`` written as TOML (tomlkit: every character a TOML string may not hold is
    escaped, e.g. DEL in a file name)."""
    import tomlkit

    return str(tomlkit.item(list(value) if isinstance(value, tuple) else value).as_string())


def commented_defaults() -> str:
    """A config file where every setting is a commented-out default, with its help."""
    lines = [
        "# localdigest configuration (TOML). Uncomment a line to change a setting.",
        "# Precedence: command-line flag > LOCALDIGEST_<NAME> environment variable > this file",
        "# > built-in default. `localdigest config` shows what is in effect and why.",
        "",
    ]
    for name, setting in SETTINGS.items():
        lines.append(f"# {setting.help}")
        if setting.default is None:
            lines.append(f"# {name} =   (not set by default)")
        else:
            lines.append(f"# {name} = {_toml_value(setting.default)}")
        lines.append("")
    return "\n".join(lines)


def set_in_file(name: str, value: Any) -> Path:
    """Write ``name = value`` into the config file (created with commented defaults if
    missing) through tomlkit: an existing key keeps its place and the user's comments stay;
    a new one takes the place of its commented default, else goes at the top level. The new
    text is parsed and the value checked before it atomically replaces the file, so the
    file is never left unreadable (UsageError, exit 2, and the old file as it was)."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    setting = SETTINGS[name]
    path, _ = ensure_config_file()
    try:
        text = path.read_text(encoding="utf-8")
        doc = tomlkit.parse(text)
    except (TOMLKitError, UnicodeDecodeError) as e:
        raise UsageError(f"Config file {path} is not valid TOML ({e}) — fix or delete it") from e
    except OSError as e:
        raise UsageError(f"Cannot read the config file {path} ({e.strerror or e}) — fix it") from e
    value = list(value) if isinstance(value, tuple) else value
    keys = {k.replace("-", "_"): k for k in doc}
    placed = None if name in keys else _in_place_of_default(text, name, value)
    if name in keys:
        doc[keys[name]] = value
    elif placed is None:
        doc.add(name, value)  # tomlkit keeps a plain key above the tables
    new = placed or tomlkit.dumps(doc)
    try:
        written = tomllib.loads(new)
    except tomllib.TOMLDecodeError as e:  # a bug of ours: the old file stays
        raise UsageError(f"Could not write {name} = {value!r} into {path} as TOML ({e})") from e
    setting.check(written.get(keys.get(name, name)), f"{name} = {value!r}", "")
    write_atomically(path, new)
    return path


def _in_place_of_default(text: str, name: str, value: Any) -> str | None:
    """``text`` with the commented default of ``name`` (``# name = ...``, before any table)
    replaced by the setting, or None where there is none."""
    import re

    lines = text.splitlines()
    commented = re.compile(rf"^\s*#\s*{re.escape(name)}\s*=")
    for i, line in enumerate(lines):
        if line.lstrip().startswith("["):
            return None  # a table starts: a key below it would be the table's
        if commented.match(line):
            lines[i] = f"{name} = {_toml_value(value)}"
            return "\n".join(lines) + "\n"
    return None


def ensure_config_file() -> tuple[Path, bool]:
    """The config file, created with every default commented out if missing; (path, created)."""
    path = config_path()
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as f:
        f.write(commented_defaults())
    return path, True
