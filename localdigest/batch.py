"""Decode several prompts at once through llama.cpp's multi-sequence batch API.

One ``llama_decode`` call can carry tokens of several sequences (each token tagged with
its ``seq_id``) sharing one KV cache. A single-token decode step is bound by reading the
model's weights, not by arithmetic, so feeding one token of each of N sequences per step
costs little more than feeding one: the map step's notes come out several times faster
than one call after another.

How it runs (continuous batching over ``parallel`` slots):

- the prompts' common prefix (system prompt + fixed instruction) is evaluated once, kept
  in a holder sequence, and copied into each slot with ``llama_memory_seq_cp``;
- a free slot takes the next prompt: its remaining tokens are evaluated (in ``n_batch``
  pieces) and its first token sampled;
- each step decodes one token for every active slot; a slot that hits end-of-generation
  or its token limit is finished at once (``on_done`` fires, so the caller can cache the
  result before the others end) and its cells are released for the next prompt - unless
  ``on_done`` asks for a retry with other settings: then the prompt's cells are kept and
  only its answer is generated again.

Sampling uses the same llama.cpp sampler chain as llama-cpp-python's ``create_completion``
(repeat penalty over the last 64 tokens, top-k 40, typical 1.0, top-p, min-p 0.05,
temperature, seeded dist; greedy at temperature 0), one chain per sequence, so with the
same logits a batched run writes what one-by-one calls write.

This module uses the already loaded ``Llama`` object's model and context (created with
``n_seq_max = parallel + 1`` and a unified KV cache, see ``llm.LlamaCppBackend``): no
second model, no second KV cache. It leaves the context empty and tells the ``Llama``
object so, which therefore re-evaluates its next prompt from scratch.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from localdigest.errors import ModelError
from localdigest.llm import Generation, GenerationSettings, TokenCallback

# Called when one prompt's generation is finished: (its index in the input, the result).
# It may return settings to generate that prompt again with (a retry), reusing its cells.
DoneCallback = Callable[[int, Generation], GenerationSettings | None]

MIN_SHARED_PREFIX = 8  # shorter common prefixes are not worth a holder sequence


@dataclass
class _Seq:
    index: int
    slot: int
    prompt: list[int]
    limit: int
    sampler: Any  # llama_cpp._internals.LlamaSampler
    reused: int
    pos: int = 0
    out: list[int] = field(default_factory=list)
    last: int = -1  # the token to feed in the next step
    prompt_seconds: float = 0.0
    decode_seconds: float = 0.0
    finish: str = ""


def common_prefix(prompts: Sequence[Sequence[int]]) -> int:
    """Length of the token prefix every prompt shares."""
    if not prompts:
        return 0
    n = min(len(p) for p in prompts)
    first = prompts[0]
    for i in range(n):
        t = first[i]
        if any(p[i] != t for p in prompts[1:]):
            return i
    return n


def make_sampler(llm: Any, settings: GenerationSettings) -> Any:
    """The sampler chain llama-cpp-python's create_completion builds for these settings."""
    from llama_cpp import _internals

    s = _internals.LlamaSampler()
    s.add_penalties(
        n_vocab=llm.n_vocab(),
        penalty_last_n=llm.last_n_tokens_size,
        penalty_repeat=settings.repeat_penalty,
        penalty_freq=0.0,
        penalty_present=0.0,
    )
    if settings.temperature == 0.0:
        s.add_greedy()
    else:
        s.add_top_k(40)
        s.add_typical(1.0, 1)
        s.add_top_p(settings.top_p, 1)
        s.add_min_p(0.05, 1)
        s.add_temp(settings.temperature)
        s.add_dist(settings.seed)
    return s


