"""``models pull``: a GGUF from the Hugging Face hub into the standard hub cache.

``huggingface_hub`` (the ``hub`` extra) answers what the hub knows: the file list of a repo
with each file's size and sha256 (``HfApi.list_repo_tree``), the commit a revision points to
and where the bytes are served (``get_hf_file_metadata``), the token (``HF_TOKEN`` or the
saved login) and the hub's error kinds. The bytes themselves are fetched here, because
``hf_hub_download`` neither resumes across runs (1.18 and later write to a temporary name
that a failed run deletes) nor checks a checksum. So:

- the bytes stream into ``blobs/<sha256>.incomplete`` with a ``Range`` request that starts
  where an earlier run stopped (and, within one run, where a cut connection stopped);
- the sha256 is computed as they arrive and compared with the hub's before the file gets
  its name ``blobs/<sha256>``: a mismatch deletes the download, nothing is kept;
- then ``snapshots/<commit>/<file>`` links to the blob and ``refs/<revision>`` names the
  commit: the layout ``huggingface_hub`` and llama.cpp write, so they share the file;
- free disk space is checked first, ``HF_ENDPOINT`` (a mirror) and ``HF_TOKEN`` are read at
  call time, ``HF_HUB_OFFLINE`` is respected, and the token never goes to a CDN the hub
  redirects to.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from localdigest.errors import CacheError, ModelError, NetworkError, UsageError
from localdigest.fsutil import open_for_append, write_atomically
from localdigest.models import catalog, stores

DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_QUANT = "Q4_K_M"
CHUNK = 1 << 20
RETRY_DELAYS = (1.0, 3.0, 6.0)  # a cut connection is resumed this many times within a run
SPACE_MARGIN = 64 << 20  # free space kept beyond the file itself
INSTALL_HINT = "pip install 'localdigest[hub]'  (or: pip install 'huggingface_hub>=1.32,<3')"
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
_QUANT = re.compile(r"(?<![A-Za-z0-9])(I?Q\d_[A-Z0-9_]+|Q\d_\d|F16|BF16|F32)(?![A-Za-z0-9])", re.I)
_COMMIT = re.compile(r"[0-9a-f]{40}")


class PullProgress(Protocol):
    """What a pull reports: a phase starts (with bytes already done), bytes arrive."""

    def start(self, label: str, total: int, done: int) -> None: ...

    def advance(self, n: int) -> None: ...


@dataclass(frozen=True)
class RemoteFile:
    repo: str
    path: str  # in the repo
    size: int
    sha256: str


@dataclass(frozen=True)
class Pulled:
    repo: str
    file: str  # the first part of a split model
    path: Path  # its snapshot path in the hub cache
    size: int  # bytes, all parts
    downloaded: int  # bytes fetched now (0: it was already there)
    resumed: bool  # an earlier partial download was continued
    checked: bool  # the hub was asked (False: offline, the cached copy was used)

    @property
    def spec(self) -> str:
        """What --model takes to use it."""
        return f"hf:{self.repo}/{self.file}"


# ----------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class Wanted:
    repo: str
    file: str | None  # None: chosen from the repo by quantization
    revision: str
    quant: str | None


def parse_spec(spec: str, quant: str | None = None, revision: str | None = None) -> Wanted:
    """``ORG/REPO/FILE.gguf``, ``ORG/REPO`` (+ ``--quant``), a catalogue name, ``hf:...``
    or a huggingface.co file URL."""
    text = spec.strip()
    entry = catalog.find(text)
    if entry is not None:
        return Wanted(entry.repo, None if quant else entry.file, revision or "main", quant)
    text = text.removeprefix("hf:")
    url = re.match(r"https?://[^/]+/([^/]+/[^/]+)/(?:resolve|blob)/([^/]+)/(.+?)(?:\?.*)?$", text)
    if url:
        return Wanted(url.group(1), url.group(3), revision or url.group(2), quant)
    parts = [p for p in text.split("/") if p]
    if len(parts) < 2 or any(p in (".", "..") for p in parts) or " " in text:
        raise UsageError(
            f"'{spec}' is no catalogue name and no ORG/REPO[/FILE.gguf] — see "
            "`localdigest models pull --list`"
        )
    repo = "/".join(parts[:2])
    file = "/".join(parts[2:]) or None
    if file is not None and not file.lower().endswith(".gguf"):
        raise UsageError(f"'{file}' is not a .gguf file — pull a GGUF, e.g. ORG/REPO/FILE.gguf")
    return Wanted(repo, file, revision or "main", quant)


def choose_files(files: list[RemoteFile], wanted: Wanted) -> list[RemoteFile]:
    """The file (or the parts of a split file) ``wanted`` names among a repo's files."""
    ggufs = [f for f in files if _pullable(f.path)]
    if wanted.file is not None:
        exact = [f for f in files if f.path == wanted.file]
        if not exact:
            names = ", ".join(f.path for f in ggufs[:8]) or "no GGUF files"
            raise ModelError(f"{wanted.file} is not in {wanted.repo} (it has {names})")
        return _with_parts(exact[0], files)
    quant = (wanted.quant or DEFAULT_QUANT).upper()
    picked = [f for f in ggufs if quant in _quants(f.path) and _part(f.path) <= 1]
    if len(picked) == 1:
        return _with_parts(picked[0], files)
    if not picked and wanted.quant is None and len(ggufs) == 1:
        return ggufs
    if picked:
        names = ", ".join(f.path for f in picked)
        raise UsageError(f"{wanted.repo} has several {quant} files ({names}) — pull ORG/REPO/FILE")
    found = sorted({q for f in ggufs for q in _quants(f.path)})
    has = ", ".join(found) if found else "no GGUF files"
    raise ModelError(f"{wanted.repo} has no {quant} GGUF (it has {has}) — pass --quant")


