"""The paper library: atomic, checked, once-only downloads; offline reuse; the fetch command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from arxiv_server import FakeArxiv, arxiv_server_fixture, closed_port_url  # noqa: F401
from conftest import user_paths
from typer.testing import CliRunner

from localdigest.cli.arxiv import register
from localdigest.errors import InputError, NetworkError
from localdigest.sources import library
from localdigest.sources.arxiv.client import ArxivClient, Endpoints
from localdigest.sources.arxiv.ids import ArxivId, parse_arxiv_id
from localdigest.sources.library import LibraryEntry

runner = CliRunner()
PAPER = "1111.2011v2"


def lib() -> library.Library:
    """The paper library of this test's user."""
    return library.Library(user_paths().library)


def seen() -> library.SeenStore:
    return library.seen_store(user_paths().state)


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def library_files() -> list[str]:
    root = user_paths().library
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def go_offline(monkeypatch: pytest.MonkeyPatch) -> ArxivClient:
    """arXiv's settings (for commands) and a client (returned) where nothing listens."""
    dead = closed_port_url()
    for name in ("API", "PDF", "RSS"):
        monkeypatch.setenv(f"LOCALDIGEST_ARXIV_{name}", f"{dead}/{name.lower()}")
    return ArxivClient(Endpoints(f"{dead}/api", f"{dead}/pdf", f"{dead}/rss", delay=3.0))


def ensure(client: ArxivClient, paper: str) -> LibraryEntry:
    """The paper from the library, fetched through ``client`` when it is not there."""
    (result,) = lib().fetch([paper], client)
    if result.error is not None:
        raise result.error
    assert result.entry is not None
    return result.entry


def test_fetch_stores_pdf_and_metadata(arxiv_server: FakeArxiv, corpus: Path) -> None:
    calls: list[tuple[str, int, int | None]] = []
    (result,) = lib().fetch(
        [f"https://arxiv.org/abs/{PAPER}"], arxiv_server.client, progress=lambda *a: calls.append(a)
    )

    assert result.status == "fetched" and result.error is None and result.entry is not None
    folder = user_paths().library / "1111.2011"
    assert result.entry.pdf_path == folder / "paper.pdf"
    original = (corpus / "pdfs" / f"{PAPER}.pdf").read_bytes()
    assert result.entry.pdf_path.read_bytes() == original
    assert library_files() == ["1111.2011", "1111.2011/meta.json", "1111.2011/paper.pdf"]

    meta = json.loads((folder / "meta.json").read_text())
    assert meta["title"].startswith("Quantum Criticality for Extended Nodes")
    assert meta["authors"][1] == "Adrian Del Maestro"
    assert meta["abstract"].startswith("Theoretical description")
    assert meta["categories"] == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert meta["published"].startswith("2011-11-08") and meta["updated"].startswith("2012-04-02")
    assert meta["abs_url"] == "https://arxiv.org/abs/1111.2011v2"
    assert meta["pdf_bytes"] == len(original) and meta["fetched_at"]
    assert calls[-1] == (PAPER, len(original), len(original))
    assert [r.path for r in arxiv_server.requests] == ["/api/query", f"/pdf/{PAPER}"]


