"""The Ray Data recipe (examples/ray_backlog.py) on a local Ray instance: over corpus PDFs in
extract mode its summaries are `summarize`'s, under the same cache keys; in write mode its
model calls go to a real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import samplepaper as sp
from model_server import LlamaCppServer
from model_stores import configured_model
from typer.testing import CliRunner

from localdigest import config
from localdigest.cli import app

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[ray]'")
parquet = pytest.importorskip("pyarrow.parquet", reason="pyarrow comes with Ray Data")

RECIPE = Path(__file__).resolve().parents[1] / "examples" / "ray_backlog.py"
PAPERS = ["1503.02531.pdf", "1111.2011v2.pdf", "1412.6980-corrupt.pdf"]  # the last one fails
TIMINGS = {"seconds", "extract_seconds", "map_seconds", "reduce_seconds", "prompt_seconds"}
runner = CliRunner()
# Ray Data's own settings object warns about its deprecated fields when it is pickled.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """Two CPUs, a small object store, no dashboard and no usage report (offline)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80 * 2**20)
        ray.data.DataContext.get_current().enable_progress_bars = False
        yield
        ray.shutdown()


@pytest.fixture(scope="module")
def recipe() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ray_backlog", RECIPE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    ray.cloudpickle.register_pickle_by_value(module)  # workers cannot import examples/
    return module


def comparable(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry of `summarize --format json` without what differs between two cold runs."""
    entry = {k: v for k, v in entry.items() if k not in ("created", "cached")}
    if "stats" in entry:
        entry["stats"] = {k: v for k, v in entry["stats"].items() if k not in TIMINGS}
    return entry


def test_recipe_writes_summarize_s_summaries_into_the_same_cache(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local_ray: None, recipe: Any
) -> None:
    backlog = tmp_path / "backlog"
    backlog.mkdir()
    for name in PAPERS:
        shutil.copy(corpus / "pdfs" / name, backlog / name)
    cfg = config.load(mode="extract", threads=1)  # this test's LOCALDIGEST_HOME
    out = tmp_path / "parquet"
    assert recipe.backlog(str(backlog), str(out), cfg, workers=2, batch=2) == len(PAPERS)
    rows = parquet.read_table(out).to_pylist()
    by_source = {r["source"]: json.loads(r["result"]) for r in rows}
    assert len(rows) == len(by_source) == len(PAPERS)
    [failed] = [r for r in rows if r["error"]]
    assert failed["source"].endswith("1412.6980-corrupt.pdf")

    # `summarize` in a fresh home, cold: the same summaries, the same failure
    monkeypatch.setenv("LOCALDIGEST_HOME", str(tmp_path / "cli-home"))
    cold = runner.invoke(app, ["summarize", str(backlog), "--mode", "extract", "-f", "json"])
    assert cold.exit_code == 3, cold.output  # one paper failed, the others were done
    entries = json.loads(cold.stdout)
    assert {e["source"] for e in entries} == set(by_source)
    for entry in entries:
        assert comparable(by_source[entry["source"]]) == comparable(entry)
        assert "error" in entry or (entry["mode"] == "extract" and entry["summary"])

    # `summarize` in the recipe's home answers from what the recipe cached
    monkeypatch.setenv("LOCALDIGEST_HOME", str(cfg.paths.home))
    warm = runner.invoke(app, ["summarize", str(backlog), "--mode", "extract", "-f", "json"])
    done = [e for e in json.loads(warm.stdout) if "error" not in e]
    assert len(done) == 2 and all(e["cached"] for e in done)


@pytest.mark.model
def test_recipe_sends_the_model_calls_to_a_server(
    tmp_path: Path, local_ray: None, recipe: Any
) -> None:
    """Write mode through an OpenAI-compatible server (llama-cpp-python's, the embedded
    model, on 127.0.0.1): the worker's calls go to it, and `summarize --server` then finds
    the summary in the recipe's cache without a call."""
    backlog = tmp_path / "backlog"
    backlog.mkdir()
    sp.write_paper_pdf(
        backlog / "gates.pdf",
        title=sp.SAMPLE_TITLE,
        authors=sp.SAMPLE_AUTHORS,
        abstract=sp.SAMPLE_ABSTRACT,
        sections=sp.SAMPLE_SECTIONS[1:2],
        references=sp.SAMPLE_REFERENCES[:1],
    )
    server = LlamaCppServer(configured_model("default").path, tmp_path / "server.log")
    try:
        flags = ["--server", server.url, "--mode", "write", "--max-tokens", "48"]
        cfg = config.load(server=server.url, mode="write", max_tokens=48)
        assert recipe.backlog(str(backlog), str(tmp_path / "out"), cfg, workers=1, batch=1) == 1
        [row] = parquet.read_table(tmp_path / "out").to_pylist()
        summary = json.loads(row["result"])
        assert not row["error"] and summary["mode"] == "write" and summary["summary"]
        calls = server.completions()
        assert calls == summary["stats"]["llm_calls"] >= 3  # notes, the reduce, the TL;DR
        warm = runner.invoke(app, ["summarize", str(backlog), *flags, "-f", "json"])
        assert warm.exit_code == 0, warm.output
        [again] = json.loads(warm.stdout)
        assert again["cached"] and comparable(again) == comparable(summary)
        assert server.completions() == calls
    finally:
        server.stop()