def _pullable(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return name.endswith(".gguf") and not name.startswith("mmproj")


def _quants(path: str) -> set[str]:
    return {q.upper() for q in _QUANT.findall(path)}


def _part(path: str) -> int:
    match = _SPLIT.search(path)
    return int(match.group(1)) if match else 0


def _with_parts(first: RemoteFile, files: list[RemoteFile]) -> list[RemoteFile]:
    """A split model's every part (``-00001-of-00003.gguf`` ...), in order."""
    match = _SPLIT.search(first.path)
    if match is None:
        return [first]
    count = int(match.group(2))
    stem = first.path[: match.start()]
    names = [f"{stem}-{i:05d}-of-{count:05d}.gguf" for i in range(1, count + 1)]
    by_path = {f.path.lower(): f for f in files}
    parts = [by_path.get(n.lower()) for n in names]
    if any(p is None for p in parts):
        raise ModelError(f"{first.path} is one of {count} parts and some are missing on the hub")
    return [p for p in parts if p is not None]


# ----------------------------------------------------------------------------- the hub


def _hub() -> Any:
    try:
        import huggingface_hub
        import huggingface_hub.errors
        import huggingface_hub.utils
    except ImportError:
        raise UsageError(f"`models pull` needs huggingface_hub — {INSTALL_HINT}") from None
    huggingface_hub.utils.logging.set_verbosity_error()  # its retry warnings: one line is ours
    return huggingface_hub


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def _offline() -> bool:
    return any(
        os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
        for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _agent() -> dict[str, str]:
    """Who asks, in the User-Agent the hub library builds."""
    from localdigest import __version__

    return {"library_name": "localdigest", "library_version": __version__}


def _timeout() -> float:
    try:
        return float(os.environ.get("HF_HUB_DOWNLOAD_TIMEOUT") or 10)
    except ValueError:
        return 10.0


@contextlib.contextmanager
def _hub_errors(hf: Any, what: str) -> Iterator[None]:
    """The hub's errors as one line each, with their exit codes."""
    errors = hf.errors
    site = endpoint()
    repo = "/".join(what.split("/")[:2])
    try:
        yield
    except errors.GatedRepoError:
        raise ModelError(
            f"{repo} is gated: accept its licence at {site}/{repo}, then set HF_TOKEN"
        ) from None
    except errors.RepositoryNotFoundError:
        raise ModelError(
            f"{what} is not on {site} (or is private: set HF_TOKEN) — check the name, or see "
            "`localdigest models pull --list`"
        ) from None
    except errors.RevisionNotFoundError:
        raise ModelError(f"{what}: no such revision on {site}") from None
    except errors.EntryNotFoundError:
        raise ModelError(f"{what} is not on {site} — check the file name") from None
    except errors.HfHubHTTPError as e:
        status = getattr(getattr(e, "response", None), "status_code", "?")
        raise NetworkError(f"{site} answered {status} for {what} — try again later") from None
    except (KeyError, TypeError, ValueError) as e:  # not the hub's JSON
        raise NetworkError(f"{site} did not answer like a Hugging Face hub ({e})") from None
    except (hf.utils.httpx.HTTPError, OSError) as e:
        raise NetworkError(
            f"Could not reach {site} ({type(e).__name__}: {e}) — check the connection, or set "
            "HF_ENDPOINT to a mirror"
        ) from None


def list_files(hf: Any, wanted: Wanted, folder: str | None) -> list[RemoteFile]:
    """The repo's files in ``folder`` (everything when None) with sizes and sha256: the
    tree API ``HfApi.list_repo_tree`` calls, asked once (its retries would keep a user with
    no network waiting half a minute for the one-line answer)."""
    from urllib.parse import quote

    url = f"{endpoint()}/api/models/{wanted.repo}/tree/{quote(wanted.revision, safe='')}"
    if folder:
        url += "/" + quote(folder)
    headers = hf.utils.build_hf_headers(token=hf.get_token(), **_agent())
    params: dict[str, str] | None = {"recursive": "false" if folder else "true"}
    session = hf.utils.get_session()
    files = []
    with _hub_errors(hf, wanted.repo):
        while url:
            response = session.get(url, headers=headers, params=params, timeout=_timeout())
            hf.utils.hf_raise_for_status(response)
            for entry in response.json():
                if not isinstance(entry, dict) or entry.get("type") != "file":
                    continue
                lfs = entry.get("lfs")
                sha = (
                    str(lfs.get("oid") or lfs.get("sha256") or "") if isinstance(lfs, dict) else ""
                )
                files.append(RemoteFile(wanted.repo, str(entry["path"]), int(entry["size"]), sha))
            url, params = response.links.get("next", {}).get("url"), None
    return files


def file_metadata(hf: Any, wanted: Wanted, path: str) -> tuple[str, str]:
    """(commit the revision resolves to, the URL the bytes come from)."""
    url = hf.hf_hub_url(wanted.repo, path, revision=wanted.revision, endpoint=endpoint())
    with _hub_errors(hf, f"{wanted.repo}/{path}"):
        meta = hf.get_hf_file_metadata(
            url, token=hf.get_token(), timeout=_timeout(), endpoint=endpoint(), **_agent()
        )
    commit = meta.commit_hash or ""
    if not _COMMIT.fullmatch(commit):
        raise NetworkError(f"{endpoint()} gave no commit for {wanted.repo}/{path} — is it a hub?")
    return commit, str(meta.location or url)


# ----------------------------------------------------------------------------- the cache


def repo_folder(repo: str) -> Path:
    return stores.hub_cache_root() / ("models--" + repo.replace("/", "--"))


def cached_snapshot(repo: str, revision: str, path: str) -> Path | None:
    """The file in the snapshot ``refs/<revision>`` names, if it is complete there."""
    folder = repo_folder(repo)
    commit = revision
    if not _COMMIT.fullmatch(revision):
        try:
            commit = (folder / "refs" / revision).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
    snapshot = folder / "snapshots" / commit / path
    return snapshot if stores.inside(snapshot, folder) is not None else None


def _link(snapshot: Path, blob: Path) -> None:
    """``snapshots/<commit>/<file>`` -> ``../../blobs/<sha256>`` (relative, as the hub
    library writes it); a hard link, else a copy, where symlinks are not allowed."""
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    if snapshot.is_symlink() or snapshot.exists():
        snapshot.unlink()
    try:
        snapshot.symlink_to(os.path.relpath(blob, snapshot.parent))
    except OSError:
        try:
            os.link(blob, snapshot)
        except OSError:
            shutil.copyfile(blob, snapshot)


def _check_space(folder: Path, needed: int) -> None:
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed + SPACE_MARGIN:
        raise CacheError(
            f"Not enough disk space in {folder}: the download needs {needed / 1e9:.2f} GB, "
            f"{free / 1e9:.2f} GB are free — free some space or set HF_HUB_CACHE to another disk"
        )


@contextlib.contextmanager
def _locked(folder: Path, name: str) -> Iterator[None]:
    """The hub library's per-blob lock: two pulls of one file never write it together."""
    from filelock import FileLock, Timeout

    lock_dir = stores.hub_cache_root() / ".locks" / folder.name
    lock_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_dir / f"{name}.lock"))
    try:
        lock.acquire(timeout=2)
    except Timeout:
        raise UsageError(
            f"{name} is being downloaded by another process — wait for it to finish"
        ) from None
    try:
        yield
    finally:
        lock.release()


