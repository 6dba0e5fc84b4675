"""The line under a summary written by the embedded demo model: what it is, and the best
next step on this machine (a better model already on disk, else one to pull).

It ends every plain ``summarize``, so it stays cheap: the stores are listed (names and
magic bytes, no header), header facts come from the index ``localdigest models`` keeps, and
headers not yet indexed are read only for ``HINT_SECONDS`` (the rest on later runs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from localdigest.models.catalog import CatalogEntry, suggestion
from localdigest.models.inventory import MEMORY_SHARE, ModelRow, physical_memory, rows_for
from localdigest.models.resolve import embedded_model_path, found_models

MIN_PARAMS = 500_000_000  # a model worth pointing to instead of the 135M demo
MAX_PARAMS = 9_000_000_000  # beyond this a laptop CPU takes minutes per call
HINT_SECONDS = 0.5  # for reading headers the index does not know yet


@dataclass(frozen=True)
class DemoHint:
    demo: str  # the demo model's file name
    on_disk: str | None  # a better model's --model name, when one was found
    on_disk_params: int | None
    pull: CatalogEntry | None  # else a catalogue model to pull


def better_on_disk(rows: Iterable[ModelRow], memory: int | None) -> ModelRow | None:
    """The biggest usable chat model found that fits in memory (up to ~9B)."""
    embedded = embedded_model_path()
    fits = [
        r
        for r in rows
        if r.facts.error is None
        and r.facts.chat_template
        and r.loads is not False
        and r.model.real != embedded
        and MIN_PARAMS <= (r.facts.params or 0) <= MAX_PARAMS
        and (memory is None or r.ram is None or r.ram <= memory * MEMORY_SHARE)
    ]
    return max(fits, key=lambda r: (r.facts.params or 0, -r.facts.size), default=None)


def demo_hint(model_names: Iterable[str], directory: Path, home: Path) -> DemoHint | None:
    """A hint when one of ``model_names`` (the models that wrote some summaries) is the
    embedded demo model; None otherwise. ``directory``: the models folder; ``home``: where
    the header index is."""
    embedded = embedded_model_path()
    if embedded is None or embedded.name not in set(model_names):
        return None
    rows = rows_for(found_models(directory), home, budget=HINT_SECONDS)
    best = better_on_disk(rows, physical_memory())
    if best is not None:
        return DemoHint(embedded.name, best.model.name, best.facts.params, None)
    return DemoHint(embedded.name, None, None, suggestion())
