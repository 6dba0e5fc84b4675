"""Output guard: check each model output, retry with other settings, trim, flag.

Small models loop ("the model is the model is the model ..."), drift away from the text
they were given, or change the numbers they copy. Every summarizer call goes through
``guarded``: when the output is degenerate, off-topic or states numbers its input does not
hold, it is generated again with another seed and a slightly stronger repeat penalty (then
another seed and a higher temperature); if no attempt is clean, the least bad one has its
loop trimmed and its sentences with unsupported numbers dropped, and whatever is still
wrong comes back as a warning for the PaperSummary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from localdigest import quality
from localdigest.llm import Generation, GenerationSettings

# Parts of the cache keys: a changed guard recomputes what it guarded. NOTES_VERSION covers
# the map and collapse calls, VERSION the summary and TL;DR.
VERSION = 3
NOTES_VERSION = 2

# The guard's own off-topic bar is lower than the eval's: a retry costs a model call, so it
# only fires on output that has clearly left the text (garbage, another subject).
GUARD_OFF_TOPIC_BELOW = 0.4
MIN_TOPIC_WORDS = 8  # too few content words to judge topicality


def retry_settings(base: GenerationSettings) -> list[GenerationSettings]:
    """The settings of the retries, in order: another seed with a slightly stronger repeat
    penalty, then another seed with more temperature. Measured on SmolLM2-135M: a penalty
    of 1.3 makes summaries longer and makes the model change the numbers it copies (number
    faithfulness fell from 0.83 to 0.33), so the penalty only goes up a little."""
    return [
        replace(base, repeat_penalty=max(base.repeat_penalty, 1.2), seed=base.seed + 1),
        replace(base, temperature=max(base.temperature, 0.6), seed=base.seed + 2),
    ]


def problem(text: str, source: str | None, check_numbers: bool = True) -> str | None:
    """What is wrong with an output (None: nothing): degenerate, off-topic, empty, or
    (``check_numbers``) stating a number of two or more digits its source does not hold."""
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
    return None


@dataclass
class Guarded:
    text: str
    generation: Generation  # the attempt the text comes from
    attempts: int
    warning: str | None = None  # set when the guard could not fix the output
    problems: list[str] = field(default_factory=list)  # one per rejected attempt


def guarded(
    generate: Callable[[GenerationSettings], Generation],
    settings: GenerationSettings,
    source: str | None,
    *,
    label: str = "output",
    clean: Callable[[Generation], str] = lambda g: g.text,
    check_numbers: bool = True,
) -> Guarded:
    """Generate, and retry with ``retry_settings`` while the output has a ``problem``.

    ``clean`` turns a generation into the text that is checked and returned (the
    summarizer's ``tidy``); ``source`` is the text the output must stay on.
    """
    attempts: list[tuple[str, Generation, str]] = []
    for s in [settings, *retry_settings(settings)]:
        g = generate(s)
        text = clean(g)
        issue = problem(text, source, check_numbers)
        if issue is None:
            found = [p for _, _, p in attempts]
            return Guarded(text, g, len(attempts) + 1, problems=found)
        attempts.append((text, g, issue))
    # Nothing clean: trim the loops out of each attempt and keep the best remainder.
    best: tuple[str, Generation, str | None] | None = None
    for text, g, _ in attempts:
        trimmed = quality.trim_repetition(text)
        if source and check_numbers:
            trimmed = quality.drop_unsupported_numbers(trimmed, source)
        issue = problem(trimmed, source, check_numbers)
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
