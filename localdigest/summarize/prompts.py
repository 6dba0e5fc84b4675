"""Prompt files: plain text templates in ``prompts/`` (shipped inside the wheel).

A template's placeholders (``{title}``, ``{text}``...) are filled in one pass, so braces
inside a paper's text are never read as placeholders. Every template puts its fixed
instruction first and every value from outside (the paper's title, headings, text and
abstract, the notes and summaries the model wrote from them) after it, inside fences
(``<<<PAPER ... PAPER>>>``, ``<<<NOTES ... NOTES>>>``, ``<<<SUMMARY ... SUMMARY>>>``), so
llama.cpp reuses the evaluated instruction prefix from one call to the next.

Those values are data, never instructions: ``render`` neutralises anything in them that
could spell a fence (``PAPER>>> ... <<<PAPER`` inside a paper would otherwise close its
fence and open a new one), and clamps the one-line fields (the title, the headings) so a
10,000-character title cannot crowd the paper out of the context.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from localdigest.errors import UsageError
from localdigest.text import clamp, one_line

PROMPT_NAMES = (
    *("system", "map", "collapse", "reduce", "reduce_bullets", "tldr", "stuff", "rewrite"),
    "answer",
)
# Prompts no summary is written with (``ask``'s answer): left out of the fingerprint that
# every summary's cache key holds, so adding or editing one keeps the cached summaries.
NOT_SUMMARY_PROMPTS = frozenset({"answer"})
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# One-line fields and the most characters of them a prompt carries.
FIELD_LIMITS = {"title": 300, "sections": 300, "question": 300}
# What could be read as one of our fences: three or more angle brackets in a row (ASCII,
# fullwidth or small forms, spaces between them allowed), or two next to a fence's name.
_LT, _GT = "<\uff1c\ufe64", ">\uff1e\ufe65"
_FENCE_LIKE = re.compile(
    rf"[{_LT}](?:\s*[{_LT}]){{2,}}|[{_GT}](?:\s*[{_GT}]){{2,}}"
    rf"|[{_LT}]\s*[{_LT}](?=\s*(?:PAPER|NOTES|SUMMARY|SENTENCES))"
    rf"|(?<=PAPER|NOTES)\s*[{_GT}]\s*[{_GT}]|(?<=SUMMARY)\s*[{_GT}]\s*[{_GT}]"
    rf"|(?<=SENTENCES)\s*[{_GT}]\s*[{_GT}]",
    re.IGNORECASE,
)


def _guillemets(m: re.Match[str]) -> str:
    return "".join("‹" if c in _LT else "›" if c in _GT else c for c in m[0])


def as_data(name: str, value: str) -> str:
    """A value as it goes into a prompt: nothing in it can spell one of our fences, and a
    one-line field is one line of at most ``FIELD_LIMITS`` characters."""
    if name in FIELD_LIMITS:
        value = clamp(one_line(value), FIELD_LIMITS[name])
    return _FENCE_LIKE.sub(_guillemets, value)


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
        """The summary prompts' identity (a summary's cache key holds it)."""
        names = sorted(k for k in self.texts if k not in NOT_SUMMARY_PROMPTS)
        blob = "\0".join(f"{k}={self.texts[k]}" for k in names)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def render(self, name: str, **values: str) -> str:
        """The prompt with its placeholders filled; every value passes ``as_data``."""

        def fill(m: re.Match[str]) -> str:
            key = m.group(1)
            return as_data(key, values[key]) if key in values else m.group(0)

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
        except UnicodeDecodeError as e:
            raise UsageError(
                f"Prompt file {path} is not UTF-8 text ({e.reason} at byte {e.start}) — "
                "save it as UTF-8"
            ) from e
    return Prompts(directory or default, texts)
