"""``models pull``: a GGUF from the Hugging Face hub into the standard hub cache.

Everything goes through ``localdigest.net``; no hub library is needed:

- the repo's file list, with each file's size and sha256: the hub's tree API
  (``/api/models/<repo>/tree/<revision>``), paged by its ``Link`` header;
- the commit a revision points to: ``X-Repo-Commit`` of a HEAD on ``/resolve``;
- the bytes: a GET on ``/resolve``, redirected to a CDN. The bytes stream into
  ``blobs/<sha256>.incomplete`` with a ``Range`` request that starts where an earlier run
  stopped (and, within one run, where a cut or stalled connection stopped); the sha256 is
  computed as they arrive and compared with the hub's before the file gets its name
  ``blobs/<sha256>``: a mismatch deletes the download, nothing is kept;
- then ``snapshots/<commit>/<file>`` links to the blob and ``refs/<revision>`` names the
  commit: the layout ``huggingface_hub`` and llama.cpp write, so they share the file.

Nothing the hub says is trusted: a listed path that is absolute, holds ``..`` or would land
outside its snapshot folder is refused before anything is written; a download stops at the
size the listing announced, has an overall deadline (``Hub.deadline`` plus a second per
``Hub.min_rate`` bytes) and a stall timeout (``HF_HUB_DOWNLOAD_TIMEOUT``, as the hub's own
tools read it); answers of another shape are one line (exit 5). Free disk space is checked
first; ``HF_ENDPOINT`` (a mirror), ``HF_TOKEN`` (or the token ``hf auth login`` saved) and
``HF_HUB_OFFLINE`` are honoured, and the token goes to the hub's own origin only, at every
redirect hop: never to the CDN.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urljoin

from localdigest.errors import CacheError, ModelError, NetworkError, UsageError
from localdigest.fsutil import open_for_append, write_atomically
from localdigest.models import catalog, stores
from localdigest.net import REDIRECTS, Client, Cut, Opt, Policy, Reply, Token, origin, shape_problem
from localdigest.text import listing

DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_QUANT = "Q4_K_M"
CHUNK = 1 << 20
RETRY_DELAYS = (1.0, 3.0, 6.0)  # a cut connection is resumed this many times within a run
SPACE_MARGIN = 64 << 20  # free space kept beyond the file itself
# The hub's questions (the file list, a commit) are small: a few tries, short deadlines.
POLICY = Policy(attempts=3, backoff=1.0, max_wait=10.0, deadline=30.0)
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
_QUANT = re.compile(r"(?<![A-Za-z0-9])(I?Q\d_[A-Z0-9_]+|Q\d_\d|F16|BF16|F32)(?![A-Za-z0-9])", re.I)
_COMMIT = re.compile(r"[0-9a-f]{40}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
TREE = [
    {
        "type": str,
        "path": str,
        "size": Opt(int),
        "lfs": Opt({"oid": Opt(str), "sha256": Opt(str)}),
    }
]


class PullProgress(Protocol):
    """What a pull reports: a phase starts (with bytes already done), bytes arrive."""

    def start(self, label: str, total: int, done: int) -> None: ...

    def advance(self, n: int) -> None: ...


@dataclass(frozen=True)
class Hub:
    """Where the hub and its cache are, and how long a download may take."""

    endpoint: str
    cache: Path  # the hub cache folder (models--org--name/...)
    token: str | None = None
    offline: bool = False
    stall: float = 10.0  # the longest wait for a download's next bytes
    deadline: float = 60.0  # a download's overall deadline: this ...
    min_rate: float = 100e3  # ... plus a second per this many bytes of the file

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], cache: Path) -> Hub:
        """The hub as the Hugging Face tools read it from the environment."""
        try:
            stall = float(environ.get("HF_HUB_DOWNLOAD_TIMEOUT") or 10)
        except ValueError:
            stall = 10.0
        offline = any(
            environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
            for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
        )
        return cls(
            endpoint=(environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/"),
            cache=cache,
            token=_token(environ),
            offline=offline,
            stall=stall if stall > 0 else 10.0,
        )

    def client(self) -> Client:
        return Client(
            name=self.endpoint.split("://", 1)[-1],
            advice="run the same command again later (a download resumes where it stopped), "
            "or set HF_ENDPOINT to a mirror",
            offline_advice="check the connection, or set HF_ENDPOINT to a mirror",
            policy=POLICY,
            token=Token(self.token, self.endpoint, "HF_TOKEN") if self.token else None,
        )

    def repo_folder(self, repo: str) -> Path:
        return self.cache / ("models--" + repo.replace("/", "--"))


def _token(environ: Mapping[str, str]) -> str | None:
    """``HF_TOKEN``, else the token file ``hf auth login`` writes (``HF_TOKEN_PATH``, else
    ``$HF_HOME/token``)."""
    for var in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        if environ.get(var, "").strip():
            return environ[var].strip()
    home = environ.get("HF_HOME") or os.path.join(
        environ.get("XDG_CACHE_HOME") or os.path.join(environ.get("HOME") or "~", ".cache"),
        "huggingface",
    )
    path = Path(environ.get("HF_TOKEN_PATH") or os.path.join(home, "token")).expanduser()
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


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

    def to_dict(self) -> dict[str, Any]:
        """For ``--format json``: what --model takes, where the file is, what was fetched."""
        return {"model": self.spec, **asdict(self), "path": str(self.path)}


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
        repo, file, revision = url.group(1), url.group(3), revision or url.group(2)
    else:
        parts = [p for p in text.split("/") if p]
        repo, file = "/".join(parts[:2]), "/".join(parts[2:]) or None
        if len(parts) < 2 or any(p in (".", "..") for p in parts) or " " in text:
            repo = ""
    if not _safe(repo) or repo.count("/") != 1:
        raise UsageError(
            f"'{spec}' is no catalogue name and no ORG/REPO[/FILE.gguf] — see "
            "`localdigest models pull --list`"
        )
    if file is not None and not (_safe(file) and file.lower().endswith(".gguf")):
        raise UsageError(f"'{file}' is not a .gguf file — pull a GGUF, e.g. ORG/REPO/FILE.gguf")
    if revision is not None and not _safe(revision):
        raise UsageError(f"--revision {revision!r} is no branch, tag or commit")
    return Wanted(repo, file, revision or "main", quant)


def choose_files(files: list[RemoteFile], wanted: Wanted) -> list[RemoteFile]:
    """The file (or the parts of a split file) ``wanted`` names among a repo's files."""
    ggufs = [f for f in files if _pullable(f.path)]
    if wanted.file is not None:
        exact = [f for f in files if f.path == wanted.file]
        if not exact:
            names = listing([f.path for f in ggufs], empty="no GGUF files")
            raise ModelError(f"{wanted.file} is not in {wanted.repo} (it has {names})")
        return _with_parts(exact[0], files)
    quant = (wanted.quant or DEFAULT_QUANT).upper()
    picked = [f for f in ggufs if quant in _quants(f.path) and _part(f.path) <= 1]
    if len(picked) == 1:
        return _with_parts(picked[0], files)
    if not picked and wanted.quant is None and len(ggufs) == 1:
        return ggufs
    if picked:
        names = listing([f.path for f in picked])
        raise UsageError(f"{wanted.repo} has several {quant} files ({names}) — pull ORG/REPO/FILE")
    found = sorted({q for f in ggufs for q in _quants(f.path)})
    has = listing(found, 20, "no GGUF files")
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


