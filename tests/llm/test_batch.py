"""Batched map: the multi-sequence decoder (real model) and the map step that uses it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import FAKE_FINDINGS, FAKE_TITLE, FakeBackend, fake_summarizer
from model_stores import configured_model

from localdigest import pdf
from localdigest.llm import Generation, GenerationSettings
from localdigest.llm.base import common_prefix
from localdigest.papers import PaperInput
from localdigest.summarize import Options, Summarizer

# ----------------------------------------------------------------------------- pure parts


def test_common_prefix() -> None:
    assert common_prefix([1, 2, 3, 4], [1, 2, 5], [1, 2, 3]) == 2
    assert common_prefix([1, 2], [1, 2]) == 2
    assert common_prefix([9], [1]) == 0
    assert common_prefix() == 0


# ----------------------------------------------------------------------------- the map step


class BatchFake(FakeBackend):
    """A fake that can also complete several prompts at once, recording each batch."""

    supports_batch = True
    parallel_slots = 4

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.batches: list[int] = []
        self.interrupt_after: int | None = None  # KeyboardInterrupt after N finished
        self.degenerate: set[int] = set()  # batch positions that answer with a loop
        self.retries: list[GenerationSettings] = []

    def complete_many(
        self,
        system: str,
        users: list[str],
        settings: GenerationSettings,
        on_token: Any = None,
        on_done: Any = None,
    ) -> list[Generation]:
        self.batches.append(len(users))
        out = []
        for i, user in enumerate(users):
            if self.interrupt_after is not None and i >= self.interrupt_after:
                raise KeyboardInterrupt
            loops = i in self.degenerate
            while True:
                n = len(self.calls) + 1
                self.calls.append(("map", user))
                text = f"- batched note {n}: the method improves accuracy."
                if loops:
                    text = "- the model loops " * 12
                g = Generation(text, 40, len(text.split()), "stop", 0.01, 0.02)
                if on_token is not None:
                    on_token(3, 0.02)
                retry = on_done(i, g) if on_done is not None else None
                if retry is None:
                    break
                self.retries.append(retry)
                loops = False  # the retry's settings fix the loop
            out.append(g)
        return out


def make_paper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PaperInput:
    path = tmp_path / "paper.pdf"
    path.write_bytes(b"%PDF-1.7 fake bytes for hashing")
    body = "\n\n".join(f"Paragraph {i} " + "measured result " * 30 for i in range(16))
    sections = [
        pdf.Section("Abstract", "abstract", "We study things.", 1),
        pdf.Section("1 Introduction", "body", f"{FAKE_FINDINGS}\n\n{body}", 1),
    ]
    doc = pdf.Document(path, pdf.file_sha256(path), 2, FAKE_TITLE, "We study.", sections)
    monkeypatch.setattr(pdf, "extract", lambda p, **_: doc, raising=False)
    return PaperInput(str(path), path)


class Events:
    def __init__(self) -> None:
        self.done: list[bool] = []
        self.planned = 0
        self.token_events = 0

    def paper_start(self, paper: Any) -> None: ...
    def chunks_planned(self, total: int) -> None:
        self.planned = total

    def chunk_done(self, cached: bool) -> None:
        self.done.append(cached)

    def tokens(self, count: int, seconds: float) -> None:
        self.token_events += 1

    def paper_done(self, result: Any) -> None: ...


def make_summarizer(tmp_path: Path, backend: FakeBackend, **kw: Any) -> Summarizer:
    return fake_summarizer(
        tmp_path / "cache",
        backend,
        Options(chunk_tokens=300),
        **kw,
    )


def test_map_runs_uncached_chunks_as_one_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paper = make_paper(tmp_path, monkeypatch)
    fake = BatchFake()
    events = Events()
    result = make_summarizer(tmp_path, fake, reporter=events).summarize(paper)
    n = result.stats.chunks
    assert n >= 3
    assert fake.batches == [n]  # one batch for all chunks; reduce and tldr one by one
    assert fake.kinds() == ["map"] * n + ["reduce", "tldr"]
    assert events.planned == n and events.done == [False] * n and events.token_events >= n
    assert result.stats.llm_calls == n + 2  # each batched note counted once
    assert result.stats.output_tokens >= 3 * n


def test_batched_map_matches_one_by_one_orchestration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paper = make_paper(tmp_path, monkeypatch)
    single, batched = FakeBackend(), BatchFake()
    a = make_summarizer(tmp_path / "a", single).summarize(paper)
    b = make_summarizer(tmp_path / "b", batched).summarize(paper)
    assert a.stats.chunks == b.stats.chunks
    assert a.sections_read == b.sections_read
    maps_a = [u for k, u in single.calls if k == "map"]
    maps_b = [u for k, u in batched.calls if k == "map"]
    assert maps_a == maps_b  # the very same prompts, in paper order


def test_interrupted_batch_keeps_finished_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paper = make_paper(tmp_path, monkeypatch)
    fake = BatchFake()
    fake.interrupt_after = 2
    with pytest.raises(KeyboardInterrupt):
        make_summarizer(tmp_path, fake).summarize(paper)
    # The rerun makes only the notes that were not finished, again as one batch.
    again = BatchFake()
    events = Events()
    result = make_summarizer(tmp_path, again, reporter=events).summarize(paper)
    n = result.stats.chunks
    assert events.done.count(True) == 2
    assert again.batches == [n - 2]
    assert result.stats.llm_calls == n - 2 + 2


def test_retry_runs_inside_the_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A degenerate batched note is generated again by the batch, with the guard's retry
    settings (the chunk's prompt stays evaluated), and checked again."""
    paper = make_paper(tmp_path, monkeypatch)
    fake = BatchFake()
    fake.degenerate = {1}
    result = make_summarizer(tmp_path, fake).summarize(paper)
    n = result.stats.chunks
    assert fake.batches == [n]
    assert len(fake.retries) == 1
    assert fake.retries[0] != Options().generation(Options().map_tokens)
    kinds = fake.kinds()
    assert kinds == ["map"] * (n + 1) + ["reduce", "tldr"]  # no map outside the batch
    assert result.stats.llm_calls == len(kinds)  # the rejected attempt counted once
    assert "loops" not in " ".join(u for k, u in fake.calls if k == "reduce")


