"""How long a paper will take, before it runs: its planned calls priced at this model's rates.

The rates are learned from this model's own calls, per model file, context, thread count
and GPU layers (``rates_key``), and kept in the cache: prefill and decode tokens per
second, how many tokens each kind of call really generates (a model that stops early
writes fewer than its ``max_tokens``; the guard's retries write more), and the seconds a
paper spends outside model calls (extraction, planning, grounding) per page. Learned from
real calls rather than measured by a benchmark call: they are the calls of this project's
prompt sizes, on this machine as loaded as it is when the user runs, and the generated
lengths can only be learned that way. A model with no rates yet has no estimate until its
first calls are timed (no extra call is made: a timing call cost the 135M model ~14 s under
load and could overflow a small context); within a run, each paper is priced with the calls
made so far. Each run's calls then weigh as much as all earlier runs together
(``Rates.merge``), so the rates follow the machine's load.

``planned_calls(plan, options, prompts, tokens)`` -> the calls the writer will make (kind,
prompt tokens, max tokens); ``Rates.seconds(calls, pages)`` prices them.
"""

from __future__ import annotations

from collections.abc import Callable

from localdigest.summarize.chunking import Chunk
from localdigest.summarize.options import Options
from localdigest.summarize.plan import PaperPlan, Tokenizer, anchor_text
from localdigest.summarize.prompts import Prompts
from localdigest.summarize.rates import PlannedCall
from localdigest.summarize.write import REDUCE_PROMPTS


def planned_calls(
    plan: PaperPlan,
    options: Options,
    prompts: Prompts,
    tokens: Tokenizer,
    to_map: Callable[[Chunk], bool] = lambda _: True,
) -> list[PlannedCall]:
    """The calls the writer of ``options.mode`` will make for ``plan`` (no collapse:
    notes that overflow the reduce are rare, and a retry is counted in what a kind of call
    generates; ``to_map`` says whether a chunk's notes are still to be made: not cached).
    Prompt tokens are counted with the model's tokenizer; what a call reads
    that is made by an earlier call (notes, the summary) is priced as that call's answer
    (``PlannedCall.reads``)."""
    system = prompts.texts["system"]
    title = plan.title

    def prompt(name: str, **values: str) -> int:
        base = {"title": title, "sections": "", "text": "", "notes": "", "summary": ""}
        base["abstract"] = ""
        return tokens.prompt_tokens(system, prompts.render(name, **{**base, **values}))

    if options.mode == "extract":
        return []
    if options.mode == "rewrite":  # the picked sentences: about a summary's length
        rewrite = prompt("rewrite") + options.max_tokens
        calls = [PlannedCall("rewrite", rewrite, options.max_tokens)]
    elif plan.one_pass:
        whole = prompt("stuff", text=plan.chunks[0].text)
        calls = [PlannedCall("stuff", whole, options.max_tokens)]
    else:
        calls = [
            PlannedCall("map", prompt("map", text=c.text) + 8, options.map_tokens)
            for c in plan.chunks
            if to_map(c)
        ]
        notes = len(plan.chunks)
        anchored = prompt(REDUCE_PROMPTS[options.style], abstract=anchor_text(plan.anchor))
        if options.style == "tldr":
            return [*calls, PlannedCall("tldr", anchored, options.tldr_tokens, "map", notes)]
        reduce = REDUCE_PROMPTS[options.style]
        calls.append(PlannedCall(reduce, anchored, options.max_tokens, "map", notes))
    written = calls[-1].kind
    calls.append(PlannedCall("tldr", prompt("tldr"), options.tldr_tokens, written, 1))
    return calls
