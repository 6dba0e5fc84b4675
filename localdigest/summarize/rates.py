"""A model's rates, learned from its own calls and kept in the cache (see ``estimate``).

Per model file, context, thread count and GPU layers (``rates_key``): prefill and decode
tokens per second, how many tokens each kind of call really generates, and the seconds a
paper spends outside model calls per page. ``Rates.seconds`` prices a paper's planned calls.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from localdigest.cache import Store, make_key
from localdigest.llm import Generation

RATES = "rates"
VERSION = 1  # of the stored record: a change of its meaning starts from scratch


@dataclass(frozen=True)
class PlannedCall:
    kind: str  # the prompt's name: map, reduce, tldr, rewrite
    prompt_tokens: int  # of the prompt, less what earlier calls write into it (``reads``)
    max_tokens: int
    reads: str = ""  # the kind of call whose answers this one's prompt holds
    reads_count: int = 0  # how many of them


@dataclass
class Rates:
    """Sums of what this model's calls did (tokens and seconds), and their rates."""

    prefill_tokens: float = 0.0
    prefill_seconds: float = 0.0
    decode_tokens: float = 0.0
    decode_seconds: float = 0.0
    # kind -> [tokens generated, calls asked for] (retries' tokens count for the call)
    generated: dict[str, list[float]] = field(default_factory=dict)
    other_seconds: float = 0.0  # a paper's time outside model calls
    other_pages: float = 0.0

    @property
    def known(self) -> bool:
        return self.prefill_seconds > 0 and self.decode_seconds > 0

    def prefill_rate(self) -> float:
        return self.prefill_tokens / self.prefill_seconds

    def decode_rate(self) -> float:
        return self.decode_tokens / self.decode_seconds

    def add_generation(self, g: Generation) -> None:
        """One call's timings (its first token is counted as the prefill's end)."""
        evaluated = g.prompt_tokens - g.reused_tokens
        if evaluated > 0 and g.prompt_seconds > 0:
            self.prefill_tokens += evaluated
            self.prefill_seconds += g.prompt_seconds
        decode = g.seconds - g.prompt_seconds
        if g.completion_tokens > 1 and decode > 0:
            self.decode_tokens += g.completion_tokens - 1
            self.decode_seconds += decode

    def add_call(self, kind: str, generated: int) -> None:
        total = self.generated.setdefault(kind, [0.0, 0.0])
        total[0] += generated
        total[1] += 1

    def add_paper(self, seconds_outside_calls: float, pages: int) -> None:
        self.other_seconds += max(0.0, seconds_outside_calls)
        self.other_pages += max(1, pages)

    def expected_output(self, kind: str, max_tokens: int) -> float:
        """Tokens a call of this kind is expected to generate (its limit until learned)."""
        generated, calls = self.generated.get(kind, (0.0, 0.0))
        return generated / calls if calls else float(max_tokens)

    def seconds(self, calls: Sequence[PlannedCall], pages: int) -> float:
        """The expected seconds of a paper of ``pages`` pages making ``calls``."""
        if not self.known:
            return 0.0
        limits = {c.kind: c.max_tokens for c in calls}
        prompt = sum(
            c.prompt_tokens + c.reads_count * self.expected_output(c.reads, limits.get(c.reads, 0))
            for c in calls
        )
        output = sum(self.expected_output(c.kind, c.max_tokens) for c in calls)
        total = prompt / self.prefill_rate() + output / self.decode_rate()
        if self.other_pages:
            total += self.other_seconds / self.other_pages * max(1, pages)
        return total

    def merge(self, new: Rates) -> Rates:
        """``new`` (one run's) weighing as much as everything before it: the sums scaled
        so that both have the weight of ``new``'s prefill seconds."""
        if not new.known:
            return self
        if not self.known:
            return new
        w = new.prefill_seconds / self.prefill_seconds  # old scaled to the new run's weight
        out = Rates(
            self.prefill_tokens * w + new.prefill_tokens,
            self.prefill_seconds * w + new.prefill_seconds,
            self.decode_tokens * w + new.decode_tokens,
            self.decode_seconds * w + new.decode_seconds,
            other_seconds=self.other_seconds * w + new.other_seconds,
            other_pages=self.other_pages * w + new.other_pages,
        )
        for kind in {*self.generated, *new.generated}:
            old = [x * w for x in self.generated.get(kind, [0.0, 0.0])]
            mine = new.generated.get(kind, [0.0, 0.0])
            out.generated[kind] = [old[0] + mine[0], old[1] + mine[1]]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"version": VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Rates:
        if not data or data.get("version") != VERSION:
            return cls()
        try:
            generated = {
                str(k): [float(v[0]), float(v[1])] for k, v in dict(data["generated"]).items()
            }
            return cls(
                prefill_tokens=float(data["prefill_tokens"]),
                prefill_seconds=float(data["prefill_seconds"]),
                decode_tokens=float(data["decode_tokens"]),
                decode_seconds=float(data["decode_seconds"]),
                generated=generated,
                other_seconds=float(data["other_seconds"]),
                other_pages=float(data["other_pages"]),
            )
        except (KeyError, TypeError, ValueError, IndexError):  # a record of another shape
            return cls()


def rates_key(fingerprint: str, n_ctx: int, threads: int, gpu_layers: int) -> str:
    return make_key(RATES, model=fingerprint, n_ctx=n_ctx, threads=threads, gpu=gpu_layers)


class RateLog:
    """The rates a run starts from (``known``, kept for its estimates) and what its calls
    teach (``learned``), saved together at the end of the run (``save``). Thread-safe:
    papers side by side report from several threads."""

    def __init__(self, store: Store, key: str) -> None:
        self.store = store
        self.key = key
        self.known = Rates.from_dict(store.get(key))
        self.learned = Rates()
        self._lock = threading.Lock()

    def call(self, kind: str, generations: Sequence[Generation]) -> None:
        with self._lock:
            for g in generations:
                self.learned.add_generation(g)
            self.learned.add_call(kind, sum(g.completion_tokens for g in generations))

    def paper(self, seconds_outside_calls: float, pages: int) -> None:
        with self._lock:
            self.learned.add_paper(seconds_outside_calls, pages)

    def current(self) -> Rates:
        """The rates kept, with this run's calls so far weighed in."""
        with self._lock:
            return self.known.merge(self.learned)

    def save(self) -> None:
        with self._lock:
            merged = self.known.merge(self.learned)
            if merged.known:
                self.store.set(self.key, merged.to_dict())
