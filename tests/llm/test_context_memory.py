"""A context too big for the memory there is: said as such, with what it needs (it used to
read "the file may be truncated")."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from model_stores import configured_model

from localdigest.models.gguf import kv_cache_bytes

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample-paper.pdf"
LIMIT = 4 * 2**30  # address space: the model loads, a million-token cache does not


def test_kv_cache_size_from_the_header() -> None:
    info = configured_model(None).info  # SmolLM2-135M: 30 layers, 3 KV heads of 64
    assert kv_cache_bytes(info, 1) == 30 * 3 * (64 + 64) * 2
    assert kv_cache_bytes(info, 4096) == 4096 * 23040


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


@pytest.mark.model
def test_a_context_that_does_not_fit_in_memory_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "localdigest", "summarize", str(SAMPLE), "--n-ctx", "1000000"],
        env={**os.environ, "LOCALDIGEST_HOME": str(tmp_path), "LOCALDIGEST_THREADS": "1"},
        preexec_fn=_limit_memory,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 4, done.stderr
    assert "1000000 tokens needs about 21.5 GiB" in done.stderr
    assert "smaller --n-ctx" in done.stderr and "truncated" not in done.stderr
