"""Property: whatever a hub's file listing holds besides the real file (random JSON, paths
that climb out, sizes that lie, missing checksums), `models pull` downloads the real file
or stops with one line (exit 2, 4, 5 or 6): never a traceback, and nothing is written
outside the hub cache. Against the fake hub on 127.0.0.1."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hub_server import FakeHub, fake_hub  # noqa: F401 - the fixture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_stores import gguf_entry, gguf_header, gguf_string
from typer.testing import CliRunner

from localdigest.cli import app
from localdigest.models import pull

runner = CliRunner()
REPO = "test-org/tiny-GGUF"
FILE = "tiny-Q4_1.gguf"
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
PATHS = st.sampled_from(
    [
        "other-Q4_1.gguf",
        "../evil-Q4_1.gguf",
        "/etc/evil-Q4_1.gguf",
        "a/../../../b-Q4_1.gguf",
        "sub/c-Q8_0.gguf",
        "d-Q4_1-00001-of-00002.gguf",
        "",
        ".",
    ]
)
SIZES = st.one_of(st.integers(-10, 2**70), st.sampled_from([0, 1, 7]), JSON)
ENTRY = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {
            "type": st.one_of(st.just("file"), JSON),
            "path": st.one_of(PATHS, JSON),
            "size": SIZES,
        },
        optional={
            "lfs": st.one_of(
                st.fixed_dictionaries({"oid": st.one_of(st.just("ab" * 32), JSON), "size": SIZES}),
                JSON,
            ),
            "oid": JSON,
        },
    ),
)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / FILE
    path.write_bytes(
        gguf_header([gguf_entry("general.architecture", 8, gguf_string(b"llama"))], 0) + b"\0" * 64
    )
    return path


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(entries=st.lists(ENTRY, max_size=4), spec=st.sampled_from(["", "/" + FILE]))
def test_a_listing_of_any_shape_pulls_the_file_or_says_why_in_one_line(
    fake_hub: FakeHub,  # noqa: F811
    tiny: Path,
    monkeypatch: pytest.MonkeyPatch,
    entries: list[Any],
    spec: str,
) -> None:
    fake_hub.repos.clear()
    fake_hub.add(REPO, FILE, tiny)
    fake_hub.entries = entries
    monkeypatch.setattr(pull, "RETRY_DELAYS", (0.01,))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cache = root / "hub" / "cache"
        monkeypatch.setenv("HF_HUB_CACHE", str(cache))
        monkeypatch.setenv("LOCALDIGEST_HOME", str(root / "home"))
        result = runner.invoke(app, ["models", "pull", REPO + spec, "--quant", "Q4_1"])
        assert "Traceback" not in result.output
        if result.exit_code == 0:
            assert (cache / f"models--{REPO.replace('/', '--')}").is_dir()
        else:
            assert result.exit_code in (2, 4, 5, 6), result.output
            assert len(result.output.strip().splitlines()) == 1, result.output
        written = [p for p in root.rglob("*") if not p.is_dir()]
        assert all(cache in p.parents or (root / "home") in p.parents for p in written), written
