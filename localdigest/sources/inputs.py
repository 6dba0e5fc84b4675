"""What the user named on the command line, as papers: PDF files, folders, arXiv ids or URLs.

``resolve`` works offline and fast: files and folders become ``PaperInput``s, arXiv ids
already in the library too; ids that are not there yet are listed to fetch. ``fetch``
downloads those (one batched metadata call, a progress callback per PDF). Bad inputs become
``PaperFailure``s and the rest go on; the same file named twice (directly, through a folder
or as an id) is summarized once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from localdigest.errors import InputError, NetworkError
from localdigest.papers import PaperFailure, PaperInput
from localdigest.sources.local import STDIN, display_path, keep_piped_pdf, pdfs_in

if TYPE_CHECKING:  # the library imports the arXiv stack: only for arXiv inputs
    from localdigest.sources.arxiv.client import ArxivClient
    from localdigest.sources.library import LibraryEntry, ProgressFn


@dataclass
class Resolved:
    """The inputs in the order given: papers on disk, and arXiv ids still to fetch."""

    items: list[PaperInput | str] = field(default_factory=list)  # str: an arXiv id to fetch
    failures: list[PaperFailure] = field(default_factory=list)

    @property
    def to_fetch(self) -> list[str]:
        return [i for i in self.items if isinstance(i, str)]


def resolve(args: Sequence[str], library: Path, piped: bytes | None = None) -> Resolved:
    """Turn arguments into papers without any network access (see the module docstring);
    arXiv ids are looked up in the paper library under ``library``. ``-`` is the PDF
    ``piped`` into standard input, kept in ``library/stdin`` by its hash."""
    out = Resolved()
    for arg in args:
        shown = display_path(Path(arg))  # CLI text may hold undecodable bytes
        try:
            if arg == STDIN:
                if piped is None:
                    raise InputError("'-': nothing was read from standard input — name a file")
                out.items.append(PaperInput(STDIN, keep_piped_pdf(piped, library / "stdin")))
            elif _is_arxiv(arg):
                out.items.append(_from_library(arg, library) or arg)
            else:
                out.items.extend(PaperInput(display_path(p), p) for p in pdfs_in(arg))
        except InputError as e:
            out.failures.append(PaperFailure(shown, e.message, int(e.exit_code)))
    return out


def fetch(
    resolved: Resolved,
    client: ArxivClient | None,
    library: Path,
    progress: ProgressFn | None = None,
) -> list[PaperInput]:
    """Download the arXiv papers still missing through ``client``; return every paper in
    order, each file once. Papers that cannot be fetched join ``resolved.failures``; arXiv
    unreachable raises ``NetworkError`` (it would fail every other paper the same way)."""
    wanted = resolved.to_fetch
    fetched: dict[str, PaperInput] = {}
    if wanted:
        assert client is not None, "arXiv papers to fetch need a client"
        from localdigest.sources.library import Library  # the arXiv stack: only to fetch

        for result in Library(library).fetch(wanted, client, progress=progress):
            if isinstance(result.error, NetworkError):
                raise result.error
            if result.entry is None:
                error = result.error or InputError(f"{result.input}: not fetched")
                resolved.failures.append(
                    PaperFailure(result.input, error.message, int(error.exit_code))
                )
            else:
                fetched[result.input] = library_paper(result.input, result.entry)
    papers: list[PaperInput] = []
    seen: set[Path] = set()
    for item in resolved.items:
        paper = fetched.get(item) if isinstance(item, str) else item
        if paper is None:
            continue
        real = paper.path.resolve()
        if real not in seen:
            seen.add(real)
            papers.append(paper)
    return papers


def _is_arxiv(arg: str) -> bool:
    """An arXiv id or URL that is not also a path on disk."""
    if Path(arg).expanduser().exists():
        return False
    from localdigest.sources.arxiv.ids import looks_like_arxiv

    return looks_like_arxiv(arg)


def _from_library(arg: str, root: Path) -> PaperInput | None:
    """The paper, if the library has it already (no network)."""
    from localdigest.sources.library import Library  # only for arXiv inputs

    entry = Library(root).find_entry(arg)
    return library_paper(arg, entry) if entry is not None else None


def library_paper(arg: str, entry: LibraryEntry) -> PaperInput:
    """A paper of the library, as named by ``arg``."""
    meta = entry.meta
    return PaperInput(
        source=arg,
        path=entry.pdf_path,
        title=meta.title,
        authors=list(meta.authors),
        url=meta.abs_url,
        arxiv_id=meta.arxiv_id,
    )
