"""``ask``'s answers as files: JSON, and Markdown for notes (the terminal view is in
render/ask.py)."""

from __future__ import annotations

import re

from localdigest.papers import Answer, Quote
from localdigest.publish.markup import md_inline, md_text
from localdigest.text import safe_json

# A citation mark of a written answer once escaped: ``\[1706.03762 p. 5\]`` or ``\[?\]``.
_ESCAPED_MARK = re.compile(r"\\\[([^\[\]]*? p\. [\d–]+|\?)\\\]")


def to_text(answer: Answer, fmt: str) -> str:
    return to_json(answer) if fmt == "json" else to_markdown(answer)


def to_json(answer: Answer) -> str:
    return safe_json(answer.to_dict()) + "\n"


def to_markdown(answer: Answer) -> str:
    """The question as a heading, the written answer (when there is one), then each quote
    as a block quote with its paper, section and page; every text from a paper escaped."""
    parts = [f"## {md_inline(answer.question)}"]
    if answer.answer:
        parts.append(_ESCAPED_MARK.sub(r"[\1]", md_text(answer.answer)))
        parts.append(
            f"*Written by {md_inline(answer.written_by or 'the model')} from the passages "
            "below; each sentence cites the passage that supports it, [?] where none does.*"
        )
    if not answer.found:
        parts.append(f"*Not found: nothing in the {answer.searched} papers searched answers it.*")
    for quote in answer.quotes:
        where = f"*{md_inline(quote.title)}*"
        if quote.section:
            where += f", {md_inline(quote.section)}"
        parts.append(f"> {md_text(quote.text)}\n>\n> — {where}, {_citation(quote)}")
    parts.extend(f"*{md_inline(note)}*" for note in answer.notes)
    return "\n\n".join(parts) + "\n"


def _citation(quote: Quote) -> str:
    """``[1706.03762 p. 5]``: the brackets as they are, what is inside them escaped."""
    return f"[{md_inline(quote.citation[1:-1])}]"
