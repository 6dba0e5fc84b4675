"""The package's layout: the stages are folders, imports point down, no cycles, no giants.

Every ``import`` in the package is read with ``ast``: module level, inside functions, and
inside ``if TYPE_CHECKING:`` blocks too (an import only for types is still a dependency: a
cycle hidden there is a cycle). ``from pkg import name`` counts as importing ``pkg.name``
when that is a module, else ``pkg``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "localdigest"

# Each top-level part of the package and its layer: a module may import its own part and
# parts of a lower layer, never a higher one (cli -> render -> workflows -> publish ->
# summarize -> the stages below it -> the shared basics).
LAYERS = {
    "errors": 0,
    "defaults": 0,
    "text": 0,
    "papers": 0,
    "fsutil": 1,  # its writes fail as StorageError/UsageError (errors)
    "net": 1,  # the one HTTP client: below every stage that talks to a server
    "config": 2,
    # Finding models: below llm/ (which runs them) and beside config, so it reads no
    # setting (the callers pass the models folder, the home and the model setting).
    "models": 2,
    "cache": 3,
    "index": 3,  # the passage index: SQLite, its own types and BM25 (terms come from above)
    "pdf": 3,
    "llm": 3,
    "sources": 3,
    "summarize": 4,
    "publish": 5,
    "workflows": 6,
    "eval": 7,
    "render": 8,
    "cli": 9,
    "__main__": 10,
}
MAX_LINES = 700


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """The localdigest modules ``name`` imports at run time."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
            ]
        else:
            continue
        found |= {t for t in targets if t in MODULES and t != name}
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def part(name: str) -> str:
    return name.split(".")[1] if "." in name else "(package)"


def test_every_part_has_a_layer() -> None:
    assert {part(m) for m in MODULES} - {"(package)"} <= set(LAYERS)


def test_imports_point_down() -> None:
    upward = [
        f"{a} -> {b}"
        for a, targets in GRAPH.items()
        for b in targets
        if part(a) in LAYERS
        and part(b) in LAYERS
        and part(a) != part(b)
        and LAYERS[part(b)] >= LAYERS[part(a)]
    ]
    assert upward == []


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return cycles


def test_no_import_cycle() -> None:
    assert find_cycles(GRAPH) == []


def test_the_cycle_check_can_fail() -> None:
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_a_giant(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


def test_heavy_libraries_stay_in_their_stage() -> None:
    """rich only in render/, llama_cpp only in llm/ (and pdf's library-order loader)."""
    allowed = {"rich": ("render",), "llama_cpp": ("llm", "pdf.mupdf")}
    wrong = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            mods = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            for mod in mods:
                root = mod.split(".")[0]
                if root in allowed and not any(
                    name.removeprefix("localdigest.").startswith(a) for a in allowed[root]
                ):
                    wrong.append(f"{name} imports {mod}")
    assert wrong == []


STAGES = ("cache", "llm", "models", "net", "pdf", "publish", "sources", "summarize")


def test_no_stage_reads_the_settings() -> None:
    """Settings are resolved once, in the CLI, into a RunConfig the workflows hand down:
    no stage imports ``config`` (it takes what it needs as arguments)."""
    readers = sorted(m for m, targets in GRAPH.items() if "localdigest.config" in targets)
    assert [m for m in readers if part(m) in STAGES] == []
    assert readers  # the check sees the imports it forbids (the workflows have them)
