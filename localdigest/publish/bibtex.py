"""Citation keys and BibTeX entries for summarized papers (``export --bibtex``, notes).

A key is the first author's surname, the year and the first word of the title that is not
a small word, folded to ASCII lowercase (``vaswani2017attention``), as Google Scholar and
many reference managers make them. The year is the arXiv id's (``1706.03762`` -> 2017),
else the publication date the library holds, else left out. Two papers with the same key in
one export are told apart by ``b``, ``c``... in the order of their arXiv id or hash, so the
same papers always get the same keys.

Entries are ``@misc`` with arXiv's eprint fields (``eprint``, ``archivePrefix``,
``primaryClass``), as arXiv's own export writes them, or ``@article`` when arXiv lists
a journal reference. Every value is escaped: the characters LaTeX treats as commands
(``\\ { } & % $ # _ ~ ^``) become the commands that print them; a brace with no partner
is dropped, since BibTeX counts escaped braces too and one unmatched brace would break
the file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from localdigest.papers import PaperSummary
from localdigest.text import one_line


@dataclass(frozen=True)
class PaperExtras:
    """What the library knows beyond the summary (from arXiv metadata)."""

    categories: tuple[str, ...] = ()
    published: str | None = None  # ISO date
    primary_category: str | None = None
    doi: str | None = None
    journal_ref: str | None = None


SMALL_WORDS = frozenset(
    {"a", "an", "the", "on", "of", "in", "for", "and", "to", "at", "by", "from", "with"}
    | {"is", "are", "do", "does", "how", "what", "why", "when"}
)
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def identity(summary: PaperSummary) -> str:
    """What a paper's key is looked up by: its PDF hash (its cache key without one)."""
    return summary.sha256 or summary.key


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z0-9]", "", folded.encode("ascii", "ignore").decode().lower())


def _surname(author: str) -> str:
    """``Ashish Vaswani`` and ``Vaswani, Ashish`` -> ``vaswani``."""
    name = author.split(",", 1)[0] if "," in author else (author.split() or [""])[-1]
    return _ascii_word(name)


def year_of(summary: PaperSummary, extras: PaperExtras) -> str | None:
    """The arXiv id's year (new ids ``YYMM.N``, old ``archive/YYMMNNN``), else the
    publication date's, else None."""
    m = re.fullmatch(r"(\d\d)\d\d\.\d+|[a-z.\-]+/(\d\d)\d+", summary.arxiv_id or "", re.I)
    if m:
        yy = int(m[1] or m[2])
        return str(1900 + yy if yy >= 91 else 2000 + yy)  # arXiv began in August 1991
    if extras.published and re.match(r"\d{4}", extras.published):
        return extras.published[:4]
    return None


def base_key(summary: PaperSummary, extras: PaperExtras) -> str:
    surname = next((s for s in map(_surname, summary.authors) if s), "anon")
    words = (_ascii_word(w) for w in re.split(r"[\s\-–—:/]+", summary.title))
    word = next((w for w in words if w and w not in SMALL_WORDS), "paper")
    return f"{surname}{year_of(summary, extras) or ''}{word}"


def citation_keys(
    summaries: Sequence[PaperSummary], extras: Mapping[str, PaperExtras]
) -> dict[str, str]:
    """Each paper's key (by ``identity``), unique among ``summaries`` and the same for the
    same papers whatever their order."""
    groups: dict[str, list[PaperSummary]] = {}
    for s in {identity(s): s for s in summaries}.values():
        groups.setdefault(base_key(s, _extras(extras, s)), []).append(s)
    keys: dict[str, str] = {}
    taken = set(groups)
    for base, group in groups.items():
        group.sort(key=lambda s: (s.arxiv_id or "", identity(s)))
        keys[identity(group[0])] = base
        suffixes = (chr(c) for c in range(ord("b"), ord("z") + 1))
        for s in group[1:]:
            key = base + next(suffixes, "")
            n = 2
            while key in taken:  # past z, or a base that ends like another's suffix
                key, n = f"{base}{n}", n + 1
            taken.add(key)
            keys[identity(s)] = key
    return keys


def _extras(extras: Mapping[str, PaperExtras], summary: PaperSummary) -> PaperExtras:
    return extras.get(summary.arxiv_id or "", PaperExtras())


def _balanced(text: str) -> str:
    """``text`` without the braces that have no partner."""
    opened: list[int] = []
    unmatched: set[int] = set()
    for i, c in enumerate(text):
        if c == "{":
            opened.append(i)
        elif c == "}":
            if opened:
                opened.pop()
            else:
                unmatched.add(i)
    unmatched.update(opened)
    return "".join(c for i, c in enumerate(text) if i not in unmatched)


def bib_text(text: str) -> str:
    """A value for a BibTeX field: one line, LaTeX's special characters escaped."""
    return "".join(_SPECIAL.get(c, c) for c in one_line(_balanced(text)))


def _author(name: str) -> str:
    escaped = bib_text(name)
    # "and" inside one name would split it: the whole name is braced then.
    return "{" + escaped + "}" if re.search(r"\band\b", escaped, re.I) else escaped


def entry(summary: PaperSummary, key: str, extras: PaperExtras) -> str:
    fields: list[tuple[str, str | None]] = [
        ("title", summary.title),
        ("author", None),
        ("year", year_of(summary, extras)),
    ]
    if extras.journal_ref:
        fields.append(("journal", extras.journal_ref))
    if summary.arxiv_id:
        fields += [
            ("eprint", summary.arxiv_id),
            ("archivePrefix", "arXiv"),
            ("primaryClass", extras.primary_category),
        ]
    lines = []
    for name, value in fields:
        if name == "author":
            if summary.authors:
                lines.append(f"  author = {{{' and '.join(map(_author, summary.authors))}}},")
        elif value:
            lines.append(f"  {name} = {{{bib_text(value)}}},")
    for name, value in (("doi", extras.doi), ("url", summary.url)):
        if value and re.fullmatch(r"[^\s{}\\%]+", value):  # as they are: url and doi are verbatim
            lines.append(f"  {name} = {{{value}}},")
    kind = "article" if extras.journal_ref else "misc"
    return f"@{kind}{{{key},\n" + "\n".join(lines) + "\n}\n"


def to_bibtex(summaries: Sequence[PaperSummary], extras: Mapping[str, PaperExtras]) -> str:
    """One entry per paper (each once), in the order given."""
    keys = citation_keys(summaries, extras)
    unique = {identity(s): s for s in summaries}.values()
    return "\n".join(entry(s, keys[identity(s)], _extras(extras, s)) for s in unique)
