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
``n_seq_max = parallel + 1`` and a unified KV cache, see ``llamacpp.LlamaCppBackend``): no
second model, no second KV cache. It leaves the context empty and tells the ``Llama``
object so, which therefore re-evaluates its next prompt from scratch.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from localdigest.errors import ModelError
from localdigest.llm.base import (
    DoneCallback,
    Generation,
    GenerationSettings,
    TokenCallback,
    common_prefix,
)

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
    if not prompts:
        return []
    run = _BatchRun(llm, prompts, settings, parallel, on_token, on_done)
    try:
        run.prefill_shared_prefix()
        while run.pending or run.active:
            run.admit_waiting()
            if run.active:
                run.step()
    finally:
        run.close()
    return [g for g in run.results if g is not None]


class _BatchRun:
    """The state of one ``generate_many`` call, and its steps."""

    def __init__(
        self,
        llm: Any,
        prompts: Sequence[list[int]],
        settings: GenerationSettings,
        parallel: int,
        on_token: TokenCallback | None,
        on_done: DoneCallback | None,
    ) -> None:
        import llama_cpp as lib

        self.lib, self.llm, self.prompts, self.settings = lib, llm, prompts, settings
        self.on_token, self.on_done = on_token, on_done
        self.ctx = llm._ctx.ctx
        self.vocab = llm._model.vocab
        self.n_ctx = llm.n_ctx()
        self.n_batch: int = max(1, llm.n_batch)
        n_seq_max = lib.llama_n_seq_max(self.ctx)
        parallel = max(1, min(parallel, n_seq_max - 1, len(prompts)))
        self.holder = n_seq_max - 1
        for p in prompts:
            if len(p) >= self.n_ctx:
                raise ModelError(
                    f"The prompt needs {len(p)} tokens but the context holds {self.n_ctx} — "
                    "raise --n-ctx"
                )
        self.limits = [min(settings.max_tokens, self.n_ctx - len(p)) for p in prompts]
        # Share the prefix, but always leave each prompt's last token to be evaluated in its
        # own slot: its logits give the first sampled token.
        shared = common_prefix(*prompts) if len(prompts) > 1 else 0
        shared = min(shared, min(len(p) for p in prompts) - 1)
        self.shared = shared if shared >= MIN_SHARED_PREFIX else 0

        self.mem = lib.llama_get_memory(self.ctx)
        lib.llama_memory_clear(self.mem, True)
        llm.n_tokens = 0  # the high-level object must not reuse what we leave in the cache
        self.batch = _Batch(lib, max(self.n_batch, parallel))
        self.results: list[Generation | None] = [None] * len(prompts)
        self.pending = deque(range(len(prompts)))
        self.active: dict[int, _Seq] = {}
        self.free_slots = list(range(parallel))
        self.used = self.shared  # KV cells reserved: shared prefix + each active prompt/answer
        self.generated = 0
        self.started = time.perf_counter()
        self.carry = 0.0  # time of the shared prefix, charged to the first prompt

    def evaluate(self, tokens: Sequence[int], first_pos: int, seq: int) -> int:
        """Evaluate tokens into a sequence; returns the batch index of the last logits."""
        n_batch = self.n_batch
        for i in range(0, len(tokens), n_batch):
            piece = tokens[i : i + n_batch]
            last = i + len(piece) == len(tokens)
            rows = [
                (t, first_pos + i + j, seq, last and j == len(piece) - 1)
                for j, t in enumerate(piece)
            ]
            self.batch.decode(self.ctx, rows)
        return len(tokens) - 1 - ((len(tokens) - 1) // n_batch) * n_batch

    def prefill_shared_prefix(self) -> None:
        """Evaluate the prompts' common prefix once, into the holder sequence."""
        if self.shared:
            t0 = time.perf_counter()
            self.evaluate(self.prompts[0][: self.shared], 0, self.holder)
            self.carry = max(time.perf_counter() - t0, 1e-9)

    def admit_waiting(self) -> None:
        """Give free slots to waiting prompts while their cells fit beside the running ones."""
        while self.pending and self.free_slots:
            first = self.pending[0]
            need = len(self.prompts[first]) - self.shared + self.limits[first]
            if self.active and self.used + need > self.n_ctx:
                break  # wait until a running sequence releases its cells
            self.admit(self.pending.popleft())

    def admit(self, index: int) -> None:
        t0 = time.perf_counter()
        slot = self.free_slots.pop(0)
        prompt = list(self.prompts[index])
        reused = self.shared if self.carry == 0.0 else 0
        s = _Seq(
            index, slot, prompt, self.limits[index], make_sampler(self.llm, self.settings), reused
        )
        self.active[slot] = s
        self.used += len(prompt) - self.shared + s.limit
        if self.shared:
            self.lib.llama_memory_seq_cp(self.mem, self.holder, slot, -1, -1)
        idx = self.evaluate(prompt[self.shared :], self.shared, slot)
        s.pos = len(prompt)
        token = s.sampler.sample(self.llm._ctx, idx)
        s.prompt_seconds = time.perf_counter() - t0 + self.carry
        self.carry = 0.0
        self.accept(s, token)

    def step(self) -> None:
        """One decode step: the last token of every active sequence, one new token each."""
        t0 = time.perf_counter()
        seqs = list(self.active.values())
        self.batch.decode(self.ctx, [(s.last, s.pos, s.slot, True) for s in seqs])
        tokens = [s.sampler.sample(self.llm._ctx, i) for i, s in enumerate(seqs)]
        share = (time.perf_counter() - t0) / len(seqs)
        for s, token in zip(seqs, tokens, strict=True):
            s.pos += 1
            s.decode_seconds += share
            self.accept(s, token)

    def accept(self, s: _Seq, token: int) -> None:
        """Record a sampled token; finish the sequence on end-of-generation or its limit."""
        if self.lib.llama_vocab_is_eog(self.vocab, token):
            self.finish(s, "stop")
            return
        s.out.append(token)
        s.last = token
        self.generated += 1
        if self.on_token is not None:
            self.on_token(self.generated, time.perf_counter() - self.started)
        if len(s.out) >= s.limit:
            self.finish(s, "length")

    def finish(self, s: _Seq, reason: str) -> None:
        s.finish = reason
        s.sampler.close()
        text = self.llm.detokenize(s.out, prev_tokens=s.prompt).decode("utf-8", errors="ignore")
        g = Generation(
            text=text.strip(),
            prompt_tokens=len(s.prompt),
            completion_tokens=len(s.out),
            finish_reason=reason,
            prompt_seconds=s.prompt_seconds,
            seconds=s.prompt_seconds + s.decode_seconds,
            reused_tokens=s.reused,
        )
        self.results[s.index] = g
        retry = self.on_done(s.index, g) if self.on_done is not None else None
        if retry is not None:
            self.restart(s, retry)
            return
        self.lib.llama_memory_seq_rm(self.mem, s.slot, -1, -1)
        self.used -= len(s.prompt) - self.shared + s.limit
        del self.active[s.slot]
        self.free_slots.append(s.slot)

    def restart(self, s: _Seq, again: GenerationSettings) -> None:
        """Generate again for the same prompt with other settings (a retry): its cells are
        kept and only its last prompt token is evaluated again, for the first logits."""
        t0 = time.perf_counter()
        n = len(s.prompt)
        self.lib.llama_memory_seq_rm(self.mem, s.slot, n - 1, -1)
        limit = min(again.max_tokens, self.n_ctx - n)
        self.used += limit - s.limit
        s.limit, s.out, s.reused, s.decode_seconds = limit, [], n - 1, 0.0
        s.sampler = make_sampler(self.llm, again)
        self.batch.decode(self.ctx, [(s.prompt[-1], n - 1, s.slot, True)])
        s.pos = n
        token = s.sampler.sample(self.llm._ctx, 0)
        s.prompt_seconds = time.perf_counter() - t0
        self.accept(s, token)

    def close(self) -> None:
        self.batch.free()
        self.lib.llama_memory_clear(self.mem, True)
        self.llm.n_tokens = 0
        for s in list(self.active.values()):
            s.sampler.close()
