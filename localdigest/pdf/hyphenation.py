"""Line-break hyphens: joined, or kept for real compounds, by the document's vocabulary."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable

_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]|[A-Za-z]")
# Without evidence from the document, a break after these prefixes or before these
# suffixes is more often a real compound ("self-attention", "task-specific").
# A word list reads best as words, hence str.split over list literals (SIM905).
_COMPOUND_PREFIXES = frozenset(
    """self non cross multi semi well quasi pseudo anti meta half one two three four five
    first second third end state high low large small long short real fine top zero few
    many data model domain word sentence token character left right full open closed""".split()  # noqa: SIM905
)
_COMPOUND_SUFFIXES = frozenset(
    """based level specific wise like free aware dependent independent driven oriented
    scale grained trained tuned art time world order side step shot off up out valued
    dimensional sized layer agnostic friendly efficient only""".split()  # noqa: SIM905
)


class Vocabulary:
    """Word counts of the document itself, to decide how to mend "repre-" + "sentation"."""

    def __init__(self) -> None:
        self.words: Counter[str] = Counter()
        self.pairs: Counter[tuple[str, str]] = Counter()  # adjacent parts of "a-b" compounds

    def add_lines(self, lines: Iterable[str]) -> None:
        broken = False
        for text in lines:
            tokens = _WORD_RE.findall(text)
            if broken and tokens:
                tokens = tokens[1:]  # the tail of a word broken on the line before
            broken = text.rstrip().endswith("-")
            if broken and tokens:
                tokens = tokens[:-1]
            for token in tokens:
                token = token.lower().strip("'-")
                self.words[token] += 1
                parts = token.split("-")
                self.pairs.update(itertools.pairwise(parts))

    def count(self, word: str) -> int:
        return sum(self.words[w] for w in _inflections(word))

    def pair_count(self, left: str, right: str) -> int:
        return sum(self.pairs[(left, w)] for w in _inflections(right))


def _inflections(word: str) -> set[str]:
    forms = {word, word + "s", word + "es", word + "ed", word + "d", word + "ing", word + "ly"}
    for suffix in ("s", "es", "ed", "ing", "ly"):
        if word.endswith(suffix) and len(word) > len(suffix) + 3:
            forms.add(word[: -len(suffix)])
    return forms


def _keep_hyphen(left: str, right: str, vocab: Vocabulary) -> bool:
    """Should "left-" at a line end and "right" on the next line stay hyphenated?"""
    lp, rp = left.split("-")[-1].lower(), right.split("-")[0].lower()
    as_compound = vocab.pair_count(lp, rp) + vocab.words[f"{left}-{right}".lower()]
    as_word = vocab.count(lp + rp)
    if as_compound != as_word:
        return as_compound > as_word
    if "-" in left or "-" in right or not right[0].islower():
        return True  # "English-" + "to-German", "state-of-the-" + "art", "Bi-" + "LSTM"
    if lp in _COMPOUND_PREFIXES or rp in _COMPOUND_SUFFIXES:
        return True
    # Two words the document uses on their own ("memory-" + "augmented") form a compound;
    # a fragment ("repre-") does not.
    return len(lp) >= 4 and len(rp) >= 4 and vocab.words[lp] > 0 and vocab.words[rp] > 0


_LEFT_PART_RE = re.compile(r"([A-Za-z][A-Za-z-]*)-$")
_RIGHT_PART_RE = re.compile(r"^([A-Za-z][A-Za-z-]*[A-Za-z]|[A-Za-z])")


def join_lines(lines: list[str], vocab: Vocabulary) -> str:
    """Lines of one paragraph -> one string, mending words broken at line ends."""
    out = ""
    for text in lines:
        text = text.strip()
        if not out:
            out = text
            continue
        left = _LEFT_PART_RE.search(out)
        right = _RIGHT_PART_RE.match(text)
        if left and right:
            keep = _keep_hyphen(left.group(1), right.group(1), vocab)
            out = out + text if keep else out[:-1] + text
        elif out.endswith(("—", "–", "/")):
            out += text
        else:
            out += " " + text
    return re.sub(r"\s+", " ", out).strip()
