"""Reader's labels (``tests/fixtures/body_facts.json``, ``questions.json``) and the one rule
a text is read by to say whether it states a labelled fact or holds an answer.

``match`` is ``{"all": [terms], "any": [[synonyms], ...]}``: every ``all`` term, and one
member of each ``any`` group. A term matches case-insensitively, with Unicode forms
normalised (NFKC) and punctuation, hyphens and spaces all separating words; a number as a
whole number as printed (thousands commas dropped); a term of several words as its words in
a row, its last word, when letters, as the start of a longer word (four letters or more:
"head" matches "heads") or that word with an "s" ("GAN" matches "GANs").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

PREFIX_FROM = 4  # a term's last word this long may start a longer word ("head" -> "heads")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")

Tokens = tuple[str, ...]
Match = dict[str, Any]


def tokens(text: str) -> Tokens:
    """Lower-case words and whole numbers; everything else separates them."""
    found = _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())
    return tuple(t.replace(",", "") if _THOUSANDS.fullmatch(t) else t for t in found)


def has_term(words: Tokens, term: str) -> bool:
    """``term`` occurs in ``words``: its words in a row, the last one as a word's start
    when it is letters (a number must match whole, a short word or acronym whole or with
    an "s")."""
    want = tokens(term)
    if not want:
        raise ValueError(f"empty term {term!r}")
    *head, last = want
    letters = last.isalpha()
    for i in range(len(words) - len(want) + 1):
        if list(words[i : i + len(head)]) != head:
            continue
        word = words[i + len(head)]
        if word == last or (letters and word == last + "s"):
            return True
        if letters and len(last) >= PREFIX_FROM and word.startswith(last):
            return True
    return False


def matches(match: Match, variants: Sequence[Tokens]) -> bool:
    """Every ``all`` term and one member of each ``any`` group occurs in one of the text's
    readings (``variants``: a page read with broken words joined, and hyphenated)."""

    def found(term: str) -> bool:
        return any(has_term(v, term) for v in variants)

    return all(found(t) for t in match["all"]) and all(
        any(found(t) for t in group) for group in match["any"]
    )
