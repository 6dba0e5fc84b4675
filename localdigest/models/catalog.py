"""A small catalogue of instruction models worth pulling (``catalog.json`` beside this
file holds the facts and where each one came from)."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from localdigest.models.inventory import physical_memory

CATALOG = Path(__file__).with_name("catalog.json")
RAM_ALLOWANCE = 1_000_000_000  # the rule for the RAM column: file size + 1 GB (an estimate)


@dataclass(frozen=True)
class CatalogEntry:
    name: str  # what `models pull` takes
    title: str
    params: str
    repo: str
    file: str
    size: int  # bytes, as the source listed them (the hub's figure is used when pulling)
    license: str
    note: str = ""
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def spec(self) -> str:
        return f"{self.repo}/{self.file}"

    @property
    def ram(self) -> int:
        """Estimated bytes needed to run it at the default context (the rule above)."""
        return self.size + RAM_ALLOWANCE

    def to_dict(self) -> dict[str, object]:
        """For ``models pull --list --format json``."""
        return {**asdict(self), "hub_file": self.spec, "ram": self.ram}


@functools.cache
def _data() -> dict[str, object]:
    data: dict[str, object] = json.loads(CATALOG.read_text(encoding="utf-8"))
    return data


def entries() -> list[CatalogEntry]:
    models = _data()["models"]
    assert isinstance(models, list)
    return [CatalogEntry(**m) for m in models]


def find(name: str) -> CatalogEntry | None:
    """The entry called ``name`` (or titled so), case-insensitively."""
    wanted = name.strip().lower()
    return next((e for e in entries() if wanted in (e.name, e.title.lower())), None)


def suggestion(cores: int | None = None, memory: int | None = None) -> CatalogEntry | None:
    """The entry to offer on this machine: the first in the catalogue's order whose
    minimum cores and memory it has (see ``suggest`` in catalog.json)."""
    cores = cores if cores is not None else (os.cpu_count() or 1)
    memory = memory if memory is not None else (physical_memory() or 0)
    suggest = _data()["suggest"]
    assert isinstance(suggest, dict)
    for rule in suggest["order"]:
        if cores >= rule["min_cores"] and memory >= rule["min_memory_gb"] * 1e9:
            return find(rule["name"])
    return None


def downloaded() -> set[str]:
    """Names of the entries whose file is in the hub cache."""
    from localdigest.models import stores

    have = {m.name.lower() for m in stores.scan("hf")}
    return {e.name for e in entries() if f"hf:{e.spec}".lower() in have}
