"""Build llama.cpp's ``llama-server`` once, from the llama.cpp source that the installed
llama-cpp-python was built from, and print the binary's path.

`.venv/bin/python bench/llama_server.py` (the server bench calls it). Benchmark-only: users
never need it. Steps, each skipped when its result is already there:

1. the llama-cpp-python sdist of the installed version: from pip's cache via
   ``pip download llama-cpp-python==<version> --no-deps --no-binary :all:`` (PyPI answers
   the first time; pip's own cache serves later calls);
2. its ``vendor/llama.cpp`` unpacked;
3. ``cmake`` configure + build of the ``llama-server`` target only: static (no shared
   libraries of the pip wheel picked up), no curl, no OpenSSL, no web UI download, and no
   AMX on CPUs that advertise it but fault on it (the same flags the Makefile gives
   llama-cpp-python).

Everything lives outside the repository, in ``$LOCALDIGEST_LLAMA_SERVER_CACHE`` (default
``~/.cache/localdigest/llama-server/<version>/``); the binary is ``bin/llama-server`` there.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
from importlib import metadata
from pathlib import Path

NO_AMX = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"


def cache_root() -> Path:
    env = os.environ.get("LOCALDIGEST_LLAMA_SERVER_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache/localdigest/llama-server"


def installed_version() -> str:
    return metadata.version("llama_cpp_python")


def binary_path(version: str | None = None) -> Path:
    return cache_root() / (version or installed_version()) / "bin" / "llama-server"


def _log(message: str) -> None:
    print(f"[llama-server] {message}", file=sys.stderr, flush=True)


def sdist(version: str, folder: Path) -> Path:
    """The llama-cpp-python source archive of ``version`` (downloaded once)."""
    found = sorted(folder.glob(f"llama_cpp_python-{version}.tar.gz"))
    if found:
        return found[0]
    folder.mkdir(parents=True, exist_ok=True)
    _log(f"downloading the llama-cpp-python {version} sdist (pip's cache first)")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            f"llama-cpp-python=={version}",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--dest",
            str(folder),
            "--quiet",
        ],
        check=True,
    )
    found = sorted(folder.glob(f"llama_cpp_python-{version}.tar.gz"))
    if not found:
        raise SystemExit(f"pip download left no llama_cpp_python-{version}.tar.gz in {folder}")
    return found[0]


def unpack(archive: Path, dest: Path) -> Path:
    """``vendor/llama.cpp`` of the sdist, unpacked under ``dest``."""
    source = dest / "llama.cpp"
    if (source / "CMakeLists.txt").exists():
        return source
    _log(f"unpacking vendor/llama.cpp of {archive.name}")
    tmp = dest / "unpack.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        top = tar.getnames()[0].split("/")[0]
        prefix = f"{top}/vendor/llama.cpp/"
        members = [m for m in tar.getmembers() if m.name.startswith(prefix)]
        tar.extractall(tmp, members=members, filter="data")
    (tmp / top / "vendor" / "llama.cpp").rename(source)
    shutil.rmtree(tmp)
    return source


def cmake_args(source: Path, build: Path, version: str) -> list[str]:
    flags = NO_AMX if _cpu_has_amx() else ""
    # llama.cpp of llama-cpp-python 0.3.8-0.3.14 keeps the server under examples/.
    examples = "ON" if (source / "examples" / "server" / "CMakeLists.txt").exists() else "OFF"
    return [
        "cmake",
        "-S",
        str(source),
        "-B",
        str(build),
        "-DCMAKE_BUILD_TYPE=Release",
        "-DBUILD_SHARED_LIBS=OFF",
        "-DGGML_NATIVE=ON",
        f"-DCMAKE_C_FLAGS={flags}",
        f"-DCMAKE_CXX_FLAGS={flags}",
        "-DLLAMA_BUILD_SERVER=ON",
        "-DLLAMA_BUILD_TOOLS=ON",
        "-DLLAMA_BUILD_COMMON=ON",
        "-DLLAMA_BUILD_TESTS=OFF",
        f"-DLLAMA_BUILD_EXAMPLES={examples}",
        "-DLLAMA_BUILD_APP=OFF",
        "-DLLAMA_OPENSSL=OFF",
        "-DLLAMA_USE_PREBUILT_UI=OFF",
        "-DLLAMA_CURL=OFF",
        # no git in an sdist: name the build after the llama-cpp-python release it came with
        f"-DLLAMA_BUILD_COMMIT=llama-cpp-python-{version}",
    ]


def _cpu_has_amx() -> bool:
    try:
        return "amx_tile" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def build(version: str | None = None, jobs: int | None = None) -> Path:
    """The path of a built ``llama-server`` for ``version`` (building it if needed)."""
    version = version or installed_version()
    binary = binary_path(version)
    if binary.exists():
        return binary
    root = cache_root() / version
    source = unpack(sdist(version, cache_root() / "sdists"), root)
    work = root / "build"
    if shutil.which("cmake") is None:
        raise SystemExit("cmake is needed to build llama-server — install it (apt install cmake)")
    _log(f"configuring llama.cpp of llama-cpp-python {version} in {work}")
    subprocess.run(cmake_args(source, work, version), check=True, stdout=subprocess.DEVNULL)
    jobs = jobs or os.cpu_count() or 2
    _log(f"building llama-server with {jobs} jobs (several minutes on 2 cores)")
    subprocess.run(
        ["cmake", "--build", str(work), "-j", str(jobs), "--target", "llama-server"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    built = work / "bin" / "llama-server"
    binary.parent.mkdir(parents=True, exist_ok=True)
    tmp = binary.with_suffix(".tmp")
    shutil.copy2(built, tmp)
    tmp.rename(binary)  # a half-copied binary never looks built
    _log(f"built {binary}")
    return binary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", help="llama-cpp-python version (default: the installed one)")
    ap.add_argument("--jobs", type=int, help="parallel compile jobs (default: all cores)")
    args = ap.parse_args(argv)
    print(build(args.version, args.jobs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
