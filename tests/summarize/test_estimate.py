"""The ETA: rates learned from a model's calls and kept in the cache, a paper's planned
calls priced at them before it runs, the run's estimate reported before its papers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeBackend, fake_summarizer
from test_summarize import make_doc

from localdigest import pdf
from localdigest.cache import Store
from localdigest.llm import Generation, GenerationSettings
from localdigest.papers import PaperInput, PaperSummary
from localdigest.summarize import NullReporter, Options
from localdigest.summarize.rates import PlannedCall, RateLog, Rates, rates_key

PREFILL, DECODE = 1000.0, 50.0  # the timed fake's tokens per second


class TimedBackend(FakeBackend):
    """The fake, its calls taking the time a model of these rates would take (reported,
    not slept): prefill PREFILL tok/s, decode DECODE tok/s."""

    def complete(
        self, system: str, user: str, settings: GenerationSettings, on_token: Any = None
    ) -> Generation:
        g = super().complete(system, user, settings, on_token)
        prompt = g.prompt_tokens / PREFILL
        return replace(g, prompt_seconds=prompt, seconds=prompt + g.completion_tokens / DECODE)


class Heard(NullReporter):
    def __init__(self) -> None:
        self.runs: list[tuple[int, float]] = []
        self.papers: list[float] = []

    def run_estimated(self, papers: int, seconds: float) -> None:
        self.runs.append((papers, seconds))

    def paper_estimated(self, seconds: float) -> None:
        self.papers.append(seconds)


@pytest.fixture
def papers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[PaperInput]:
    docs = {}
    for i in range(3):
        path = tmp_path / f"paper{i}.pdf"
        path.write_bytes(f"%PDF-1.7 paper {i}".encode())
        docs[path] = make_doc(path, paragraphs=8 + 4 * i)
    monkeypatch.setattr(pdf, "extract", lambda p, **_: docs[p], raising=False)
    return [PaperInput(str(p), p) for p in docs]


def summarizer(tmp_path: Path, backend: FakeBackend, mode: str = "write", **kw: Any) -> Any:
    store = Store(tmp_path / "cache")
    log = RateLog(store, rates_key(backend.fingerprint, backend.n_ctx, 3, 0))
    s = fake_summarizer(store, backend, Options(chunk_tokens=300, mode=mode), rates=log, **kw)
    return s.using(model=replace(s.model, threads=3))


def test_a_model_without_rates_is_estimated_from_its_first_calls_then_learns(
    tmp_path: Path, papers: list[PaperInput]
) -> None:
    fake, heard = TimedBackend(), Heard()
    first = summarizer(tmp_path, fake, reporter=heard)
    one, two = first.run(papers[:2])
    assert isinstance(one, PaperSummary) and isinstance(two, PaperSummary)
    # no extra call to time the model, and no line before the run: nothing is known yet
    assert len(fake.calls) == one.stats.llm_calls + two.stats.llm_calls
    assert heard.runs == [] and one.stats.estimated_seconds == 0
    # the second paper is priced at the rates the first one's calls taught
    assert heard.papers == [0, two.stats.estimated_seconds] and two.stats.estimated_seconds > 0
    assert one.stats.threads == 3
    first.rates.save()

    # the next run starts from what the first one's calls did: a line before it, and each
    # paper's estimate is close to its calls' time (the fake's notes are far shorter
    # than their limit: learned, not assumed)
    fake, heard = TimedBackend(), Heard()
    second = summarizer(tmp_path, fake, reporter=heard)
    results = second.run(papers[2:])
    assert fake.kinds()[0] == "map" and len(fake.calls) == sum(r.stats.llm_calls for r in results)
    assert heard.runs[0][0] == 1
    # (the run's estimate counts notes that an earlier paper of the run writes for a later
    # one: these papers share paragraphs)
    assert heard.runs[0][1] == pytest.approx(sum(heard.papers), rel=0.25)
    for r in results:
        in_calls = r.stats.prompt_seconds + r.stats.decode_seconds
        assert r.stats.estimated_seconds == pytest.approx(in_calls, rel=0.25)


def test_cached_papers_are_not_estimated(tmp_path: Path, papers: list[PaperInput]) -> None:
    first = summarizer(tmp_path, TimedBackend())
    first.run(papers[:1])
    first.rates.save()
    heard = Heard()
    summarizer(tmp_path, TimedBackend(), reporter=heard).run(papers)
    assert heard.runs[0][0] == 2


def test_extract_mode_has_no_model_estimate(tmp_path: Path, papers: list[PaperInput]) -> None:
    fake, heard = TimedBackend(), Heard()
    [r] = summarizer(tmp_path, fake, mode="extract", reporter=heard).run(papers[:1])
    assert isinstance(r, PaperSummary)
    assert heard.runs == [] and fake.calls == [] and r.stats.estimated_seconds == 0


def test_rates_price_calls_and_learn_what_calls_generate() -> None:
    rates = Rates(prefill_tokens=1000, prefill_seconds=1, decode_tokens=100, decode_seconds=2)
    calls = [
        PlannedCall("map", 500, 160),
        PlannedCall("map", 500, 160),
        PlannedCall("reduce", 200, 320, "map", 2),
    ]
    # nothing learned of the answers yet: each runs to its limit, the reduce reads both notes
    expected = (1000 + 200 + 2 * 160) / 1000 + (2 * 160 + 320) / 50
    assert rates.seconds(calls, pages=4) == pytest.approx(expected)
    rates.add_call("map", 40)
    rates.add_call("map", 60)  # notes of 50 tokens on average
    rates.add_paper(8.0, 4)  # 2 s per page outside the calls
    expected = (1000 + 200 + 2 * 50) / 1000 + (2 * 50 + 320) / 50 + 2 * 4
    assert rates.seconds(calls, pages=4) == pytest.approx(expected)


def test_a_new_run_weighs_as_much_as_all_before() -> None:
    old = Rates(prefill_tokens=9000, prefill_seconds=9, decode_tokens=900, decode_seconds=9)
    new = Rates(prefill_tokens=500, prefill_seconds=1, decode_tokens=50, decode_seconds=1)
    merged = old.merge(new)
    assert merged.prefill_rate() == pytest.approx((1000 + 500) / 2)
    assert Rates().merge(new) == new and old.merge(Rates()) == old


@pytest.mark.parametrize(
    "stored", [None, {"version": 99}, {"version": 1, "prefill_tokens": "x"}, {"version": 1}]
)
def test_a_stored_record_of_another_shape_starts_afresh(stored: Any) -> None:
    assert Rates.from_dict(stored) == Rates()


def test_rates_round_trip_through_the_cache(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    log = RateLog(store, "rates/x")
    log.call("map", [Generation("a b c", 100, 3, "stop", 0.1, 0.2)])
    log.save()
    again = RateLog(store, "rates/x").known
    assert again.prefill_rate() == pytest.approx(1000)
    assert again.decode_rate() == pytest.approx(20)
    assert again.expected_output("map", 160) == 3


def test_the_papers_bar_counts_the_estimate_down() -> None:
    from localdigest.render.summary import TimeLeft, duration

    left = TimeLeft()
    left.start(300.0, task=0)
    assert left.seconds_left() == 300
    left.paper(100.0)  # the first paper starts: its time runs off the estimate
    assert 299 < left.seconds_left() <= 300
    left.done(100.0)
    assert left.seconds_left() == 200
    assert [duration(s) for s in (0.2, 40, 360, 4800)] == ["1 s", "40 s", "6 min", "1 h 20 min"]
