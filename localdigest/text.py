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
from collections.abc import Sequence

# After the end mark, or after a closing quote or bracket that follows it ('... learning.”').
_END = r"(?:(?<=[.!?])|(?<=[.!?][\"”’')\]]))"
_BREAK = re.compile(_END + r"\s+")
_BREAK_BEFORE_CAPITAL = re.compile(_END + r"\s+(?=[A-Z(\[])")
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


_PAGE_MARK = re.compile(r"\s*\[(?:p\. [\d, –-]+|\?)\]")


def page_mark(pages: list[int]) -> str:
    """``[p. 2, 15]`` (consecutive pages as a range: ``[p. 3–5]``); "" for none."""
    if not pages:
        return ""
    parts: list[str] = []
    ordered = sorted(set(pages))
    start = prev = ordered[0]
    for p in [*ordered[1:], None]:
        if p is not None and p == prev + 1:
            prev = p
            continue
        parts.append(str(start) if start == prev else f"{start}–{prev}")
        if p is not None:
            start = prev = p
    return f"[p. {', '.join(parts)}]"


def strip_page_marks(text: str) -> str:
    return _PAGE_MARK.sub("", text)


def paragraphs(text: str) -> list[str]:
    """The paragraphs of ``text`` (split at blank lines), each on one line."""
    return [one_line(p) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


# ----------------------------------------------------------------------------- safe to show
# Text from papers, metadata, file names and the model is data. Before it is shown in a
# terminal or written into a file, ``visible`` makes every character that could act instead
# of being read visible as an escape: control characters (ESC starts terminal sequences,
# CR overwrites a line), bidirectional overrides (they reorder what is shown), lone
# surrogates (a file name that is not UTF-8: they cannot even be encoded) and the two
# noncharacters U+FFFE/U+FFFF. Newlines and tabs stay. Every output format applies it first.

_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)


def _escape_char(m: re.Match[str]) -> str:
    code = ord(m[0])
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as os.fsdecode keeps it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every character that could act on a terminal or break a file format
    shown as an escape (``\\x1b``, ``\\xff`` for a byte of a non-UTF-8 file name,
    ``\\u202e``). Idempotent."""
    return _UNSAFE.sub(_escape_char, text) if _UNSAFE.search(text) else text


def has_unsafe(text: str) -> bool:
    return _UNSAFE.search(text) is not None


def clamp(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary when there is one, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def listing(names: Sequence[str], shown: int = 8, empty: str = "none") -> str:
    """Names for a message: the first ``shown`` (each at most 80 characters), then how
    many more: "a, b, c and 9,997 more"."""
    head = ", ".join(clamp(n, 80) for n in names[:shown]) or empty
    rest = len(names) - shown
    return f"{head} and {rest:,} more" if rest > 0 else head


def visible_data(value: object) -> object:
    """``visible`` applied to every string inside lists, tuples and dicts (keys too)."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {visible_data(k): visible_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [visible_data(v) for v in value]
    return value


def safe_json(value: object, indent: int | None = 2) -> str:
    """JSON text that every reader accepts: strings through ``visible`` (no lone surrogate,
    no raw control character), non-ASCII letters kept as they are."""
    import json

    return json.dumps(visible_data(value), indent=indent, ensure_ascii=False, default=str)
