"""The key facts of a paper, taken from its abstract without a model, and which a text states.

A reader of a summary needs the paper's facts: the numbers it reports (with what they
measure), the names of what it proposes and uses (methods, models, datasets: acronyms such
as BERT or WMT, CamelCase names such as AlexNet, capitalised names such as Neural Turing
Machines) and what its title names. ``key_facts`` lists them from the authors' abstract and
the title; ``stated`` says which of them a summary states. The eval reports the share
(``facts``) for every system; the summarizer uses the title's terms and the abstract's
numbers as a coverage check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from localdigest.summarize.quality import STOP_WORDS, numbers, stem
from localdigest.text import sentences, words

# Parenthetical citations and reference marks carry author names and years, not facts.
_CITATION_PAREN = re.compile(r"\([^()]*(?:et al\.|\b(?:19|20)\d\d[a-z]?\b)[^()]*\)")
REFERENCE_MARK = re.compile(r"\[\d+(?:\s*[,–-]\s*\d+)*\]")
# A number as printed, with its unit: 28.4, 80.5%, 70M, 5.24 million, 30,871, 5.76x.
_NUMBER = re.compile(
    r"(?<![\w.])(?P<n>\d+(?:[.,]\d+)*)(?P<unit>\s?(?:%|x\b|×|[KMBT]\b|million\b|billion\b))?"
)
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_NEXT_WORD = re.compile(r"\s*(\S+)")
# Acronyms and CamelCase: two capitals (BERT, GPUs, SQuAD), or a capital inside (AlexNet).
ACRONYM = re.compile(r"\b[A-Za-z]*[A-Z][a-z]*[A-Z0-9][A-Za-z0-9]*\b")
_CAPITALISED = re.compile(r"^[A-Z][a-z]+(?:-[A-Za-z]+)*$")
_CONNECTORS = {"of", "for", "from", "and", "the", "in", "on", "with", "to"}
# Capitalised words that open clauses or name nothing.
_NOT_NAMES = {
    "We", "Our", "In", "The", "This", "These", "That", "It", "Its", "Here", "However",
    "Finally", "Unlike", "As", "A", "An", "On", "For", "By", "To", "Despite", "When",
    "While", "Experiments", "Empirical", "Traditional", "Typically", "Real", "Starting",
    "Prior", "Some", "Most", "Both", "Each", "All", "Unfortunately", "Then", "Also",
}  # fmt: skip
TITLE_SHARE = 0.5  # the title fact is stated when this share of its key terms is


@dataclass(frozen=True)
class Fact:
    kind: str  # "number", "name" or "title"
    text: str  # as the abstract prints it ("28.4 BLEU", "Neural Turing Machines")
    forms: tuple[str, ...]  # what a text may say to state it (normalized)

    def stated_in(self, text: str) -> bool:
        if self.kind == "number":
            return any(n in self.forms for n in numbers(text))
        if self.kind == "title":
            said = set(_stems(text))
            need = max(1, round(TITLE_SHARE * len(self.forms)))
            return sum(1 for f in self.forms if f in said) >= need
        flat = _flat(text)
        return any(f in flat for f in self.forms)


def _flat(text: str) -> str:
    """Lower case, punctuation and runs of spaces as single spaces, padded for whole words."""
    return " " + " ".join(re.sub(r"[^\w\s]|_", " ", text.lower()).split()) + " "


def _stems(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


def _name_forms(name: str) -> tuple[str, ...]:
    """How a name may be written: as printed, and an acronym's singular (CNNs -> CNN)."""
    forms = {_flat(name)}
    if re.fullmatch(r"[A-Z][A-Z0-9]+s", name):
        forms.add(_flat(name[:-1]))
    return tuple(sorted(forms))


def _clean(abstract: str) -> str:
    """The abstract without citations; a reference mark ends a name ("Audio Set [5] ...")."""
    return REFERENCE_MARK.sub(" ;", _CITATION_PAREN.sub("", abstract))


def number_facts(abstract: str) -> list[Fact]:
    """The numbers an abstract reports: with a decimal, a unit or two digits, or followed
    by a named measure ("2 BLEU"); years and lone small counts are left out."""
    found: dict[str, Fact] = {}
    text = _clean(abstract)
    for m in _NUMBER.finditer(text):
        raw = m["n"].rstrip(".,")
        value = numbers(raw)[0] if numbers(raw) else raw
        unit = (m["unit"] or "").strip()
        after = _NEXT_WORD.match(text, m.end())  # not the rest split at every number
        measure = after[1].strip(".,;:()") if after else ""
        if measure.lower() in STOP_WORDS or not measure.replace("-", "").isalpha():
            measure = ""
        if _YEAR.match(raw) and not unit:
            continue
        significant = (
            "." in value or unit or len(value) >= 2 or bool(ACRONYM.fullmatch(measure or "x"))
        )
        if not significant or value in found:
            continue
        label = f"{raw}{m['unit'] or ''}" + (f" {measure}" if measure and not unit else "")
        found[value] = Fact("number", label.strip(), (value,))
    return list(found.values())