def _safe(path: str) -> bool:
    """A path from the hub (or a revision) that stays where it is put: relative, no ``..``
    or ``.`` part, no empty part, no backslash, no control character."""
    parts = path.split("/")
    return (
        bool(path)
        and "\\" not in path
        and not any(ord(c) < 32 or ord(c) == 127 for c in path)
        and all(p not in ("", ".", "..") for p in parts)
    )


def _check(reply: Reply, hub: Hub, what: str) -> None:
    """The hub's error answers as one line each, with their exit codes."""
    if reply.status < 300:
        return
    code = reply.headers.get("x-error-code", "")
    repo = "/".join(what.split("/")[:2])
    site = hub.endpoint
    if code == "GatedRepo":
        raise ModelError(f"{repo} is gated: accept its licence at {site}/{repo}, then set HF_TOKEN")
    if code == "RepoNotFound" or reply.status == 401:
        raise ModelError(
            f"{what} is not on {site} (or is private: set HF_TOKEN) — check the name, or see "
            "`localdigest models pull --list`"
        )
    if code == "RevisionNotFound":
        raise ModelError(f"{what}: no such revision on {site}")
    if code == "EntryNotFound" or reply.status == 404:
        raise ModelError(f"{what} is not on {site} — check the file name")
    if reply.status == 403:
        raise ModelError(f"{site} refused {what} (403) — check that HF_TOKEN may read {repo}")
    raise NetworkError(f"{site} answered {reply.status} for {what} — try again later")


