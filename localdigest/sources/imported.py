"""The reader's imported library: what ``library import`` read from each source, kept in
one JSON file in the state folder (``imported-library.json``), so ranking needs no source
once it is imported.

One entry per source (the resolved path): importing a source again replaces its entry
(what was removed from the source goes, nothing is doubled), so importing is idempotent.
Each item keeps its ranking terms (``ranking.library_terms``, computed once at import;
computed again when ``TERMS_VERSION`` moves on), which is what lets a 5,000-item library
rank a listing in a few tenths of a second. The file is written atomically: an import that
fails or is interrupted leaves the previous library as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localdigest.fsutil import load_state, storage_error, write_atomically
from localdigest.sources.ranking import TERMS_VERSION, LibraryPaper, library_terms
from localdigest.sources.references import KINDS, Kind, Reference

FILE_NAME = "imported-library.json"
FORMAT = 1


def item_text(item: Reference) -> str:
    """What an item says about its subject: abstract and keywords (the title apart)."""
    return " ".join([item.abstract, *item.keywords]).strip()


def item_terms(item: Reference) -> tuple[str, ...]:
    return library_terms(item.title, item_text(item), item.authors)


@dataclass
class Source:
    """One source as last imported."""

    path: str
    kind: Kind
    imported_at: str
    items: list[Reference]
    terms: list[tuple[str, ...]] = field(default_factory=list)  # one per item

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "imported_at": self.imported_at,
            "items": [
                {**item.to_dict(), "terms": " ".join(t)}
                for item, t in zip(self.items, self.terms, strict=True)
            ],
        }

    @classmethod
    def from_dict(cls, data: Any, terms_current: bool) -> Source:
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            raise ValueError("a source is not an object of a known kind")
        path, when, raw = data.get("path"), data.get("imported_at"), data.get("items")
        if not isinstance(path, str) or not isinstance(when, str) or not isinstance(raw, list):
            raise ValueError("a source has no path, date or list of items")
        items = [Reference.from_dict(i) for i in raw]
        stored = [i.get("terms") for i in raw]
        if terms_current and all(isinstance(t, str) for t in stored):
            terms = [tuple(str(t).split()) for t in stored]
        else:
            terms = [item_terms(i) for i in items]
        return cls(path, data["kind"], when, items, terms)


@dataclass(frozen=True)
class Change:
    """What importing one source did: items now, new ones, ones gone from the source."""

    source: Source
    new: int
    gone: int


class ImportedLibrary:
    """The imported library file in the state folder ``state``."""

    def __init__(self, state: Path, on_damage: Callable[[str], None] | None = None) -> None:
        self.path = state / FILE_NAME
        self.sources: list[Source] = load_state(self.path, _parse, on_damage) or []

    def replace(self, path: Path, kind: Kind, items: Sequence[Reference]) -> Change:
        """Put ``items`` as the whole of source ``path`` (not saved yet)."""
        key = str(path)
        before = next((s for s in self.sources if s.path == key), None)
        old = {i.key for i in before.items} if before else set()
        unique = list({i.key: i for i in items}.values())
        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        source = Source(key, kind, now, unique, [item_terms(i) for i in unique])
        self.sources = [s for s in self.sources if s.path != key] + [source]
        keys = {i.key for i in unique}
        return Change(source, len(keys - old), len(old - keys))

    def remove(self, path: str) -> Source | None:
        """Forget one source (not saved yet); None when it was never imported."""
        gone = next((s for s in self.sources if s.path == path), None)
        self.sources = [s for s in self.sources if s.path != path]
        return gone

    def previous(self, path: Path) -> dict[str, Reference]:
        """The items a source had when last imported, by key."""
        source = next((s for s in self.sources if s.path == str(path)), None)
        return {i.key: i for i in source.items} if source else {}

    def save(self) -> None:
        data = {
            "format": FORMAT,
            "terms_version": TERMS_VERSION,
            "sources": [s.to_dict() for s in self.sources],
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, json.dumps(data, ensure_ascii=False, indent=1))
        except OSError as e:
            raise storage_error(self.path, e, f"the imported library {self.path}") from e

    def papers(self) -> list[LibraryPaper]:
        """Every item once (the same paper from two sources: the later import's), as
        ranking reads it."""
        found: dict[str, LibraryPaper] = {}
        for source in self.sources:
            for item, terms in zip(source.items, source.terms, strict=True):
                identity = item.identity
                found[identity] = LibraryPaper(
                    key=identity,
                    title=item.title,
                    text=item_text(item),
                    when=_when(item.added),
                    arxiv_id=item.arxiv_id,
                    authors=item.authors,
                    terms=terms,
                )
        return list(found.values())


def _parse(data: Any) -> list[Source]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("not an imported library of this localdigest")
    current = data.get("terms_version") == TERMS_VERSION
    sources = data.get("sources")
    if not isinstance(sources, list):
        raise ValueError("no list of sources")
    return [Source.from_dict(s, current) for s in sources]


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
