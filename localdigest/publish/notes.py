"""Export summaries as Markdown notes for a notes vault (Obsidian, Logseq, plain folders).

One note per paper, ``<title-slug>.md``, with YAML front matter (title, authors, arXiv id,
categories, dates, tags, model, sha256, the BibTeX citation key) and a generated body
between two marker comments. Re-exporting finds a paper's note by its arXiv id or PDF
sha256 in the front matter and updates it in place: the file keeps its name, front-matter
keys the user added and anything written below the end marker survive.

Safety: a note's or attachment's name comes from ``slugify`` (one path component, no leading
dot, bounded length, unicode-normalized) and every path is checked to stay inside the
vault folder before anything is written, so no metadata can write elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal
from urllib.parse import quote

from localdigest.errors import InputError, LocaldigestError, StorageError, UsageError
from localdigest.fsutil import copy_atomically, open_inside, write_atomically
from localdigest.papers import PaperSummary
from localdigest.pdf.figures import KeyFigure
from localdigest.publish.bibtex import PaperExtras, citation_keys, identity
from localdigest.publish.formats import md_summary, with_pages
from localdigest.publish.markup import file_uri, md_inline, md_link, md_text, safe_url, yaml_str
from localdigest.text import one_line

START = "<!-- localdigest:start — generated; re-exporting replaces this part -->"
END = "<!-- localdigest:end — write your own notes below this line -->"
ATTACHMENTS = "attachments"
PDF_MAGIC = b"%PDF-"  # within the first KiB of anything copied as a PDF
MAX_SLUG = 80  # characters; also kept under MAX_SLUG_BYTES in UTF-8
MAX_SLUG_BYTES = 160  # file systems allow 255 bytes per name: room for "-<id>.md"
WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{p}{n}" for p in ("com", "lpt") for n in range(10)
}
OUR_KEYS = (
    "title",
    "authors",
    "arxiv_id",
    "categories",
    "published",
    "date",
    "tags",
    "model",
    "written_by",
    "source",
    "pdf",
    "sha256",
    "citekey",
)

Status = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class NoteResult:
    summary: PaperSummary
    path: Path
    status: Status
    warning: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """For ``--format json``: which paper, its note, and what happened to it."""
        s = self.summary
        return {
            "title": s.title,
            "arxiv_id": s.arxiv_id,
            "sha256": s.sha256,
            "path": str(self.path),
            "status": self.status,
            "warning": self.warning,
        }


# ----------------------------------------------------------------------------- names


def slugify(text: str, max_chars: int = MAX_SLUG) -> str:
    """A safe file-name stem: one path component, no leading dot, bounded, normalized.

    Accents are dropped (``Résumé`` -> ``resume``), other scripts are kept (``注意力``),
    anything that is not a letter or digit becomes a single ``-``.
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = unicodedata.normalize("NFC", text).casefold()
    slug = re.sub(r"[^\w]+|_+", "-", text).strip("-.")
    slug = slug[:max_chars]
    while len(slug.encode("utf-8")) > MAX_SLUG_BYTES:
        slug = slug[:-1]
    slug = slug.strip("-.")
    if not slug:
        return "paper"
    if slug in WINDOWS_RESERVED:
        slug += "-paper"
    return slug


def paper_tag(summary: PaperSummary) -> str:
    """A short unique suffix: the arXiv id, else the PDF hash."""
    if summary.arxiv_id:
        return slugify(summary.arxiv_id.replace("/", "-"))
    return summary.sha256[:10] or "x"


def _inside(root: Path, path: Path) -> Path:
    """``path`` if it (resolved) lies within ``root``; refuse anything else."""
    real_root = root.resolve()
    if path.parent.resolve() != real_root and not path.resolve().is_relative_to(real_root):
        raise InputError(f"Refusing to write {path}: it is outside {root}")
    return path


# ----------------------------------------------------------------------------- front matter


