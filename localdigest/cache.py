"""The on-disk cache: per-chunk notes and per-paper summaries, in diskcache.

Keys hash every input that changes the output (``make_key``). Values are stored as JSON
with a checksum, so an entry damaged on disk is detected and recomputed instead of
crashing a run. diskcache writes each entry in one SQLite transaction: a run killed in the
middle leaves the previous state, never half an entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdigest import config
from localdigest.errors import CacheError, UsageError
from localdigest.papers import PaperSummary

NOTES = "notes"
SUMMARY = "summary"


def make_key(kind: str, **parts: Any) -> str:
    """A stable key: ``kind/<sha256 of the sorted JSON of parts>``."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return f"{kind}/{hashlib.sha256(blob.encode()).hexdigest()}"


def _seal(value: dict[str, Any]) -> str:
    body = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:16] + body


def _unseal(raw: object) -> dict[str, Any] | None:
    if not isinstance(raw, str) or len(raw) < 16:
        return None
    check, body = raw[:16], raw[16:]
    if hashlib.sha256(body.encode()).hexdigest()[:16] != check:
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class Store:
    """One diskcache under the given folder. Opened lazily, so --help never touches disk."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: Any = None

    @property
    def cache(self) -> Any:
        if self._cache is None:
            import diskcache

            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                self._cache = diskcache.Cache(str(self.directory), size_limit=2**34)
            except (OSError, sqlite3.Error) as e:
                raise CacheError(
                    f"Cannot open the cache at {self.directory} ({e}) — "
                    "check its permissions and free space, or set LOCALDIGEST_HOME"
                ) from e
        return self._cache

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            raw = self.cache.get(key)
        except (OSError, sqlite3.Error, ValueError, EOFError):
            raw = b"unreadable"
        if raw is None:
            return None
        value = _unseal(raw)
        if value is None:  # damaged on disk: forget it so it is recomputed
            self.delete(key)
        return value

    def set(self, key: str, value: dict[str, Any]) -> None:
        try:
            self.cache.set(key, _seal(value))
        except (OSError, sqlite3.Error) as e:
            raise CacheError(
                f"Cannot write to the cache at {self.directory} ({e}) — "
                "free disk space or fix its permissions"
            ) from e

    def delete(self, key: str) -> None:
        with contextlib.suppress(OSError, sqlite3.Error):
            self.cache.delete(key)

    def items(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        prefix = f"{kind}/"
        for key in list(self.cache.iterkeys()):
            if isinstance(key, str) and key.startswith(prefix):
                value = self.get(key)
                if value is not None:
                    yield key, value

    def info(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for key in self.cache.iterkeys():
            kind = str(key).split("/", 1)[0]
            counts[kind] = counts.get(kind, 0) + 1
        return {"path": str(self.directory), "bytes": self.cache.volume(), "entries": counts}

    def clear(self) -> int:
        return int(self.cache.clear())

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None


def open_store() -> Store:
    """The user's cache (``LOCALDIGEST_HOME/cache``); opened on first use."""
    return Store(config.cache_dir())


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


def cached_summaries(store: Store | None = None) -> list[CachedSummary]:
    """Every cached summary, newest first."""
    s = store or open_store()
    try:
        rows = []
        for key, value in s.items(SUMMARY):
            summary = PaperSummary.from_dict(value)
            summary.cached = True
            rows.append(CachedSummary(key, summary))
    finally:
        if store is None:
            s.close()
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
