"""The two-part summary extract mode writes: what the paper claims, and what the abstract
does not say (issue 22).

A reader who follows arXiv has read the abstract, so a summary that serves it again tells
them nothing. The paper's own sentences are chosen in two parts, each with its page:

- **claims**: the abstract compressed (the introduction's opening when there is none): the
  contribution sentence ("we propose / introduce / show ..."), then the sentences that carry
  its headline numbers, within ``CLAIMS_WORDS``; the abstract's background ("Deep neural
  networks have achieved ...") is left out;
- **beyond** the abstract: sentences of the body by their role, the method's mechanism
  (a method section, "we use / instead of / consists of"), the main results with their
  setting (a number beside "accuracy / BLEU / than", a comparison first), the limitations the
  authors state ("limitation", "unstable", "does not apply", "future work"), each scored for
  what the abstract does not already say, in the rest of ``SUMMARY_WORDS``.

No two chosen sentences share ``quality.OVERLAP`` of their content words and numbers (the
weaker one is dropped). The TL;DR is the contribution sentence, never a background one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from localdigest.pdf import Section
from localdigest.summarize.facts import Fact, Statements
from localdigest.summarize.hygiene import scaffolding_in
from localdigest.summarize.quality import OVERLAP, numbers, overlap, terms_of
from localdigest.summarize.sentences import Candidate, candidates, score

# The abstract, compressed: its contribution and headline numbers, in CLAIMS_WORDS (up to
# CLAIMS_MAX_WORDS for a sentence of headline numbers); the body has the rest of SUMMARY_WORDS.
CLAIMS_WORDS, CLAIMS_MAX_WORDS = 45, 70
SUMMARY_WORDS = 180  # the two parts stay under ~200 words
# "We plan to investigate this further in future work." says nothing; a body sentence
# over BEYOND_MAX_WORDS takes the room of two facts.
BEYOND_MIN_WORDS, BEYOND_MAX_WORDS = 12, 36
FRONT_SENTENCES = 10  # without an abstract: the introduction's first sentences stand in

# What the paper does or finds, as its authors say it.
CONTRIBUTION = re.compile(
    r"\b(?:we|this (?:paper|work|article|report|study)|our (?:work|paper|method|model|"
    r"approach|results?|experiments?|analysis)|here,? we)\b[^.;]{0,60}?\b(?:propose|present|"
    r"introduce|show|demonstrate|find|found|develop|describe|report|achieve|obtain|establish|"
    r"prove|derive|design|study|investigate|analy[sz]e|provide|evaluate|calculate|offer|"
    r"outperform|improve|reduce|use|train)\w*",
    re.IGNORECASE,
)
_METHOD = re.compile(
    r"\b(?:we (?:use|apply|employ|train|compute|replace|add|define|modify|set|choose|sample|"
    r"initiali[sz]e|combine|encode|mask|run|keep|divide|scale|feed|stack|share|found)|"
    r"consists? of|(?:is|are) (?:computed|defined|obtained|trained|implemented|based|fed|"
    r"passed|mapped|replaced|used|run|kept|initiali[sz]ed|scaled)|by (?:using|replacing|"
    r"adding|computing|keeping)|instead of|rather than|in contrast to|unlike|learning rate|"
    r"batch size|dropout|epochs?|hyper-?parameters?|layers?|heads?|window|temperature)\b",
    re.IGNORECASE,
)
_RESULT = re.compile(
    r"\b(?:outperform\w*|achiev\w+|improv\w+|reach\w*|obtain\w*|accuracy|error|BLEU|F1|"
    r"scores?|perplexity|AUC|mAP|likelihood|compared (?:to|with)|than|baselines?|"
    r"state[- ]of[- ]the[- ]art|faster|slower|speed-?up|reduc\w+|better|worse|surpass\w*|"
    r"match\w*|gains?|gets?|errors?|correct|drops?|relative|absolute)\b",
    re.IGNORECASE,
)
_LIMITATION = re.compile(
    r"\b(?:limitations?|(?:is|are|was|were) limited|drawbacks?|disadvantages?|fail\w*|"
    r"unstable|instabilit\w+|does not (?:apply|handle|work|scale|perform|generali[sz]e|"
    r"converge)|cannot|can not|"
    r"not yet|unable|future work|remains? (?:an )?(?:open|unclear|challenging)|costly|"
    r"sensitive|overfit\w*|high variance|trade-?off|at the cost|only approximate\w*|"
    r"no explicit|slower|worse|struggl\w+)\b",
    re.IGNORECASE,
)
_METHOD_SECTION = re.compile(
    r"\b(?:method\w*|models?|approach|architecture|algorithms?|framework|training|setup|"
    r"implementation|procedure|design|networks?|proposed|attention|formulation)\b",
    re.IGNORECASE,
)
_RESULT_SECTION = re.compile(
    r"\b(?:experiments?|experimental|results?|evaluation|benchmarks?|comparison|ablations?|"
    r"performance|analysis)\b",
    re.IGNORECASE,
)
# A result a reader can check: a comparison, and what it was measured by.
_COMPARES = re.compile(
    r"\b(?:outperform\w*|improv\w+|than|vs\.?|versus|compared (?:to|with)|surpass\w*|"
    r"beats?|worse|better|drops?|gains?|relative to|over the)\b",
    re.IGNORECASE,
)
_METRIC = re.compile(
    r"\b(?:accuracy|error|BLEU|F1|perplexity|AUC|mAP|d-prime|likelihood|ROUGE|precision|recall|"
    r"loss|scores?|speed|faster|slower|GLUE|correct)\b|%",
    re.IGNORECASE,
)
_LIMIT_SECTION = re.compile(
    r"\b(?:conclusions?|discussion|limitations?|future|summary|concluding)\b", re.IGNORECASE
)
_INTRODUCTION = re.compile(r"\bintroduction\b", re.IGNORECASE)
# "In this section, we present BERT fine-tuning results on 11 NLP tasks." says no fact.
_ANNOUNCES = re.compile(
    r"^(?:in|here,? in) (?:this|the (?:following|next)) (?:section|subsection|chapter)\b",
    re.IGNORECASE,
)
# The roles of the second part, in the order their first sentence is chosen (then again).
ROLES = ("result", "method", "limitation", "result", "method", "result", "limitation")


@dataclass(frozen=True)
class Parts:
    """The chosen sentences: the claims (in paper order), what the abstract does not say
    (in paper order), the TL;DR (one of the claims; None: nothing reads as prose)."""

    claims: list[Candidate]
    beyond: list[Candidate]
    tldr: Candidate | None
    roles: dict[int, str]  # a second-part sentence's order -> the role it was chosen for

    @property
    def picked(self) -> list[Candidate]:
        return [*self.claims, *self.beyond]

    def card(self) -> list[tuple[str, str]]:
        """(role, text) lines of a card: the claim (the TL;DR), then the method, results
        (the claims' headline numbers first) and limitations sentences, each role once."""
        lines: dict[str, list[str]] = {"claim": [], "method": [], "result": [], "limitation": []}
        for c in self.claims:
            lines["claim" if c == self.tldr else "result"].append(c.text)
        for c in self.beyond:
            lines[self.roles[c.order]].append(c.text)
        return [(role, " ".join(texts)) for role, texts in lines.items() if texts]


def is_contribution(sentence: str) -> bool:
    """Whether ``sentence`` says what the paper does or finds (the TL;DR the eval wants)."""
    return CONTRIBUTION.search(sentence) is not None


def compose(
    sections: Sequence[Section], title: str, must: Sequence[Fact] = (), max_tldr_words: int = 40
) -> Parts:
    """The two parts (see the module docstring). ``must``: the abstract's headline facts
    (its numbers, the title's key phrase) the claims should state."""
    # A sentence holding one of our prompts' labels ("this part") reads as a model's echo.
    scored = [c for c in score(candidates(sections), title) if not scaffolding_in(c.text)]
    front = [c for c in scored if c.kind == "abstract"]
    if not front:  # no abstract (or withheld): the introduction's opening claims
        intro = [c for c in scored if _INTRODUCTION.search(c.heading)] or scored
        front = intro[:FRONT_SENTENCES]
    taken = {c.order for c in front}
    tldr = _contribution(front, max_tldr_words)
    claims = _claims(front, tldr, must)
    abstract_terms = set().union(*(terms_of(c.text) for c in front))
    body = [c for c in scored if c.order not in taken and c.kind != "abstract"]
    room = SUMMARY_WORDS - sum(len(c.text.split()) for c in claims)
    beyond = _beyond(body, claims, abstract_terms, room)
    return Parts(
        sorted(claims, key=lambda c: c.order),
        sorted(beyond, key=lambda c: c.order),
        tldr,
        {c.order: role for c, role in beyond.items()},
    )


def _contribution(front: Sequence[Candidate], max_words: int) -> Candidate | None:
    """The sentence that states the contribution: of the front's sentences saying what the
    paper does, the best (a short one preferred, "we propose / introduce X" before a
    result: the Transformer's TL;DR had been its 41.8 BLEU sentence, not what it is);
    without one, the best sentence that is not the front's opening (background)."""
    claims = [c for c in front if is_contribution(c.text)]
    if claims:
        short = [c for c in claims if len(c.text.split()) <= max_words] or claims
        # "We propose / introduce X" states what the paper is; a result sentence follows.
        return max(short, key=lambda c: (c.score + 0.6 * _names_what(c.text), -c.order))
    rest = [c for c in front if c.lead > 0] or list(front)
    return max(rest, key=lambda c: c.score, default=None)


_WHAT = re.compile(r"\b(?:propose|introduce|present|develop|design)\w*\b", re.IGNORECASE)


def _names_what(text: str) -> int:
    """1 for "we propose / introduce X" (not "we also introduce": a second contribution)."""
    return 1 if _WHAT.search(text) and not re.search(r"\balso\b", text) else 0


def _claims(
    front: Sequence[Candidate], tldr: Candidate | None, must: Sequence[Fact]
) -> list[Candidate]:
    """The TL;DR's sentence, then the front sentences that state most of the headline facts
    per word, then the best scored, none background, none repeating one chosen."""
    chosen = [tldr] if tldr is not None else []
    used = sum(len(c.text.split()) for c in chosen)
    statements = Statements([c.text for c in front])
    states = {i: 0 for i in range(len(front))}
    headline = {i: False for i in range(len(front))}  # states one of the abstract's numbers
    for fact in must:
        for i in statements.stating(fact):
            states[i] += 1
            headline[i] = headline[i] or fact.kind == "number"

    def value(i: int) -> float:
        c = front[i]
        return c.score + 0.4 * states[i] / max(1.0, len(c.text.split()) / 20)

    # The abstract's sentences before its first contribution are the field's background
    # (its opening, at least), unless they carry a headline number.
    first = next((c.order for c in front if is_contribution(c.text)), None)
    for i in sorted(range(len(front)), key=lambda i: -value(i)):
        c = front[i]
        before = c.lead == 0 or (first is not None and c.order < first)
        if c in chosen or (c.kind == "abstract" and before and not headline[i]):
            continue
        n = len(c.text.split())
        limit = CLAIMS_MAX_WORDS if states[i] >= 2 else CLAIMS_WORDS
        if used + n > limit or _repeats_any(c, chosen):
            continue
        chosen.append(c)
        used += n
    return chosen


def _role_score(c: Candidate, role: str, abstract_terms: set[str]) -> float | None:
    """How well ``c`` serves ``role`` in the second part (None: not at all): its own score,
    its role's cues and section, and what it says that the abstract does not."""
    text, heading = c.text, c.heading
    n_words = len(text.split())
    if not BEYOND_MIN_WORDS <= n_words <= BEYOND_MAX_WORDS or _ANNOUNCES.match(text):
        return None
    found = [n for n in numbers(text) if len(n.replace(".", "")) > 1 or "." in n]
    # Specific beats general: numbers and names; a long sentence costs its words.
    s = 0.5 * c.score + 0.1 * min(3, len(found)) - 0.01 * max(0, n_words - 30)
    if role == "method":
        in_section = bool(_METHOD_SECTION.search(heading)) and not _RESULT_SECTION.search(heading)
        cue = bool(_METHOD.search(text))
        if not (in_section or (cue and CONTRIBUTION.search(text))):
            return None
        s += 0.3 * in_section + 0.2 * cue
    elif role == "result":
        in_section = bool(_RESULT_SECTION.search(heading))
        if not found or not _RESULT.search(text):
            return None
        # "outperforms ... by +27.1%" beats "we used a minibatch size of 128"
        s += 0.2 + 0.3 * in_section + 0.3 * bool(_COMPARES.search(text) and _METRIC.search(text))
    else:
        if not _LIMITATION.search(text):
            return None
        s += 0.4 * bool(_LIMIT_SECTION.search(heading)) + 0.2 * bool(
            re.search(r"limitation|future work|not yet", text, re.IGNORECASE)
        )
    own = terms_of(text)
    novelty = len(own - abstract_terms) / len(own) if own else 0.0
    return s + 0.8 * novelty


def _beyond(
    body: Sequence[Candidate], chosen: Sequence[Candidate], abstract_terms: set[str], room: int
) -> dict[Candidate, str]:
    """One sentence per role in ``ROLES`` order, the best that fits and repeats nothing
    chosen (the claims included), within ``room`` words; each with its role."""
    picked: dict[Candidate, str] = {}
    used = 0
    ranked = {
        role: sorted(
            ((s, c) for c in body if (s := _role_score(c, role, abstract_terms)) is not None),
            key=lambda sc: (-sc[0], sc[1].order),
        )
        for role in set(ROLES)
    }
    for role in ROLES:
        for _s, c in ranked[role]:
            n = len(c.text.split())
            if c in picked or used + n > room:
                continue
            if _repeats_any(c, [*chosen, *picked]):
                continue
            picked[c] = role
            used += n
            break
    return picked


def _repeats_any(c: Candidate, chosen: Sequence[Candidate]) -> bool:
    return any(overlap(c.text, o.text) >= OVERLAP for o in chosen)
