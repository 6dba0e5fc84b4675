"""PyMuPDF, imported on first use (after llama.cpp's libraries) and kept quiet."""

from __future__ import annotations

import contextlib
from typing import Any


def load_pymupdf() -> Any:
    """PyMuPDF, imported on first use (~0.15 s: cached reruns never need it), after
    llama.cpp's libraries.

    A CUDA build of llama.cpp segfaults while loading a model when MuPDF's libraries were
    loaded first (seen on an H100: crash in llama_model_load_from_file; the other order
    works), so llama_cpp goes first whenever it is installed.
    """
    with contextlib.suppress(ImportError):
        import llama_cpp  # noqa: F401
    import pymupdf

    # MuPDF prints repair messages ("syntax error: no XObject subtype") straight to the
    # terminal; what they mean for the user is said by our own checks and warnings.
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    return pymupdf
