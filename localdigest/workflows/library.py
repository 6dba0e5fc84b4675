"""``library import``, ``library`` and ``follow``: the reader's own library and what they
follow, as ranking reads them.

``import_sources`` reads each source (BibTeX, CSL-JSON, zotero.sqlite through
``sources.references``; a folder of PDFs here, by the PDF stage: title and abstract from
the first two pages) and stores what it found in the imported library (one entry per
source, replaced on every import: idempotent). A source that can't be read fails alone;
the others are still imported, and the file is written once, atomically, at the end.
``follow`` adds to (or removes from) the ``authors`` and ``keywords`` settings in the
config file, so ``localdigest config`` shows them with where they came from.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from localdigest import config
from localdigest.config import RunConfig
from localdigest.errors import InputError, LocaldigestError, UsageError
from localdigest.sources.imported import ImportedLibrary, Source
from localdigest.sources.references import (
    Kind,
    Reference,
    find_arxiv_id,
    kind_of,
    read,
    zotero_default,
)

PDF_PAGES = 2  # title and abstract are on the first pages


@dataclass(frozen=True)
class ImportResult:
    """What happened to one source of ``library import``."""

    given: str
    path: Path | None = None
    kind: Kind | None = None
    items: int = 0
    new: int = 0
    gone: int = 0
    skipped: list[str] = field(default_factory=list)  # PDFs that could not be read, and why
    error: LocaldigestError | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "source": str(self.path or self.given),
            "kind": self.kind,
            "items": self.items,
            "new": self.new,
            "gone": self.gone,
            "skipped": self.skipped,
            "error": self.error.message if self.error else None,
        }


def import_sources(
    cfg: RunConfig,
    sources: Sequence[str],
    on_damage: Callable[[str], None] | None = None,
) -> list[ImportResult]:
    """Import every source (none given: Zotero's database at its default place)."""
    if not sources:
        default = zotero_default()
        if not default.is_file():
            raise UsageError(
                f"No Zotero database at {default} — give a source: your zotero.sqlite, a "
                "BibTeX (.bib) or CSL-JSON (.json) export, or a folder of PDFs"
            )
        sources = [str(default)]
    library = ImportedLibrary(cfg.paths.data, on_damage)
    results = []
    for given in sources:
        path = Path(given).expanduser().resolve()
        try:
            if not path.exists():
                raise InputError(f"No such file or folder: {given} — check the path")
            kind = kind_of(path)
            skipped: list[str] = []
            if kind == "pdfs":
                items = _read_pdfs(path, library.previous(path), skipped)
            else:
                items = read(path, kind)
        except LocaldigestError as e:
            results.append(ImportResult(given, path, error=e))
            continue
        change = library.replace(path, kind, items)
        results.append(
            ImportResult(
                given, path, kind, len(change.source.items), change.new, change.gone, skipped
            )
        )
    if any(r.error is None for r in results):
        library.save()
    return results


def _read_pdfs(folder: Path, before: dict[str, Reference], skipped: list[str]) -> list[Reference]:
    """Title and abstract of every PDF under ``folder``; a file unchanged since the last
    import (same size and time) is not read again."""
    from localdigest import pdf

    items = []
    for path in sorted(folder.rglob("*.pdf")):
        if not path.is_file():
            continue
        key = path.relative_to(folder).as_posix()
        stat = path.stat()
        stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
        if key in before and before[key].stamp == stamp:
            items.append(before[key])
            continue
        try:
            doc = pdf.extract(path, max_pages=PDF_PAGES)
        except pdf.PdfError as e:
            skipped.append(f"{key}: {e.message}")
            continue
        added = datetime.fromtimestamp(stat.st_mtime, UTC).replace(microsecond=0)
        items.append(
            Reference(
                key=key,
                title=doc.title or path.stem,
                abstract=doc.abstract,
                added=added.isoformat(),
                arxiv_id=find_arxiv_id([path.stem]),
                stamp=stamp,
            )
        )
    return items


def sources(cfg: RunConfig, on_damage: Callable[[str], None] | None = None) -> list[Source]:
    """What was imported, from where (``library``)."""
    return ImportedLibrary(cfg.paths.data, on_damage).sources


def forget(cfg: RunConfig, given: str) -> Source:
    """Remove one imported source (as listed, or its path as given)."""
    library = ImportedLibrary(cfg.paths.data)
    gone = library.remove(given) or library.remove(str(Path(given).expanduser().resolve()))
    if gone is None:
        listed = ", ".join(s.path for s in library.sources) or "none yet"
        raise UsageError(f"{given} was never imported — imported sources: {listed}")
    library.save()
    return gone


# ----------------------------------------------------------------------------- following


@dataclass(frozen=True)
class Followed:
    """The followed authors and keywords as the config file now has them, where it is,
    and the environment variables that override it (if set)."""

    authors: tuple[str, ...]
    keywords: tuple[str, ...]
    file: Path | None = None  # None: nothing was written
    overridden: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"authors": list(self.authors), "keywords": list(self.keywords)}


def follow(
    cfg: RunConfig, authors: Sequence[str], keywords: Sequence[str], *, remove: bool = False
) -> Followed:
    """Add (``remove``: take out) authors and keywords in the config file's settings; with
    none given, what is followed now."""
    if not authors and not keywords:
        return Followed(cfg.authors, cfg.keywords)
    file_values = config.config_file_values()
    now: dict[str, list[str]] = {}
    for name, given in (("authors", authors), ("keywords", keywords)):
        current = file_values.get(name, config.SETTINGS[name].default)
        values = list(config.SETTINGS[name].check(current, f"{name} in {config.config_path()}"))
        cleaned = [" ".join(g.split()) for g in given if g.strip()]
        if remove:
            drop = {c.casefold() for c in cleaned}
            values = [v for v in values if v.casefold() not in drop]
        else:
            known = {v.casefold() for v in values}
            values += [c for c in dict.fromkeys(cleaned) if c.casefold() not in known]
        now[name] = values
    path = config.config_path()
    for name, values in now.items():
        if values != file_values.get(name, config.SETTINGS[name].default):
            path = config.set_in_file(name, values)
    overridden = tuple(
        config.SETTINGS[n].env
        for n in ("authors", "keywords")
        if os.environ.get(config.SETTINGS[n].env)
    )
    return Followed(tuple(now["authors"]), tuple(now["keywords"]), path, overridden)
