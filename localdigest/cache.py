"""The on-disk cache: per-chunk notes and per-paper summaries, in diskcache.

Keys hash every input that changes the output (``make_key``). Values are stored as JSON
with a checksum, so an entry damaged on disk is detected and recomputed instead of
crashing a run. diskcache writes each entry in one SQLite transaction: a run killed in the
middle leaves the previous state, never half an entry. A database damaged as a whole (not
a database any more, a malformed disk image) is said to be so, with the fix: ``cache
clear``, which can always start a fresh cache, however damaged the old one is.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import pickle
import re
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from localdigest.errors import CacheError, UsageError
from localdigest.papers import PaperSummary
from localdigest.text import has_unsafe

NOTES = "notes"
SUMMARY = "summary"


def make_key(kind: str, **parts: Any) -> str:
    """A stable key: ``kind/<sha256 of the sorted JSON of parts>``."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    # surrogatepass: the same bytes as plain UTF-8 for every text, and no crash on a lone
    # surrogate (a file name that is not UTF-8).
    return f"{kind}/{hashlib.sha256(blob.encode('utf-8', 'surrogatepass')).hexdigest()}"


def _seal(value: dict[str, Any]) -> str:
    body = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if has_unsafe(body):  # a lone surrogate cannot be stored as UTF-8: escape everything
        body = json.dumps(value, ensure_ascii=True, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:16] + body


def _unseal(raw: object) -> dict[str, Any] | None:
    if not isinstance(raw, str) or len(raw) < 16:
        return None
    check, body = raw[:16], raw[16:]
    if hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()[:16] != check:
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _is_damaged(error: BaseException) -> bool:
    """SQLite says the file is not a database or its image is malformed (not: locked,
    read-only, no space, which are ``OperationalError``)."""
    return isinstance(error, sqlite3.DatabaseError) and not isinstance(
        error, sqlite3.OperationalError
    )


class Store:
    """One diskcache under the given folder. Opened lazily, so --help never touches disk."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: Any = None

    def _error(self, e: BaseException, doing: str) -> CacheError:
        if _is_damaged(e):
            return CacheError(
                f"The cache at {self.directory} is damaged ({e}) — run `localdigest cache "
                "clear` to start a fresh one (downloaded PDFs are kept)"
            )
        return CacheError(
            f"Cannot {doing} the cache at {self.directory} ({e}) — check its permissions "
            "and free space, or set LOCALDIGEST_HOME"
        )

    @property
    def cache(self) -> Any:
        if self._cache is None:
            import diskcache

            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                self._cache = diskcache.Cache(str(self.directory), size_limit=2**34)
            except (OSError, sqlite3.Error) as e:
                raise self._error(e, "open") from e
        return self._cache

    def get(self, key: str) -> dict[str, Any] | None:
        cache = self.cache
        try:
            raw = cache.get(key)
        except sqlite3.Error as e:
            raise self._error(e, "read") from e
        except (OSError, ValueError, EOFError, pickle.UnpicklingError):
            raw = b"unreadable"  # the entry's own file is damaged: only this entry
        if raw is None:
            return None
        value = _unseal(raw)
        if value is None:  # damaged on disk: forget it so it is recomputed
            self.delete(key)
        return value

    def set(self, key: str, value: dict[str, Any]) -> None:
        cache = self.cache
        try:
            cache.set(key, _seal(value))
        except (OSError, sqlite3.Error) as e:
            raise self._error(e, "write to") from e

    def delete(self, key: str) -> None:
        with contextlib.suppress(OSError, sqlite3.Error):
            self.cache.delete(key)

    def items(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        prefix = f"{kind}/"
        cache = self.cache
        try:
            keys = list(cache.iterkeys())
        except sqlite3.Error as e:
            raise self._error(e, "read") from e
        for key in keys:
            if isinstance(key, str) and key.startswith(prefix):
                value = self.get(key)
                if value is not None:
                    yield key, value

    def info(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        cache = self.cache
        try:
            for key in cache.iterkeys():
                kind = str(key).split("/", 1)[0]
                counts[kind] = counts.get(kind, 0) + 1
            volume = cache.volume()
        except (OSError, sqlite3.Error) as e:
            raise self._error(e, "read") from e
        return {"path": str(self.directory), "bytes": volume, "entries": counts}

    def clear(self) -> int | None:
        """Delete every entry: how many. A damaged database is removed and a fresh one
        started: None."""
        try:
            return int(self.cache.clear())
        except CacheError as e:
            if not _is_damaged(e.__cause__ or e):
                raise
        except sqlite3.Error as e:
            if not _is_damaged(e):
                raise self._error(e, "clear") from e
        self.close()
        self._remove_damaged()
        self.cache  # noqa: B018 - opens (creates) the fresh database now, or says why not
        return None

    def _remove_damaged(self) -> None:
        """Remove what diskcache keeps in the folder (its database and value files) and
        nothing else: the folder may be shared with other files."""
        for name in ("cache.db", "cache.db-wal", "cache.db-shm"):
            with contextlib.suppress(FileNotFoundError):
                (self.directory / name).unlink()
        for sub in self.directory.iterdir():
            if sub.is_dir() and not sub.is_symlink() and re.fullmatch(r"[0-9a-f]{2}", sub.name):
                shutil.rmtree(sub, ignore_errors=True)

    def close(self) -> None:
        if self._cache is not None:
            with contextlib.suppress(sqlite3.Error, OSError):
                self._cache.close()
            self._cache = None


# ----------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class CachedSummary:
    """A finished summary found in the cache, with its key."""

    key: str
    summary: PaperSummary

    @property
    def short(self) -> str:
        """The first 8 hex digits of the key: what ``show`` lists and accepts."""
        return self.key.split("/", 1)[1][:8]


def cached_summaries(store: Store) -> list[CachedSummary]:
    """Every cached summary, newest first."""
    rows = []
    for key, value in store.items(SUMMARY):
        summary = replace(PaperSummary.from_dict(value), cached=True)
        rows.append(CachedSummary(key, summary))
    rows.sort(key=lambda r: r.summary.created, reverse=True)
    return rows


def find_cached(rows: Sequence[CachedSummary], query: str) -> CachedSummary:
    """The summary a user means: key prefix, sha256 prefix, arXiv id, or title words."""
    q = query.lower().strip()
    for row in rows:
        summary = row.summary
        if row.short.startswith(q) or summary.sha256.startswith(q):
            return row
        if summary.arxiv_id and q.removeprefix("arxiv:").split("v")[0] == summary.arxiv_id:
            return row
    matches = [r for r in rows if q in r.summary.title.lower()]
    if len(matches) >= 1:
        return matches[0]
    raise UsageError(f"No cached summary matches '{query}' — run `localdigest show` to list them")