class _Batch:
    """A reusable llama_batch: add (token, pos, seq, wants_logits) rows, then decode."""

    def __init__(self, lib: Any, capacity: int) -> None:
        self.lib = lib
        self.capacity = capacity
        self.raw = lib.llama_batch_init(capacity, 0, 1)

    def fill(self, rows: Sequence[tuple[int, int, int, bool]]) -> None:
        b = self.raw
        for i, (token, pos, seq, logits) in enumerate(rows):
            b.token[i] = token
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = logits
        b.n_tokens = len(rows)

    def decode(self, ctx: Any, rows: Sequence[tuple[int, int, int, bool]]) -> None:
        self.fill(rows)
        rc = self.lib.llama_decode(ctx, self.raw)
        if rc != 0:
            raise ModelError(
                f"llama.cpp could not decode a batch of {len(rows)} tokens (code {rc}): the "
                "context is too small for this many parallel sequences — raise --n-ctx"
            )

    def free(self) -> None:
        self.lib.llama_batch_free(self.raw)


def generate_many(
    llm: Any,
    prompts: Sequence[list[int]],
    settings: GenerationSettings,
    *,
    parallel: int,
    on_token: TokenCallback | None = None,
    on_done: DoneCallback | None = None,
) -> list[Generation]:
    """Generate a completion for each tokenized prompt, ``parallel`` of them at a time.

    ``llm`` is a ``llama_cpp.Llama`` whose context has ``n_seq_max >= parallel + 1`` and a
    unified KV cache. Results come back in input order; ``on_done`` sees each as soon as
    it is finished. The whole context is used: prompts are admitted while their prompt
    plus token limit fit beside those already running.
    """
    import llama_cpp as lib

    if not prompts:
        return []
    ctx = llm._ctx.ctx
    vocab = llm._model.vocab
    n_ctx = llm.n_ctx()
    n_batch = max(1, llm.n_batch)
    n_seq_max = lib.llama_n_seq_max(ctx)
    parallel = max(1, min(parallel, n_seq_max - 1, len(prompts)))
    holder = n_seq_max - 1
    for p in prompts:
        if len(p) >= n_ctx:
            raise ModelError(
                f"The prompt needs {len(p)} tokens but the context holds {n_ctx} — raise --n-ctx"
            )
    limits = [min(settings.max_tokens, n_ctx - len(p)) for p in prompts]
    # Share the prefix, but always leave each prompt's last token to be evaluated in its
    # own slot: its logits give the first sampled token.
    shared = common_prefix(prompts) if len(prompts) > 1 else 0
    shared = min(shared, min(len(p) for p in prompts) - 1)
    if shared < MIN_SHARED_PREFIX:
        shared = 0

    mem = lib.llama_get_memory(ctx)
    lib.llama_memory_clear(mem, True)
    llm.n_tokens = 0  # the high-level object must not reuse what we leave in the cache
    batch = _Batch(lib, max(n_batch, parallel))
    results: list[Generation | None] = [None] * len(prompts)
    pending = deque(range(len(prompts)))
    active: dict[int, _Seq] = {}
    free_slots = list(range(parallel))
    used = shared  # KV cells reserved: the shared prefix + each active prompt and answer
    generated = 0
    started = time.perf_counter()

    def evaluate(tokens: Sequence[int], first_pos: int, seq: int) -> int:
        """Evaluate tokens into a sequence; returns the batch index of the last logits."""
        for i in range(0, len(tokens), n_batch):
            piece = tokens[i : i + n_batch]
            last = i + len(piece) == len(tokens)
            rows = [
                (t, first_pos + i + j, seq, last and j == len(piece) - 1)
                for j, t in enumerate(piece)
            ]
            batch.decode(ctx, rows)
        return len(tokens) - 1 - ((len(tokens) - 1) // n_batch) * n_batch

    def finish(s: _Seq, reason: str) -> None:
        nonlocal used
        s.finish = reason
        s.sampler.close()
        text = llm.detokenize(s.out, prev_tokens=s.prompt).decode("utf-8", errors="ignore")
        g = Generation(
            text=text.strip(),
            prompt_tokens=len(s.prompt),
            completion_tokens=len(s.out),
            finish_reason=reason,
            prompt_seconds=s.prompt_seconds,
            seconds=s.prompt_seconds + s.decode_seconds,
            reused_tokens=s.reused,
        )
        results[s.index] = g
        retry = on_done(s.index, g) if on_done is not None else None
        if retry is not None:
            restart(s, retry)
            return
        lib.llama_memory_seq_rm(mem, s.slot, -1, -1)
        used -= len(s.prompt) - shared + s.limit
        del active[s.slot]
        free_slots.append(s.slot)

    def restart(s: _Seq, again: GenerationSettings) -> None:
        """Generate again for the same prompt with other settings (a retry): its cells are
        kept and only its last prompt token is evaluated again, for the first logits."""
        nonlocal used
        t0 = time.perf_counter()
        n = len(s.prompt)
        lib.llama_memory_seq_rm(mem, s.slot, n - 1, -1)
        limit = min(again.max_tokens, n_ctx - n)
        used += limit - s.limit
        s.limit, s.out, s.reused, s.decode_seconds = limit, [], n - 1, 0.0
        s.sampler = make_sampler(llm, again)
        batch.decode(ctx, [(s.prompt[-1], n - 1, s.slot, True)])
        s.pos = n
        token = s.sampler.sample(llm._ctx, 0)
        s.prompt_seconds = time.perf_counter() - t0
        accept(s, token)

    def accept(s: _Seq, token: int) -> None:
        """Record a sampled token; finish the sequence on end-of-generation or its limit."""
        nonlocal generated
        if lib.llama_vocab_is_eog(vocab, token):
            finish(s, "stop")
            return
        s.out.append(token)
        s.last = token
        generated += 1
        if on_token is not None:
            on_token(generated, time.perf_counter() - started)
        if len(s.out) >= s.limit:
            finish(s, "length")

    carry = 0.0  # time of the shared prefix, charged to the first prompt (it'd pay it alone)

    def admit(index: int) -> None:
        nonlocal used, carry
        t0 = time.perf_counter()
        slot = free_slots.pop(0)
        prompt = list(prompts[index])
        reused = shared if carry == 0.0 else 0
        s = _Seq(index, slot, prompt, limits[index], make_sampler(llm, settings), reused)
        active[slot] = s
        used += len(prompt) - shared + s.limit
        if shared:
            lib.llama_memory_seq_cp(mem, holder, slot, -1, -1)
        idx = evaluate(prompt[shared:], shared, slot)
        s.pos = len(prompt)
        token = s.sampler.sample(llm._ctx, idx)
        s.prompt_seconds = time.perf_counter() - t0 + carry
        carry = 0.0
        accept(s, token)

    def step() -> None:
        """One decode step: the last token of every active sequence, one new token each."""
        t0 = time.perf_counter()
        seqs = list(active.values())
        batch.decode(ctx, [(s.last, s.pos, s.slot, True) for s in seqs])
        tokens = [s.sampler.sample(llm._ctx, i) for i, s in enumerate(seqs)]
        share = (time.perf_counter() - t0) / len(seqs)
        for s, token in zip(seqs, tokens, strict=True):
            s.pos += 1
            s.decode_seconds += share
            accept(s, token)

    try:
        if shared:
            t0 = time.perf_counter()
            evaluate(prompts[0][:shared], 0, holder)
            carry = max(time.perf_counter() - t0, 1e-9)
        while pending or active:
            while pending and free_slots:
                need = len(prompts[pending[0]]) - shared + limits[pending[0]]
                if active and used + need > n_ctx:
                    break  # wait until a running sequence releases its cells
                admit(pending.popleft())
            if active:
                step()
    finally:
        batch.free()
        lib.llama_memory_clear(mem, True)
        llm.n_tokens = 0
        for s in list(active.values()):
            s.sampler.close()
    return [g for g in results if g is not None]
