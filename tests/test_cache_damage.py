"""A damaged cache database is named as such (exit 6), never a sqlite traceback nor "check
its permissions"; `cache clear` starts a fresh one however damaged the old one is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from digest_helpers import cache, make_summary
from typer.testing import CliRunner

from localdigest import config
from localdigest.cache import Store, make_key
from localdigest.cli import app

runner = CliRunner()


def damage(how: str) -> Path:
    cache(*(make_summary(n, f"Paper {n}", summary="words " * 300) for n in range(40)))
    db = config.load().paths.cache / "cache.db"
    with db.open("r+b") as f:
        if how == "not a database":
            f.write(os.urandom(4096))
        else:  # the header is fine, the pages after it are garbage
            f.seek(8192)
            f.write(b"\xff" * 16384)
    return db


@pytest.mark.parametrize("how", ["not a database", "malformed"])
def test_a_damaged_cache_is_named_and_cache_clear_recovers(how: str) -> None:
    damage(how)
    for args in (["show"], ["digest", "--last", "1"], ["cache", "info"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 6, (args, result.output)
        assert "is damaged" in result.output and "cache clear" in result.output
        assert "permissions" not in result.output
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        )
    cleared = runner.invoke(app, ["cache", "clear", "--yes"])
    assert cleared.exit_code == 0, cleared.output
    info = runner.invoke(app, ["cache", "info"])
    assert info.exit_code == 0, info.output
    store = Store(config.load().paths.cache)
    key = make_key("summary", x=1)
    store.set(key, {"a": 1})
    assert store.get(key) == {"a": 1}
    store.close()


def test_cache_clear_keeps_other_files_in_the_folder() -> None:
    damage("not a database")
    keep = config.load().paths.cache / "notes-of-mine.txt"
    keep.write_text("mine")
    assert runner.invoke(app, ["cache", "clear", "-y"]).exit_code == 0
    assert keep.read_text() == "mine"


def test_lone_surrogates_can_be_cached() -> None:
    store = Store(config.load().paths.cache)
    store.set("summary/x", {"title": "notitle\udcff"})
    assert store.get("summary/x") == {"title": "notitle\udcff"}
    assert make_key("notes", title="a\udcff")  # no crash, and plain texts keep their keys
    assert make_key("notes", title="é") == make_key("notes", title="é")
    store.close()