def list_files(client: Client, hub: Hub, wanted: Wanted, folder: str | None) -> list[RemoteFile]:
    """The repo's files in ``folder`` (everything when None) with sizes and sha256. A
    listed path that could leave the repo's folder refuses the whole listing."""
    url = f"{hub.endpoint}/api/models/{wanted.repo}/tree/{quote(wanted.revision, safe='')}"
    url += f"/{quote(folder)}?recursive=false" if folder else "?recursive=true"
    files = []
    for _ in range(1000):  # pages of the listing (the hub's Link: rel="next")
        reply = client.request("GET", url, what=f"the file list of {wanted.repo}")
        _check(reply, hub, wanted.repo)
        problem = "it is not JSON" if reply.data is None else shape_problem(reply.data, TREE)
        if problem:
            raise NetworkError(
                f"{hub.endpoint} did not answer like a Hugging Face hub ({problem}) — check "
                "HF_ENDPOINT"
            )
        for entry in reply.data:
            if entry["type"] == "file":
                files.append(_listed(hub, wanted.repo, entry))
        link = _NEXT.search(reply.headers.get("link", ""))
        if link is None:
            break
        url = urljoin(url, link[1])
    return files


def _listed(hub: Hub, repo: str, entry: dict[str, Any]) -> RemoteFile:
    path, size = entry["path"], entry.get("size")
    if not _safe(path):
        raise NetworkError(
            f"{hub.endpoint} lists a file outside {repo} ({path!r}): nothing was downloaded "
            "— check HF_ENDPOINT"
        )
    if size is None:
        raise NetworkError(f"{hub.endpoint} lists {path!r} of {repo} without its size")
    lfs = entry.get("lfs") or {}
    return RemoteFile(repo, path, size, lfs.get("oid") or lfs.get("sha256") or "")


def resolve_url(hub: Hub, wanted: Wanted, path: str) -> str:
    return f"{hub.endpoint}/{wanted.repo}/resolve/{quote(wanted.revision, safe='')}/{quote(path)}"


def commit_of(client: Client, hub: Hub, wanted: Wanted, path: str) -> str:
    """The commit ``wanted.revision`` points to: ``X-Repo-Commit`` on ``/resolve`` (its
    redirect to a CDN is not followed; a renamed repo's, on the hub itself, is)."""
    url, what = resolve_url(hub, wanted, path), f"{wanted.repo}/{path}"
    for _ in range(3):
        reply = client.request("HEAD", url, what=what, follow=False)
        commit = reply.headers.get("x-repo-commit", "")
        if reply.status < 400 and _COMMIT.fullmatch(commit):
            return commit
        moved = urljoin(url, reply.headers.get("location", ""))
        if reply.status not in REDIRECTS or origin(moved) != origin(url):
            _check(reply, hub, what)
            break
        url = moved
    raise NetworkError(f"{hub.endpoint} gave no commit for {what} — is it a Hugging Face hub?")


# ----------------------------------------------------------------------------- the cache


def cached_snapshot(hub: Hub, repo: str, revision: str, path: str) -> Path | None:
    """The file in the snapshot ``refs/<revision>`` names, if a GGUF is there (an empty or
    half-written file is not "already in the hub cache")."""
    folder = hub.repo_folder(repo)
    commit = revision
    if not _COMMIT.fullmatch(revision):
        try:
            commit = (folder / "refs" / revision).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
    if not _COMMIT.fullmatch(commit) or not _safe(path):
        return None
    snapshot = folder / "snapshots" / commit / path
    real = stores.inside(snapshot, folder)
    return snapshot if real is not None and stores.is_gguf(real) else None


def _snapshot_path(folder: Path, commit: str, path: str) -> Path:
    """Where a listed file's link goes, checked to stay in its snapshot folder (after any
    link already in the cache; the file itself is the link we write) before anything is
    written."""
    root = folder / "snapshots" / commit
    target = root / path
    try:
        inside = target.parent.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # RuntimeError: a link loop
        inside = False
    if not inside:
        raise CacheError(
            f"{target} would lead outside {root} (a link in the cache?) — nothing was written; "
            f"check {folder}"
        )
    return target


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
def _locked(hub: Hub, folder: Path, name: str) -> Iterator[None]:
    """The hub library's per-blob lock: two pulls of one file never write it together."""
    from filelock import FileLock, Timeout

    lock_dir = hub.cache / ".locks" / folder.name
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


def _too_long(hub: Hub, target: RemoteFile, partial: Path) -> NetworkError:
    partial.unlink(missing_ok=True)  # bytes past the announced end: none can be trusted
    return NetworkError(
        f"{hub.endpoint} sent more than the {target.size} bytes it listed for {target.path}: "
        "nothing was kept — check HF_ENDPOINT, or try again later"
    )


