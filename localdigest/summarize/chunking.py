"""Split a paper's kept text into chunks measured in the model's own tokens.

Pure functions: the token counter is passed in (the real tokenizer in use, a fake in
tests). Every chunk fits its budget; no kept text is lost; chunks follow section and
paragraph boundaries where they can, and are balanced in size so the last one is not a
sliver that costs a whole model call for a few sentences.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from localdigest.text import split_sentences

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class Chunk:
    index: int
    headings: tuple[str, ...]  # sections this chunk reads from, in order
    text: str
    tokens: int


@dataclass(frozen=True)
class _Unit:
    heading: str
    text: str
    tokens: int


def chunk_budget(n_ctx: int, prompt_tokens: int, max_tokens: int, margin: int = 32) -> int:
    """Tokens of paper text one call can carry: n_ctx - prompt - answer - safety margin."""
    return n_ctx - prompt_tokens - max_tokens - margin


def _split_words(text: str, count: TokenCounter, budget: int) -> list[str]:
    """Last resort for a sentence longer than the budget: cut between words."""
    pieces: list[str] = []
    words = text.split(" ")
    current: list[str] = []
    for word in words:
        candidate = " ".join([*current, word])
        if current and count(candidate) > budget:
            pieces.append(" ".join(current))
            current = [word]
        else:
            current.append(word)
    if current:
        pieces.append(" ".join(current))
    # A single "word" over budget (e.g. a giant token run) is cut by characters.
    out: list[str] = []
    for piece in pieces:
        while count(piece) > budget and len(piece) > 1:
            cut = max(1, len(piece) * budget // max(count(piece), 1))
            out.append(piece[:cut])
            piece = piece[cut:]
        out.append(piece)
    return out


def _fit(text: str, count: TokenCounter, budget: int) -> list[str]:
    """Split one paragraph into pieces that each fit ``budget`` (sentences, then words)."""
    if count(text) <= budget:
        return [text]
    pieces: list[str] = []
    current = ""
    for sentence in split_sentences(text):
        candidate = f"{current} {sentence}".strip()
        if count(candidate) <= budget:
            current = candidate
            continue
        if current:
            pieces.append(current)
        if count(sentence) <= budget:
            current = sentence
        else:
            pieces.extend(_split_words(sentence, count, budget))
            current = ""
    if current:
        pieces.append(current)
    return pieces


def _units(sections: Sequence[tuple[str, str]], count: TokenCounter, budget: int) -> list[_Unit]:
    units: list[_Unit] = []
    for heading, text in sections:
        for para in (p.strip() for p in text.split("\n\n")):
            if not para:
                continue
            for piece in _fit(para, count, budget):
                units.append(_Unit(heading, piece, count(piece)))
    return units


def _render(units: Sequence[_Unit]) -> str:
    """Chunk text: each section's paragraphs under a '## heading' line when it has one."""
    lines: list[str] = []
    last: str | None = None
    for u in units:
        if u.heading != last:
            if u.heading:
                lines.append(f"## {u.heading}")
            last = u.heading
        lines.append(u.text)
    return "\n\n".join(lines)


def make_chunks(
    sections: Sequence[tuple[str, str]],
    count: TokenCounter,
    budget: int,
    target: int | None = None,
) -> list[Chunk]:
    """Pack ``(heading, text)`` sections into chunks of at most ``budget`` tokens each.

    ``target`` (<= budget) is the preferred chunk size; chunks are then balanced: with T
    tokens in all, the run uses ceil(T / target) chunks of about T / n tokens each.
    """
    if budget < 16:
        raise ValueError(f"chunk budget of {budget} tokens is too small to hold any text")
    target = min(target or budget, budget)
    # Leave room for the '## heading' lines and joins, which the per-unit counts omit.
    units = _units(sections, count, max(8, budget - 24))
    if not units:
        return []
    total = sum(u.tokens for u in units)
    n = max(1, math.ceil(total / target))
    goal = math.ceil(total / n)

    groups: list[list[_Unit]] = [[]]
    size = 0
    for u in units:
        if groups[-1] and size + u.tokens > goal and size >= goal * 0.5:
            groups.append([])
            size = 0
        groups[-1].append(u)
        size += u.tokens

    chunks: list[Chunk] = []
    queue = [g for g in groups if g]
    while queue:
        group = queue.pop(0)
        text = _render(group)
        tokens = count(text)
        # Balancing aims below the budget, but joins can tip a chunk over: move its last
        # unit to the next chunk until it fits. A single unit always fits (see _units).
        while tokens > budget and len(group) > 1:
            moved = group.pop()
            if queue:
                queue[0].insert(0, moved)
            else:
                queue.append([moved])
            text = _render(group)
            tokens = count(text)
        headings = tuple(dict.fromkeys(u.heading for u in group if u.heading))
        chunks.append(Chunk(len(chunks), headings, text, tokens))
    return chunks
