"""Settings and where each one came from.

Precedence, highest first: command-line flag > ``LOCALDIGEST_*`` environment variable >
config file (TOML, ``config_path()``) > built-in default. ``resolve`` returns the value
together with its source so ``localdigest config`` can show both.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from localdigest.errors import UsageError

APP_NAME = "localdigest"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    kind: type = str  # how an environment value is parsed

    @property
    def env(self) -> str:
        return f"LOCALDIGEST_{self.name.upper()}"


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting("home", None, "folder for the cache and the paper library"),
        Setting("models_dir", "models", "folder searched for *.gguf files"),
        Setting("model", None, "model file: path, or name/stem in the models folder"),
        Setting("n_ctx", None, "context window (default: trained context, max 8192)", int),
        Setting("gpu_layers", 0, "layers offloaded to the GPU (-1 = all)", int),
        Setting("threads", None, "CPU threads (default: llama.cpp's choice)", int),
        Setting("max_tokens", 320, "most tokens the final summary may have", int),
        Setting("temperature", 0.2, "sampling temperature", float),
        Setting("seed", 42, "sampling seed", int),
        Setting("categories", ["cs.AI", "cs.LG", "cs.CL", "stat.ML"], "arXiv categories", list),
        Setting("include", [], "phrases a listed paper must mention (any)", list),
        Setting("exclude", [], "phrases that hide a listed paper", list),
        Setting("newsletter_name", "localdigest", "name in the digest's opening line"),
        Setting("closing", "Thanks for reading!", "the digest's closing line"),
        Setting("tags", ["paper"], "tags written into exported notes", list),
        Setting("arxiv_api", "https://export.arxiv.org/api/query", "arXiv API endpoint"),
        Setting("arxiv_pdf", "https://arxiv.org/pdf", "base URL of arXiv PDFs"),
        Setting("arxiv_rss", "https://rss.arxiv.org/atom", "base URL of arXiv's Atom feeds"),
        Setting("arxiv_delay", 3.0, "seconds between arXiv API calls", float),
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
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"Config file {path} is not valid TOML ({e}) — fix or delete it") from e
    return {k.replace("-", "_"): v for k, v in data.items()}


def config_file_values() -> dict[str, Any]:
    path = config_path()
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    return _read_config_file(path, mtime)


def _parse_env(setting: Setting, raw: str) -> Any:
    if setting.kind is list:
        return [p.strip() for p in raw.split(",") if p.strip()]
    try:
        return setting.kind(raw)
    except ValueError as e:
        raise UsageError(
            f"{setting.env}={raw!r} is not a valid {setting.kind.__name__} — fix or unset it"
        ) from e


def resolve(name: str, flag: Any = None) -> tuple[Any, str]:
    """Return ``(value, source)`` for one setting; source is flag/env/config/default."""
    setting = SETTINGS[name]
    if flag is not None:
        return flag, "flag"
    raw = os.environ.get(setting.env)
    if raw not in (None, ""):
        return _parse_env(setting, raw), "env"
    file_values = config_file_values()
    if name in file_values:
        return file_values[name], "config"
    return setting.default, "default"


def value(name: str, flag: Any = None) -> Any:
    return resolve(name, flag)[0]


def home_dir() -> Path:
    """Root of localdigest's data: the cache and the paper library."""
    configured = value("home")
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME))


def cache_dir() -> Path:
    return home_dir() / "cache"


def library_dir() -> Path:
    return home_dir() / "library"


def models_dir() -> Path:
    return Path(value("models_dir")).expanduser()
