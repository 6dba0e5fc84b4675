"""Many papers' calls in flight at once (summarize/runner.py), over real HTTP to the
stand-in server (its answers depend on the request only, after a random delay, so calls
finish out of order): the same results and cache entries as one by one, the priority of
earlier papers, the stop on a dead server and the resume, Ctrl-C."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeBackend, fake_summarizer
from model_server import LLAMA_SERVER_PROPS, StandIn

from localdigest import config
from localdigest.cache import Store
from localdigest.errors import NetworkError
from localdigest.papers import PaperInput, PaperSummary
from localdigest.summarize import Options
from localdigest.summarize.runner import Gate, RunStopped
from localdigest.workflows.summarize import prepare

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import samplepaper as sp

TITLES = [
    "Gated Residual Adapters for Efficient Fine-Tuning",
    "Zero-Initialised Gates Keep Adapter Training Stable",
    "Where Tasks Live: Reading Layer Gates of Small Models",
    "Adapters That Start Closed",
]


@pytest.fixture(scope="module")
def papers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("papers")
    for i, title in enumerate(TITLES):
        sections = sp.SAMPLE_SECTIONS[i % 2 :] if i else sp.SAMPLE_SECTIONS
        sp.write_paper_pdf(
            folder / f"p{i}.pdf",
            title=title,
            authors=["A. Author"],
            abstract=sp.SAMPLE_ABSTRACT,
            sections=sections,
            references=sp.SAMPLE_REFERENCES,
        )
    return folder


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn(props=dict(LLAMA_SERVER_PROPS), min_delay=0.03, max_delay=0.08).start()
    yield server
    server.stop()


class Events:
    """A reporter that counts what it hears (from several threads)."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.planned = 0
        self.fail_on_call = fail_on_call

    def _count(self, name: str) -> int:
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1
            return self.counts[name]

    def paper_start(self, paper: Any) -> None:
        self._count("paper_start")

    def chunks_planned(self, total: int) -> None:
        with self.lock:
            self.planned += total

    def chunk_done(self, cached: bool) -> None:
        self._count("chunk_cached" if cached else "chunk_done")

    def tokens(self, count: int, seconds: float) -> None:
        self._count("tokens")

    def call_started(self) -> None:
        self._count("call_started")

    def call_finished(self, tokens: int) -> None:
        n = self._count("call_finished")
        if self.fail_on_call is not None and n >= self.fail_on_call:
            raise KeyboardInterrupt

    def paper_done(self, result: Any) -> None:
        self._count("paper_done")


def run(papers: Path, url: str, parallel: int, reporter: Any = None, **kw: Any) -> list[Any]:
    cfg = config.load(server=url, parallel=parallel, n_ctx=640, max_tokens=64, **kw)
    return prepare([str(papers)], cfg).run(reporter)


def cache_contents(home: Path) -> dict[str, Any]:
    """Every entry of the cache, without what differs between any two runs (times)."""
    store = Store(home / "cache")
    out = {}
    for key in store.cache.iterkeys():
        value = store.get(key)
        assert value is not None
        if key.startswith("summary/"):
            value = {k: v for k, v in value.items() if k != "created"}
            value["stats"] = _counts(value["stats"])
        out[key] = value
    store.close()
    return out


def _counts(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in stats.items() if not k.endswith("seconds")}


def comparable(results: list[Any]) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        d = r.to_dict()
        d.pop("created")
        d["stats"] = _counts(d["stats"])
        rows.append(d)
    return rows


def use_home(monkeypatch: pytest.MonkeyPatch, home: Path) -> Path:
    monkeypatch.setenv("LOCALDIGEST_HOME", str(home))
    return home


