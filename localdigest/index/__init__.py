"""The passage index behind ``ask``: papers read, cut into passages, searched with BM25.

``store``: the SQLite FTS5 file next to the cache (``PassageIndex``: add, search, repair);
``rank``: BM25F over a passage, its section and its title, and whether the best passage
answers at all. The passages and their stemmed terms come from ``summarize/passages.py``.
"""

from __future__ import annotations

from localdigest.index.store import (
    Found,
    Hit,
    IndexedPaper,
    Passage,
    PassageIndex,
    Query,
)

__all__ = ["Found", "Hit", "IndexedPaper", "Passage", "PassageIndex", "Query"]
