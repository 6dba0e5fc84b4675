"""The writers, one per mode: ``(PaperPlan, PaperCalls) -> Draft``.

- ``write``: map-reduce. Notes on each chunk (the map, each note cached as soon as it is
  made), merged into one paragraph (the reduce; notes that don't fit one call are collapsed
  in groups first, with a bounded depth where each level must shrink), then a one-sentence
  TL;DR. The guard checks each output against the text the model read and grounds it in
  the paper's pages.
- ``extract``: the paper's own sentences in two parts (``parts.compose``): what it claims,
  and what the abstract does not say; no model call, the TL;DR is the contribution sentence.
- ``rewrite``: those sentences, rewritten by the model (kept only when the rewrite passes
  the same checks), and the model's TL;DR.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from localdigest.errors import InputError
from localdigest.llm import Generation
from localdigest.papers import Mode
from localdigest.summarize import parts, reading
from localdigest.summarize.calls import PaperCalls
from localdigest.summarize.chunking import make_chunks
from localdigest.summarize.facts import key_facts, title_fact
from localdigest.summarize.grounding import TLDR_SUPPORT, SupportJudge, ground_text
from localdigest.summarize.hygiene import tidy, tidy_bullets
from localdigest.summarize.plan import PaperPlan, anchor_text, read_headings, text_budget
from localdigest.text import first_sentence

MAX_COLLAPSE_DEPTH = 3
# The reduce asks for 4-6 sentences: under this many words (or a quarter of --max-tokens,
# or a quarter of the notes' words, whichever is less) the guard generates it again.
# The eval had found one-sentence "paragraphs" (11 words).
SUMMARY_MIN_WORDS = 40
TLDR_MAX_WORDS = 40  # the prompt asks for 30; a longer TL;DR is a copied paragraph
# A card in the model's words is the labelled lines of the bullets style.
REDUCE_PROMPTS = {
    "paragraph": "reduce",
    "bullets": "reduce_bullets",
    "card": "reduce_bullets",
    "tldr": "tldr",
}


@dataclass(frozen=True)
class Draft:
    """What a writer made, before grounding: the summary, its TL;DR, the headings read."""

    summary: str
    tldr: str
    headings: list[str]
    roles: list[str] = field(default_factory=list)  # PaperSummary.roles


Writer = Callable[[PaperPlan, PaperCalls], Draft]


def write(plan: PaperPlan, calls: PaperCalls) -> Draft:
    """Map-reduce: notes on each chunk, the reduce in the chosen style, then the TL;DR.

    The guard checks the reduce and the TL;DR against the text the model read, not only
    the notes (a number a map call made up is in the notes but not in the paper), and
    grounds them in the paper's pages (``SupportJudge``)."""
    options, title, anchor = calls.ctx.options, plan.title, plan.anchor
    if plan.one_pass:
        return _one_pass(plan, calls)
    notes = calls.map(title, plan.chunks)
    if not notes:
        raise InputError(
            f"'{title}': the model wrote no notes on any part of it — try another --model"
        )
    notes = _collapse(calls, plan, notes)
    joined = "\n\n".join(notes)
    paper_text = "\n\n".join(c.text for c in plan.chunks)
    source = f"{title}\n{anchor}\n{paper_text or joined}"
    headings = read_headings(plan.mapped, plan.chunks)
    if options.style == "tldr":
        tldr = _tldr(calls, plan, joined, source, fallback=False)
        return Draft(tldr, tldr, headings)
    bullets = options.style in ("bullets", "card")

    def clean(g: Generation) -> str:
        cut = g.finish_reason == "length"
        return tidy_bullets(g.text, cut) if bullets else tidy(g.text, cut)

    summary = calls.guarded(
        REDUCE_PROMPTS[options.style],
        options.max_tokens,
        source,
        clean,
        {"title": title, "abstract": anchor_text(anchor), "notes": joined},
        min_words=min(SUMMARY_MIN_WORDS, options.max_tokens // 4, len(joined.split()) // 4),
        judge=_judge(plan, require_title=True),
    )
    if not summary.strip():
        raise InputError(
            f"'{title}': the model wrote an empty summary — try another --model, or "
            "--refresh to generate it again"
        )
    return Draft(summary, _tldr(calls, plan, summary, source), headings)


def _one_pass(plan: PaperPlan, calls: PaperCalls) -> Draft:
    """The summary written from the whole reading plan in one call (it fits the context:
    ``Options.one_pass``), then the TL;DR."""
    options, title = calls.ctx.options, plan.title
    [whole] = plan.chunks
    calls.ctx.reporter.chunks_planned(1)
    t = time.perf_counter()
    summary = calls.guarded(
        "stuff",
        options.max_tokens,
        f"{title}\n{whole.text}",
        lambda g: tidy(g.text, g.finish_reason == "length"),
        {"title": title, "text": whole.text},
        min_words=min(SUMMARY_MIN_WORDS, options.max_tokens // 4),
        judge=_judge(plan, require_title=True),
    )
    calls.stats.map_seconds += time.perf_counter() - t
    calls.ctx.reporter.chunk_done(cached=False)
    if not summary.strip():
        raise InputError(
            f"'{title}': the model wrote an empty summary — try another --model, or "
            "--refresh to generate it again"
        )
    source = f"{title}\n{whole.text}"
    headings = read_headings(plan.reading.sections, plan.chunks)
    return Draft(summary, _tldr(calls, plan, summary, source), headings)


def extract(plan: PaperPlan, calls: PaperCalls) -> Draft:
    """The paper's own sentences in two parts, no model call; the TL;DR is the sentence
    stating the contribution."""
    return _from_sentences(plan, calls, rewrite=False)


def rewrite(plan: PaperPlan, calls: PaperCalls) -> Draft:
    """The picked sentences rewritten by the model, and the model's TL;DR."""
    return _from_sentences(plan, calls, rewrite=True)


WRITERS: dict[Mode, Writer] = {"write": write, "extract": extract, "rewrite": rewrite}


def _collapse(calls: PaperCalls, plan: PaperPlan, notes: list[str]) -> list[str]:
    """Merge notes in groups until they fit one reduce call (bounded depth, must shrink)."""
    ctx, title = calls.ctx, plan.title
    tokens = calls.backend
    count = tokens.count_tokens
    reduce_prompt = REDUCE_PROMPTS[ctx.options.style]
    budget = text_budget(
        ctx.prompts, tokens, reduce_prompt, title, ctx.options.max_tokens, plan.anchor
    )
    group_budget = text_budget(ctx.prompts, tokens, "collapse", title, ctx.options.map_tokens)
    for _depth in range(MAX_COLLAPSE_DEPTH):
        joined = "\n\n".join(notes)
        if count(joined) <= budget:
            return notes
        groups = make_chunks([("", n) for n in notes], count, group_budget)
        merged = [
            calls.cached_notes(
                "collapse", ctx.options.map_tokens, g.text, {"title": title, "notes": g.text}
            )
            for g in groups
        ]
        if count("\n\n".join(merged)) >= count(joined):
            break  # this level did not shrink: stop instead of looping
        notes = merged
    # Still too long after the allowed levels: keep what fits, in paper order.
    kept, used = [], 0
    for n in notes:
        used += count(n) + 2
        if used > budget:
            break
        kept.append(n)
    return kept or [notes[0][: budget * 3]]


def _tldr(
    calls: PaperCalls,
    plan: PaperPlan,
    summary: str,
    source: str,
    fallback: bool = True,
    key_sentence: str = "",
) -> str:
    """The model's one-sentence TL;DR, grounded in the paper. Where it is not: with
    ``fallback``, ``key_sentence`` (the paper's most informative sentence) or the
    summary's first well supported one; else it stays, marked."""

    def clean(g: Generation) -> str:
        return first_sentence(tidy(g.text, cut_short=g.finish_reason == "length"))

    ctx = calls.ctx
    judge = replace(_judge(plan), min_support=TLDR_SUPPORT)
    said = len(calls.warnings)
    budget = text_budget(ctx.prompts, calls.backend, "tldr", plan.title, ctx.options.tldr_tokens)
    count = calls.backend.count_tokens
    summary = reading.leading_sentences(summary, budget, count) or summary
    text = calls.guarded(
        "tldr",
        ctx.options.tldr_tokens,
        source,
        clean,
        {"title": plan.title, "summary": summary},
        judge=judge,
    )
    fits = len(text.split()) <= TLDR_MAX_WORDS
    if (text and fits and judge.problem(text) is None) or not fallback:
        return text or first_sentence(summary)
    del calls.warnings[said:]  # the model's attempts are replaced, not shown
    if key_sentence:
        return key_sentence
    supported = [
        g.sentence
        for g in ground_text(summary, plan.pages)
        if g.supported and g.support >= TLDR_SUPPORT
    ]
    return supported[0] if supported else text or first_sentence(summary)


def _judge(plan: PaperPlan, require_title: bool = False) -> SupportJudge:
    fact = title_fact(plan.title) if require_title else None
    terms = fact.forms if fact is not None and fact.kind == "title" else ()
    return SupportJudge(plan.pages, terms)


def _from_sentences(plan: PaperPlan, calls: PaperCalls, *, rewrite: bool) -> Draft:
    """Extract (and with ``rewrite``, have the model rewrite) the paper's most informative
    sentences, with the headings they come from."""
    options = calls.ctx.options
    calls.ctx.reporter.chunks_planned(0)
    # The coverage pass: the title's key phrase and the abstract's numbers must be among
    # what is kept (not when text was withheld from the reader: the eval).
    document = plan.document
    must = (
        []
        if document.withheld is not None
        else [f for f in key_facts(document.abstract, plan.title) if f.kind in ("number", "title")]
    )
    chosen = parts.compose(plan.reading.sections, plan.title, must, TLDR_MAX_WORDS)
    picked = chosen.picked
    if not picked or chosen.tldr is None:
        raise InputError(f"'{plan.title}': no sentence of it reads as prose — try --mode write")
    roles: list[str] = []
    if options.style == "bullets":
        extracted = "\n".join(f"- {c.text}" for c in picked)
    elif options.style == "card":
        card = chosen.card()
        roles = [role for role, _ in card]
        extracted = "\n\n".join(text for _, text in card)
    else:
        blocks = {
            "claims": " ".join(c.text for c in chosen.claims),
            "beyond": " ".join(c.text for c in chosen.beyond),
        }
        roles = [role for role, text in blocks.items() if text]
        extracted = "\n\n".join(blocks[role] for role in roles)
    summary = extracted
    if rewrite and options.style != "tldr":
        judge = _judge(plan, require_title=True)
        rewritten = calls.guarded(
            "rewrite",
            options.max_tokens,
            extracted,
            lambda g: tidy(g.text, cut_short=g.finish_reason == "length"),
            {"title": plan.title, "text": extracted},
            min_words=min(SUMMARY_MIN_WORDS, len(extracted.split()) // 2),
            judge=judge,
        )
        if judge.problem(rewritten) is None:
            summary, roles = rewritten, []  # one paragraph in the model's words
    source = f"{plan.title}\n{plan.anchor}\n{extracted}"
    # Extract mode writes nothing: its TL;DR is the sentence stating the contribution
    # (read on three papers, the 135M model's own TL;DRs were vague or wrong: "a new
    # method ... based on MFCCs and GMMs" for a survey whose baseline they are).
    if rewrite:
        tldr = _tldr(calls, plan, summary, source, key_sentence=chosen.tldr.text)
    else:
        tldr = chosen.tldr.text
    if options.style == "tldr":
        summary, roles = tldr, []
    headings = list(dict.fromkeys(c.heading for c in picked if c.heading))
    return Draft(summary, tldr, headings, roles)