# ----------------------------------------------------------------------------- real model


@pytest.fixture(scope="module")
def backend() -> Any:
    from localdigest.llm.llamacpp import LlamaCppBackend

    try:
        choice = configured_model("default")
    except Exception as e:  # pragma: no cover - the default model is a dev dependency
        pytest.skip(f"default model not installed: {e}")
    return LlamaCppBackend(choice, n_ctx=2048, threads=1, parallel=3)


SYSTEM = "You are a careful research assistant."
TEXTS = [
    "The Transformer uses only attention and reaches 28.4 BLEU on WMT 2014 English-German.",
    "Adam combines momentum with per-parameter learning rates and corrects their bias.",
    "Dropout randomly removes units during training to reduce overfitting in large nets.",
    "BERT is pre-trained with masked language modeling and next sentence prediction.",
]


@pytest.mark.model
def test_batched_generation_matches_one_by_one(backend: Any) -> None:
    users = [f"Write notes on this text.\n<<<PAPER\n{t}\nPAPER>>>\nNotes:" for t in TEXTS]
    settings = GenerationSettings(max_tokens=24, temperature=0.0)
    single = [backend.complete(SYSTEM, u, settings) for u in users]
    finished: list[int] = []
    batched = backend.complete_many(
        SYSTEM, users, settings, on_done=lambda i, g: finished.append(i)
    )
    assert sorted(finished) == [0, 1, 2, 3]  # 4 prompts through 3 slots: one waited
    assert len(batched) == 4
    for one, many in zip(single, batched, strict=True):
        assert many.text and many.finish_reason in ("stop", "length")
        assert many.prompt_tokens == one.prompt_tokens
        assert 0 < many.completion_tokens <= 24
        # Greedy decoding of nearly the same logits (batched matmuls round differently,
        # and a near-tie can flip a token): the same start and mostly the same words.
        assert many.text.split()[0] == one.text.split()[0]
        a, b = set(one.text.lower().split()), set(many.text.lower().split())
        assert len(a & b) / len(a | b) >= 0.3
    same_start = sum(
        o.text.split()[:4] == m.text.split()[:4] for o, m in zip(single, batched, strict=True)
    )
    assert same_start >= 2
    # The shared instruction prefix was evaluated once and reused by the other prompts.
    assert sum(g.reused_tokens > 0 for g in batched) == 3
    # The backend is usable one by one afterwards (the batch left the cache empty).
    assert backend.complete(SYSTEM, users[0], settings).text == single[0].text


@pytest.mark.model
def test_batched_sampling_is_seeded_like_one_by_one(backend: Any) -> None:
    users = [f"Summarize: {t}" for t in TEXTS[:2]]
    settings = GenerationSettings(max_tokens=16, temperature=0.2, seed=7)
    single = [backend.complete(SYSTEM, u, settings) for u in users]
    batched = backend.complete_many(SYSTEM, users, settings)
    for one, many in zip(single, batched, strict=True):
        assert many.text.split()[:3] == one.text.split()[:3]


@pytest.mark.model
def test_retry_in_place_reuses_the_prompt(backend: Any) -> None:
    users = [f"Summarize: {t}" for t in TEXTS[:2]]
    settings = GenerationSettings(max_tokens=12, temperature=0.0)
    again = GenerationSettings(max_tokens=8, temperature=0.0, repeat_penalty=1.5)
    seen: list[tuple[int, Generation]] = []

    def done(i: int, g: Generation) -> GenerationSettings | None:
        seen.append((i, g))
        return again if (i == 0 and len([x for x in seen if x[0] == 0]) == 1) else None

    out = backend.complete_many(SYSTEM, users, settings, on_done=done)
    assert [i for i, _ in seen].count(0) == 2
    retried = out[0]
    assert retried.text and 0 < retried.completion_tokens <= 8
    assert retried.reused_tokens == retried.prompt_tokens - 1  # only the last token again
    fresh = backend.complete(SYSTEM, users[0], again)
    assert retried.text.split()[:2] == fresh.text.split()[:2]
