"""Prompt files: plain text templates in ``prompts/`` (shipped inside the wheel).

A template's placeholders (``{title}``, ``{text}``...) are filled in one pass, so braces
inside a paper's text are never read as placeholders. Every template puts its fixed
instruction first and the paper's text last, fenced by markers, so llama.cpp reuses the
evaluated instruction prefix from one call to the next.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from localdigest.errors import UsageError

PROMPT_NAMES = ("system", "map", "collapse", "reduce", "reduce_bullets", "tldr", "stuff", "rewrite")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def default_prompts_dir() -> Path:
    package = Path(__file__).resolve().parents[1]  # localdigest/
    packaged = package / "prompts"  # inside an installed wheel
    return packaged if packaged.is_dir() else package.parent / "prompts"  # source checkout


@dataclass(frozen=True)
class Prompts:
    directory: Path
    texts: dict[str, str]

    @property
    def fingerprint(self) -> str:
        blob = "\0".join(f"{k}={self.texts[k]}" for k in sorted(self.texts))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def render(self, name: str, **values: str) -> str:
        def fill(m: re.Match[str]) -> str:
            return values.get(m.group(1), m.group(0))

        return _PLACEHOLDER.sub(fill, self.texts[name]).strip()


def load_prompts(directory: Path | None = None) -> Prompts:
    """Read every prompt file; a folder given with --prompts may override only some."""
    default = default_prompts_dir()
    if directory is not None and not directory.is_dir():
        raise UsageError(f"Prompts folder {directory} does not exist — pass a folder of .txt files")
    texts: dict[str, str] = {}
    for name in PROMPT_NAMES:
        path = default / f"{name}.txt"
        if directory is not None and (directory / f"{name}.txt").is_file():
            path = directory / f"{name}.txt"
        try:
            texts[name] = path.read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"Cannot read prompt file {path} ({e}) — restore it") from e
    return Prompts(directory or default, texts)