# ----------------------------------------------------------------------------- the transfer


def _request(url: str, headers: dict[str, str], offset: int) -> Any:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    for key, value in headers.items():
        if key.lower() == "authorization":
            request.add_unredirected_header(key, value)  # never sent on to a CDN
        else:
            request.add_header(key, value)
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    return urllib.request.urlopen(request, timeout=_timeout())


def _hash_of(path: Path, progress: PullProgress | None) -> Any:
    digest = hashlib.sha256()
    size = path.stat().st_size
    if progress is not None:
        progress.start(f"checking the {size / 1e6:.0f} MB already downloaded", size, 0)
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK * 8), b""):
            digest.update(block)
            if progress is not None:
                progress.advance(len(block))
    return digest


def _write(out: Any, block: bytes, partial: Path) -> None:
    """One block to the partial file; a failing disk is no network error (no retry)."""
    try:
        out.write(block)
    except OSError as e:
        raise CacheError(
            f"Cannot write {partial} ({e.strerror or e}) — free disk space or set HF_HUB_CACHE "
            "to another disk; the next run resumes from what was written"
        ) from None


def download(
    url: str,
    headers: dict[str, str],
    target: RemoteFile,
    partial: Path,
    progress: PullProgress | None,
) -> tuple[int, bool]:
    """Fetch ``target`` into ``partial``, resuming what is there; check its sha256.
    Returns (bytes fetched now, whether an earlier partial download was continued)."""
    offset = partial.stat().st_size if partial.exists() else 0
    if offset > target.size:
        partial.unlink()
        offset = 0
    open_for_append(partial).close()  # a link planted at its name fails here, not retried
    resumed = offset > 0
    digest = _hash_of(partial, progress) if offset else hashlib.sha256()
    fetched = 0
    if progress is not None:
        progress.start(target.path.rsplit("/", 1)[-1], target.size, offset)
    attempts = iter(RETRY_DELAYS)
    while offset < target.size:
        try:
            with _request(url, headers, offset) as response, open_for_append(partial) as out:
                if offset and response.status != 206:  # the server ignored the range
                    out.truncate(0)
                    offset, digest = 0, hashlib.sha256()
                    if progress is not None:
                        progress.start(target.path.rsplit("/", 1)[-1], target.size, 0)
                for block in iter(lambda: response.read(CHUNK), b""):
                    _write(out, block, partial)
                    digest.update(block)
                    offset += len(block)
                    fetched += len(block)
                    if progress is not None:
                        progress.advance(len(block))
                if offset < target.size:
                    raise ConnectionError("the connection closed early")
        except urllib.error.HTTPError as e:
            if e.code == 416 and offset >= target.size:
                break
            raise NetworkError(
                f"{endpoint()} answered {e.code} while downloading {target.path} — run the same "
                "command again to resume"
            ) from None
        except (OSError, ValueError, http.client.HTTPException) as e:  # reset, timeout, cut
            delay = next(attempts, None)
            if delay is None:
                raise NetworkError(
                    f"Download of {target.path} stopped at {offset / 1e6:.0f} of "
                    f"{target.size / 1e6:.0f} MB ({type(e).__name__}) — run the same command "
                    "to resume"
                ) from None
            time.sleep(delay)
            offset = partial.stat().st_size
    if offset != target.size or digest.hexdigest() != target.sha256:
        got = digest.hexdigest()
        partial.unlink(missing_ok=True)
        raise NetworkError(
            f"{target.path} failed its checksum (sha256 {got[:12]}..., the hub says "
            f"{target.sha256[:12]}..., {offset} of {target.size} bytes): nothing was kept — "
            "run the command again"
        )
    return fetched, resumed


