"""Local sources: PDF files and folders searched recursively for *.pdf."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from localdigest.errors import InputError
from localdigest.fsutil import write_atomically
from localdigest.text import visible

STDIN = "-"  # the argument that means: a PDF piped into standard input
PIPE_HINT = "pipe a PDF into it, e.g. localdigest summarize - < paper.pdf"


def display_path(path: Path) -> str:
    """A path as text even when its name is not valid UTF-8 (each such byte as ``\\xNN``)
    or holds control characters (as escapes too: ``text.visible``)."""
    return visible(os.fsdecode(path))


def pdfs_in(arg: str) -> list[Path]:
    """The PDF files one argument names; InputError naming it when there are none."""
    path = Path(arg).expanduser()
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file())
        if not found:
            raise InputError(
                f"No PDF files in folder {display_path(path)} — point to PDFs or a "
                "folder that holds some"
            )
        return found
    if path.is_file():
        return [path]
    if path.exists():
        raise InputError(f"{display_path(path)} is not a regular file — pass a PDF file or folder")
    raise InputError(f"No such file or folder: {display_path(path)} — check the path")


def keep_piped_pdf(data: bytes, folder: Path) -> Path:
    """A PDF read from standard input, kept under ``folder`` named by its sha256 (the first
    16 digits: `ask` cites a paper by its file name): the cache knows a paper by its bytes,
    so piping the same PDF again (or naming its file) finds the same summary, and `digest`
    and `ask` find the file later. InputError when ``data`` is no PDF (a PDF's ``%PDF-``
    header may follow up to 1 KB of other bytes)."""
    if not data:
        raise InputError(f"Standard input is empty — {PIPE_HINT}")
    if b"%PDF-" not in data[:1024]:
        start = visible(data[:24].decode("utf-8", "replace"))
        raise InputError(f"Standard input is not a PDF (it starts with {start!r}) — {PIPE_HINT}")
    path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}.pdf"
    if not (path.is_file() and path.read_bytes() == data):
        write_atomically(path, data)
    return path
