"""Splitting text into sentences, words and paragraphs: the one place these rules live.

One sentence rule serves every stage (extraction, grounding, chunking, passages, cleaning
model output): a sentence ends at ``.``, ``!`` or ``?`` (and a closing quote or bracket
after it) followed by whitespace, when the next sentence starts with neither a lower-case
letter nor a digit, and a full stop ends nothing after an abbreviation ("et al.", "i.e.",
"e.g.", "vs.", "Fig. 3", "Eq.", "Sec.", "Prof.", "U.S.") or an initial ("G. E. Hinton").
"et al." and an initial do end a sentence before a word that opens one ("... by Smith et
al. We then ..."). Changing it changes how papers are chunked and extracted, and so cache
keys (``sentences.VERSION``, the notes' chunk texts, the passage index's ``FORMAT``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# An end mark, closing quotes or brackets after it, then the whitespace before the next one.
_CANDIDATE = re.compile(r"[.!?][\"”’')\]]*\s+")
_LAST_TOKEN = re.compile(r"\S+$")
_INITIALS = re.compile(r"(?:[A-Z]\.){0,3}[A-Z]")  # "G", "U.S", "J.R.R"
# Lower-cased, without the final full stop.
ABBREVIATIONS = {
    "al", "i.e", "e.g", "vs", "cf", "viz", "approx", "resp", "fig", "figs", "eq", "eqs",
    "eqn", "eqns", "sec", "secs", "tab", "ref", "refs", "thm", "lem", "prop", "def", "alg",
    "ch", "chap", "vol", "pp", "prof", "dr", "mr", "mrs", "ms", "jr", "st", "ph.d", "dept",
    "univ", "inc", "ltd", "corp", "u.s.a",
}  # fmt: skip
# Words that open a sentence: after "et al." or an initial, a sentence ends before them.
_OPENERS = {
    "We", "The", "This", "These", "Our", "In", "It", "Its", "They", "Their", "Here",
    "However", "Moreover", "Such", "Both", "Unlike", "A", "An", "As", "For", "To", "On",
    "Thus", "Finally", "Furthermore", "Similarly", "Instead", "While", "When",
}  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")
_ALNUM = re.compile(r"[a-z0-9]+")


def _ends_sentence(text: str, m: re.Match[str]) -> bool:
    """Whether the end mark at ``m`` (followed by whitespace) ends a sentence."""
    after = text[m.end() : m.end() + 1]
    if not after or after.islower() or after.isdigit():
        return False
    if text[m.start()] != "." or m.group().rstrip()[-1:] != ".":
        return True  # "!", "?", or a bracket or quote closes the sentence
    token = _LAST_TOKEN.search(text, max(0, m.start() - 40), m.start())
    word = token.group().lstrip("([{“\"'‘") if token else ""
    if not word:
        return True
    if word.lower() not in ABBREVIATIONS and not _INITIALS.fullmatch(word):
        return True
    if word.lower() == "al" or (_INITIALS.fullmatch(word) and "." not in word):
        nxt = text[m.end() : m.end() + 40].split(maxsplit=1)
        return bool(nxt) and nxt[0].strip(",;:") in _OPENERS
    return False


def split_sentences(text: str, *, maxsplit: int = 0) -> list[str]:
    """The pieces of ``text`` between sentence breaks, as they are (not stripped; the
    whitespace of a break is left out)."""
    pieces: list[str] = []
    start = 0
    for m in _CANDIDATE.finditer(text):
        if maxsplit and len(pieces) >= maxsplit:
            break
        if _ends_sentence(text, m):
            cut = m.start() + len(m.group().rstrip())
            pieces.append(text[start:cut])
            start = m.end()
    pieces.append(text[start:])
    return pieces


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, stripped, empty ones left out."""
    return [s.strip() for s in split_sentences(text.strip()) if s.strip()]


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


_PAGE_MARK = re.compile(r"\s*\[(?:pp?\.\s*[\d, –-]+|\?)\]")


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
    """``text`` without page marks (``[p. 2, 15]``, ``[pp. 3-5]``, ``[?]``): ours, or a
    model's imitation of them."""
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
