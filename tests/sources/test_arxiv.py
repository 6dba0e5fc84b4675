"""arXiv ids, the polite client, search, the daily feed and the ``search`` command.

Everything talks to ``tests/arxiv_server.py`` on 127.0.0.1; nothing reaches the internet.
"""

from __future__ import annotations

import io
import itertools
import json
import time
from dataclasses import replace
from datetime import date
from types import SimpleNamespace
from typing import Any

import arxiv
import pytest
import typer
from arxiv_server import FakeArxiv, arxiv_server_fixture, closed_port_url  # noqa: F401
from conftest import user_paths
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from localdigest import __version__, config
from localdigest.cli.arxiv import register
from localdigest.errors import InputError, NetworkError, UsageError
from localdigest.render.arxiv import search_table
from localdigest.sources import library, listing
from localdigest.sources.arxiv import api as source
from localdigest.sources.arxiv import meta as arxiv_meta
from localdigest.sources.arxiv.client import POLICY, ArxivClient, Endpoints
from localdigest.sources.arxiv.ids import ArxivId, looks_like_arxiv, parse_arxiv_id
from localdigest.sources.arxiv.meta import PaperMeta
from localdigest.workflows import arxiv as settings

runner = CliRunner()


def filters_given(
    categories: list[str] | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
) -> arxiv_meta.Filters:
    """The filters given, the configured ones for those left as None."""
    cfg = config.load(categories=categories, include=include, exclude=exclude)
    return settings.filters(cfg)


def lib() -> library.Library:
    """The paper library of this test's user."""
    return library.Library(user_paths().library)


def seen() -> library.SeenStore:
    return library.seen_store(user_paths().state)


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def search(
    fake: FakeArxiv,
    terms: list[str],
    categories: list[str] | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    **kw: Any,
) -> list[PaperMeta]:
    """A search through ``fake``'s client, with the configured filters unless given."""
    filters = filters_given(categories, include, exclude)
    return listing.search(fake.client, seen(), terms, filters, **kw)


def today(fake: FakeArxiv, categories: list[str], **kw: Any) -> list[PaperMeta]:
    return listing.today(fake.client, seen(), filters_given(categories), **kw)


def offline() -> ArxivClient:
    """A client whose every endpoint refuses connections (nothing listens there)."""
    dead = closed_port_url()
    return ArxivClient(Endpoints(f"{dead}/api/query", f"{dead}/pdf", f"{dead}/rss", delay=3.0))


# ----------------------------------------------------------------------------- ids


@pytest.mark.parametrize(
    ("text", "base", "version"),
    [
        ("2405.04434", "2405.04434", None),
        ("2405.04434v2", "2405.04434", 2),
        ("arXiv:2405.04434", "2405.04434", None),
        ("  arxiv:2405.04434v12 ", "2405.04434", 12),
        ("1111.2011v2", "1111.2011", 2),
        ("0704.0001", "0704.0001", None),
        ("hep-th/9901001", "hep-th/9901001", None),
        ("hep-th/9901001v3", "hep-th/9901001", 3),
        ("math.GT/0309136", "math.GT/0309136", None),
        ("https://arxiv.org/abs/2405.04434v2", "2405.04434", 2),
        ("http://arxiv.org/pdf/2405.04434.pdf", "2405.04434", None),
        ("https://arxiv.org/pdf/2405.04434v1", "2405.04434", 1),
        ("https://export.arxiv.org/abs/2405.04434", "2405.04434", None),
        ("https://www.arxiv.org/abs/hep-th/9901001v1", "hep-th/9901001", 1),
        ("arxiv.org/abs/2405.04434?context=cs", "2405.04434", None),
    ],
)
def test_parse_accepts(text: str, base: str, version: int | None) -> None:
    assert parse_arxiv_id(text) == ArxivId(base, version)
    assert looks_like_arxiv(text)


