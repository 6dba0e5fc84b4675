"""Which pages of the paper support each sentence of a summary, computed without the model.

Every page's kept text (abstract and body; references and appendices are not evidence) is
indexed by its content words. A sentence's support on a page is the IDF-weighted share of
its content words the page uses, averaged with the share of its word pairs the page holds
(a sentence copied from a page scores about 1, a paraphrase high on words and lower on
pairs, an invented sentence low on both). The pages within ``NEAR_BEST`` of the best one
support it; every number the sentence states (two digits or more, or with a decimal) must
occur on a supporting page, else the page holding it is added if it supports the sentence
too, and otherwise the sentence is unsupported however well its words match. A web address
the sentence gives must be in the paper as written (on any page: footnotes hold them), else
it is unsupported too: a made-up link reads as plausibly as a made-up number.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from localdigest.papers import Grounding
from localdigest.pdf import Section
from localdigest.summarize.quality import STOP_WORDS, numbers, stem
from localdigest.text import sentences, words

# A sentence whose best page scores this much is supported. Measured on the corpus
# (tests/summarize/test_grounding.py): sentences of other papers' abstracts reach it 2% of the
# time, the paper's own abstract sentences (paraphrases of its body) 77%, copied ones 100%.
SUPPORTED_AT = 0.3
NEAR_BEST = 0.85  # other pages within this share of the best one support it too
MAX_PAGES = 3
MIN_CONTENT_WORDS = 3  # fewer content words: too short to judge (joined with its page)
# A web address: the scheme or "www." and what follows up to a space, quote or bracket.
_LINK = re.compile(r"(?:\bhttps?://|\bwww\.)[^\s<>\"'()\[\]]+", re.IGNORECASE)


def _terms(text: str) -> list[str]:
    return [
        stem(w)
        for w in words(text)
        if (len(w) >= 3 and w not in STOP_WORDS) or any(c.isdigit() for c in w)
    ]


def links(text: str) -> list[str]:
    """The web addresses in ``text``, without the punctuation that ends their sentence."""
    return [m.group(0).rstrip(".,;:!?") for m in _LINK.finditer(text)]


def _link_key(link: str) -> str:
    """A web address compared as PDF text holds it: lower case, no scheme, no ``www.``,
    no trailing slash (and the page's text is compared without its line breaks)."""
    key = re.sub(r"^(?:https?://)?(?:www\.)?", "", link.lower())
    return key.rstrip("/")


def _significant(number: str) -> bool:
    return len(number.replace(".", "")) > 1 or "." in number


class PageIndex:
    """The kept text of each page of a paper, ready to score sentences against."""

    def __init__(self, pages: dict[int, str]) -> None:
        self.pages = {p: t for p, t in sorted(pages.items()) if t.strip()}
        self.terms = {p: Counter(_terms(t)) for p, t in self.pages.items()}
        self.pairs = {p: set(_pairs(_terms(t))) for p, t in self.pages.items()}
        self.numbers = {p: set(numbers(t)) for p, t in self.pages.items()}
        self.flat = "\n".join(re.sub(r"\s+", "", t).lower() for t in self.pages.values())
        df: Counter[str] = Counter()
        for counts in self.terms.values():
            df.update(counts.keys())
        n = max(1, len(self.pages))
        self.idf = {w: math.log(1 + n / c) for w, c in df.items()}
        self.unseen_idf = math.log(1 + n / 0.5)  # a word no page uses weighs the most

    @classmethod
    def of_sections(cls, sections: Sequence[Section]) -> PageIndex:
        """Pages from these sections' paragraphs (a paragraph runs on all its pages)."""
        pages: dict[int, list[str]] = {}
        for section in sections:
            for text, (first, last) in section.paragraphs():
                for page in range(first, last + 1):
                    pages.setdefault(page, []).append(text)
        return cls({p: "\n\n".join(t) for p, t in pages.items()})

    def _scores(self, sentence: str) -> dict[int, float]:
        """The sentence's support on every page (its terms weighed once, not per page)."""
        terms = _terms(sentence)
        unique = set(terms)
        if not unique:
            return dict.fromkeys(self.pages, 0.0)
        weight = {w: self.idf.get(w, self.unseen_idf) for w in unique}
        total = sum(weight.values())
        pairs = set(_pairs(terms))
        scores = {}
        for page in self.pages:
            words_share = sum(weight[w] for w in unique if w in self.terms[page]) / total
            pairs_share = len(pairs & self.pairs[page]) / len(pairs) if pairs else words_share
            scores[page] = round((words_share + pairs_share) / 2, 4)
        return scores

    def ground(self, sentence: str, part: str = "summary") -> Grounding:
        if not self.pages:
            return Grounding(part, sentence, [], 0.0, [], [], False)
        scores = self._scores(sentence)
        best = max(scores.values())
        pages = sorted(
            (p for p, s in scores.items() if s >= SUPPORTED_AT and s >= NEAR_BEST * best),
            key=lambda p: -scores[p],
        )[:MAX_PAGES]
        missing = []
        for number in (n for n in numbers(sentence) if _significant(n)):
            if any(number in self.numbers[p] for p in pages):
                continue
            holders = [p for p in self.pages if number in self.numbers[p]]
            helper = max(holders, key=lambda p: scores[p], default=None)
            if helper is not None and scores[helper] >= SUPPORTED_AT:
                pages.append(helper)
            else:
                missing.append(number)
        unknown = [link for link in links(sentence) if _link_key(link) not in self.flat]
        supported = bool(pages) and best >= SUPPORTED_AT and not missing and not unknown
        return Grounding(part, sentence, sorted(set(pages)), best, missing, unknown, supported)


def _pairs(terms: list[str]) -> list[tuple[str, str]]:
    return list(itertools.pairwise(terms))


def ground_text(text: str, index: PageIndex, part: str = "summary") -> list[Grounding]:
    """Every sentence of ``text`` with its pages. A sentence with too few content words to
    judge ("It works.") is judged together with its neighbour (the one before, else the
    one after)."""
    parts = sentences(text)
    out: list[Grounding] = []
    for i, sentence in enumerate(parts):
        judged = sentence
        if len(_terms(sentence)) < MIN_CONTENT_WORDS:
            neighbour = parts[i - 1] if i > 0 else parts[i + 1] if i + 1 < len(parts) else ""
            judged = f"{neighbour} {sentence}" if i > 0 else f"{sentence} {neighbour}"
        g = index.ground(judged.strip(), part)
        out.append(replace(g, sentence=sentence))
    return out


def share_supported(grounding: Sequence[Grounding]) -> float:
    """The share of sentences with support (1.0 for no sentence)."""
    if not grounding:
        return 1.0
    return round(sum(g.supported for g in grounding) / len(grounding), 4)


SUPPORTED_SHARE = 0.6  # a summary with fewer of its sentences supported is written again
# The TL;DR is one sentence a reader takes at its word: the model's must score this much on
# its page (a tail of nonsense on a true clause scores about 0.3, the clause alone 0.6),
# else the summary's best supported sentence stands in for it.
TLDR_SUPPORT = 0.45


@dataclass(frozen=True)
class SupportJudge:
    """The guard's grounding check (``guard.Judge``): an output whose sentences are not
    supported by the paper's pages is repaired by cutting them, else written again; with
    ``title_terms``, one that names none of the title's key terms is written again."""

    index: PageIndex
    title_terms: tuple[str, ...] = ()  # stems, as facts.title_fact gives them
    at_least: float = SUPPORTED_SHARE
    min_support: float = SUPPORTED_AT  # what one sentence must score to count as supported

    def _ok(self, g: Grounding) -> bool:
        return g.supported and g.support >= self.min_support

    def problem(self, text: str) -> str | None:
        grounding = ground_text(text, self.index)
        bad = [g for g in grounding if not self._ok(g)]
        if grounding and 1 - len(bad) / len(grounding) < self.at_least:
            return f"unsupported ({len(bad)} of {len(grounding)} sentences found on no page)"
        said = {stem(w) for w in words(text)}
        if self.title_terms and not said & set(self.title_terms):
            return f"off-title (names none of the title's terms: {', '.join(self.title_terms)})"
        return None

    def repair(self, text: str) -> str:
        """The supported sentences; for a list (bullets), the lines all of whose sentences
        are supported."""
        if "\n" in text.strip():
            kept = [
                line
                for line in text.splitlines()
                if line.strip() and all(self._ok(g) for g in ground_text(line, self.index))
            ]
            return "\n".join(kept)
        return " ".join(g.sentence for g in ground_text(text, self.index) if self._ok(g))


# ----------------------------------------------------------------------------- the stage

# A summary keeps only its supported sentences when at least this many words remain in
# at least two sentences; else the unsupported ones stay, marked [?], with a warning.
KEEP_MIN_WORDS = 40


@dataclass(frozen=True)
class Grounded:
    """A draft after grounding: the summary as shown, every sentence's pages, a warning."""

    summary: str
    grounding: list[Grounding]
    warning: str | None = None


def ground(summary: str, tldr: str, pages: PageIndex) -> Grounded:
    """The summary without its unsupported sentences where enough remains (else they stay,
    marked, with a warning), and the grounding of every sentence kept and of the TL;DR."""
    grounding = ground_text(summary, pages)
    bad = [g for g in grounding if not g.supported]
    kept = [g for g in grounding if g.supported]
    enough = len(kept) >= 2 and sum(len(g.sentence.split()) for g in kept) >= KEEP_MIN_WORDS
    warning = None
    if bad and enough and "\n" not in summary.strip():
        summary = " ".join(g.sentence for g in kept)
        grounding = kept
    elif bad:
        warning = (
            f"summary: {len(bad)} of {len(grounding)} sentences found on no page of the "
            "paper (marked [?]) — read them with care"
        )
    return Grounded(summary, [*grounding, *ground_text(tldr, pages, "tldr")], warning)
