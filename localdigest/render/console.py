"""The shared consoles: results go to stdout, progress and messages to stderr.

Everything shown goes through a ``SafeConsole``: text from papers, metadata, file names and
the model may hold terminal control sequences (ESC, OSC), carriage returns, bidirectional
overrides or bytes that are not UTF-8. The console shows each of them as a visible escape
(``text.visible``) — strings when they become rich text (so tables measure what is
shown), and every rendered segment once more before it is written, which catches text that
reached rich another way (``Text`` objects, progress descriptions, panel titles). Rich's own
control segments (cursor moves of the progress display) are left alone.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.markup import escape
from rich.segment import Segment
from rich.text import Text

from localdigest.text import clamp, has_unsafe, safe_json, visible


class SafeConsole(Console):
    """A rich Console that never writes a control character it did not make itself."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(visible(text), **kwargs)

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control is None and has_unsafe(segment.text):
                segment = Segment(visible(segment.text), segment.style)
            yield segment


TITLE_LIMIT = 300  # characters of a title in a table row: a few lines, never a screenful


def cell_title(title: str) -> str:
    """A paper's title for a table cell: at most ``TITLE_LIMIT`` characters, with "…"."""
    return clamp(" ".join(title.split()), TITLE_LIMIT)


out = SafeConsole(soft_wrap=False)
err = SafeConsole(stderr=True)


def error(message: str) -> None:
    """One red line on stderr: what failed and what to do."""
    # Messages are plain text: "localdigest[eval]" or a path with brackets is not markup.
    err.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def warning(message: str) -> None:
    err.print(f"[yellow]Warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def info(message: str) -> None:
    err.print(message, highlight=False, soft_wrap=True)


def plain(text: str) -> None:
    """Text written to stdout as it is (Markdown, JSON), control characters made visible."""
    sys.stdout.write(visible(text))


def print_json(data: object) -> None:
    """What a command reports, as JSON on stdout for scripts (``--format json``): plain
    text, no colours (rich's highlighting of 10,000 models took 690 MB:
    bench/models_scan.py), every string through ``visible`` (``text.safe_json``)."""
    plain(safe_json(data) + "\n")