@pytest.mark.parametrize(
    "text",
    [
        "foo",
        "",
        "2405.0443",  # too short
        "2405.044345",  # too long
        "1412.12345",  # 5 digits before 2015
        "1501.1234",  # 4 digits from 2015
        "2413.04434",  # month 13
        "0000.0000",
        "0612.1234",  # before the new scheme
        "2405.04434v0",
        "2405.04434v",
        "hep-th/990100",
        "hep-th/../../etc/passwd",
        "../2405.04434",
        "2405.04434/../../x",
        "/etc/passwd",
        "https://example.com/abs/2405.04434",
        "https://arxiv.org/list/cs.AI/recent",
        "2405.04434 2405.04435",
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_arxiv_id(text)
    assert info.value.message == (
        f"{text!r} is not an arXiv id or URL — use e.g. 2405.04434 or "
        "https://arxiv.org/abs/2405.04434"
    )


def test_looks_like_arxiv_tells_ids_from_paths() -> None:
    assert looks_like_arxiv("arXiv:not-an-id")  # meant as arXiv: give the arXiv error
    assert looks_like_arxiv("https://arxiv.org/abs/nonsense")
    assert not looks_like_arxiv("papers/attention.pdf")
    assert not looks_like_arxiv("./2405.04434.pdf")
    assert not looks_like_arxiv("notes")


def test_arxiv_id_cannot_hold_a_path() -> None:
    for base in ("../x", "hep-th/../../x", "2405.04434/..", "a\\b", ""):
        with pytest.raises(ValueError):
            ArxivId(base)
    assert ArxivId("hep-th/9901001").safe_name == "hep-th_9901001"
    assert ArxivId("math.GT/0309136", 2).safe_name == "math.GT_0309136"


new_style = st.builds(
    lambda yymm, num, v: (yymm, f"{num:0{4 if yymm < 1501 else 5}d}", v),
    st.sampled_from(
        [y * 100 + m for y in range(7, 100) for m in range(1, 13) if y * 100 + m >= 704]
    ),
    st.integers(0, 9999),
    st.none() | st.integers(1, 40),
)
old_style = st.builds(
    lambda archive, subj, yy, mm, num, v: (f"{archive}{subj}/{yy:02d}{mm:02d}{num:03d}", v),
    st.sampled_from(["hep-th", "hep-ph", "math", "cond-mat", "quant-ph", "astro-ph", "cs"]),
    st.sampled_from(["", ".GT", ".AG"]),
    st.integers(0, 99),
    st.integers(1, 12),
    st.integers(0, 999),
    st.none() | st.integers(1, 40),
)
forms = st.sampled_from(
    [
        "{}",
        "arXiv:{}",
        "https://arxiv.org/abs/{}",
        "http://arxiv.org/pdf/{}.pdf",
        "https://export.arxiv.org/abs/{}",
    ]
)


@given(new_style, forms)
def test_new_style_ids_round_trip(parts: tuple[int, str, int | None], form: str) -> None:
    yymm, num, version = parts
    aid = ArxivId(f"{yymm:04d}.{num}", version)
    assert parse_arxiv_id(form.format(aid)) == aid
    assert parse_arxiv_id(str(aid)) == aid
    assert aid.safe_name == aid.base


@given(old_style, forms)
def test_old_style_ids_round_trip(parts: tuple[str, int | None], form: str) -> None:
    aid = ArxivId(*parts)
    assert parse_arxiv_id(form.format(aid)) == aid
    assert "/" not in aid.safe_name and not aid.safe_name.startswith(".")


@given(st.text(max_size=60))
def test_random_text_is_rejected_or_safe(text: str) -> None:
    try:
        aid = parse_arxiv_id(text)
    except InputError:
        return
    assert aid.safe_name.replace(".", "").replace("-", "").replace("_", "").isalnum()


@given(st.text(alphabet="abcxyz !?/\\.:~", min_size=1, max_size=30))
def test_letters_and_punctuation_are_never_ids(text: str) -> None:
    with pytest.raises(InputError):
        parse_arxiv_id(text)


# ----------------------------------------------------------------------------- client


def test_search_parses_the_2026_format_and_says_who_it_is(arxiv_server: FakeArxiv) -> None:
    papers = search(arxiv_server, ["testing"], categories=["cs.SE"], max_results=5)

    assert [p.versioned_id for p in papers] == arxiv_server.search_ids[:5]
    first = papers[0]
    assert first.title.startswith("Testing Deep Learning Models: A First Comparative Study")
    assert first.authors == ("Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker")
    assert first.primary_category == "cs.SE" and first.categories == ("cs.SE", "cs.LG")
    assert first.published is not None and first.published.date() == date(2022, 2, 24)
    assert first.abs_url == "https://arxiv.org/abs/2202.12139v1"
    assert first.doi == "10.1109/ICSTW55395.2022.00035"
    (request,) = arxiv_server.requests
    assert request.query["search_query"] == "all:testing AND cat:cs.SE"
    assert request.query["sortBy"] == "submittedDate"
    assert request.query["max_results"] == "5"
    assert request.headers["User-Agent"] == (
        f"localdigest/{__version__} (+https://github.com/localdigest/localdigest; "
        "offline paper digests)"
    )


def test_doubly_decoded_names_are_repaired(arxiv_server: FakeArxiv) -> None:
    papers = search(arxiv_server, ["testing"], max_results=2)
    assert papers[1].authors[0] == "Aurora Ramírez"  # recorded as "RamÃ­rez"
    assert "José Raúl Romero" in papers[1].authors
    assert arxiv_meta._clean("Ã la carte ©") == "Ã la carte ©"  # not UTF-8 underneath: kept


def test_metadata_parses_the_2016_format(arxiv_server: FakeArxiv) -> None:
    meta = source.fetch_metadata(arxiv_server.client, [parse_arxiv_id("1111.2011v2")])["1111.2011"]
    assert meta.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert meta.abstract.startswith("Theoretical description of anisotropic systems, such as")
    assert "\n" not in meta.abstract and "  " not in meta.abstract
    assert meta.authors == ("James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic")
    assert meta.primary_category == "cond-mat.str-el"
    assert meta.version == 2 and meta.doi == "10.1103/PhysRevB.85.115117"
    assert meta.comment == "8 pages, 3 figures. Published version"
    assert meta.pdf_url == "https://arxiv.org/pdf/1111.2011v2"  # canonical https


def test_metadata_batches_ids_in_one_call(arxiv_server: FakeArxiv) -> None:
    ids = [parse_arxiv_id(i) for i in ["1111.2011v2", *arxiv_server.search_ids[:3], "2412.99999"]]
    found = source.fetch_metadata(arxiv_server.client, ids)
    assert sorted(found) == sorted(["1111.2011", *(i.base for i in ids[1:4])])
    (request,) = arxiv_server.requests
    assert request.query["id_list"].split(",") == [str(i) for i in ids]


def test_error_feed_becomes_a_clear_error(arxiv_server: FakeArxiv) -> None:
    with pytest.raises(NetworkError, match="arXiv rejected the query: incorrect id format for abc"):
        search(arxiv_server, ["abc"])
    assert len(arxiv_server.requests) == 1  # a 400 is not retried


def test_503_is_retried_then_succeeds(arxiv_server: FakeArxiv) -> None:
    arxiv_server.fail_next(2, status=503)
    papers = search(arxiv_server, ["testing"], max_results=3)
    assert len(papers) == 3
    assert len(arxiv_server.requests) == 3


def test_429_waits_as_long_as_retry_after_says(arxiv_server: FakeArxiv) -> None:
    arxiv_server.fail_next(1, status=429, retry_after="1")
    search(arxiv_server, ["testing"], max_results=3)
    first, second = arxiv_server.requests
    assert second.at - first.at >= 0.95


def test_retry_after_is_capped(arxiv_server: FakeArxiv) -> None:
    endpoints = arxiv_server.client.endpoints
    capped = ArxivClient(replace(endpoints, policy=replace(endpoints.policy, max_wait=0.2)))
    arxiv_server.fail_next(1, status=503, retry_after="3600")
    listing.search(capped, seen(), ["testing"], filters_given(), max_results=3)
    first, second = arxiv_server.requests
    assert 0.15 <= second.at - first.at < 2


def test_retries_give_up_with_a_network_error(arxiv_server: FakeArxiv) -> None:
    arxiv_server.fail_next(100, status=503)
    with pytest.raises(
        NetworkError, match=r"answered HTTP 503 for the arXiv API \(tried 5 times\)"
    ):
        search(arxiv_server, ["testing"])
    assert len(arxiv_server.requests) == POLICY.attempts


def test_requests_are_spaced_by_the_configured_delay(
    arxiv_server: FakeArxiv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCALDIGEST_ARXIV_DELAY", "0.3")
    client = settings.client(config.load())  # as every command makes it
    assert client.endpoints.delay == 0.3
    listing.search(client, seen(), ["testing"], filters_given(), max_results=20)  # 2 pages of 10
    listing.today(client, seen(), filters_given(["cs.AI"]))
    times = [r.at for r in arxiv_server.requests]
    assert len(times) == 3
    assert all(b - a >= 0.28 for a, b in itertools.pairwise(times))


def test_one_client_per_process(arxiv_server: FakeArxiv) -> None:
    assert settings.client(config.load()) is settings.client(config.load())


def test_connection_refused_fails_fast() -> None:
    started = time.monotonic()
    with pytest.raises(NetworkError, match=r"127\.0\.0\.1:\d+ refused the connection"):
        listing.search(offline(), seen(), ["testing"], filters_given())
    assert time.monotonic() - started < 5  # one quick retry, no 3 s pause: nothing reached it


MINIMAL_FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">
  <opensearch:totalResults>1</opensearch:totalResults>
  <entry>
    <id>http://arxiv.org/abs/2405.04434v2</id>
    <updated>2024-06-19T17:00:00Z</updated><published>2024-05-07T17:00:00Z</published>
    <title>A Title</title><summary>An abstract.</summary>
    <author><name>A. Author</name></author>
  </entry>
</feed>"""


def test_the_arxiv_packages_transport_hook_still_holds() -> None:
    """The one private hook into the ``arxiv`` package (``sources/arxiv/api.py``, ``_api``):
    ``arxiv.Client`` fetches each page with ``self._session.get(url, headers=...)`` and
    reads ``status_code`` and ``content`` of the answer. A release that changes this fails
    here first, before any search quietly goes around the polite client."""
    asked: list[str] = []

    class Transport:
        def get(self, url: str, **_: Any) -> Any:
            asked.append(url)
            return SimpleNamespace(status_code=200, content=MINIMAL_FEED)

    client = arxiv.Client(page_size=5, delay_seconds=0.0, num_retries=0)
    assert hasattr(client, "_session"), "arxiv.Client lost _session: see sources/arxiv/api.py"
    client._session = Transport()
    client.query_url_format = "http://arxiv.invalid/api/query?{}"
    [result] = client.results(arxiv.Search(id_list=["2405.04434v2"]))
    assert result.entry_id == "http://arxiv.org/abs/2405.04434v2" and result.title == "A Title"
    assert asked and asked[0].startswith("http://arxiv.invalid/api/query?")
    assert "id_list=2405.04434v2" in asked[0]


# ----------------------------------------------------------------------------- search


def test_new_leaves_out_what_was_listed(arxiv_server: FakeArxiv) -> None:
    assert len(search(arxiv_server, ["testing"], max_results=4)) == 4
    before = len(arxiv_server.requests)
    # Newest first: the first paper is already seen, so paging stops there.
    assert search(arxiv_server, ["testing"], only_new=True) == []
    assert len(arxiv_server.requests) == before + 1
    # By relevance nothing can be inferred from order: the unseen ones are still shown.
    rest = search(arxiv_server, ["testing"], only_new=True, sort="relevance")
    assert [p.versioned_id for p in rest] == arxiv_server.search_ids[4:]
    assert set(library.seen_store(user_paths().state)) == {
        i.split("v")[0] for i in arxiv_server.search_ids
    }


def test_include_and_exclude_are_case_insensitive_phrases(arxiv_server: FakeArxiv) -> None:
    def ids(**filters: list[str]) -> list[str]:
        return [p.arxiv_id for p in search(arxiv_server, ["testing"], sort="relevance", **filters)]

    assert ids(include=["DEEP LEARNING"]) == ["2202.12139"]  # in the title
    assert ids(include=["fuzzing", "autonomous   driving"]) == ["2202.12139", "2005.14124"]
    everything = ids()
    assert ids(exclude=["Autonomous Driving", "FUZZ"]) == [
        i for i in everything if i not in {"2202.12139", "2005.14124"}
    ]


def test_since_filters_and_goes_into_the_query(arxiv_server: FakeArxiv) -> None:
    papers = search(arxiv_server, ["testing"], since=date(2023, 1, 1))
    assert papers and all(p.published and p.published.year >= 2023 for p in papers)
    assert "submittedDate:[202301010000 TO " in arxiv_server.requests[0].query["search_query"]


def test_bad_search_arguments_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="Nothing to search for"):
        listing.search(offline(), seen(), [], filters_given([]))
    with pytest.raises(UsageError, match="not an arXiv category"):
        listing.search(offline(), seen(), ["x"], filters_given(["cs.AI) OR (all:x"]))


def test_config_categories_are_the_default(arxiv_server: FakeArxiv) -> None:
    search(arxiv_server, ["testing"], max_results=1)
    assert (
        "(cat:cs.AI OR cat:cs.LG OR cat:cs.CL OR cat:stat.ML)"
        in (arxiv_server.requests[0].query["search_query"])
    )


# ----------------------------------------------------------------------------- daily feed


def test_today_lists_the_daily_feed(arxiv_server: FakeArxiv) -> None:
    papers = today(arxiv_server, ["cs.AI", "cs.AI"])
    assert len(papers) == 86 == len({p.arxiv_id for p in papers})
    assert len(arxiv_server.to("/rss/")) == 1
    first = papers[0]
    assert first.versioned_id == "2508.13167v1"
    assert first.title.startswith("Chain-of-Agents: End-to-End Agent Foundation Models")
    assert first.abstract.startswith("Recent advances in large language models (LLMs)")
    assert first.authors[:2] == ("Weizhen Li", "Jianbo Lin") and len(first.authors) == 30
    assert first.announce_type == "new" and first.primary_category == "cs.AI"
    assert {p.announce_type for p in papers} == {"new", "cross"}
    assert today(arxiv_server, ["cs.AI"], only_new=True) == []


def test_today_with_a_cut_off_feed_says_so(arxiv_server: FakeArxiv) -> None:
    arxiv_server.rss["cs.AI"] = arxiv_server.truncated_rss
    with pytest.raises(NetworkError, match=r"listing feed for cs\.AI is incomplete"):
        today(arxiv_server, ["cs.AI"])
    assert len(seen()) == 0


def test_today_unknown_category(arxiv_server: FakeArxiv) -> None:
    with pytest.raises(UsageError, match=r"no listing feed for 'cs\.XX'"):
        today(arxiv_server, ["cs.XX"])


# ----------------------------------------------------------------------------- CLI


def test_cli_search_table(arxiv_server: FakeArxiv) -> None:
    result = runner.invoke(cli(), ["search", "testing", "--max", "3"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["#", "arXiv", "id", "date", "cat"]
    assert "2202.12139v1" in result.stdout and "2022-02-24" in result.stdout
    assert sum(1 for line in lines if line.lstrip()[:2] in {"1 ", "2 ", "3 "}) == 3


def test_cli_search_json(arxiv_server: FakeArxiv) -> None:
    # --sort arxiv: arXiv's own relevance (--sort relevance ranks by the reader's library).
    result = runner.invoke(cli(), ["search", "testing", "--format", "json", "--sort", "arxiv"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["n"] for r in rows] == list(range(1, 11))
    assert rows[0]["arxiv_id"] == "2202.12139" and rows[0]["version"] == 1
    assert rows[0]["local"] is None and rows[0]["published"].startswith("2022-02-24")
    assert arxiv_server.requests[0].query["sortBy"] == "relevance"


def test_cli_new_after_a_search_shows_nothing(arxiv_server: FakeArxiv) -> None:
    assert runner.invoke(cli(), ["search", "testing"]).exit_code == 0
    result = runner.invoke(cli(), ["search", "testing", "--new"])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No new papers" in result.stderr


def test_table_marks_fetched_and_summarized_and_shows_authors_when_wide(
    arxiv_server: FakeArxiv,
) -> None:
    papers = search(arxiv_server, ["testing"], max_results=3)
    states = {papers[0].arxiv_id: "fetched", papers[1].arxiv_id: "summarized"}

    def render(width: int) -> str:
        con = Console(file=io.StringIO(), width=width)
        con.print(search_table(papers, states, width=width))
        return con.file.getvalue()  # type: ignore[attr-defined]

    wide, narrow = render(160), render(80)
    assert "authors" in wide and "Mohit Kumar Ahuja" in wide
    assert "authors" not in narrow and "Ahuja" not in narrow
    rows = [line for line in wide.splitlines() if line.lstrip()[:2] in {"1 ", "2 ", "3 "}]
    assert rows[0].rstrip().endswith("pdf") and rows[1].rstrip().endswith("sum")


def test_cli_search_then_fetch_numbers(arxiv_server: FakeArxiv) -> None:
    result = runner.invoke(cli(), ["search", "testing", "--fetch", "1,3"])
    assert result.exit_code == 0, result.output
    ids = arxiv_server.search_ids
    assert lib().is_fetched(ids[0]) and lib().is_fetched(ids[2])
    assert not lib().is_fetched(ids[1])
    assert [r.path for r in arxiv_server.to("/pdf/")] == [f"/pdf/{ids[0]}", f"/pdf/{ids[2]}"]
    assert len(arxiv_server.to("/api/")) == 3  # search, its empty 2nd page, one id_list call
    assert str(lib().find_entry(ids[0]).pdf_path) in result.stdout  # type: ignore[union-attr]
    # The next listing marks them.
    again = runner.invoke(cli(), ["search", "testing", "--format", "json"])
    local = {r["arxiv_id"]: r["local"] for r in json.loads(again.stdout)}
    assert local[ids[0].split("v")[0]] == "fetched" and local[ids[1].split("v")[0]] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "testing", "--fetch", "99"], "only 10 papers are listed"),
        (["search", "testing", "--fetch", "1;2"], "is not a list of numbers"),
        (["search", "testing", "--since", "May 2024"], "is not a date — use YYYY-MM-DD"),
        (["search", "--today", "testing"], "--today lists whole categories"),
    ],
)
def test_cli_usage_errors_exit_2(arxiv_server: FakeArxiv, args: list[str], message: str) -> None:
    result = runner.invoke(cli(), args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not arxiv_server.to("/pdf/")


def test_cli_today(arxiv_server: FakeArxiv) -> None:
    result = runner.invoke(
        cli(), ["search", "--today", "-c", "cs.AI", "--format", "json", "--max", "5"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["arxiv_id"] == "2508.13167"
    assert [r.path for r in arxiv_server.requests] == ["/rss/cs.AI"]


def test_cli_network_off_exits_5_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALDIGEST_ARXIV_API", f"{closed_port_url()}/api/query")
    started = time.monotonic()
    result = runner.invoke(cli(), ["search", "testing"])
    assert time.monotonic() - started < 5
    assert result.exit_code == 5
    assert len(result.stderr.strip().splitlines()) == 1
    assert "127.0.0.1" in result.stderr and "refused the connection" in result.stderr
    assert "check your network" in result.stderr


def test_cli_error_feed_exits_5(arxiv_server: FakeArxiv) -> None:
    result = runner.invoke(cli(), ["search", "abc"])
    assert result.exit_code == 5
    assert "incorrect id format for abc" in result.stderr


def test_a_5000_character_title_takes_a_few_rows_not_a_screenful(arxiv_server: FakeArxiv) -> None:
    """Issue 25, item 13: such a title filled 140 table rows."""
    [paper] = search(arxiv_server, ["testing"], max_results=1)
    long = replace(paper, title="A very long title " * 280)  # 5,040 characters
    con = Console(file=io.StringIO(), width=120)
    con.print(search_table([long], {}, width=120))
    shown = con.file.getvalue()  # type: ignore[attr-defined]
    assert len(shown.splitlines()) < 12 and "…" in shown
