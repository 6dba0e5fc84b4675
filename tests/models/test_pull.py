"""``models pull`` against a loopback stand-in of the hub's file endpoints (HF_ENDPOINT)
serving a real GGUF: complete, cut and resumed, corrupted, down; the cache it leaves; and a
hub that lies (paths out of the repo, sizes, drips, stalls, a CDN on another origin)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hub_server import COMMIT, FakeHub, fake_hub, sha256_of  # noqa: F401 - the fixture
from model_stores import configured_model, smollm2_path
from typer.testing import CliRunner

from localdigest.cli import app
from localdigest.errors import NetworkError
from localdigest.models import pull

runner = CliRunner()
REPO = "test-org/SmolLM2-135M-Instruct-GGUF"
FILE = "smollm2-135m-instruct-q4_1.gguf"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(folder))
    monkeypatch.setattr(pull, "RETRY_DELAYS", (0.05, 0.05))
    return folder


@pytest.fixture
def hub(fake_hub: FakeHub) -> FakeHub:  # noqa: F811 - the fixture imported above
    fake_hub.add(REPO, FILE, smollm2_path())
    fake_hub.add(REPO, "README.md", Path(__file__))
    return fake_hub


def repo_dir(cache: Path) -> Path:
    return cache / ("models--" + REPO.replace("/", "--"))


def invoke(*args: str):
    return runner.invoke(app, ["models", "pull", *args])


def test_complete_download_into_the_standard_cache(
    cache: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    result = invoke(f"{REPO}/{FILE}")
    assert result.exit_code == 0, result.output
    sha = sha256_of(smollm2_path())
    folder = repo_dir(cache)
    blob = folder / "blobs" / sha
    link = folder / "snapshots" / COMMIT / FILE
    assert blob.is_file() and not blob.is_symlink()
    assert blob.stat().st_size == smollm2_path().stat().st_size
    assert link.is_symlink() and os.readlink(link) == f"../../blobs/{sha}"
    assert (folder / "refs" / "main").read_text() == COMMIT
    assert not list((folder / "blobs").glob("*.incomplete"))
    assert f"hf:{REPO}/{FILE}" in result.stdout
    auth = [(r.method, r.path, r.headers.get("authorization")) for r in hub.requests]
    assert all(a == "Bearer hf_test_token" for _, _, a in auth), auth
    # localdigest uses it by name, without copying.
    listed = json.loads(runner.invoke(app, ["models", "--format", "json"]).stdout)
    assert f"hf:{REPO}/{FILE}" in {row["name"] for row in listed}
    assert configured_model(f"hf:{REPO}/{FILE}").path == link
    again = invoke(f"{REPO}/{FILE}")
    assert again.exit_code == 0 and "already in the hub cache" in again.stdout
    assert len(hub.gets()) == 1  # nothing downloaded twice
    as_json = invoke(f"{REPO}/{FILE}", "--format", "json", "--set-default")
    assert as_json.exit_code == 0, as_json.output
    pulled = json.loads(as_json.stdout)
    assert pulled["model"] == f"hf:{REPO}/{FILE}" and pulled["path"] == str(link)
    assert pulled["downloaded"] == 0 and pulled["size"] == smollm2_path().stat().st_size
    assert pulled["default_set_in"] == os.environ["LOCALDIGEST_CONFIG"]


def test_quant_picks_the_file_from_the_repo(cache: Path, hub: FakeHub) -> None:
    hub.add(REPO, "smollm2-135m-instruct-Q8_0.gguf", Path(__file__), sha256="0" * 64)
    result = invoke(REPO, "--quant", "Q4_1")
    assert result.exit_code == 0, result.output
    assert (repo_dir(cache) / "snapshots" / COMMIT / FILE).is_symlink()
    missing = invoke(REPO, "--quant", "Q5_K_M")
    assert missing.exit_code == 4
    assert "Q4_1" in missing.output and "Q8_0" in missing.output  # what the repo has


def test_connection_cut_halfway_is_resumed(cache: Path, hub: FakeHub) -> None:
    size = smollm2_path().stat().st_size
    hub.cuts, hub.cut_after = 1, size // 2
    result = invoke(f"{REPO}/{FILE}")
    assert result.exit_code == 0, result.output
    gets = hub.gets()
    assert len(gets) == 2
    assert "range" not in gets[0].headers
    start = int(gets[1].headers["range"].removeprefix("bytes=").rstrip("-"))
    assert start >= size // 2 - (1 << 20)  # it went on from where the cut left it
    assert sha256_of(repo_dir(cache) / "blobs" / sha256_of(smollm2_path())) == sha256_of(
        smollm2_path()
    )


def test_interrupted_run_is_resumed_by_the_next(cache: Path, hub: FakeHub) -> None:
    size = smollm2_path().stat().st_size
    hub.cuts, hub.cut_after = 10, size // 3  # every attempt of this run is cut
    first = invoke(f"{REPO}/{FILE}")
    assert first.exit_code == 5, first.output
    assert "run the same command to resume" in first.output
    partial = repo_dir(cache) / "blobs" / f"{sha256_of(smollm2_path())}.incomplete"
    kept = partial.stat().st_size
    assert kept >= size // 3
    hub.cuts = 0
    second = invoke(f"{REPO}/{FILE}")
    assert second.exit_code == 0, second.output
    assert "resumed" in second.stdout
    assert hub.gets()[-1].headers["range"] == f"bytes={kept}-"
    assert not partial.exists()


def test_ctrl_c_keeps_the_partial_download_for_the_next_run(cache: Path, hub: FakeHub) -> None:
    hub.rate = 20e6  # 98 MB in about 5 s: time to interrupt it
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_ENDPOINT": hub.url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "localdigest", "models", "pull", f"{REPO}/{FILE}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    partial = repo_dir(cache) / "blobs" / f"{sha256_of(smollm2_path())}.incomplete"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if partial.exists() and partial.stat().st_size > 10 << 20:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    kept = partial.stat().st_size
    assert 0 < kept < smollm2_path().stat().st_size
    hub.rate = None
    resumed = invoke(f"{REPO}/{FILE}")
    assert resumed.exit_code == 0, resumed.output
    assert hub.gets()[-1].headers["range"] == f"bytes={kept}-"
    blob = repo_dir(cache) / "blobs" / sha256_of(smollm2_path())
    assert sha256_of(blob) == sha256_of(smollm2_path())


def test_checksum_mismatch_leaves_nothing_in_the_cache(cache: Path, hub: FakeHub) -> None:
    hub.corrupt = True
    result = invoke(f"{REPO}/{FILE}")
    assert result.exit_code == 5, result.output
    assert "checksum" in result.output and "nothing was kept" in result.output
    files = [p for p in repo_dir(cache).rglob("*") if p.is_file() or p.is_symlink()]
    assert files == []


def test_endpoint_down_is_exit_5_in_one_line(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    result = invoke(f"{REPO}/{FILE}")
    assert result.exit_code == 5, result.output
    assert f"127.0.0.1:{port}" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not cache.exists() or not any(cache.rglob("*.gguf"))


def test_hub_errors_are_one_line_each(cache: Path, hub: FakeHub) -> None:
    no_repo = invoke("nobody/nothing-GGUF/x.gguf")
    assert no_repo.exit_code == 4 and "nobody/nothing-GGUF" in no_repo.output
    no_file = invoke(f"{REPO}/missing.gguf")
    assert no_file.exit_code == 4 and "missing.gguf" in no_file.output
    bad = invoke("not a spec")
    assert bad.exit_code == 2 and "--list" in bad.output


def test_offline_uses_the_cached_copy_or_says_why_not(
    cache: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    refused = invoke(f"{REPO}/{FILE}")
    assert refused.exit_code == 5 and "HF_HUB_OFFLINE" in refused.output
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert invoke(f"{REPO}/{FILE}").exit_code == 0
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cached = invoke(f"{REPO}/{FILE}")
    assert cached.exit_code == 0 and "offline" in cached.stdout


def test_not_enough_disk_space_is_said_before_downloading(
    cache: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    real = shutil.disk_usage
    monkeypatch.setattr(
        pull.shutil, "disk_usage", lambda p: real(p)._replace(free=10 << 20)
    )  # a full disk, as the OS would report it
    result = invoke(f"{REPO}/{FILE}")
    assert result.exit_code == 6, result.output
    assert "disk space" in result.output
    assert hub.gets() == []


def test_set_default_writes_the_config(cache: Path, hub: FakeHub, tmp_path: Path) -> None:
    result = invoke(f"{REPO}/{FILE}", "--set-default")
    assert result.exit_code == 0, result.output
    config = (tmp_path / "config.toml").read_text()
    assert f'model = "hf:{REPO}/{FILE}"' in config
    assert configured_model(None).source == "config"
    assert configured_model(None).path.name == FILE


def test_catalogue_names_pull_and_resolve(cache: Path, fake_hub: FakeHub) -> None:  # noqa: F811
    from localdigest.models import catalog

    entry = catalog.find("qwen2.5-1.5b-instruct")
    assert entry is not None
    before = runner.invoke(app, ["summarize", "x.pdf", "-m", entry.name])
    assert before.exit_code == 4 and f"models pull {entry.name}" in before.output
    fake_hub.add(entry.repo, entry.file, smollm2_path())  # the stand-in serves test bytes
    assert invoke(entry.name).exit_code == 0
    assert configured_model(entry.name).path.name == entry.file
    listing = invoke("--list")
    assert listing.exit_code == 0 and "(downloaded)" in listing.stdout
    rows = json.loads(invoke("--list", "--format", "json").stdout)
    assert {r["name"]: r["downloaded"] for r in rows}[entry.name] is True
    assert all(r["hub_file"] == f"{r['repo']}/{r['file']}" and r["ram"] > r["size"] for r in rows)


def test_catalogue_facts_each_have_a_source() -> None:
    from localdigest.models import catalog

    names = [e.name for e in catalog.entries()]
    assert len(names) == len(set(names)) >= 6
    for e in catalog.entries():
        assert e.file.endswith(".gguf") and e.size > 500e6 and e.license
        assert {"repo_file_size", "license"} <= set(e.sources), e.name
    assert catalog.suggestion(cores=2, memory=24 << 30).name == "qwen2.5-1.5b-instruct"
    assert catalog.suggestion(cores=16, memory=32 << 30).name == "qwen3-4b-instruct-2507"


# ----------------------------------------------------------------------------- a hostile hub


@pytest.mark.parametrize(
    "path",
    [
        "../../evil-Q4_K_M.gguf",
        "/tmp/evil-Q4_K_M.gguf",
        "a/../../evil-Q4_K_M.gguf",
        "a\\..\\e.gguf",
    ],
)
def test_a_listed_path_out_of_the_repo_is_refused_before_any_write(
    cache: Path, hub: FakeHub, tmp_path: Path, path: str
) -> None:
    victim = tmp_path / "evil-Q4_K_M.gguf"
    victim.write_bytes(b"the user's own file")
    hub.entries = [{"type": "file", "path": path, "size": 9, "lfs": {"oid": "0" * 64}}]
    result = invoke(REPO, "--quant", "Q4_K_M")
    assert result.exit_code == 5, result.output
    assert "lists a file outside" in result.output and "nothing was downloaded" in result.output
    assert victim.read_bytes() == b"the user's own file"
    assert not cache.exists() and hub.gets() == []


def test_a_link_in_the_cache_cannot_lead_a_snapshot_out(
    cache: Path, hub: FakeHub, tmp_path: Path
) -> None:
    hub.add(REPO, "sub/smollm2-Q4_K_M.gguf", smollm2_path())
    outside = tmp_path / "outside"
    outside.mkdir()
    snapshot = repo_dir(cache) / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (snapshot / "sub").symlink_to(outside)
    result = invoke(f"{REPO}/sub/smollm2-Q4_K_M.gguf")
    assert result.exit_code == 6, result.output
    assert "nothing was written" in result.output
    assert list(outside.iterdir()) == [] and hub.gets() == []


def test_the_token_goes_to_the_hub_and_never_to_its_cdn(
    cache: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secret_token")
    hub.redirect = True
    result = invoke(f"{REPO}/{FILE}")
    assert result.exit_code == 0, result.output
    assert hub.cdn is not None and [r.method for r in hub.cdn.requests] == ["GET"]
    assert all("authorization" not in r.headers for r in hub.cdn.requests)
    assert hub.requests and all(
        r.headers.get("authorization") == "Bearer hf_secret_token" for r in hub.requests
    )
    assert "hf_secret_token" not in result.output


@pytest.mark.parametrize("no_length", [False, True], ids=["Content-Length", "no length"])
def test_a_download_stops_at_the_listed_size(cache: Path, hub: FakeHub, no_length: bool) -> None:
    hub.add(REPO, "small-Q8_0.gguf", smollm2_path(), size=7000)  # the listing says 7 KB
    hub.no_length, hub.rate = no_length, 5e6  # the whole file would take 20 s
    started = time.monotonic()
    result = invoke(f"{REPO}/small-Q8_0.gguf")
    assert result.exit_code == 5, result.output
    assert "more than the 7000 bytes it listed" in result.output
    assert time.monotonic() - started < 8
    assert not list(repo_dir(cache).rglob("*.incomplete")) and not list(
        repo_dir(cache).rglob("*.gguf")
    )


def test_a_drip_meets_the_downloads_deadline(cache: Path, hub: FakeHub) -> None:
    hub.drip = 0.01  # a byte every 10 ms: never a stall, never an end
    settings = pull.Hub(hub.url, cache, deadline=1.0, min_rate=1e12)
    started = time.monotonic()
    with pytest.raises(NetworkError, match=r"did not send .* within 1 s .* resumes where it"):
        pull.pull(f"{REPO}/{FILE}", settings)
    assert time.monotonic() - started < 8


def test_the_stall_timeout_is_hf_hub_download_timeout(
    cache: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_DOWNLOAD_TIMEOUT", "0.5")
    hub.stall_after = 1000  # then nothing
    started = time.monotonic()
    result = invoke(f"{REPO}/{FILE}")
    assert result.exit_code == 5, result.output
    assert (
        "sent nothing for 0.5 s" in result.output
        and "run the same command to resume" in result.output
    )
    assert len(hub.gets()) == 3 and time.monotonic() - started < 10  # first try, 2 resumes
    partial = repo_dir(cache) / "blobs" / f"{sha256_of(smollm2_path())}.incomplete"
    assert partial.stat().st_size == 3000  # kept for the next run


def test_an_empty_file_is_not_already_in_the_cache(
    cache: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = repo_dir(cache) / "snapshots" / COMMIT / FILE
    snapshot.parent.mkdir(parents=True)
    snapshot.write_bytes(b"")
    (repo_dir(cache) / "refs").mkdir()
    (repo_dir(cache) / "refs" / "main").write_text(COMMIT)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    offline = invoke(f"{REPO}/{FILE}")
    assert offline.exit_code == 5 and "already" not in offline.output
    monkeypatch.delenv("HF_HUB_OFFLINE")
    hub.add(REPO, "empty-Q8_0.gguf", smollm2_path(), size=0)
    empty = invoke(f"{REPO}/empty-Q8_0.gguf")
    assert empty.exit_code == 4 and "empty" in empty.output


@pytest.mark.parametrize(
    "entry",
    [
        {"type": "file", "path": "x.gguf", "size": -5},
        {"type": "file", "path": "x.gguf", "size": "big"},
        {"type": "file", "path": 7, "size": 1},
        {"type": "file", "path": "x.gguf", "size": 1e999},
        "a file",
    ],
)
def test_a_listing_of_another_shape_is_one_line(cache: Path, hub: FakeHub, entry: object) -> None:
    hub.entries = [entry]
    result = invoke(REPO, "--quant", "Q4_1")
    assert result.exit_code == 5, result.output
    assert "did not answer like a Hugging Face hub" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