def test_repeat_fetch_makes_no_request_and_works_offline(
    arxiv_server: FakeArxiv, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ensure(arxiv_server.client, PAPER)
    count = len(arxiv_server.requests)

    (again,) = lib().fetch(["1111.2011"], arxiv_server.client)
    assert again.status == "present" and again.entry == first
    entry = ensure(go_offline(monkeypatch), f"http://arxiv.org/pdf/{PAPER}.pdf")
    assert entry.pdf_path == first.pdf_path and entry.meta.title == first.meta.title
    assert lib().is_fetched("1111.2011") and lib().find_entry(PAPER) == entry
    assert len(arxiv_server.requests) == count


def test_several_ids_need_one_metadata_call(arxiv_server: FakeArxiv) -> None:
    ids = [PAPER, *arxiv_server.search_ids[:2], arxiv_server.search_ids[0]]
    results = lib().fetch(ids, arxiv_server.client)
    assert [r.status for r in results] == ["fetched", "fetched", "fetched", "present"]
    assert len(arxiv_server.to("/api/")) == 1
    assert len(arxiv_server.to("/pdf/")) == 3
    assert {e.meta.arxiv_id for e in lib().list_entries()} == {
        "1111.2011",
        *(i.split("v")[0] for i in ids[1:3]),
    }


def test_same_paper_twice_in_a_batch_is_downloaded_once(arxiv_server: FakeArxiv) -> None:
    results = lib().fetch(
        ["1111.2011", PAPER, f"https://arxiv.org/abs/{PAPER}"], arxiv_server.client
    )
    assert [r.status for r in results] == ["fetched", "present", "present"]
    assert len(arxiv_server.to("/pdf/")) == 1


def test_unwritable_library_is_a_clear_error(
    arxiv_server: FakeArxiv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the home folder should be")
    monkeypatch.setenv("LOCALDIGEST_HOME", str(blocker))
    result = runner.invoke(cli(), ["fetch", PAPER])
    assert result.exit_code == 3
    assert "Cannot write 1111.2011v2 into the library" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_truncated_download_leaves_nothing(arxiv_server: FakeArxiv) -> None:
    arxiv_server.truncate_next(10)
    (result,) = lib().fetch([PAPER], arxiv_server.client)
    assert isinstance(result.error, NetworkError)
    assert "was cut off" in result.error.message
    assert len(arxiv_server.to("/pdf/")) == 2  # one retry, then give up
    assert library_files() == []


def test_a_truncation_once_is_retried(arxiv_server: FakeArxiv) -> None:
    arxiv_server.truncate_next(1)
    entry = ensure(arxiv_server.client, PAPER)
    assert (
        entry.pdf_path.stat().st_size
        == json.loads((entry.folder / "meta.json").read_text())["pdf_bytes"]
    )
    assert library_files() == ["1111.2011", "1111.2011/meta.json", "1111.2011/paper.pdf"]


def test_html_instead_of_pdf_leaves_nothing(arxiv_server: FakeArxiv) -> None:
    arxiv_server.html_next(1)
    with pytest.raises(InputError, match=r"sent a web page \(text/html\) instead of the PDF"):
        ensure(arxiv_server.client, PAPER)
    assert library_files() == []


def test_a_failed_refetch_keeps_the_stored_copy(arxiv_server: FakeArxiv) -> None:
    ensure(arxiv_server.client, PAPER)
    before = library_files()
    arxiv_server.html_next(1)
    # Asking for another version replaces the stored one only when the download succeeds.
    (result,) = lib().fetch(["1111.2011v1"], arxiv_server.client)
    assert isinstance(result.error, InputError)
    assert library_files() == before
    assert lib().find_entry("1111.2011").meta.version == 2  # type: ignore[union-attr]


def test_explicit_other_version_is_fetched_and_replaces(arxiv_server: FakeArxiv) -> None:
    ensure(arxiv_server.client, PAPER)
    entry = ensure(arxiv_server.client, "1111.2011v1")
    assert entry.meta.version == 1 and entry.meta.abs_url.endswith("1111.2011v1")
    assert arxiv_server.to("/pdf/")[-1].path == "/pdf/1111.2011v1"
    assert lib().find_entry(PAPER) is None and lib().find_entry("1111.2011") == entry


def test_unknown_paper_is_an_input_error(arxiv_server: FakeArxiv) -> None:
    with pytest.raises(InputError, match=r"arXiv has no paper 2412\.99999 — check the id"):
        ensure(arxiv_server.client, "2412.99999")
    assert not arxiv_server.to("/pdf/") and library_files() == []


def test_invalid_ids_make_no_request(arxiv_server: FakeArxiv) -> None:
    results = lib().fetch(
        ["foo", "../../etc/passwd", "hep-th/../../x", "2405.04434/.."], arxiv_server.client
    )
    assert all(isinstance(r.error, InputError) for r in results)
    assert arxiv_server.requests == []
    assert library_files() == []


def test_nothing_derived_from_an_id_leaves_the_library() -> None:
    root = user_paths().library
    assert lib().entry_dir(parse_arxiv_id("hep-th/9901001v2")) == root / "hep-th_9901001"
    assert lib().entry_dir(parse_arxiv_id("math.GT/0309136")) == root / "math.GT_0309136"
    for text in ("../x", "/etc/passwd", "..", "hep-th/../../x", "C:\\x", "~/x"):
        with pytest.raises(InputError):
            lib().find_entry(text)
        with pytest.raises(InputError):
            lib().mark_summarized(text)
    with pytest.raises(ValueError):
        lib().entry_dir(ArxivId("../../etc"))


def test_summarized_marks(arxiv_server: FakeArxiv) -> None:
    assert lib().local_state(PAPER) is None
    ensure(arxiv_server.client, PAPER)
    assert lib().local_state("1111.2011") == "fetched"
    lib().mark_summarized(PAPER, {"model": "smollm2"})
    assert lib().is_summarized("1111.2011") and lib().local_state(PAPER) == "summarized"
    assert len(lib().list_entries()) == 1


def test_damaged_meta_means_not_fetched(arxiv_server: FakeArxiv) -> None:
    entry = ensure(arxiv_server.client, PAPER)
    (entry.folder / "meta.json").write_text("{not json")
    assert not lib().is_fetched(PAPER) and lib().list_entries() == []
    assert ensure(arxiv_server.client, PAPER).meta.title == entry.meta.title  # fetched again


def test_damaged_seen_store_starts_over() -> None:
    store = library.seen_store(user_paths().state)
    store.path.parent.mkdir(parents=True)
    store.path.write_text("[1, 2")
    assert "2405.04434" not in store and len(store) == 0
    store.add(["2405.04434"])
    assert "2405.04434" in library.seen_store(user_paths().state)


# ----------------------------------------------------------------------------- CLI


def test_cli_fetch_prints_where_each_pdf_is(arxiv_server: FakeArxiv) -> None:
    result = runner.invoke(cli(), ["fetch", PAPER, arxiv_server.search_ids[0]])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{PAPER}  fetched  ")
    assert lines[0].endswith(str(user_paths().library / "1111.2011" / "paper.pdf"))
    again = runner.invoke(cli(), ["fetch", PAPER])
    assert again.exit_code == 0 and "already in library" in again.stdout


def test_cli_fetch_json_says_what_happened_to_each_input(arxiv_server: FakeArxiv) -> None:
    runner.invoke(cli(), ["fetch", PAPER])
    result = runner.invoke(cli(), ["fetch", "foo", PAPER, "2412.99999", "--format", "json"])
    assert result.exit_code == 3
    bad, present, missing = json.loads(result.stdout)
    assert bad["input"] == "foo" and bad["status"] == "failed" and bad["exit_code"] == 3
    assert "not an arXiv id" in bad["error"] and bad["path"] is None
    assert present["status"] == "present" and present["arxiv_id"] == PAPER
    assert present["path"] == str(user_paths().library / "1111.2011" / "paper.pdf")
    assert present["title"] and present["error"] is None and present["exit_code"] == 0
    assert missing["status"] == "failed" and "arXiv has no paper" in missing["error"]


def test_cli_fetch_bad_input_exits_3_and_fetches_the_rest(arxiv_server: FakeArxiv) -> None:
    result = runner.invoke(cli(), ["fetch", "foo", PAPER, "2412.99999"])
    assert result.exit_code == 3
    assert "'foo' is not an arXiv id or URL — use e.g. 2405.04434" in result.stderr
    assert "arXiv has no paper 2412.99999" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2
    assert lib().is_fetched(PAPER)


def test_cli_fetch_only_invalid_makes_no_request(arxiv_server: FakeArxiv) -> None:
    result = runner.invoke(cli(), ["fetch", "../../etc/passwd"])
    assert result.exit_code == 3
    assert arxiv_server.requests == []


def test_cli_fetch_html_page_exits_3(arxiv_server: FakeArxiv) -> None:
    arxiv_server.html_next(1)
    result = runner.invoke(cli(), ["fetch", PAPER])
    assert result.exit_code == 3
    assert "instead of the PDF" in result.stderr and library_files() == []


def test_cli_fetch_offline_exits_5(monkeypatch: pytest.MonkeyPatch) -> None:
    go_offline(monkeypatch)
    result = runner.invoke(cli(), ["fetch", PAPER, "2405.04434"])
    assert result.exit_code == 5
    assert "127.0.0.1" in result.stderr and "refused the connection" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # one network error, said once
    assert library_files() == []


def test_cli_ctrl_c_exits_130(arxiv_server: FakeArxiv, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(library.Library, "fetch", interrupted)
    result = runner.invoke(cli(), ["fetch", PAPER])
    assert result.exit_code == 130
    assert (
        result.stderr.strip()
        == "Error: Interrupted — finished work is kept; run the same command to resume"
    )
