"""``localdigest models``: the models found, the catalogue, a pull's progress; and the hint
under a summary the demo model wrote."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from localdigest.render.console import err, info, out, print_json

if TYPE_CHECKING:
    from localdigest.models.catalog import CatalogEntry
    from localdigest.models.guidance import DemoHint
    from localdigest.models.inventory import ModelRow
    from localdigest.models.pull import Pulled

SOURCE_NAMES = {
    "models-dir": "models folder",
    "embedded": "embedded",
    "ollama": "Ollama",
    "lmstudio": "LM Studio",
    "hf": "HF cache",
    "llama.cpp": "llama.cpp cache",
    "gpt4all": "GPT4All",
    "path": "path",
}


def size_text(n: int | None) -> str:
    if n is None:
        return "?"
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def params_text(n: int | None) -> str:
    if not n:
        return "?"
    return f"{n / 1e9:.1f}B" if n >= 1e9 else f"{n / 1e6:.0f}M"


def _home_short(path: Path) -> str:
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home) :] if home != "/" and text.startswith(home + "/") else text


def models_table(rows: Sequence[ModelRow], models_dir: Path) -> None:
    """One block per model: the name --model takes, then its facts, then its file. Names
    are never folded (they are meant to be copied), so this is a list, not a grid."""
    stores = len({r.model.source for r in rows})
    out.print(
        f"[bold]Models[/] [dim](models folder: {escape(str(models_dir))}; {len(rows)} found in "
        f"{stores} place{'s' if stores != 1 else ''})[/]",
        soft_wrap=True,
    )
    for r in rows:
        f, m = r.facts, r.model
        head = f"[bold]{escape(m.name)}[/]"
        if r.default:
            head += " [green](default)[/]"
        if m.label not in m.name:
            head += f"  [dim]{escape(m.label)}[/]"
        source = SOURCE_NAMES.get(m.source, m.source)
        if f.error:
            facts = f"{source} · {size_text(f.size)} · [red]unusable: {escape(f.error)}[/]"
        else:
            loads = {True: "loads", False: "[red]this llama.cpp can't load it[/]", None: "?"}
            parts = [
                source,
                size_text(f.size),
                f"{escape(f.arch)} {params_text(f.params)} {escape(f.quant)}",
                f"trained context {f.context or '?'}",
                "chat template" if f.chat_template else "[yellow]no chat template[/]",
                loads[r.loads],
                f"needs ~{size_text(r.ram)} at {r.n_ctx} tokens",
            ]
            facts = " · ".join(parts)
        out.print(head, soft_wrap=True, highlight=False)
        out.print(f"    {facts}", soft_wrap=True, highlight=False)
        out.print(f"    [dim]{escape(_home_short(m.path))}[/]", soft_wrap=True, highlight=False)
    if not any(r.model.source not in ("models-dir", "embedded") for r in rows):
        info(
            "[dim]No Ollama, LM Studio, Hugging Face, llama.cpp or GPT4All models found — "
            "`localdigest models pull --list` shows models worth getting.[/]"
        )


def models_json(rows: Sequence[ModelRow]) -> None:
    print_json([r.as_json() for r in rows])


def catalog_table(entries: Sequence[CatalogEntry], on_disk: set[str]) -> None:
    """The catalogue, one block per model (names and hub files are meant to be copied)."""
    out.print("[bold]Models worth pulling[/] [dim](localdigest models pull NAME)[/]")
    for e in entries:
        mark = " [green](downloaded)[/]" if e.name in on_disk else ""
        out.print(f"[bold]{escape(e.name)}[/]{mark}", soft_wrap=True, highlight=False)
        facts = (
            f"{escape(e.title)} · {e.params} parameters · {size_text(e.size)} · needs "
            f"~{size_text(e.ram)} RAM · licence {escape(e.license)}"
        )
        out.print(f"    {facts}", soft_wrap=True, highlight=False)
        out.print(f"    [dim]{escape(e.spec)}[/]", soft_wrap=True, highlight=False)
    info(
        "[dim]Sizes as their sources list them (the hub's own figure is used when pulling); "
        "RAM is an estimate: file + 1 GB. Where each fact comes from: "
        "localdigest/models/catalog.json.[/]"
    )


class _Bars:
    """``PullProgress`` as a rich bar: size, speed and time left."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def start(self, label: str, total: int, done: int) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(escape(label), total=total, completed=done)

    def advance(self, n: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)


class _Silent:
    def start(self, label: str, total: int, done: int) -> None:
        pass

    def advance(self, n: int) -> None:
        pass


@contextmanager
def pull_progress() -> Iterator[_Bars | _Silent]:
    """A progress bar on stderr when it is a terminal."""
    if not err.is_terminal:
        yield _Silent()
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        yield _Bars(progress)


def pulled(result: Pulled, config_file: Path | None) -> None:
    if not result.checked:
        state = "already in the hub cache (the hub was not asked: offline)"
    elif result.downloaded == 0:
        state = "already in the hub cache"
    else:
        resumed = ", resumed" if result.resumed else ""
        state = f"downloaded {size_text(result.downloaded)}{resumed}, sha256 checked"
    out.print(f"[bold]{escape(result.spec)}[/] — {state}", soft_wrap=True, highlight=False)
    out.print(f"  {escape(str(result.path))}", soft_wrap=True, highlight=False)
    if config_file is not None:
        info(f"Default model set in {escape(str(config_file))}")
    else:
        info(f"Use it: localdigest summarize PAPER.pdf -m {escape(result.spec)}")


def demo_hint(hint: DemoHint, *, to_stderr: bool) -> None:
    """Once, under the results: the demo model wrote this, and what to do instead."""
    console = err if to_stderr else out
    if hint.on_disk is not None:
        step = (
            f"a better model is already on disk: add [bold]-m {escape(hint.on_disk)}[/] "
            f"({params_text(hint.on_disk_params)} parameters)"
        )
    elif hint.pull is not None:
        step = (
            f"get a real one with [bold]localdigest models pull {escape(hint.pull.name)}[/] "
            f"({size_text(hint.pull.size)}), then add -m {escape(hint.pull.name)}"
        )
    else:
        step = "see `localdigest models pull --list` for models worth getting"
    console.print(
        f"[yellow]The model in use is the embedded demo model ({escape(hint.demo)}, 135M "
        "parameters): its own writing is rough and can be about something else (so, by default, "
        "the summary and its TL;DR are the paper's own key sentences).[/] "
        f"Next step: {step}. "
        "[dim](--quiet or `model_hint = false` in the config hides this.)[/]",
        soft_wrap=True,
        highlight=False,
    )
