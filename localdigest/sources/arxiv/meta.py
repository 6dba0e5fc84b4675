"""What localdigest knows about an arXiv paper, whichever feed it came from, and filters."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from localdigest.errors import UsageError
from localdigest.sources.arxiv.ids import ArxivId, parse_arxiv_id
from localdigest.text import one_line

if TYPE_CHECKING:
    import arxiv


@dataclass(frozen=True)
class PaperMeta:
    """What localdigest knows about one paper, whichever feed it came from."""

    arxiv_id: str  # base id, no version: the key for de-duplication
    version: int | None
    title: str
    authors: tuple[str, ...]
    abstract: str
    categories: tuple[str, ...]
    primary_category: str
    published: datetime | None
    updated: datetime | None
    abs_url: str
    pdf_url: str
    doi: str | None = None
    comment: str | None = None
    journal_ref: str | None = None
    announce_type: str | None = None  # only from the daily feed: new / cross / replace

    @property
    def id(self) -> ArxivId:
        return ArxivId(self.arxiv_id, self.version)

    @property
    def versioned_id(self) -> str:
        return str(self.id)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["authors"] = list(self.authors)
        data["categories"] = list(self.categories)
        for key in ("published", "updated"):
            value = data[key]
            data[key] = value.isoformat() if value else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PaperMeta:
        """Read what ``to_dict`` wrote (meta.json, a run plan): every field is checked,
        so a damaged or edited file raises ValueError instead of failing later."""
        if not isinstance(data, dict):
            raise ValueError(f"a paper's metadata is {type(data).__name__}, not an object")
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("arxiv_id", "title", "abstract", "primary_category", "abs_url", "pdf_url"):
            values[key] = _text(values, key, required=key == "arxiv_id")
        for key in ("doi", "comment", "journal_ref", "announce_type"):
            values[key] = _text(values, key) or None
        version = values.get("version")
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise ValueError(f"version {version!r} is not a number")
        ArxivId(values["arxiv_id"], version)  # ValueError for anything but a real id
        values["version"] = version
        for key in ("authors", "categories"):
            items = values.get(key) or ()
            if not isinstance(items, list | tuple) or not all(isinstance(x, str) for x in items):
                raise ValueError(f"{key} is not a list of texts")
            values[key] = tuple(items)
        for key in ("published", "updated"):
            values[key] = _when(values.get(key))
        return cls(**values)

    @classmethod
    def from_result(cls, result: arxiv.Result) -> PaperMeta:
        """Convert one ``arxiv.Result`` (2016 or 2026 API format)."""
        aid = parse_arxiv_id(result.entry_id)
        return cls(
            arxiv_id=aid.base,
            version=aid.version,
            title=_clean(result.title),
            authors=tuple(_clean(a.name) for a in result.authors),
            # 2016 abstracts are hard-wrapped at 80 columns and start with two spaces.
            abstract=_clean(result.summary),
            categories=tuple(result.categories),
            primary_category=result.primary_category
            or (result.categories[0] if result.categories else ""),
            published=result.published,
            updated=result.updated,
            # Canonical https links: the 2016 format gives http://.
            abs_url=aid.abs_url,
            pdf_url=aid.pdf_url(),
            doi=result.doi or None,
            comment=_clean(result.comment) if result.comment else None,
            journal_ref=_clean(result.journal_ref) if result.journal_ref else None,
        )


def _text(values: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = values.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{key} {value!r} is not a text")
    return value


def _when(raw: object) -> datetime | None:
    """An ISO date and time, in UTC when it names no time zone."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise ValueError(f"date {raw!r} is not a text")
    when = datetime.fromisoformat(raw)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# "Ã" + a continuation byte read as Latin-1: UTF-8 text decoded twice ("RamÃ­rez"), as in
# the recorded 2026 API response. Such pairs practically never occur in real text.
_MOJIBAKE_RE = re.compile("[\u00c2-\u00f4][\u0080-\u00bf]")


def _clean(text: str) -> str:
    """One line, with doubly-decoded UTF-8 repaired when the whole text allows it."""
    text = one_line(text)
    if _MOJIBAKE_RE.search(text):
        try:
            return text.encode("latin-1").decode("utf-8")
        except UnicodeError:
            pass  # not mojibake after all (or mixed with other characters): keep it
    return text


@dataclass(frozen=True)
class Filters:
    """Which listed papers to keep: any of ``categories`` (in the query), any ``include``
    phrase and no ``exclude`` phrase (case-insensitive, in the title or abstract)."""

    categories: tuple[str, ...]
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def keeps(self, meta: PaperMeta) -> bool:
        haystack = f"{meta.title} {meta.abstract}".casefold()
        phrases = [one_line(p).casefold() for p in self.include if p.strip()]
        if phrases and not any(p in haystack for p in phrases):
            return False
        return not any(one_line(p).casefold() in haystack for p in self.exclude if p.strip())


_CATEGORY_RE = re.compile(r"[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?")


def check_categories(categories: Sequence[str]) -> list[str]:
    for cat in categories:
        if not _CATEGORY_RE.fullmatch(cat):
            raise UsageError(f"{cat!r} is not an arXiv category — use e.g. cs.CL or stat.ML")
    return list(dict.fromkeys(categories))