def front_matter(
    summary: PaperSummary,
    extras: PaperExtras,
    tags: Sequence[str],
    pdf_link: str,
    citekey: str | None = None,
) -> dict[str, str | list[str] | None]:
    return {
        "title": one_line(summary.title),
        "authors": list(summary.authors),
        "arxiv_id": summary.arxiv_id,
        "categories": list(extras.categories),
        "published": extras.published,
        "date": summary.created[:10] or None,
        "tags": [re.sub(r"\s+", "-", t.strip()).lstrip("#") for t in tags if t.strip()],
        "written_by": summary.written_by,
        "source": summary.url or summary.source,
        "pdf": pdf_link,
        "sha256": summary.sha256,
        "citekey": citekey,  # the key of its entry in `export --bibtex` (publish.bibtex)
    }


def dump_front_matter(fields: dict[str, str | list[str] | None]) -> list[str]:
    lines = []
    for key, value in fields.items():
        if isinstance(value, list):
            lines.append(f"{key}:" + ("" if value else " []"))
            lines += [f"  - {yaml_str(str(v))}" for v in value]
        elif value is None:
            lines.append(f"{key}: null")
        else:
            lines.append(f"{key}: {yaml_str(str(value))}")
    return lines


def split_note(text: str) -> tuple[list[str], str]:
    """(front-matter lines, the rest) of a note; no front matter gives ([], text)."""
    if not text.startswith("---\n"):
        return [], text
    end = text.find("\n---", 3)
    if end < 0:
        return [], text
    rest = text[end + 4 :]
    return text[4:end].split("\n"), rest.removeprefix("\n")


def _blocks(lines: list[str]) -> list[tuple[str, list[str]]]:
    """Front matter cut into top-level (key, lines) blocks; enough for our own keys."""
    blocks: list[tuple[str, list[str]]] = []
    for line in lines:
        match = re.match(r"^([^\s#:-][^:]*):(?:\s|$)", line)
        if match:
            blocks.append((match[1].strip(), [line]))
        elif blocks:
            blocks[-1][1].append(line)
        else:
            blocks.append(("", [line]))
    return blocks


def scalar(lines: list[str], key: str) -> str | None:
    """The value of a top-level scalar key, however it is quoted (users edit these)."""
    for name, block in _blocks(lines):
        if name != key:
            continue
        raw = block[0].split(":", 1)[1].strip()
        if raw.startswith('"'):
            try:
                return str(json.loads(raw))
            except ValueError:
                return raw.strip('"')
        if raw.startswith("'"):
            return raw.strip("'").replace("''", "'")
        return None if raw in ("", "null", "~") else raw
    return None


# ----------------------------------------------------------------------------- the note


def note_body(summary: PaperSummary, pdf_link: str, figure: tuple[str, str] | None = None) -> str:
    """The generated part of a note; ``figure`` is (its label, the link to its PNG). Every
    text from the paper, its metadata, its file name or the model is escaped
    (``publish.markup``): none of it can become a heading, a link, HTML, or one of our own
    marker lines."""
    label = "arXiv:" + summary.arxiv_id if summary.arxiv_id else "Link"
    lines = [f"# {md_inline(summary.title)}", ""]
    if summary.authors:
        lines += [f"*{md_inline(', '.join(summary.authors))}*", ""]
    if figure is not None and (image := safe_url(figure[1], relative=True)):
        lines += [f"![{md_inline(figure[0])}](<{image}>)", ""]
    if summary.tldr.strip():
        lines += [f"**TL;DR:** {with_pages(summary, 'tldr', lambda t: md_text(one_line(t)))}", ""]
    body = md_summary(summary) or "(no summary)"
    lines += ["## Summary", "", body, ""]
    name = Path(summary.path).name or "paper.pdf"
    links = [f"- PDF: {md_link(name, pdf_link, relative=True)}"]
    if url := safe_url(summary.url):
        links.append(f"- {md_inline(label)}: <{url}>")
    credit = summary.credit[:1].upper() + summary.credit[1:]
    by = f"*{md_inline(credit)}, {md_inline(summary.created)}.*"
    lines += ["## Links", "", *links, "", by]
    return "\n".join(lines)


