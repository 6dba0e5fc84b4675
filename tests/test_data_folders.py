"""Where the user's files live: the library and imported library in the user data folder,
the run's state in the state folder, logs in the log folder, only what can be computed
again in the cache folder; the old layout (everything under the cache folder) moved on the
first run, every file accounted for; LOCALDIGEST_HOME keeps everything in one folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from localdigest import config
from localdigest.cli import app
from localdigest.fsutil import DAMAGED_SUFFIX
from localdigest.sources.imported import FILE_NAME as IMPORTED
from localdigest.sources.library import META_NAME, PDF_NAME, SEEN_NAME
from localdigest.workflows.digest import STATE_NAME
from localdigest.workflows.schedule import LOG_NAME
from localdigest.workflows.weekly import PLAN_NAME

runner = CliRunner()


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """No LOCALDIGEST_HOME: the platform's folders (XDG on Linux), in this test's folder."""
    monkeypatch.delenv("LOCALDIGEST_HOME")
    monkeypatch.delenv("LOCALDIGEST_MODELS_DIR")
    monkeypatch.chdir(tmp_path)  # no ./models here
    roots = {k: tmp_path / "xdg" / k for k in ("cache", "data", "state")}
    for kind, root in roots.items():
        monkeypatch.setenv(f"XDG_{kind.upper()}_HOME", str(root))
    return {k: root / "localdigest" for k, root in roots.items()}


def test_each_kind_in_its_platform_folder(platform: dict[str, Path], tmp_path: Path) -> None:
    paths = config.load().paths
    assert paths.cache == platform["cache"] / "cache"
    assert paths.figures == platform["cache"] / "figures"
    assert paths.library == platform["data"] / "library"
    assert paths.data == platform["data"] and paths.state == platform["state"]
    assert paths.logs == platform["state"] / "log"  # platformdirs' log folder on Linux
    assert paths.models == platform["data"] / "models"
    (tmp_path / "models").mkdir()  # a checkout's ./models is still found
    assert config.load().paths.models == Path("models")


def test_home_keeps_everything_in_one_folder(tmp_path: Path) -> None:
    paths = config.load().paths
    home = tmp_path / "ld-home"  # conftest's LOCALDIGEST_HOME
    assert (paths.home, paths.data, paths.state) == (home, home, home)
    assert (paths.library, paths.logs) == (home / "library", home / "logs")


def old_layout(cache: Path) -> dict[str, bytes]:
    """A populated old layout under the cache folder: {relative path: content}."""
    files = {
        f"library/2401.00001/{PDF_NAME}": b"%PDF-1.4 one",
        f"library/2401.00001/{META_NAME}": b'{"id": "2401.00001"}',
        "library/2401.00001/figure.png": b"\x89PNG one",
        f"library/2402.00002/{PDF_NAME}": b"%PDF-1.4 two",
        IMPORTED: b'{"sources": []}',
        SEEN_NAME: b'{"seen": {}}',
        PLAN_NAME: b'{"picks": []}',
        STATE_NAME: b'{"digests": []}',
        STATE_NAME + DAMAGED_SUFFIX: b"[broken",
        f"logs/{LOG_NAME}": b"a run\n",
        # what stays: computed again when lost
        "cache/cache.db": b"sqlite",
        "figures/abc.png": b"\x89PNG local",
        "models-index.json": b"{}",
    }
    for rel, content in files.items():
        (cache / rel).parent.mkdir(parents=True, exist_ok=True)
        (cache / rel).write_bytes(content)
    return files


def every_file(*roots: Path) -> dict[str, str]:
    """sha256 of every file under ``roots``, by its path."""
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for root in roots
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_the_old_layout_is_moved_once_and_nothing_is_lost(platform: dict[str, Path]) -> None:
    cache, data, state = platform["cache"], platform["data"], platform["state"]
    files = old_layout(cache)
    before = sorted(hashlib.sha256(c).hexdigest() for c in files.values())

    first = runner.invoke(app, ["config", "--path"])
    assert first.exit_code == 0, first.output
    assert "Moved 10 of your files" in first.stderr
    after = every_file(cache, data, state)
    assert sorted(after.values()) == before  # every file, once, with its content
    where = {
        f"library/2401.00001/{PDF_NAME}": data,
        f"library/2402.00002/{PDF_NAME}": data,
        IMPORTED: data,
        SEEN_NAME: state,
        PLAN_NAME: state,
        STATE_NAME: state,
        STATE_NAME + DAMAGED_SUFFIX: state,
        "cache/cache.db": cache,
        "figures/abc.png": cache,
        "models-index.json": cache,
    }
    for rel, root in where.items():
        assert (root / rel).read_bytes() == files[rel], rel
    assert (state / "log" / LOG_NAME).read_bytes() == b"a run\n"
    assert not (cache / "library").exists() and not (cache / SEEN_NAME).exists()

    second = runner.invoke(app, ["config", "--path"])
    assert second.exit_code == 0 and "Moved" not in second.stderr
    assert every_file(cache, data, state) == after


def test_a_file_already_at_the_new_place_is_kept_and_so_is_the_old(
    platform: dict[str, Path],
) -> None:
    cache, data, state = platform["cache"], platform["data"], platform["state"]
    old_layout(cache)
    (state / SEEN_NAME).parent.mkdir(parents=True)
    (state / SEEN_NAME).write_bytes(b'{"seen": {"new": 1}}')
    (data / "library" / "2401.00001").mkdir(parents=True)
    (data / "library" / "2401.00001" / PDF_NAME).write_bytes(b"%PDF-1.4 newer")

    result = runner.invoke(app, ["config", "--path"])
    assert "Moved 8 of your files" in result.stderr
    assert "2 stayed in the old place" in result.stderr
    assert (state / SEEN_NAME).read_bytes() == b'{"seen": {"new": 1}}'
    assert (cache / SEEN_NAME).read_bytes() == b'{"seen": {}}'  # not lost
    assert (cache / "library" / "2401.00001" / PDF_NAME).read_bytes() == b"%PDF-1.4 one"
    assert (data / "library" / "2401.00001" / META_NAME).is_file()  # the rest merged in
    again = runner.invoke(app, ["config", "--path"])
    assert "Moved" not in again.stderr


def test_nothing_moves_under_localdigest_home(tmp_path: Path) -> None:
    home = tmp_path / "ld-home"
    old_layout(home)
    before = every_file(home)
    result = runner.invoke(app, ["config", "--path"])
    assert result.exit_code == 0 and "Moved" not in result.stderr
    assert every_file(home) == before
