"""What the model will read of one paper, before any model call: a pure stage.

``plan(document, title, options, prompts, tokens)`` -> ``PaperPlan``: the reading plan
(surveys skipped, long sections read by their leads: ``reading``), the sections the map
reads, the chunks it sends (write mode: in the model's tokens, each within what one call
of the map prompt can carry: ``text_budget``), the anchor the final summary is written
against (the abstract, or the paper's opening when there is none) and the page index every
sentence is grounded in.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from localdigest import pdf
from localdigest.errors import UsageError
from localdigest.summarize import reading
from localdigest.summarize.chunking import Chunk, chunk_budget, make_chunks
from localdigest.summarize.grounding import PageIndex
from localdigest.summarize.options import Options
from localdigest.summarize.prompts import Prompts

# Tokens of the abstract (or, without one, of the paper's opening) that anchor the reduce.
ANCHOR_TOKENS = 400
ABSTRACT_ANCHOR = "Abstract by the authors: "


class Tokenizer(Protocol):
    """What planning needs of a model: its token counts and its context (a Backend)."""

    n_ctx: int

    def count_tokens(self, text: str) -> int: ...

    def prompt_tokens(self, system: str, user: str) -> int: ...


@dataclass(frozen=True)
class PaperPlan:
    """What the model will read of one paper, before any model call."""

    document: pdf.Document
    title: str
    anchor: str  # the abstract (or the paper's opening) the reduce is anchored on
    reading: reading.ReadingPlan
    mapped: list[pdf.Section]  # the sections the map reads (an anchored abstract is not)
    chunks: list[Chunk]
    pages: PageIndex  # the kept text of each page: what a sentence is grounded in
    seconds: float = 0.0  # reading plan and chunking (counted as the map's time)
    # The whole reading plan is the one chunk, written from in one call (Options.one_pass)
    one_pass: bool = False


def plan(
    document: pdf.Document,
    title: str,
    options: Options,
    prompts: Prompts,
    tokens: Tokenizer,
) -> PaperPlan:
    """What the model would read of ``document`` (see the module's docstring)."""
    t = time.perf_counter()
    kept = document.kept(options.include_appendix)
    anchor = _anchor(document.abstract, kept, tokens)
    read = reading.plan(kept, tokens.count_tokens, options.section_tokens)
    mapped = _to_map(read.sections, document.abstract, anchor)
    chunks: list[Chunk] = []
    one_pass = False
    if options.mode == "write" and options.one_pass and options.style == "paragraph":
        budget = text_budget(prompts, tokens, "stuff", title, options.max_tokens)
        everything = [(s.heading, s.text) for s in read.sections]
        whole = make_chunks(everything, tokens.count_tokens, budget)
        one_pass = len(whole) == 1
        chunks = whole if one_pass else []
    if options.mode == "write" and not one_pass:
        budget = text_budget(prompts, tokens, "map", title, options.map_tokens)
        pairs = [(s.heading, s.text) for s in mapped]
        chunks = make_chunks(pairs, tokens.count_tokens, budget, options.chunk_tokens)
    return PaperPlan(
        document,
        title,
        anchor,
        read,
        mapped,
        chunks,
        PageIndex.of_sections(kept),
        seconds=time.perf_counter() - t,
        one_pass=one_pass,
    )


def text_budget(
    prompts: Prompts,
    tokens: Tokenizer,
    prompt_name: str,
    title: str,
    max_tokens: int,
    anchor: str = "",
) -> int:
    """Tokens of variable text one call of this prompt can carry."""
    empty = prompts.render(
        prompt_name,
        title=title,
        sections="",
        text="",
        notes="",
        summary="",
        abstract=anchor_text(anchor),
    )
    overhead = tokens.prompt_tokens(prompts.texts["system"], empty)
    budget = chunk_budget(tokens.n_ctx, overhead + 16, max_tokens)
    if budget < 64:
        raise UsageError(
            f"A context of {tokens.n_ctx} tokens is too small: the '{prompt_name}' prompt "
            f"and its {max_tokens}-token answer leave {budget} tokens for text — use "
            f"--n-ctx {tokens.n_ctx - budget + 256} or more (and a server with that context)"
        )
    return budget


def anchor_text(anchor: str) -> str:
    return f"{anchor}\n" if anchor else ""


def read_headings(sections: Sequence[pdf.Section], chunks: Sequence[Chunk]) -> list[str]:
    """The headings read, in paper order: those of the chunks, and a heading with no
    text of its own ("4 Experimental Results" over 4.1, 4.2) whose subsections follow."""
    in_chunks = {h for c in chunks for h in c.headings}
    return [
        s.heading for s in sections if s.heading in in_chunks or (s.heading and not s.text.strip())
    ]


def _to_map(sections: list[pdf.Section], abstract: str, anchor: str) -> list[pdf.Section]:
    """The sections the map step reads: all of them but an abstract the reduce already
    reads whole in its anchor (notes on it would only paraphrase it)."""
    if not abstract or anchor != f"{ABSTRACT_ANCHOR}{' '.join(abstract.split())}":
        return sections
    return [s for s in sections if s.kind != "abstract"] or sections


def _anchor(abstract: str, kept: Sequence[pdf.Section], tokens: Tokenizer) -> str:
    """What anchors the final summary besides the title: the authors' abstract; when the
    document has none (or it was withheld: the eval), the opening of its first body section.
    Either is cut to its first sentences within ANCHOR_TOKENS (and a sixth of the context):
    a misdetected, page-long "abstract" must not crowd out the notes."""
    limit = min(ANCHOR_TOKENS, tokens.n_ctx // 6)
    if abstract:
        first = reading.leading_sentences(abstract, limit, tokens.count_tokens)
        return f"{ABSTRACT_ANCHOR}{first}"
    body = next((s for s in kept if s.kind == "body" and s.text.strip()), None)
    if body is None:
        return ""
    return f"Start of the paper: {reading.leading_sentences(body.text, limit, tokens.count_tokens)}"