def test_concurrent_run_writes_what_one_by_one_writes(
    papers: Path, stand_in: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = use_home(monkeypatch, tmp_path / "one")
    serial = run(papers, stand_in.url, 1)
    serial_bodies = sorted(str(s.body) for s in stand_in.completions())
    assert stand_in.most_in_flight == 1
    stand_in.seen.clear()
    many = use_home(monkeypatch, tmp_path / "many")
    events = Events()
    concurrent = run(papers, stand_in.url, 3, events)
    assert 1 < stand_in.most_in_flight <= 3  # side by side, never above --parallel
    assert all(isinstance(r, PaperSummary) for r in concurrent)
    assert [r.source for r in concurrent] == [r.source for r in serial]  # input order
    assert comparable(concurrent) == comparable(serial)
    assert cache_contents(many) == cache_contents(one)
    assert sorted(str(s.body) for s in stand_in.completions()) == serial_bodies
    calls = len(stand_in.completions())
    assert events.counts["call_started"] == events.counts["call_finished"] == calls
    assert events.counts["paper_start"] == events.counts["paper_done"] == len(TITLES)
    assert events.planned == sum(r.stats.chunks for r in concurrent) > len(TITLES)
    assert "tokens" not in events.counts  # the run's rate comes from call_finished


def test_a_papers_reduce_goes_ahead_of_later_papers_maps(papers: Path, stand_in: StandIn) -> None:
    run(papers, stand_in.url, 2)
    order = [(s.body["messages"][-1]["content"], i) for i, s in enumerate(stand_in.completions())]

    def calls_of(title: str, marker: str) -> list[int]:
        return [i for user, i in order if title in user and marker in user]

    # All four papers are open at once (2 slots x 2) and queue their maps at the start; in
    # a first-come gate the first paper's reduce would wait behind all of them.
    first_reduce = calls_of(TITLES[0], "<<<NOTES")[0]
    assert first_reduce < calls_of(TITLES[-1], "<<<PAPER")[-1]


def test_a_dead_server_stops_the_run_and_the_rerun_resumes(
    papers: Path, stand_in: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_home(monkeypatch, tmp_path / "full")
    run(papers, stand_in.url, 3)
    total = len(stand_in.completions())
    stand_in.seen.clear()

    home = use_home(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("LOCALDIGEST_SERVER_RETRIES", "1")
    served: list[int] = []
    original = stand_in._complete

    def then_fail(body: dict[str, Any]) -> dict[str, Any]:
        served.append(1)
        if len(served) == 5:  # from now on the server is gone
            stand_in.fail_next("status", status=503, times=1000)
        return original(body)

    monkeypatch.setattr(stand_in, "_complete", then_fail)
    t = time.monotonic()
    with pytest.raises(NetworkError, match=f"127.0.0.1:{stand_in.port}"):
        run(papers, stand_in.url, 3)
    assert time.monotonic() - t < 30
    store = Store(home / "cache")
    entries = store.info()["entries"]
    store.close()
    notes, summaries = entries.get("notes", 0), entries.get("summary", 0)
    assert notes >= 1

    monkeypatch.setattr(stand_in, "_complete", original)
    stand_in.faults.clear()
    stand_in.seen.clear()
    results = run(papers, stand_in.url, 3)
    assert all(isinstance(r, PaperSummary) for r in results)
    # every note (and summary) finished before the server went is reused
    assert len(stand_in.completions()) == total - notes - 2 * summaries


def test_ctrl_c_stops_every_thread(
    papers: Path, stand_in: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = use_home(monkeypatch, tmp_path / "home")

    def workers() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name.startswith("localdigest-")]

    t = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run(papers, stand_in.url, 3, Events(fail_on_call=3))
    assert time.monotonic() - t < 10
    # the run returned with no paper or map thread left (the client's event loop stays)
    assert [name for name in workers() if name != "localdigest-http"] == []
    store = Store(home / "cache")
    assert store.info()["entries"].get("notes", 0) >= 2
    store.close()


def test_the_gate_lets_earlier_papers_go_first() -> None:
    gate = Gate(1)
    gate.acquire((9, 0))  # busy
    order: list[int] = []

    def wait(paper: int) -> None:
        gate.acquire((paper, 0))
        order.append(paper)
        gate.release()

    threads = [threading.Thread(target=wait, args=(p,)) for p in (2, 0, 1)]
    for th in threads:
        th.start()
        time.sleep(0.05)  # queued in this order
    gate.release()
    for th in threads:
        th.join(5)
    assert order == [0, 1, 2]
    gate.stop()
    with pytest.raises(RunStopped):
        gate.acquire((0, 0))


def test_the_in_process_path_stays_one_by_one(tmp_path: Path) -> None:
    """A backend that takes one call at a time (the in-process model) is never called
    from several threads, whatever the concurrency asked for."""
    sample = Path(__file__).resolve().parents[2] / "examples" / "sample-paper.pdf"
    if not sample.exists():
        sp.write_sample_paper(sample)
    threads: set[str] = set()

    class Recording(FakeBackend):
        def complete(self, *args: Any, **kw: Any) -> Any:
            threads.add(threading.current_thread().name)
            return super().complete(*args, **kw)

    fake = Recording(n_ctx=640)
    summarizer = fake_summarizer(
        tmp_path / "cache",
        fake,
        Options(max_tokens=64),
        in_flight=4,
    )
    [result] = summarizer.run([PaperInput(str(sample), sample)])
    assert isinstance(result, PaperSummary) and result.stats.chunks > 1
    assert threads == {threading.main_thread().name}


def test_a_file_given_twice_gets_its_own_metadata_as_one_by_one(
    tmp_path: Path, papers: Path
) -> None:
    """The same bytes given a second time, now as an arXiv paper: summarized once, and
    the second result carries the title, authors and id given for it, side by side as
    one by one."""

    class Concurrent(FakeBackend):
        supports_concurrency = True

    path = papers / "p0.pdf"
    given = [
        PaperInput(str(path), path),
        PaperInput(
            "2405.00001", path, title="Given Title", authors=["B. Given"], arxiv_id="2405.00001"
        ),
    ]
    seen = []
    for in_flight in (1, 2):
        fake = Concurrent()
        s = fake_summarizer(tmp_path / f"c{in_flight}", fake, in_flight=in_flight)
        first, second = s.run(given)
        assert isinstance(first, PaperSummary) and isinstance(second, PaperSummary)
        seen.append((second.title, second.authors, second.arxiv_id, second.cached))
        assert len(fake.calls) == first.stats.llm_calls  # summarized once
    assert seen[0] == seen[1] == ("Given Title", ["B. Given"], "2405.00001", True)
