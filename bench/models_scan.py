"""How fast `localdigest models` finds a hundred models.

Run: `.venv/bin/python bench/models_scan.py [--count N] [--repeat R]`.

Builds stores in a temporary folder: N models (default 100) spread over a Hugging Face hub
cache, an LM Studio folder and llama.cpp's cache, each a hard link of one of the two real
test GGUFs (SmolLM2-135M, a 49k vocabulary; Gemma 3 270M, 262k) so every file has its own
path, as distinct files do; plus an Ollama store with both (Ollama keeps one blob per
content, so it can't hold a hundred links of two files).
Then times, each in a fresh process (so no Python-level cache helps):

- `scan`: the stores listed and each candidate's magic checked (what --model resolution
  does before reading one header);
- `list cold`: `localdigest models --format json` with no header index yet;
- `list warm`: the same again (the index answers);
- `--help`, as the floor of any command's start.

Prints the median of --repeat runs and each command's peak memory (max RSS). Needs the
Gemma file (LOCALDIGEST_TEST_GEMMA or the Makefile's .venv/models path); without it only
SmolLM2 links are made.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from model_stores import hub_file, lmstudio_file, ollama_model, place, smollm2_path  # noqa: E402


def build(root: Path, count: int) -> dict[str, str]:
    gemma = Path(
        os.environ.get("LOCALDIGEST_TEST_GEMMA", ROOT / ".venv/models/gemma-3-270m-q4_k_m.gguf")
    )
    sources = [smollm2_path()] + ([gemma] if gemma.exists() else [])
    home = root / "home"
    for n, source in enumerate(sources):
        ollama_model(root / "ollama", f"model{n}", "latest", source)
    for i in range(count - len(sources)):
        source = sources[i % len(sources)]
        if i % 3 == 0:
            hub_file(root / "hub", f"org{i}/model-{i}-GGUF", f"model-{i}.gguf", source)
        elif i % 3 == 1:
            lmstudio_file(home / ".lmstudio" / "models", f"pub{i}", f"m{i}", source, f"m{i}.gguf")
        else:
            place(source, root / "llama.cpp" / f"org_model_{i}.gguf")
    return {
        **os.environ,
        "HOME": str(home),
        "OLLAMA_MODELS": str(root / "ollama"),
        "HF_HUB_CACHE": str(root / "hub"),
        "LLAMA_CACHE": str(root / "llama.cpp"),
        "LOCALDIGEST_HOME": str(root / "ld"),
        "LOCALDIGEST_MODELS_DIR": str(root / "none"),
    }


# Runs a command and prints its peak RSS (KiB) on stderr. A helper, because a child's
# ru_maxrss counts the memory of the process that spawned it (vfork): this one is ~9 MB.
PEAK = """
import os, sys
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ)
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds and peak memory (MB) of one run (Linux)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *cmd],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return time.perf_counter() - start, int(done.stderr.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ld-scan-"))
    try:
        env = build(root, args.count)
        exe = [sys.executable, "-m", "localdigest"]
        scan = [
            sys.executable,
            "-c",
            "from localdigest.models import stores; print(len(stores.scan_all()))",
        ]
        found = subprocess.run(scan, env=env, check=True, capture_output=True, text=True)
        results: dict[str, list[tuple[float, float]]] = {
            "help": [],
            "scan": [],
            "list cold": [],
            "list warm": [],
        }
        for _ in range(args.repeat):
            results["help"].append(timed([*exe, "--help"], env))
            results["scan"].append(timed(scan, env))
            shutil.rmtree(root / "ld", ignore_errors=True)
            results["list cold"].append(timed([*exe, "models", "--format", "json"], env))
            results["list warm"].append(timed([*exe, "models", "--format", "json"], env))
        print(f"{found.stdout.strip()} models found; load average {os.getloadavg()[0]:.1f}")
        for name, runs in results.items():
            seconds = [s for s, _ in runs]
            peak = max(m for _, m in runs)
            print(
                f"{name:10s} median {statistics.median(seconds):.3f} s  (min {min(seconds):.3f})"
                f"  peak {peak:.0f} MB"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