def download(
    client: Client,
    hub: Hub,
    url: str,
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
    name = target.path.rsplit("/", 1)[-1]
    if progress is not None:
        progress.start(name, target.size, offset)
    deadline = hub.deadline + target.size / hub.min_rate
    until = time.monotonic() + deadline
    attempts = iter(RETRY_DELAYS)
    while offset < target.size:
        headers = {
            "Accept-Encoding": "identity",
            **({"Range": f"bytes={offset}-"} if offset else {}),
        }
        left = float(max(1, round(until - time.monotonic())))  # whole seconds, for messages
        try:
            with client.stream(
                url, what=target.path, headers=headers, deadline=left, stall=hub.stall
            ) as response:
                if response.status == 416 and offset >= target.size:
                    break
                _check(Reply(response.status, b"", response.headers, url), hub, target.path)
                if offset and response.status != 206:  # the server ignored the range
                    partial.unlink()
                    offset, digest = 0, hashlib.sha256()
                    if progress is not None:
                        progress.start(name, target.size, 0)
                length = response.headers.get("content-length", "")
                if length.isdigit() and offset + int(length) > target.size:
                    raise _too_long(hub, target, partial)
                with open_for_append(partial) as out:
                    for block in response.chunks():
                        if offset + len(block) > target.size:
                            raise _too_long(hub, target, partial)
                        _write(out, block, partial)
                        digest.update(block)
                        offset += len(block)
                        fetched += len(block)
                        if progress is not None:
                            progress.advance(len(block))
                if offset < target.size:
                    raise Cut(f"{hub.endpoint} closed the connection early")
        except Cut as e:  # cut or stalled: resume from what arrived
            delay = next(attempts, None)
            if delay is None:
                raise NetworkError(
                    f"Download of {target.path} stopped at {offset / 1e6:.0f} of "
                    f"{target.size / 1e6:.0f} MB ({e}) — run the same command to resume"
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
    client: Client, hub: Hub, wanted: Wanted, target: RemoteFile, progress: PullProgress | None
) -> tuple[int, bool]:
    commit = commit_of(client, hub, wanted, target.path)
    folder = hub.repo_folder(wanted.repo)
    snapshot = _snapshot_path(folder, commit, target.path)
    blob = folder / "blobs" / target.sha256
    fetched, resumed = 0, False
    with _locked(hub, folder, target.sha256):
        if not (blob.is_file() and blob.stat().st_size == target.size):
            partial = blob.with_name(f"{target.sha256}.incomplete")
            have = partial.stat().st_size if partial.exists() else 0
            _check_space(blob.parent, max(target.size - have, 0))
            blob.parent.mkdir(parents=True, exist_ok=True)
            url = resolve_url(hub, wanted, target.path)
            fetched, resumed = download(client, hub, url, target, partial, progress)
            os.replace(partial, blob)
            os.chmod(blob, 0o644)
        _link(snapshot, blob)
    if wanted.revision != commit:
        write_atomically(folder / "refs" / wanted.revision, commit)
    return fetched, resumed


def pull(
    spec: str,
    hub: Hub,
    quant: str | None = None,
    revision: str | None = None,
    progress: PullProgress | None = None,
) -> Pulled:
    """Download the GGUF ``spec`` names into the hub cache (see the module docstring)."""
    wanted = parse_spec(spec, quant, revision)

    def cached() -> Pulled | None:
        path = cached_snapshot(hub, wanted.repo, wanted.revision, wanted.file or "")
        if wanted.file is None or path is None:
            return None
        return Pulled(wanted.repo, wanted.file, path, path.stat().st_size, 0, False, False)

    if hub.offline:
        if (found := cached()) is not None:
            return found
        raise NetworkError("HF_HUB_OFFLINE is set, so nothing can be downloaded — unset it")
    client = hub.client()
    folder = wanted.file.rsplit("/", 1)[0] if wanted.file and "/" in wanted.file else None
    try:
        files = list_files(client, hub, wanted, folder if wanted.file else None)
    except NetworkError:
        if (found := cached()) is None:
            raise
        return found
    targets = choose_files(files, wanted)
    for t in targets:
        if not _SHA256.fullmatch(t.sha256):
            raise ModelError(f"{hub.endpoint} lists no sha256 for {t.path}, so it can't be checked")
        if t.size < 1:
            raise ModelError(f"{hub.endpoint} lists {t.path} as empty: no model to pull")
    fetched, resumed = 0, False
    for target in targets:
        got, again = _fetch_one(client, hub, wanted, target, progress)
        fetched, resumed = fetched + got, resumed or again
    first = targets[0]
    path = cached_snapshot(hub, wanted.repo, wanted.revision, first.path)
    if path is None:  # pragma: no cover - just linked above
        raise CacheError(f"{first.path} was downloaded but its snapshot link is missing")
    size = sum(t.size for t in targets)
    return Pulled(wanted.repo, first.path, path, size, fetched, resumed, True)
