"""The result of extraction: a Document of titled, classified sections."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

EXTRACTOR_VERSION = "1"

SECTION_KINDS = (
    "front",
    "abstract",
    "body",
    "contents",
    "acknowledgments",
    "references",
    "appendix",
)

_KEPT_KINDS = ("abstract", "body")


@dataclass(frozen=True)
class Section:
    heading: str  # e.g. "1 Introduction", "Abstract", "" for untitled front matter
    kind: str  # one of SECTION_KINDS
    text: str  # paragraphs separated by "\n\n", lines inside a paragraph joined with spaces
    page: int  # 1-based page where it starts
    # The (first, last) page of each paragraph of ``text``; empty when not known.
    paragraph_pages: tuple[tuple[int, int], ...] = ()

    def paragraphs(self) -> list[tuple[str, tuple[int, int]]]:
        """Each paragraph with the pages it is printed on (the section's page if unknown)."""
        paras = self.text.split("\n\n") if self.text else []
        if len(self.paragraph_pages) == len(paras):
            return list(zip(paras, self.paragraph_pages, strict=True))
        return [(p, (self.page, self.page)) for p in paras]

    def with_paragraphs(self, paragraphs: Sequence[tuple[str, tuple[int, int]]]) -> Section:
        """The same section holding only these paragraphs (with their pages)."""
        return replace(
            self,
            text="\n\n".join(p for p, _ in paragraphs),
            paragraph_pages=tuple(pages for _, pages in paragraphs),
        )


@dataclass
class Document:
    path: Path
    sha256: str
    pages: int
    title: str
    abstract: str
    sections: list[Section]
    warnings: list[str] = field(default_factory=list)
    # Text kept from the reader: the eval hands in a document without its abstract (and
    # without the sentences repeating it) and says which text that was; None: whole. A
    # summary's cache key holds it.
    withheld: str | None = None

    def kept(self, include_appendix: bool = False) -> list[Section]:
        """The sections worth summarizing: abstract and body (and appendix if asked)."""
        kinds = (*_KEPT_KINDS, "appendix") if include_appendix else _KEPT_KINDS
        return [s for s in self.sections if s.kind in kinds]

    def skipped(self, include_appendix: bool = False) -> list[Section]:
        kept = self.kept(include_appendix)
        return [s for s in self.sections if s not in kept]

    @property
    def text(self) -> str:
        parts = [f"{s.heading}\n\n{s.text}" if s.heading else s.text for s in self.sections]
        return "\n\n".join(p for p in parts if p)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