def _fetch_one(
    hf: Any, wanted: Wanted, target: RemoteFile, progress: PullProgress | None
) -> tuple[int, bool]:
    commit, url = file_metadata(hf, wanted, target.path)
    folder = repo_folder(wanted.repo)
    blob = folder / "blobs" / target.sha256
    fetched, resumed = 0, False
    with _locked(folder, target.sha256):
        if not (blob.is_file() and blob.stat().st_size == target.size):
            partial = blob.with_name(f"{target.sha256}.incomplete")
            have = partial.stat().st_size if partial.exists() else 0
            _check_space(blob.parent, max(target.size - have, 0))
            blob.parent.mkdir(parents=True, exist_ok=True)
            headers = dict(hf.utils.build_hf_headers(token=hf.get_token(), **_agent()))
            fetched, resumed = download(url, headers, target, partial, progress)
            os.replace(partial, blob)
            os.chmod(blob, 0o644)
        _link(folder / "snapshots" / commit / target.path, blob)
    if wanted.revision != commit:
        write_atomically(folder / "refs" / wanted.revision, commit)
    return fetched, resumed


def pull(
    spec: str,
    quant: str | None = None,
    revision: str | None = None,
    progress: PullProgress | None = None,
) -> Pulled:
    """Download the GGUF ``spec`` names into the hub cache (see the module docstring)."""
    wanted = parse_spec(spec, quant, revision)
    hf = _hub()
    if _offline():
        cached = cached_snapshot(wanted.repo, wanted.revision, wanted.file) if wanted.file else None
        if cached is not None:
            return Pulled(
                wanted.repo, wanted.file or "", cached, cached.stat().st_size, 0, False, False
            )
        raise NetworkError("HF_HUB_OFFLINE is set, so nothing can be downloaded — unset it")
    folder = wanted.file.rsplit("/", 1)[0] if wanted.file and "/" in wanted.file else None
    try:
        files = list_files(hf, wanted, folder if wanted.file else None)
    except NetworkError:
        cached = cached_snapshot(wanted.repo, wanted.revision, wanted.file) if wanted.file else None
        if cached is None:
            raise
        return Pulled(
            wanted.repo, wanted.file or "", cached, cached.stat().st_size, 0, False, False
        )
    targets = choose_files(files, wanted)
    for t in targets:
        if not re.fullmatch(r"[0-9a-f]{64}", t.sha256):
            raise ModelError(f"{endpoint()} lists no sha256 for {t.path}, so it can't be checked")
    fetched, resumed = 0, False
    for target in targets:
        got, again = _fetch_one(hf, wanted, target, progress)
        fetched, resumed = fetched + got, resumed or again
    first = targets[0]
    path = cached_snapshot(wanted.repo, wanted.revision, first.path)
    if path is None:  # pragma: no cover - just linked above
        raise CacheError(f"{first.path} was downloaded but its snapshot link is missing")
    size = sum(t.size for t in targets)
    return Pulled(wanted.repo, first.path, path, size, fetched, resumed, True)
