"""Local sources: PDF files and folders searched recursively for *.pdf."""

from __future__ import annotations

import os
from pathlib import Path

from localdigest.errors import InputError
from localdigest.text import visible


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
