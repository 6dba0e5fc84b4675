"""Reproductions of the adversarial pass on arXiv, against the fake arXiv on 127.0.0.1:
answers that are cut off, not XML or hold entries that are no paper are the server's fault
(exit 5, the rest of a batch goes on); the package's own log lines never reach stderr; a
server that drips its answer is stopped by the overall deadline; SIGTERM during a download
and stale partial files leave nothing behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import typer
from arxiv_server import FEED_HEAD, FakeArxiv, arxiv_server_fixture  # noqa: F401
from conftest import user_paths
from typer.testing import CliRunner

from localdigest import fsutil
from localdigest.cli.arxiv import register
from localdigest.errors import NetworkError
from localdigest.sources import library, listing
from localdigest.sources.arxiv.client import ArxivClient
from localdigest.sources.arxiv.meta import Filters

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


def partials() -> list[Path]:
    root = user_paths().library
    return sorted(root.rglob("*.part")) if root.exists() else []


def entry_of(fake: FakeArxiv, index: int = 0) -> str:
    base = re.sub(r"v\d+$", "", fake.search_ids[index])
    return fake.entries[base]


def feed(*entries: str) -> bytes:
    head = FEED_HEAD.format(ids="x", n=len(entries))
    return (head + "\n".join(entries) + "\n</feed>\n").encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(None, id="cut off"),
        pytest.param(os.urandom(2048), id="random bytes"),
        pytest.param(b"<html><body>Welcome to the hotel wifi</body></html>", id="a web page"),
        pytest.param(b"<feed><entry><id>http://arxiv.org/abs/1111", id="not well-formed"),
    ],
)
def test_a_malformed_api_answer_is_a_server_error_not_a_missing_paper(
    arxiv_server: FakeArxiv, body: bytes | None
) -> None:
    if body is None:
        body = arxiv_server.id_2016[: len(arxiv_server.id_2016) // 2]
    arxiv_server.body_next(body)
    result = runner.invoke(cli(), ["fetch", PAPER])
    assert result.exit_code == 5, result.output
    assert "no paper" not in result.output and "check the id" not in result.output
    assert "Traceback" not in result.output and partials() == []


def test_the_arxiv_packages_log_lines_do_not_reach_stderr(
    arxiv_server: FakeArxiv, tmp_path: Path
) -> None:
    # An entry with three PDF links makes the package log a warning. A real process: under
    # pytest, pytest's own log capture would swallow it either way.
    link = '<link title="pdf" href="http://arxiv.org/pdf/x" rel="related"/>'
    entry = entry_of(arxiv_server).replace("</entry>", f"{link}{link}</entry>")
    arxiv_server.body_next(feed(entry))
    done = subprocess.run(
        [sys.executable, "-m", "localdigest", "fetch", arxiv_server.search_ids[0]],
        env={**os.environ, "LOCALDIGEST_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "multiple PDF links" not in done.stderr
    assert done.stderr.strip() == "", done.stderr


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param(("<id>http://arxiv.org/abs/", "<id>http://evil.example/"), id="bad id"),
        pytest.param(("<published>", "<published>last Tuesday "), id="bad date"),
    ],
)
def test_an_entry_that_is_no_paper_fails_only_itself_as_a_server_error(
    arxiv_server: FakeArxiv, breakage: tuple[str, str]
) -> None:
    good_id, bad_id = arxiv_server.search_ids[0], arxiv_server.search_ids[1]
    bad = entry_of(arxiv_server, 1).replace(*breakage)
    arxiv_server.body_next(feed(entry_of(arxiv_server, 0), bad))
    results = lib().fetch([good_id, bad_id], arxiv_server.client)
    assert results[0].status == "fetched"
    assert results[1].status == "failed" and results[1].error is not None
    assert results[1].error.exit_code == 5
    assert "check the id" not in results[1].error.message


def test_a_truncated_search_page_is_not_shown_nor_marked_seen(arxiv_server: FakeArxiv) -> None:
    page = arxiv_server.search_page
    arxiv_server.body_next(page[: int(len(page) * 0.6)])
    filters = Filters(())
    with pytest.raises(NetworkError, match="cut off or not XML"):
        listing.search(arxiv_server.client, seen(), ["testing"], filters, max_results=5)
    assert len(seen()) == 0
    papers = listing.search(arxiv_server.client, seen(), ["testing"], filters, max_results=5)
    assert len(papers) == 5


def with_policy(fake: FakeArxiv, **policy: float) -> ArxivClient:
    endpoints = fake.client.endpoints
    return ArxivClient(replace(endpoints, policy=replace(endpoints.policy, **policy)))


def test_a_dripping_api_answer_hits_the_overall_deadline(arxiv_server: FakeArxiv) -> None:
    client = with_policy(arxiv_server, deadline=1.5, max_total=2.0)
    arxiv_server.drip_next(5, interval=0.2)  # 1 byte every 0.2 s: never a read time-out
    started = time.monotonic()
    (result,) = lib().fetch([PAPER], client)
    took = time.monotonic() - started
    assert result.error is not None and result.error.exit_code == 5
    assert "did not answer within 1.5 s" in result.error.message
    assert took < 10


def test_a_dripping_pdf_hits_the_download_deadline_and_leaves_nothing(
    arxiv_server: FakeArxiv,
) -> None:
    client = ArxivClient(replace(arxiv_server.client.endpoints, download_deadline=1.5))
    arxiv_server.drip_next(5, prefix="/pdf", interval=0.01)
    started = time.monotonic()
    (result,) = lib().fetch([PAPER], client)
    assert result.error is not None and result.error.exit_code == 5
    assert "did not send the PDF of 1111.2011v2 within 1.5 s" in result.error.message
    assert time.monotonic() - started < 10
    assert partials() == [] and lib().find_entry(PAPER) is None


def test_sigterm_during_a_download_removes_the_partial_file(
    arxiv_server: FakeArxiv, tmp_path: Path
) -> None:
    arxiv_server.drip_next(1, prefix="/pdf", interval=0.002)
    env = {**os.environ, "LOCALDIGEST_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "localdigest", "fetch", PAPER],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    folder = tmp_path / "home" / "library" / "1111.2011"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(folder.glob(".*.part")):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    assert list(folder.glob(".*.part")), "the download never started"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "Terminated" in err and "Traceback" not in err
    assert not folder.exists() or list(folder.iterdir()) == []


def test_stale_partial_downloads_are_swept_on_the_next_fetch(arxiv_server: FakeArxiv) -> None:
    other = user_paths().library / "2405.04434"
    other.mkdir(parents=True)
    old = time.time() - arxiv_server.client.endpoints.download_deadline - 120
    leftovers = [
        other / ".paper-abc123.part",  # the names of earlier versions
        other / f"{fsutil.partial_prefix('paper.pdf')}0123456789ab.part",
    ]
    fresh = other / f"{fsutil.partial_prefix('paper.pdf')}ba9876543210.part"
    for path in [*leftovers, fresh]:
        path.write_bytes(b"%PDF-1.4 half")
    for path in leftovers:
        os.utime(path, (old, old))
    assert lib().fetch([PAPER], arxiv_server.client)[0].status == "fetched"
    assert [p.exists() for p in leftovers] == [False, False]
    assert fresh.exists()  # maybe another run's download, still going
