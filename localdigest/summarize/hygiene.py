"""Output hygiene: what the model writes, cleaned of our own scaffolding and its habits.

Small models copy the prompt's delimiters and labels, add markdown headings and citation
marks, repeat sentences and stop mid-sentence at the token limit; these functions take
that out, without the model.
"""

from __future__ import annotations

import re

from localdigest.text import split_sentences, strip_page_marks

# Echoes of our own prompt scaffolding that small models copy into their answers.
_ECHO = re.compile(
    r"<{2,}\s*(?:PAPER|NOTES|SUMMARY|SENTENCES)?|(?:PAPER|NOTES|SUMMARY|SENTENCES)?\s*>{2,}"
    r"|^\s*(PAPER|NOTES|SUMMARY|SENTENCES|Notes|Summary paragraph|Merged notes|Paragraph|"
    r"One-sentence TL;DR|TL;DR)\s*:?\s*$",  # our delimiters, or the copies small models make
    re.MULTILINE,
)
# Our own labels and anchors, wherever they stand: "Paper Title: X", "Abstract by the
# authors Preliminaries: ..." (the DeepSeekMoE summary copied both).
_LABELS = (
    "paper title",
    "this part",
    "abstract by the authors",
    "start of the paper",
    "merged notes",
    "summary paragraph",
    "bullet lines",
    "one-sentence tl;dr",
)
_LABEL = re.compile(r"(?i)\b(?:" + "|".join(re.escape(label) for label in _LABELS) + r")\b\s*:?\s*")
# What a reader must never see of our prompts (the eval's scaffolding check).
SCAFFOLDING = (*_LABELS, "<<<", ">>>", "paper>>", "<<paper", "notes>>", "<<notes")
_CITATION = re.compile(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]?(?=[\s.,;:]|$)")


def tidy(text: str, cut_short: bool) -> str:
    """One clean paragraph: no prompt echoes, citation marks or page marks of its own
    ("... on average [p. 2]." fakes the grounding's marks: grounding adds the real ones),
    no repeated sentences, and no sentence cut off by max_tokens."""
    text = _CITATION.sub("", _LABEL.sub("", _ECHO.sub(" ", strip_page_marks(text))))
    text = re.sub(r"(?m)^\s*#{1,6}\s.*$", " ", text)  # markdown headings small models add
    text = re.sub(r"\s+", " ", text).strip()
    seen: set[str] = set()
    kept: list[str] = []
    for sentence in split_sentences(text):
        norm = re.sub(r"\W+", " ", sentence.lower()).strip()
        if not norm or norm in seen:
            continue
        seen.add(norm)
        kept.append(sentence.strip())
    if cut_short and len(kept) > 1 and not kept[-1].endswith((".", "!", "?")):
        kept.pop()
    return " ".join(kept)


# Lines of notes that are not notes: markdown headings and lone labels ("Summary",
# "Conclusion:"). SmolLM2 ends some notes with "## 6 Summary" and a one-line summary of its
# own, which the reduce then copied as the whole summary (the eval's 11-word "paragraph").
_NOT_A_NOTE = re.compile(r"^\s*(#{1,6}\s.*|[A-Za-z]+(\s[A-Za-z]+)?\s*:?)\s*$")


def tidy_notes(text: str) -> str:
    """Notes keep their line structure; prompt echoes, headings, labels and repeated
    lines go."""
    seen: set[str] = set()
    lines = []
    for line in _ECHO.sub("", text).splitlines():
        if _NOT_A_NOTE.match(line):
            continue
        norm = re.sub(r"\W+", " ", line.lower()).strip()
        if norm and norm not in seen:
            seen.add(norm)
            lines.append(line.rstrip())
    return "\n".join(lines)


def tidy_bullets(text: str, cut_short: bool) -> str:
    """Bullet lines (the ``bullets`` style): echoes and citations out, one bullet per line."""
    lines = []
    for line in tidy_notes(_CITATION.sub("", strip_page_marks(text))).splitlines():
        line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip()
        if line:
            lines.append(f"- {line}")
    if cut_short and len(lines) > 1 and not lines[-1].endswith((".", "!", "?")):
        lines.pop()
    return "\n".join(lines)


def scaffolding_in(text: str) -> list[str]:
    """The pieces of our own prompts a text holds (labels, delimiters); [] when clean."""
    low = text.lower()
    return [piece for piece in SCAFFOLDING if piece in low]
