"""What besides the PDF and the model changes a summary: the summarizer's options."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from localdigest import defaults
from localdigest.llm.base import (
    DEFAULT_REPEAT_PENALTY,
    DEFAULT_SEED,
    DEFAULT_TEMPERATURE,
    DEFAULT_TOP_P,
    GenerationSettings,
)
from localdigest.papers import Mode, Style
from localdigest.summarize import guard, reading, sentences

# The structure of constrained notes (GBNF): one line each for the claim and the method,
# one to three results, and a limitation when the text states one.
NOTES_GRAMMAR = r"""
root ::= claim method result result? result? limitation?
claim ::= "- Claim: " line
method ::= "- Method: " line
result ::= "- Result: " line
limitation ::= "- Limitation: " line
line ::= [^\n] [^\n]* "\n"
"""


@dataclass(frozen=True)
class Options:
    """Everything besides the PDF and the model that changes a summary."""

    max_tokens: int = defaults.MAX_TOKENS  # the final summary paragraph
    map_tokens: int = 160  # one chunk's notes
    tldr_tokens: int = 64
    temperature: float = DEFAULT_TEMPERATURE
    top_p: float = DEFAULT_TOP_P
    repeat_penalty: float = DEFAULT_REPEAT_PENALTY
    seed: int = DEFAULT_SEED
    chunk_tokens: int = 1536  # preferred chunk size (the budget is the hard limit)
    include_appendix: bool = False
    # Body sections are read up to this many tokens of their leading paragraphs (twice
    # that for introduction and conclusion); surveys of related work are skipped. 0: read
    # every kept section whole. See summarize/reading.py.
    section_tokens: int = reading.SECTION_TOKENS
    password: str | None = None
    max_pages: int | None = None
    style: Style = "paragraph"
    guard: bool = True  # retry/trim degenerate or off-topic output (off: for measuring)
    mode: Mode = "write"
    # The map's notes fill a fixed structure (claim, method, results, limitation) through
    # llama.cpp's grammar support, so a small model cannot wander into headings or echoes.
    structured_notes: bool = False
    # When the whole reading plan fits one call, the summary is written from it in that one
    # call (the stuff prompt), with no notes and no reduce; else map-reduce. The default
    # for models of 1B parameters and more (measured: docs/performance.md).
    one_pass: bool = False

    def generation(self, max_tokens: int, prompt: str = "") -> GenerationSettings:
        """Sampling settings for a call of ``prompt`` (the map's notes follow NOTES_GRAMMAR
        when ``structured_notes``)."""
        grammar = NOTES_GRAMMAR if self.structured_notes and prompt == "map" else None
        return GenerationSettings(
            max_tokens=max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            repeat_penalty=self.repeat_penalty,
            seed=self.seed,
            grammar=grammar,
        )

    def as_key(self, withheld: str | None = None) -> dict[str, Any]:
        """The options' part of a summary's cache key. ``withheld`` is the text kept from
        the model (the eval's reference abstract; None: nothing withheld); it is keyed as
        the eval-only fields the options once had, so that keys made before stay valid."""
        d = asdict(self)
        d.pop("password")  # opening a file differently does not change its text
        d["guard"] = guard.VERSION if self.guard else False
        d["drop_abstract"] = withheld is not None
        d["withhold"] = withheld or ""
        if not self.one_pass:  # keys made before it existed stay the same
            d.pop("one_pass")
        if self.mode != "write":
            d["extractor"] = sentences.VERSION
        return d