def render_note(
    fields: dict[str, str | list[str] | None], body: str, existing: str | None = None
) -> str:
    """The note's text; an ``existing`` note keeps its extra keys and the user's own notes."""
    own_keys: list[str] = []
    user_part = "\n"
    if existing is not None:
        lines, rest = split_note(existing)
        own_keys = [ln for key, block in _blocks(lines) if key not in OUR_KEYS for ln in block]
        if END in rest:
            user_part = rest.split(END, 1)[1]
        elif START not in rest and rest.strip():
            user_part = "\n\n" + rest.strip() + "\n"  # a note written before the markers
    matter = dump_front_matter(fields) + own_keys
    return "\n".join(["---", *matter, "---", START, body, END]) + user_part


# ----------------------------------------------------------------------------- export


def index_notes(folder: Path) -> dict[str, Path]:
    """``arxiv:<id>`` and ``sha256:<hash>`` -> the note that holds it, for every note."""
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.md")):
        if not path.is_file() or path.is_symlink():
            continue
        try:
            head = path.read_text(encoding="utf-8")[:20000]
        except (OSError, UnicodeDecodeError):
            continue
        lines, _ = split_note(head)
        for key in ("arxiv_id", "sha256"):
            value = scalar(lines, key)
            if value:
                found.setdefault(f"{key.split('_')[0]}:{value}", path)
    return found


def _find_note(index: dict[str, Path], summary: PaperSummary) -> Path | None:
    if summary.arxiv_id and f"arxiv:{summary.arxiv_id}" in index:
        return index[f"arxiv:{summary.arxiv_id}"]
    return index.get(f"sha256:{summary.sha256}") if summary.sha256 else None


def _new_note_path(folder: Path, summary: PaperSummary, taken: set[Path]) -> Path:
    stem = slugify(summary.title)
    path = folder / f"{stem}.md"
    if path.exists() or path.is_symlink() or path in taken:
        path = folder / f"{stem}-{paper_tag(summary)}.md"
    n = 2
    while path.exists() or path.is_symlink() or path in taken:
        path = folder / f"{stem}-{paper_tag(summary)}-{n}.md"
        n += 1
    return _inside(folder, path)


def _copy_pdf(folder: Path, summary: PaperSummary, stem: str, library: Path | None) -> str:
    """Copy the PDF into ``attachments/``; return the note's relative link to it.

    The path comes from the cache, which a shared home makes untrusted: a PDF in the
    library is read only through ``open_inside`` (no planted link out of it), and
    whatever is copied must start like a PDF."""
    source = Path(summary.path)
    if not source.is_file():
        raise InputError(f"The PDF of '{summary.title}' is gone ({source}) — cannot copy it")
    kept = library is not None and source.absolute().is_relative_to(library.absolute())
    try:
        opened = open_inside(source, library) if library and kept else source.open("rb")
    except OSError as e:
        raise InputError(f"Cannot read {source} ({e.strerror or e}) — check the file") from e
    with opened:
        if PDF_MAGIC not in opened.read(1024):
            raise InputError(f"{source} is not a PDF — not copying it into the notes")
        opened.seek(0)
        return _attach(folder, opened, f"{stem}.pdf")


def _attach(folder: Path, source: BinaryIO | bytes, name: str) -> str:
    """Copy ``source`` (an open file, or bytes) into ``attachments/`` as ``name``; return
    the relative link."""
    attachments = folder / ATTACHMENTS
    if attachments.is_symlink() or (attachments.exists() and not attachments.is_dir()):
        raise InputError(f"{attachments} is not a plain folder — not copying PDFs into it")
    attachments.mkdir(exist_ok=True)
    target = _inside(folder, attachments / name)
    if target.is_symlink():
        target.unlink()
    size = len(source) if isinstance(source, bytes) else os.fstat(source.fileno()).st_size
    if not (target.is_file() and target.stat().st_size == size):
        # A fresh temporary file (never a name planted in the vault), renamed and checked.
        if isinstance(source, bytes):
            write_atomically(target, source, inside=attachments)
        else:
            copy_atomically(source, target, inside=attachments)
    return f"{ATTACHMENTS}/{quote(target.name)}"