def name_facts(abstract: str) -> list[Fact]:
    """Names of methods, models and datasets: acronyms and CamelCase anywhere, and runs of
    capitalised words that do not open a sentence (joined by "of", "from"...)."""
    names: list[tuple[str, str | None]] = []  # (name, the acronym given for it)
    for sentence in sentences(_clean(abstract)):
        tokens = sentence.split()
        run: list[str] = []

        for i, raw in enumerate(tokens):
            token = _bare(raw)
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            acronym = bool(ACRONYM.fullmatch(token)) and not _YEAR.match(token)
            if raw.startswith("(") and acronym:  # "Neural Turing Machines (NTMs)"
                _end_run(run, names, token) if run else names.append((token, None))
                continue
            # A name opening the sentence counts when it has two words ("Convolutional
            # Neural Networks ..."); elsewhere a capitalised word is a name on its own.
            capital = _is_capital(raw) and (i > 0 or _is_capital(nxt))
            joins = bool(run) and token in _CONNECTORS and _is_capital(nxt)
            if capital or joins or (acronym and run):
                run.append(token)
            else:
                _end_run(run, names)
                if acronym:
                    names.append((token, None))
            if raw.endswith((",", ";", ":", ")", ".")):  # a name ends at punctuation
                _end_run(run, names)
        _end_run(run, names)
    found: dict[str, Fact] = {}
    seen: set[str] = set()  # every form of the names found so far
    for name, given in names:
        name = name.strip(" -")
        if len(name) < 2 or name in _NOT_NAMES:
            continue
        forms = _name_forms(name) + (_name_forms(given) if given else ())
        if name not in found and not seen.intersection(forms):
            found[name] = Fact("name", name, tuple(sorted(set(forms))))
            seen.update(forms)
    facts = list(found.values())
    # A name inside a longer one is that one ("Neural Networks" in "Deep Neural Networks"):
    # every run of words inside each form, looked up once (not every pair of names).
    inside: dict[str, set[int]] = {}  # a run of words -> the facts it is inside
    for n, f in enumerate(facts):
        for form in f.forms:
            w = form.split()
            for i in range(len(w)):
                for j in range(i + 1, min(len(w), i + len(w) - 1) + 1):
                    inside.setdefault(" " + " ".join(w[i:j]) + " ", set()).add(n)
    return [f for n, f in enumerate(facts) if not any(inside.get(a, {n}) - {n} for a in f.forms)]


def _end_run(run: list[str], names: list[tuple[str, str | None]], given: str | None = None) -> None:
    """Close a run of capitalised words as one name (without trailing connectors)."""
    while run and run[-1] in _CONNECTORS:
        run.pop()
    if run:
        names.append((" ".join(run), given))
    run.clear()


def _bare(raw: str) -> str:
    return raw.strip(".,;:()“”\"'")


def _is_capital(raw: str) -> bool:
    token = _bare(raw)
    return bool(_CAPITALISED.match(token)) and token not in _NOT_NAMES


def title_fact(title: str) -> Fact | None:
    """What the title names: the part before a colon when it is a short name ("BERT: ..."),
    else the title's key terms (content words of 4+ letters)."""
    head, sep, _ = title.partition(":")
    if sep and 0 < len(head.split()) <= 3:
        return Fact("name", head.strip(), _name_forms(head.strip()))
    terms = [stem(w) for w in words(title) if len(w) >= 4 and w.isalpha() and w not in STOP_WORDS]
    terms = list(dict.fromkeys(terms))
    return Fact("title", title.strip(), tuple(terms)) if terms else None


def key_facts(abstract: str, title: str = "") -> list[Fact]:
    """The facts a summary of this paper should state, in the abstract's order."""
    facts = [*number_facts(abstract), *name_facts(abstract)]
    head = title_fact(title) if title else None
    if head is not None and not any(f.forms == head.forms for f in facts):
        facts.insert(0, head)
    return facts


class Statements:
    """Which of many texts state a fact, each text read once: a number fact is looked up
    in an index of every text's numbers, so checking F facts against T texts costs F + T,
    not F x T (extract mode on a megabyte of text had taken 46 s)."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = texts
        self._by_number: dict[str, set[int]] = {}
        for i, text in enumerate(texts):
            for n in numbers(text):
                self._by_number.setdefault(n, set()).add(i)

    def stating(self, fact: Fact) -> set[int]:
        """The positions of the texts that state ``fact``."""
        if fact.kind == "number":
            return set().union(*(self._by_number.get(v, set()) for v in fact.forms))
        return {i for i, text in enumerate(self.texts) if fact.stated_in(text)}


def stated(text: str, facts: Sequence[Fact]) -> tuple[float, list[Fact]]:
    """The share of ``facts`` that ``text`` states (1.0 for none), and the ones missing."""
    if not facts:
        return 1.0, []
    missing = [f for f in facts if not f.stated_in(text)]
    return round(1 - len(missing) / len(facts), 4), missing
