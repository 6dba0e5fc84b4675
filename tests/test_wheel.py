"""The wheel, as a user installs it: built from this checkout, installed by pip into a fresh
virtualenv WITHOUT the `local` extra (no llama-cpp-python, nothing compiled), then run:
`models pull --list`, a pull from the hub stand-in (tests/hub_server.py), `summarize` of
the sample paper in extract mode, and the one line a write-mode run gets.

Offline, as the suite is: the wheel is built without build isolation (hatchling from the
dev extra) and installed by pip with --no-index --no-deps; the packages it requires come
from this environment instead of an index, only those its metadata names (and theirs,
recursively), through a .pth file, so a core dependency on llama-cpp-python, or on anything
not declared, fails here."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from hub_server import FakeHub, fake_hub  # noqa: F401 - the fixture
from model_stores import smollm2_path
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample-paper.pdf"
REPO = "test-org/SmolLM2-135M-Instruct-GGUF"
FILE = "smollm2-135m-instruct-q4_1.gguf"


PIP = [sys.executable, "-m", "pip", "--quiet"]


def build_wheel(out: Path) -> Path:
    subprocess.run(
        [
            *PIP,
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = out.glob("localdigest-*.whl")
    return wheel


def requirements(wheel: Path) -> list[Requirement]:
    """The wheel's Requires-Dist (every extra's too, with their markers)."""
    with zipfile.ZipFile(wheel) as z:
        [name] = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        text = z.read(name).decode()
    return [Requirement(v) for v in re.findall(r"^Requires-Dist: (.+)$", text, re.M)]


def closure(wanted: list[Requirement]) -> dict[str, metadata.Distribution]:
    """The installed distributions ``wanted`` needs (no extras), and theirs, recursively."""
    found: dict[str, metadata.Distribution] = {}
    todo = [r for r in wanted if r.marker is None or r.marker.evaluate({"extra": ""})]
    while todo:
        req = todo.pop()
        key = re.sub(r"[-_.]+", "-", req.name).lower()
        if key in found:
            continue
        found[key] = dist = metadata.distribution(req.name)
        for raw in dist.requires or []:
            sub = Requirement(raw)
            if sub.marker is None or sub.marker.evaluate({"extra": ""}):
                todo.append(sub)
    return found


def link_packages(dists: dict[str, metadata.Distribution], into: Path) -> None:
    """Each distribution's top-level files and folders, linked into ``into``."""
    into.mkdir()
    for dist in dists.values():
        site = Path(str(dist.locate_file("")))
        tops = {Path(str(f)).parts[0] for f in dist.files or []}
        for top in tops - {"..", "__pycache__"}:
            if (site / top).exists() and not (into / top).exists():
                (into / top).symlink_to(site / top)


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """A fresh virtualenv with the wheel installed without extras; its bin folder."""
    wheel = build_wheel(tmp_path / "dist")
    reqs = requirements(wheel)
    core = [r.name for r in reqs if r.marker is None]
    assert "llama-cpp-python" not in core and "tomlkit" in core
    assert any(r.name == "llama-cpp-python" and "local" in str(r.marker) for r in reqs)
    env = tmp_path / "fresh"
    venv.create(env, with_pip=False, symlinks=True)
    python = env / "bin" / "python"
    subprocess.run(
        [*PIP, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = tmp_path / "deps"
    link_packages(closure(reqs), deps)
    (Path(site) / "localdigest-test-deps.pth").write_text(f"{deps}\n")
    return env / "bin"


def run(bin_: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(bin_ / "localdigest"), *args],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "200"},
        cwd=ROOT,
        timeout=300,
    )


def test_the_wheel_runs_without_the_local_extra(
    fresh: Path,
    fake_hub: FakeHub,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    fake_hub.add(REPO, FILE, smollm2_path())
    engine = subprocess.run(
        [str(fresh / "python"), "-c", "import llama_cpp"], capture_output=True, text=True
    )
    assert engine.returncode != 0 and "No module named 'llama_cpp'" in engine.stderr
    listed = run(fresh, "models", "pull", "--list")
    assert listed.returncode == 0, listed.stderr
    assert "qwen2.5-1.5b-instruct" in listed.stdout
    pulled = run(fresh, "models", "pull", f"{REPO}/{FILE}", "--set-default")
    assert pulled.returncode == 0, pulled.stderr
    summary = run(fresh, "summarize", str(SAMPLE.relative_to(ROOT)), "--format", "json")
    assert summary.returncode == 0, summary.stderr
    [paper] = json.loads(summary.stdout)
    assert paper["mode"] == "extract" and paper["stats"]["llm_calls"] == 0
    assert paper["model"] == FILE and paper["tldr"]
    written = run(fresh, "summarize", str(SAMPLE), "--mode", "write")
    assert written.returncode == 4
    assert "pip install 'localdigest[local]'" in written.stderr
    assert "Traceback" not in written.stderr
