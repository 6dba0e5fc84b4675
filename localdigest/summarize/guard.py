"""Output guard: check each model output, repair or retry with other settings, flag.

Small models loop ("the model is the model is the model ..."), drift away from the text
they were given, or change the numbers they copy. Every summarizer call goes through
``guarded``: when the output is degenerate or states numbers its input does not hold, it
is first repaired without the model (sentences repeating earlier ones dropped, the text
cut before a loop, sentences with unsupported numbers dropped); a repair that leaves a
clean text holding most of the output is kept. Otherwise (and for off-topic output, which
no trimming fixes) it is generated again with another seed and a slightly stronger
repeat penalty, then another seed and a higher temperature; if no attempt is clean, the
least bad repaired one is kept, and whatever is still wrong comes back as a warning for
the PaperSummary.

Repair first was measured: on SmolLM2-135M most rejected outputs held one sentence that
repeated an earlier one, and retrying them cost 13-14 model calls for 5 chunks where 7
were needed (each retry resends a whole chunk prompt).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from localdigest.llm import Generation, GenerationSettings
from localdigest.summarize import quality
from localdigest.text import sentences, words

# Parts of the cache keys: a changed guard recomputes what it guarded. NOTES_VERSION covers
# the map and collapse calls, VERSION the summary and TL;DR.
VERSION = 10  # 8: summaries and TL;DRs grounded in the paper's pages; 9: and their links;
# 10: sentences split knowing abbreviations, page marks the model wrote stripped
NOTES_VERSION = 4  # 4: notes lose headings and lone labels (tidy_notes)

# The guard's own off-topic bar is lower than the eval's: a retry costs a model call, so it
# only fires on output that has clearly left the text (garbage, another subject).
GUARD_OFF_TOPIC_BELOW = 0.4
MIN_TOPIC_WORDS = 8  # too few content words to judge topicality
# A repair is kept when it leaves a clean text with at least this share of the output's
# words (and at least REPAIR_MIN_WORDS): a loop cut early leaves too little, so retry.
REPAIR_KEEPS = 0.6
REPAIR_MIN_WORDS = 12


def retry_settings(base: GenerationSettings) -> list[GenerationSettings]:
    """The settings of the retries, in order: another seed with a slightly stronger repeat
    penalty, then another seed with more temperature. Measured on SmolLM2-135M: a penalty
    of 1.3 makes summaries longer and makes the model change the numbers it copies (number
    faithfulness fell from 0.83 to 0.33), so the penalty only goes up a little."""
    return [
        replace(base, repeat_penalty=max(base.repeat_penalty, 1.2), seed=base.seed + 1),
        replace(base, temperature=max(base.temperature, 0.6), seed=base.seed + 2),
    ]


class Judge(Protocol):
    """A further check of an output, with its own repair (the grounding in the paper's
    pages: ``grounding.SupportJudge``)."""

    def problem(self, text: str) -> str | None: ...

    def repair(self, text: str) -> str: ...


def problem(
    text: str,
    source: str | None,
    check_numbers: bool = True,
    min_words: int = 0,
    judge: Judge | None = None,
) -> str | None:
    """What is wrong with an output (None: nothing): degenerate, off-topic, empty, shorter
    than ``min_words``, (``check_numbers``) stating a number of two or more digits its
    source does not hold, or what the ``judge`` finds."""
    if not text.strip():
        return "empty"
    d = quality.degeneration(text)
    if d.degenerate:
        if d.sentence_run >= 2:
            return f"degenerate (the same sentence {d.sentence_run} times in a row)"
        if d.near_duplicates:
            return f"degenerate ({d.near_duplicates} sentence(s) repeating earlier ones)"
        if d.max_ngram_repeats >= quality.REPEAT_LIMIT:
            return f"degenerate (a 4-word phrase repeated {d.max_ngram_repeats} times)"
        return f"degenerate (only {d.distinct_2:.0%} distinct word pairs)"
    if source and check_numbers:
        _, invented = quality.number_faithfulness(text, source)
        invented = [n for n in invented if len(n.replace(".", "")) > 1]
        if invented:
            return f"numbers not in its input ({', '.join(invented[:3])})"
    if source and len(quality.content_words(text)) >= MIN_TOPIC_WORDS:
        share = quality.on_topic(text, source)
        if share < GUARD_OFF_TOPIC_BELOW:
            return f"off-topic (only {share:.0%} of its words are in the text it summarizes)"
    if judge is not None and (found := judge.problem(text)):
        return found
    n_words = len(words(text))
    if n_words < min_words:
        return f"too short ({n_words} words)"
    return None


def repair(
    text: str, source: str | None, check_numbers: bool = True, judge: Judge | None = None
) -> str:
    """The text without what the model can be trusted to have got wrong: sentences that
    repeat earlier ones, the loop at its end, and (``check_numbers``) sentences stating a
    number of two or more digits its source does not hold. Line breaks are kept."""
    units = [(n, s) for n, line in enumerate(text.splitlines()) for s in sentences(line)]
    lines: dict[int, list[str]] = {}
    for i, sentence in quality.trim_units([s for _, s in units]):
        if source and check_numbers and not quality.drop_unsupported_numbers(sentence, source):
            continue
        lines.setdefault(units[i][0], []).append(sentence)
    fixed = "\n".join(" ".join(parts) for _, parts in sorted(lines.items()))
    return judge.repair(fixed) if judge is not None and fixed else fixed


def _repaired(
    text: str,
    source: str | None,
    check_numbers: bool,
    min_words: int = 0,
    judge: Judge | None = None,
) -> str | None:
    """A repair of a flawed output good enough to keep instead of a retry (None: retry)."""
    fixed = repair(text, source, check_numbers, judge)
    kept = len(words(fixed))
    if kept < max(REPAIR_MIN_WORDS, REPAIR_KEEPS * len(words(text))):
        return None
    return fixed if problem(fixed, source, check_numbers, min_words, judge) is None else None


@dataclass
class Guarded:
    text: str
    generation: Generation  # the attempt the text comes from
    attempts: int
    warning: str | None = None  # set when the guard could not fix the output
    problems: list[str] = field(default_factory=list)  # one per flawed attempt
    repaired: bool = False  # the text is a flawed output with its flaws cut out


def guarded(
    generate: Callable[[GenerationSettings], Generation],
    settings: GenerationSettings,
    source: str | None,
    *,
    label: str = "output",
    clean: Callable[[Generation], str] = lambda g: g.text,
    check_numbers: bool = True,
    min_words: int = 0,
    judge: Judge | None = None,
) -> Guarded:
    """Generate; while the output has a ``problem``, repair it (kept if the repair is
    clean and holds most of it), else retry with ``retry_settings``.

    ``clean`` turns a generation into the text that is checked and returned (the
    summarizer's ``tidy``); ``source`` is the text the output must stay on.
    """
    attempts: list[tuple[str, Generation, str]] = []
    for s in [settings, *retry_settings(settings)]:
        g = generate(s)
        text = clean(g)
        issue = problem(text, source, check_numbers, min_words, judge)
        found = [p for _, _, p in attempts]
        if issue is None:
            return Guarded(text, g, len(attempts) + 1, problems=found)
        if not issue.startswith(("off-topic", "off-title", "empty", "too short")):
            fixed = _repaired(text, source, check_numbers, min_words, judge)
            if fixed is not None:
                return Guarded(fixed, g, len(attempts) + 1, problems=[*found, issue], repaired=True)
        attempts.append((text, g, issue))
    # Nothing clean: repair each attempt as far as it goes and keep the best remainder. (The
    # judge's repair is not applied here: what it would cut is marked by the caller.)
    best: tuple[str, Generation, str | None] | None = None
    for text, g, _ in attempts:
        trimmed = repair(text, source, check_numbers)
        issue = problem(trimmed, source, check_numbers, min_words, judge)
        if best is None or _rank(trimmed, issue) > _rank(best[0], best[2]):
            best = (trimmed, g, issue)
    assert best is not None
    text, g, issue = best
    problems = [p for _, _, p in attempts]
    warning = None
    if issue is not None:
        warning = f"{label}: {issue} after {len(attempts)} attempts"
    return Guarded(text, g, len(attempts), warning=warning, problems=problems)


def _rank(text: str, issue: str | None) -> tuple[int, int]:
    """Clean beats flawed; among equals, the longer text keeps more content."""
    return (issue is None, len(text.split()))
