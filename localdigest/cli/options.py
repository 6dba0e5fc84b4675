"""Options declared once, for every command that takes them, and the parsers of their values.

A flag that several commands share (``--model``, ``--threads``, ``--since`` ...) is one
``Annotated`` alias here, with one help text. The output formats each command can write are
``Literal`` choices declared here too.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Literal

import typer

from localdigest.errors import UsageError
from localdigest.papers import ModeSetting, Style

# What each command can write.
SummaryFormat = Literal["table", "markdown", "json"]  # summarize, show
TableFormat = Literal["table", "json"]  # every other command that reports something
DigestFormat = Literal["markdown", "json", "html"]  # digest
AskFormat = Literal["text", "markdown", "json"]  # ask

# --format on every command that reports something: for people (a table, or lines), or
# JSON for scripts (render.console.print_json writes it).
FormatOpt = Annotated[
    TableFormat, typer.Option("--format", "-f", help="table (for people) or json (for scripts).")
]

ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="GGUF path, or a file name/stem in the models folder (see `localdigest models`).",
    ),
]
NCtxOpt = Annotated[
    int | None, typer.Option(help="Context size (default: trained context, max 4096).")
]
GpuLayersOpt = Annotated[
    int | None, typer.Option(help="Layers offloaded to the GPU (-1 = all; needs a GPU build).")
]
ThreadsOpt = Annotated[
    int | None, typer.Option(help="CPU threads (default: one per physical core).")
]
MaxTokensOpt = Annotated[
    int | None, typer.Option(help="Most tokens in each summary paragraph (default 320).")
]
ServerOpt = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        help="Send every model call to this OpenAI-compatible server, e.g. "
        "http://127.0.0.1:8080/v1 (llama-server, vLLM, Ollama, LM Studio), or `ollama` "
        "($OLLAMA_HOST) or `lmstudio` (port 1234) by name (config: server).",
    ),
]
ServerModelOpt = Annotated[
    str | None,
    typer.Option(help="Which of the server's models (default: its only one)."),
]
ParallelOpt = Annotated[
    int | None,
    typer.Option(
        metavar="N",
        help="Model calls in flight at once, over all papers (with --server; default: the "
        "server's slots, else 4).",
    ),
]
# The ranges of these values are declared once, in config.SETTINGS, and checked there for
# flags, environment and config file alike.
TemperatureOpt = Annotated[
    float | None, typer.Option(help="Sampling temperature, 0 to 2 (default 0.2).")
]
SeedOpt = Annotated[
    int | None, typer.Option(help="Sampling seed, 0 or more (default 42: reruns are reproducible).")
]
StyleOpt = Annotated[
    Style,
    typer.Option(
        help="paragraph (newsletter, default; extract mode: what the paper claims, then "
        "what the abstract does not say), bullets (claims/method/results/limits), card "
        "(labelled Claim/Method/Results/Limitations lines) or tldr (one sentence)."
    ),
]
ReadAllOpt = Annotated[
    bool,
    typer.Option(
        "--read-all",
        help="Read every section whole (default: the leading paragraphs of long "
        "sections; related work skipped).",
    ),
]
ModeOpt = Annotated[
    ModeSetting | None,
    typer.Option(
        help="How the summary is written: write (the model, from its notes), extract (the "
        "paper's own key sentences, the TL;DR one of them), rewrite (the model rewrites "
        "them), auto (default: extract for models under 1B parameters, else write). Every "
        "sentence is then traced to its pages.",
    ),
]
AnswerModeOpt = Annotated[
    ModeSetting | None,
    typer.Option(
        "--mode",
        help="Who answers: auto (default: a model of 1B parameters or more, or a server's, "
        "writes a short answer from the quotes, each sentence cited; with a smaller one the "
        "quotes are the answer), extract (the quotes only, no model), write or rewrite (the "
        "model writes, whatever its size; config: mode).",
    ),
]
StructuredNotesOpt = Annotated[
    bool,
    typer.Option(
        "--structured-notes",
        help="Write mode: the notes on each chunk fill a fixed structure (claim, method, "
        "results, limitation) through llama.cpp's grammar support.",
    ),
]
RefreshOpt = Annotated[bool, typer.Option(help="Recompute, ignoring the cache.")]
NoFiguresOpt = Annotated[
    bool,
    typer.Option(
        "--no-figures", help="Leave out each paper's key figure (default: shown when found)."
    ),
]
SinceOpt = Annotated[
    str | None, typer.Option(metavar="YYYY-MM-DD", help="Papers summarized since this day.")
]
SubmittedSinceOpt = Annotated[
    str | None, typer.Option(metavar="YYYY-MM-DD", help="Only papers submitted since.")
]
LastOpt = Annotated[
    int | None, typer.Option(metavar="N", help="The N papers summarized most recently.")
]
CategoryOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--category", "-c", help="arXiv category; repeat for several (config: categories)."
    ),
]
IncludeOpt = Annotated[
    list[str] | None,
    typer.Option(help="Keep papers whose title/abstract has this phrase (any; config: include)."),
]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option(help="Hide papers whose title/abstract has this phrase (config: exclude)."),
]
PaperIdsArg = Annotated[
    list[str] | None,
    typer.Argument(help="Papers: key prefix, arXiv id, sha256 prefix or title words."),
]


def parse_day(text: str | None, flag: str = "--since") -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a date — use YYYY-MM-DD") from None


@dataclass(frozen=True)
class Selection:
    """Which papers of a numbered list: ``1,4,7``, ``2-5``, ``all`` or ``none``."""

    everything: bool
    numbers: tuple[tuple[int, int], ...]  # (first, last) ranges, 1-based, as given
    spec: str
    label: str  # the flag it came from, for messages ("--fetch "), or ""

    @classmethod
    def parse(cls, spec: str, label: str = "") -> Selection:
        """Check the syntax (no list needed yet)."""
        text = spec.strip().lower()
        if text == "all":
            return cls(True, (), spec, label)
        if text in ("", "none", "0"):
            return cls(False, (), spec, label)
        ranges = []
        for part in re.split(r"[,\s]+", text):
            if not part:
                continue
            match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
            if not match:
                raise UsageError(
                    f"{label}'{spec}' is not a list of numbers — use e.g. 1,4,7 or 2-5 or all"
                )
            ranges.append((int(match[1]), int(match[2] or match[1])))
        return cls(False, tuple(ranges), spec, label)

    def pick(self, count: int) -> list[int]:
        """The 1-based numbers chosen from a list of ``count``, each once, in order given."""
        if self.everything:
            return list(range(1, count + 1))
        numbers: list[int] = []
        for first, last in self.numbers:
            if first < 1 or last < first or last > count:
                part = str(first) if first == last else f"{first}-{last}"
                raise UsageError(
                    f"{self.label}'{part}' is not between 1 and {count}: only {count} papers "
                    "are listed — pick from the list shown"
                )
            numbers.extend(range(first, last + 1))
        return list(dict.fromkeys(numbers))


def parse_selection(spec: str, count: int, label: str = "") -> list[int]:
    """``Selection.parse(spec).pick(count)``: the numbers chosen from a list of ``count``."""
    return Selection.parse(spec, label).pick(count)
