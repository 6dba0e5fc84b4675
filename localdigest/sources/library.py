"""The paper library on disk, and the "seen" store behind ``search --new``.

Layout, under the library's ``root``::

    <safe_id>/paper.pdf        the PDF, complete and checked (starts with %PDF-, ends in %%EOF)
    <safe_id>/meta.json        title, authors, abstract, categories, dates, links, fetched_at
    <safe_id>/summarized.json  written by the summarizer through ``mark_summarized``
    stdin/<sha256[:16]>.pdf    PDFs piped into ``summarize -`` (``local.keep_piped_pdf``)

``<safe_id>`` is the base id with "/" replaced by "_" (``hep-th_9901001``), so nothing
derived from an id can leave the library folder. One folder per paper: a request without a
version is satisfied by whatever version is stored; one with an explicit version that differs
from the stored one fetches it and replaces the old copy.

A download goes to a temporary file in the paper's folder and is renamed into place only once
complete and checked, so an interrupted or bad download never leaves a half file behind. Once
a paper is here, ``fetch`` finds it without any network.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from localdigest.errors import (
    CacheError,
    InputError,
    LocaldigestError,
    NetworkError,
    ServerError,
    StorageError,
)
from localdigest.fsutil import atomic_file, partial_prefix, sweep_partials, write_atomically
from localdigest.net import Cut
from localdigest.sources.arxiv.api import fetch_metadata
from localdigest.sources.arxiv.client import ArxivClient
from localdigest.sources.arxiv.ids import ArxivId, parse_arxiv_id
from localdigest.sources.arxiv.meta import PaperMeta

PDF_NAME = "paper.pdf"
META_NAME = "meta.json"
SUMMARIZED_NAME = "summarized.json"
SEEN_NAME = "seen.json"
META_FORMAT = 1
MAX_PDF_BYTES = 1 << 30  # arXiv takes submissions up to 50 MB; a PDF past 1 GB is no paper

ProgressFn = Callable[[str, int, int | None], None]
"""Download progress: (label, bytes so far, total bytes or None)."""


@dataclass(frozen=True)
class LibraryEntry:
    """One stored paper: its PDF and the metadata recorded when it was fetched."""

    pdf_path: Path
    meta: PaperMeta
    fetched_at: datetime | None = None

    @property
    def arxiv_id(self) -> ArxivId:
        return self.meta.id

    @property
    def folder(self) -> Path:
        return self.pdf_path.parent


@dataclass(frozen=True)
class FetchResult:
    """What happened to one input of ``fetch``."""

    input: str
    status: Literal["fetched", "present", "failed"]
    entry: LibraryEntry | None = None
    error: LocaldigestError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        """For ``--format json``: the input, what happened, the paper and its PDF."""
        entry, error = self.entry, self.error
        return {
            "input": self.input,
            "status": self.status,
            "arxiv_id": entry.meta.versioned_id if entry else None,
            "title": entry.meta.title if entry else None,
            "path": str(entry.pdf_path) if entry else None,
            "error": error.message if error else None,
            "exit_code": int(error.exit_code) if error else 0,
        }


# ---------------------------------------------------------------------------------------------
# Paths and reading
# ---------------------------------------------------------------------------------------------


def _as_id(id_or_url: str | ArxivId) -> ArxivId:
    return id_or_url if isinstance(id_or_url, ArxivId) else parse_arxiv_id(id_or_url)


def _read_entry(folder: Path) -> LibraryEntry | None:
    pdf, meta_file = folder / PDF_NAME, folder / META_NAME
    if not pdf.is_file():
        return None
    try:
        data = json.loads(meta_file.read_text(encoding="utf-8"))
        meta = PaperMeta.from_dict(data)
        fetched_raw = data.get("fetched_at")
        fetched_at = datetime.fromisoformat(fetched_raw) if fetched_raw else None
    except (OSError, ValueError, TypeError, KeyError):
        return None  # no or damaged meta.json: treated as not fetched, fetched again
    return LibraryEntry(pdf_path=pdf, meta=meta, fetched_at=fetched_at)


class Library:
    """The paper library under ``root`` (see the module's docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def entry_dir(self, arxiv_id: ArxivId) -> Path:
        """The folder of one paper; guaranteed to be directly inside ``library_dir()``."""
        root = self.root
        folder = root / arxiv_id.safe_name
        # ArxivId already refuses anything but a real id; this is the belt to those braces.
        if folder.parent != root or not folder.resolve().is_relative_to(root.resolve()):
            raise InputError(f"{arxiv_id} would be stored outside the library — not fetching it")
        return folder

    def find_entry(self, id_or_url: str | ArxivId) -> LibraryEntry | None:
        """The stored paper, or None. An explicit version must match the stored one."""
        aid = _as_id(id_or_url)
        entry = _read_entry(self.entry_dir(aid))
        if entry is None or entry.meta.arxiv_id != aid.base:
            return None
        if aid.version is not None and entry.meta.version != aid.version:
            return None
        return entry

    def is_fetched(self, id_or_url: str | ArxivId) -> bool:
        return self.find_entry(id_or_url) is not None

    def list_entries(self) -> list[LibraryEntry]:
        """Every complete entry, most recently fetched first."""
        root = self.root
        if not root.is_dir():
            return []
        entries = [e for e in (_read_entry(p) for p in root.iterdir() if p.is_dir()) if e]
        oldest = datetime.min.replace(tzinfo=UTC)
        return sorted(entries, key=lambda e: e.fetched_at or oldest, reverse=True)

    def mark_summarized(self, id_or_url: str | ArxivId, note: dict[str, Any] | None = None) -> None:
        """Record that a paper was summarized (the search table shows it). ``note`` is stored."""
        folder = self.entry_dir(_as_id(id_or_url))
        data = {"summarized_at": _now().isoformat(), **(note or {})}
        try:
            folder.mkdir(parents=True, exist_ok=True)
            write_atomically(folder / SUMMARIZED_NAME, json.dumps(data, indent=2))
        except OSError as e:
            raise CacheError(
                f"Cannot write {folder} ({e.strerror or e}) — check permissions"
            ) from e

    def is_summarized(self, id_or_url: str | ArxivId) -> bool:
        return (self.entry_dir(_as_id(id_or_url)) / SUMMARIZED_NAME).is_file()

    def local_state(self, id_or_url: str | ArxivId) -> Literal["summarized", "fetched"] | None:
        """What the library holds for a paper: summarized, fetched (PDF only) or nothing."""
        if self.is_summarized(id_or_url):
            return "summarized"
        return "fetched" if self.is_fetched(id_or_url) else None

    # ---------------------------------------------------------------------------------------------
    # Fetching
    # ---------------------------------------------------------------------------------------------

    def fetch(
        self, inputs: Iterable[str], client: ArxivClient, progress: ProgressFn | None = None
    ) -> list[FetchResult]:
        """Fetch papers into the library through ``client``; one result per input, in order.

        Invalid inputs fail before any request. Papers already stored cost no request. The
        metadata of all the others comes from one batched API call, then each PDF is downloaded.
        After a ``NetworkError`` nothing more is attempted: the remaining inputs fail with it.
        """
        items: list[tuple[str, ArxivId | None, LocaldigestError | None]] = []
        for text in inputs:
            try:
                items.append((text, parse_arxiv_id(text), None))
            except InputError as e:
                items.append((text, None, e))

        results: dict[int, FetchResult] = {}
        missing: dict[int, ArxivId] = {}
        for n, (text, aid, error) in enumerate(items):
            if aid is None:
                results[n] = FetchResult(text, "failed", error=error)
            elif (entry := self.find_entry(aid)) is not None:
                results[n] = FetchResult(text, "present", entry=entry)
            else:
                missing[n] = aid

        network_error: NetworkError | None = None
        metas: dict[str, PaperMeta | ServerError] = {}
        if missing:
            self.sweep_stale_downloads(client.endpoints.download_deadline)
            try:
                metas = fetch_metadata(client, missing.values())
            except NetworkError as e:
                network_error = e
        for n, aid in missing.items():
            text = items[n][0]
            if network_error is not None:
                results[n] = FetchResult(text, "failed", error=network_error)
                continue
            if (entry := self.find_entry(aid)) is not None:  # asked for twice in this batch
                results[n] = FetchResult(text, "present", entry=entry)
                continue
            meta = metas.get(aid.base)
            if meta is None or isinstance(meta, ServerError):
                error = meta or InputError(
                    f"arXiv has no paper {aid} — check the id at {aid.abs_url}"
                )
                results[n] = FetchResult(text, "failed", error=error)
                continue
            if aid.version is not None and meta.version != aid.version:
                meta = _with_version(meta, aid.version)
            try:
                results[n] = FetchResult(text, "fetched", entry=self._store(client, meta, progress))
            except NetworkError as e:
                network_error = e
                results[n] = FetchResult(text, "failed", error=e)
            except LocaldigestError as e:  # not a PDF, no such paper, library not writable
                results[n] = FetchResult(text, "failed", error=e)
        return [results[n] for n in range(len(items))]

    def _store(
        self, client: ArxivClient, meta: PaperMeta, progress: ProgressFn | None
    ) -> LibraryEntry:
        aid = meta.id
        folder = self.entry_dir(aid)
        created = not folder.exists()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            url = aid.pdf_url(client.endpoints.pdf)
            size, sha256 = self._download_pdf(client, aid, url, folder, progress)
            fetched_at = _now()
            data = {
                "format": META_FORMAT,
                **meta.to_dict(),
                "fetched_at": fetched_at.isoformat(),
                "source_url": url,
                "pdf_bytes": size,
                "pdf_sha256": sha256,
            }
            write_atomically(
                folder / META_NAME,
                json.dumps(data, indent=2, ensure_ascii=False).encode(),
                inside=self.root,
            )
        except OSError as e:
            _remove_if_created(folder, created)
            if isinstance(e, StorageError):
                raise  # already says which file and what to do (exit 6)
            raise CacheError(
                f"Cannot write {aid} into the library at {folder} ({e.strerror or e}) — check "
                "permissions and free space, or set LOCALDIGEST_HOME"
            ) from e
        except BaseException:
            _remove_if_created(folder, created)
            raise
        return LibraryEntry(pdf_path=folder / PDF_NAME, meta=meta, fetched_at=fetched_at)

    def sweep_stale_downloads(self, deadline: float) -> int:
        """Remove partial downloads a killed run left in the library (``kill -9``, a power
        cut; Ctrl-C and SIGTERM clean up after themselves). A download that is still running
        touches its file all the time, and none runs longer than the download ``deadline``."""
        root = self.root
        if not root.is_dir():
            return 0
        stale = deadline + 60
        removed = 0
        for folder in root.iterdir():
            if folder.is_dir() and not folder.is_symlink():
                for prefix in (partial_prefix(PDF_NAME), ".paper-"):  # ".paper-": older versions
                    removed += sweep_partials(folder, prefix, older_than=stale)
        return removed

    def _download_pdf(
        self, client: ArxivClient, aid: ArxivId, url: str, folder: Path, progress: ProgressFn | None
    ) -> tuple[int, str]:
        """Download ``url`` to ``folder/paper.pdf`` (a temporary file renamed into place once
        complete and checked); return its size and sha256."""

        def drop_old_meta() -> None:
            # Without meta.json the entry counts as absent, so a crash between the two
            # renames can never pair the new PDF with the old version's metadata.
            (folder / META_NAME).unlink(missing_ok=True)

        attempts = 2
        for attempt in range(1, attempts + 1):
            try:
                with atomic_file(
                    folder / PDF_NAME, inside=self.root, before_commit=drop_old_meta
                ) as out:
                    return _stream_pdf(client, aid, url, out, progress)
            except _CutOff as e:
                if attempt == attempts:
                    raise NetworkError(
                        f"The download of {aid} from {url} was cut off ({e}) — try again later"
                    ) from e
        raise AssertionError("unreachable")


def _with_version(meta: PaperMeta, version: int) -> PaperMeta:
    """The metadata arXiv gave for the latest version, relabelled as the version asked for."""
    data = meta.to_dict()
    aid = ArxivId(meta.arxiv_id, version)
    data.update(version=version, abs_url=aid.abs_url, pdf_url=aid.pdf_url())
    return PaperMeta.from_dict(data)


def _remove_if_created(folder: Path, created: bool) -> None:
    if not created:
        return
    with contextlib.suppress(OSError):
        for leftover in folder.iterdir():
            leftover.unlink()
        folder.rmdir()


class _CutOff(Exception):
    """The body ended early; worth one more try."""


def _stream_pdf(
    client: ArxivClient, aid: ArxivId, url: str, out: Any, progress: ProgressFn | None
) -> tuple[int, str]:
    deadline = client.endpoints.download_deadline
    what = f"the PDF of {aid}"
    with client.http.stream(url, what=what, deadline=deadline, max_bytes=MAX_PDF_BYTES) as response:
        if response.status == 404:
            raise InputError(f"No PDF for {aid} at {url} — check the id at {aid.abs_url}")
        if response.status != 200:
            raise NetworkError(
                f"{url} answered HTTP {response.status} for the PDF of {aid} — try again later"
            )
        expected = _content_length(response.headers)
        digest = hashlib.sha256()
        size = 0
        head = b""
        tail = b""
        try:
            for chunk in response.chunks():
                if len(head) < 5:
                    head += chunk[:5]
                    _check_pdf_start(aid, url, head, response.headers)
                out.write(chunk)
                digest.update(chunk)
                tail = (tail + chunk)[-2048:]
                size += len(chunk)
                if progress:
                    progress(str(aid), size, expected)
        except Cut as e:  # the connection closed or stalled before Content-Length
            raise _CutOff(f"{size} bytes arrived") from e
    _check_pdf_start(aid, url, head, response.headers, final=True)
    if expected is not None and size != expected:
        raise _CutOff(f"{size} of {expected} bytes arrived")
    _check_pdf_end(tail, size)
    return size, digest.hexdigest()


def _content_length(headers: Mapping[str, str]) -> int | None:
    if headers.get("Content-Encoding", "identity") != "identity":
        return None  # the length counts compressed bytes; the %%EOF check still applies
    try:
        return int(headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def _check_pdf_start(
    aid: ArxivId, url: str, head: bytes, headers: Mapping[str, str], final: bool = False
) -> None:
    if len(head) < 5 and not final:
        return
    if head.startswith(b"%PDF-"):
        return
    kind = headers.get("Content-Type", "").split(";")[0].strip() or "unknown type"
    if "html" in kind or head.lstrip()[:1] == b"<":
        raise InputError(
            f"arXiv sent a web page ({kind}) instead of the PDF of {aid} — the paper may be "
            f"withdrawn or not yet processed; open {aid.abs_url} in a browser"
        )
    raise InputError(f"{url} did not send a PDF for {aid} ({kind}) — open {aid.abs_url}")


def _check_pdf_end(tail: bytes, size: int) -> None:
    """Every complete PDF ends with %%EOF (give or take a newline): catches a cut-off body
    even when the server sent no Content-Length."""
    if b"%%EOF" not in tail:
        raise _CutOff(f"{size} bytes and no end-of-file marker")


# ---------------------------------------------------------------------------------------------
# Small file helpers and the seen store
# ---------------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class SeenStore:
    """Base ids (no version) of every paper a search or listing has shown, with the time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ids: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self._ids is None:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self._ids = dict(data.get("ids", {}))
            except (OSError, ValueError, AttributeError):
                self._ids = {}  # missing or damaged: start over rather than fail a search
        return self._ids

    def __contains__(self, arxiv_id: object) -> bool:
        return isinstance(arxiv_id, str) and arxiv_id in self._load()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._load()))

    def __len__(self) -> int:
        return len(self._load())

    def add(self, arxiv_ids: Iterable[str]) -> None:
        ids = self._load()
        stamp = _now().isoformat()
        new = {i: stamp for i in arxiv_ids if i not in ids}
        if not new:
            return
        ids.update(new)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, json.dumps({"ids": ids}, indent=0))
        except OSError as e:
            raise CacheError(
                f"Cannot write {self.path} ({e.strerror or e}) — check permissions and free "
                "space, or set LOCALDIGEST_HOME"
            ) from e

    def clear(self) -> None:
        self._ids = {}
        self.path.unlink(missing_ok=True)


def seen_store(state: Path) -> SeenStore:
    return SeenStore(state / SEEN_NAME)
