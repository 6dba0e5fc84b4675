"""Checking a text the model wrote: degeneration, number faithfulness, topicality.

Pure functions over strings, used by the output guard (``guard.py``) and the eval's scores
(``eval/scoring.py``, which adds ROUGE). Plain Python, so the guard costs nothing to
import.

Thresholds (documented in docs/quality.md):

- degenerate: some word 4-gram occurs 3 or more times, or the same sentence occurs twice in
  a row, or a sentence mostly repeats earlier ones (60% of its 4-grams already said), or
  (for texts of 30+ words) fewer than half of the word bigrams are distinct;
- number faithfulness: the share of the summary's numbers found among the paper's numbers
  (1.0 when the summary states none);
- on-topic: the share of the summary's content words (3+ letters, not stop words) that occur
  in the paper, compared after crude suffix stripping.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from localdigest.text import sentences, words

REPEAT_NGRAM = 4  # a phrase of this many words ...
REPEAT_LIMIT = 3  # ... occurring this often makes a text degenerate
MIN_DISTINCT_2 = 0.5  # fewer distinct bigrams than this share is degenerate ...
DISTINCT_MIN_WORDS = 30  # ... for texts at least this long
NEAR_DUPLICATE = 0.6  # a sentence with this share of its 4-grams already said repeats

# 3, 3.5, 1,000, 28.4%, 1e-6, 10^6: digits with their decimal part; signs and units dropped.
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?")

STOP_WORDS = frozenset(
    """a about above after again against all also although am an and any are as at be
    because been before being below between both but by can could did do does doing down
    during each either few for from further had has have having he her here hers him his how
    however i if in into is it its itself just may me might more most much must my neither
    no nor not now of off on once only or other our ours out over own per same she should so
    some such than that the their theirs them then there these they this those through thus
    to too under until up upon very via was we were what when where whether which while who
    whom why will with within without would yet you your new use used using show shows shown
    paper propose proposes proposed present presents presented study work method methods
    approach result results based well one two three first second also""".split()  # noqa: SIM905 - a word list reads better as text
)


# ----------------------------------------------------------------------------- degeneration


@dataclass(frozen=True)
class Degeneration:
    words: int
    max_ngram_repeats: int  # how often the most frequent 4-gram occurs
    repeated_ngrams: int  # distinct 4-grams occurring REPEAT_LIMIT times or more
    distinct_2: float  # distinct bigrams / bigrams (1.0 for tiny texts)
    sentence_run: int  # longest run of the same sentence back to back
    near_duplicates: int  # sentences that mostly repeat earlier ones
    degenerate: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def degeneration(text: str) -> Degeneration:
    """Repetition measures of a text and whether they pass the degeneration threshold."""
    toks = words(text)
    counts = Counter(ngrams(toks, REPEAT_NGRAM))
    max_rep = max(counts.values(), default=0)
    repeated = sum(1 for c in counts.values() if c >= REPEAT_LIMIT)
    bigrams = ngrams(toks, 2)
    distinct = len(set(bigrams)) / len(bigrams) if bigrams else 1.0
    run = best = 0
    previous = None
    for s in sentences(text):
        norm = " ".join(words(s))
        run = run + 1 if norm and norm == previous else 1
        previous = norm
        best = max(best, run)
    near = sum(1 for s in _repeating_sentences(text) if s)
    degenerate = (
        max_rep >= REPEAT_LIMIT
        or best >= 2
        or near > 0
        or (len(toks) >= DISTINCT_MIN_WORDS and distinct < MIN_DISTINCT_2)
    )
    return Degeneration(len(toks), max_rep, repeated, round(distinct, 4), best, near, degenerate)


def _repeating_sentences(text: str) -> list[bool]:
    """For each sentence: does it mostly repeat what the sentences before it said?"""
    return _repeating(sentences(text))


def _repeating(units: list[str]) -> list[bool]:
    said: set[tuple[str, ...]] = set()
    flags = []
    for s in units:
        grams = set(ngrams(words(s), REPEAT_NGRAM))
        flags.append(len(grams) >= 3 and len(grams & said) / len(grams) >= NEAR_DUPLICATE)
        said |= grams
    return flags


def trim_units(units: list[str]) -> list[tuple[int, str]]:
    """Cut a looping text (its sentences, ``units``) before its loop: sentences that mostly
    repeat earlier ones are dropped; the text ends before the first sentence that repeats
    an earlier sentence or completes a 4-gram's REPEAT_LIMIT-th occurrence. The (index,
    sentence) pairs kept, so that a caller can put them back where they were (the lines of
    a list of notes)."""
    kept: list[tuple[int, str]] = []
    seen_sentences: set[str] = set()
    counts: Counter[tuple[str, ...]] = Counter()
    for i, (s, repeats) in enumerate(zip(units, _repeating(units), strict=True)):
        if repeats:
            continue
        norm = " ".join(words(s))
        grams = ngrams(words(s), REPEAT_NGRAM)
        trial = counts.copy()
        trial.update(grams)
        inner = Counter(grams)
        if norm in seen_sentences or any(trial[g] >= REPEAT_LIMIT for g in grams):
            if not kept and inner and max(inner.values()) >= REPEAT_LIMIT:
                kept.append((i, _cut_inside(s)))  # the first sentence loops: cut inside it
            break
        seen_sentences.add(norm)
        counts = trial
        kept.append((i, s))
    return [(i, k) for i, k in kept if k]


def _cut_inside(sentence: str) -> str:
    """The start of a sentence up to where its first repeated 4-gram comes back."""
    raw = sentence.split()
    seen: set[tuple[str, ...]] = set()
    for i in range(len(raw) - REPEAT_NGRAM + 1):
        gram = tuple(w.lower().strip(".,;:") for w in raw[i : i + REPEAT_NGRAM])
        if gram in seen:
            return " ".join(raw[:i]).rstrip(",;:") + "..."
        seen.add(gram)
    return sentence


# ----------------------------------------------------------------------------- grounding


def numbers(text: str) -> list[str]:
    """Numbers as written, normalized: thousands commas dropped, trailing '.0' kept apart."""
    found = []
    for m in _NUMBER.finditer(text):
        n = m.group(0)
        if re.fullmatch(r"\d{1,3}(,\d{3})+", n):
            n = n.replace(",", "")
        found.append(n.rstrip(",."))
    return found


def number_faithfulness(summary: str, source: str) -> tuple[float, list[str]]:
    """Share of the summary's numbers that occur in the source, and the ones that don't."""
    said = numbers(summary)
    if not said:
        return 1.0, []
    known = set(numbers(source))
    invented = [n for n in said if n not in known]
    return round(1 - len(invented) / len(said), 4), invented


def drop_unsupported_numbers(text: str, source: str) -> str:
    """The text without its sentences that state a number the source does not hold."""
    known = set(numbers(source))
    kept = [
        s
        for s in sentences(text)
        if all(n in known or len(n.replace(".", "")) == 1 for n in numbers(s))
    ]
    return " ".join(kept)


def stem(word: str) -> str:
    """A crude stem (suffixes off), the one every comparison of words here uses."""
    for suffix in ("ations", "ation", "ings", "ing", "ies", "es", "ed", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if len(w) >= 3 and w.isalpha() and w not in STOP_WORDS]


def on_topic(summary: str, source: str) -> float:
    """Share of the summary's content words that the source also uses (1.0 when none)."""
    said = content_words(summary)
    if not said:
        return 1.0
    vocab = {stem(w) for w in words(source)}
    return round(sum(1 for w in said if stem(w) in vocab) / len(said), 4)


# ----------------------------------------------------------------------------- overlap

# Two sentences that share this share of their content words and numbers (of the shorter
# one's) say the same thing: a summary keeps one of them (issue 22).
OVERLAP = 0.4


def terms_of(sentence: str) -> set[str]:
    """What a sentence says, for comparing it with another: its content words (stemmed)
    and its numbers."""
    return {stem(w) for w in content_words(sentence)} | set(numbers(sentence))


def overlap(a: str, b: str) -> float:
    """The share of the shorter sentence's terms the other one also has (0 when either
    has none)."""
    ta, tb = terms_of(a), terms_of(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / min(len(ta), len(tb))


def overlap_pairs(text: str) -> int:
    """The pairs of sentences of ``text`` that say the same thing (``OVERLAP``)."""
    said = [terms_of(s) for s in sentences(text)]
    return sum(
        1
        for i, a in enumerate(said)
        for b in said[i + 1 :]
        if a and b and len(a & b) / min(len(a), len(b)) >= OVERLAP
    )
