"""Splitting text into sentences, words and paragraphs: the one place these rules live.

Two sentence rules exist on purpose. ``split_sentences`` breaks after ``.``, ``!`` or ``?``
and whitespace, which is what cleaning model output and scoring need. With
``before_capital=True`` it also wants the next sentence to start with a capital letter or a
bracket, so that "e.g. a" or "Fig. 3" in a paper's text does not split: chunking and the
TextRank baseline use that one. Changing either would change how papers are chunked, and
so every cache key of their notes.
"""

from __future__ import annotations

import re

_BREAK = re.compile(r"(?<=[.!?])\s+")
_BREAK_BEFORE_CAPITAL = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")
_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")
_ALNUM = re.compile(r"[a-z0-9]+")


def split_sentences(text: str, *, before_capital: bool = False, maxsplit: int = 0) -> list[str]:
    """The pieces of ``text`` between sentence breaks, as they are (not stripped)."""
    rule = _BREAK_BEFORE_CAPITAL if before_capital else _BREAK
    return rule.split(text, maxsplit=maxsplit)


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, stripped, empty ones left out."""
    return [s.strip() for s in _BREAK.split(text.strip()) if s.strip()]


def first_sentence(text: str) -> str:
    return split_sentences(text.strip(), maxsplit=1)[0] if text.strip() else ""


def words(text: str) -> list[str]:
    """Lower-case words; inner apostrophes and hyphens stay ("state-of-the-art")."""
    return _WORD.findall(text.lower())


def alnum_runs(text: str) -> list[str]:
    """Lower-case runs of letters and digits ("state-of-the-art" is four)."""
    return _ALNUM.findall(text.lower())


def one_line(text: str) -> str:
    """All whitespace runs as single spaces."""
    return " ".join(text.split())


def paragraphs(text: str) -> list[str]:
    """The paragraphs of ``text`` (split at blank lines), each on one line."""
    return [one_line(p) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