def export_notes(
    summaries: Sequence[PaperSummary],
    folder: Path,
    *,
    tags: Sequence[str],
    copy_pdf: bool = False,
    extras: dict[str, PaperExtras] | None = None,
    figures: dict[str, KeyFigure] | None = None,
    library: Path | None = None,
) -> list[NoteResult]:
    """Write or update one note per paper in ``folder``; return what happened to each.
    PDFs copied from the ``library`` (in a home that may be shared) are read without
    following links out of it.

    A paper with a key figure in ``figures`` (by sha256) shows it: copied into
    ``attachments/`` with ``copy_pdf``, else linked where the library keeps it."""
    folder = folder.expanduser()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--notes {folder} is a file — give a folder (the vault or a subfolder)")
    folder.mkdir(parents=True, exist_ok=True)
    tags = list(tags)
    figures = figures or {}
    extras = extras or {}
    index = index_notes(folder)
    keys = citation_keys(summaries, extras)
    taken: set[Path] = set()
    results = []
    for summary in summaries:
        path = _find_note(index, summary) or _new_note_path(folder, summary, taken)
        _inside(folder, path)
        taken.add(path)
        warning = None
        pdf_link = file_uri(summary.path)
        if copy_pdf:
            try:
                pdf_link = _copy_pdf(folder, summary, path.stem, library)
            except InputError as e:  # the note is still worth writing, with the old link
                warning = e.message
        fields = front_matter(
            summary,
            extras.get(summary.arxiv_id or "", PaperExtras()),
            tags,
            pdf_link,
            keys[identity(summary)],
        )
        found = figures.get(summary.sha256)
        figure = _figure_link(folder, found, path.stem, copy_pdf) if found else None
        existing = path.read_text(encoding="utf-8") if path.is_file() else None
        text = render_note(fields, note_body(summary, pdf_link, figure), existing)
        if existing == text:
            status: Status = "unchanged"
        else:
            if path.is_symlink():
                path.unlink()  # replace the link itself, never the file it points to
            write_atomically(path, text, inside=folder)
            status = "updated" if existing is not None else "created"
        if summary.arxiv_id:
            index[f"arxiv:{summary.arxiv_id}"] = path
        index[f"sha256:{summary.sha256}"] = path
        results.append(NoteResult(summary, path, status, warning))
    return results


def _figure_link(folder: Path, figure: KeyFigure, stem: str, copy: bool) -> tuple[str, str] | None:
    """(label, link) of the paper's key figure for its note; None when its file is no
    image of ours (gone, a planted link, not a PNG or JPEG)."""
    image = figure.read()
    if image is None:
        return None
    if copy:
        suffix = ".png" if image[1] == "image/png" else ".jpg"
        try:
            return figure.label, _attach(folder, image[0], f"{stem}-figure{suffix}")
        except (InputError, OSError, StorageError):
            pass  # the note links the library's copy instead
    return figure.label, figure.path.resolve().as_uri()


def library_extras(summaries: Sequence[PaperSummary], root: Path) -> dict[str, PaperExtras]:
    """Categories and publication dates from the paper library under ``root``, where it
    has the paper."""
    from localdigest.sources.library import Library  # the arXiv stack: only for notes

    library = Library(root)
    found: dict[str, PaperExtras] = {}
    for s in summaries:
        if not s.arxiv_id:
            continue
        try:
            entry = library.find_entry(s.arxiv_id)
        except LocaldigestError:  # metadata is a nicety: a bad id must not stop the export
            entry = None
        if entry is not None:
            meta = entry.meta
            found[s.arxiv_id] = PaperExtras(
                categories=tuple(meta.categories),
                published=meta.published.date().isoformat() if meta.published else None,
                primary_category=meta.primary_category or None,
                doi=meta.doi,
                journal_ref=meta.journal_ref,
            )
    return found
