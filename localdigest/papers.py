"""The data types every stage shares: a paper to summarize, its summary or its failure."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, Protocol

# How a summary is written, declared once: write (the model writes it from its notes on
# each chunk: map-reduce), extract (the paper's most informative sentences, no model call),
# rewrite (the model rewrites those sentences). ``auto`` (a setting, not a mode) picks
# extract for models under 1B parameters and write for bigger ones.
Mode = Literal["write", "extract", "rewrite"]
ModeSetting = Literal["auto", Mode]
# The summary's shape: the newsletter paragraph (in extract mode, two: what the paper
# claims, what the abstract does not say); labelled claims / method / results /
# limitations lines; a card (extract mode: the paper's sentences under Claim, Method,
# Results, Limitations; other modes write the labelled lines); or only the TL;DR.
Style = Literal["paragraph", "bullets", "card", "tldr"]
# How a reader is told what each paragraph of a summary is (PaperSummary.roles).
ROLE_LABELS = {
    "claims": "What the paper claims",
    "beyond": "What the abstract does not say",
    "claim": "Claim",
    "method": "Method",
    "result": "Results",
    "limitation": "Limitations",
}


class Counted(Protocol):
    """What a model call reports about itself (``llm.Generation`` is one)."""

    @property
    def prompt_tokens(self) -> int: ...
    @property
    def completion_tokens(self) -> int: ...
    @property
    def prompt_seconds(self) -> float: ...
    @property
    def seconds(self) -> float: ...


@dataclass
class Stats:
    chunks: int = 0
    pages_read: int = 0
    text_tokens: int = 0  # tokens of all extracted text (kept and skipped)
    input_tokens: int = 0  # tokens sent to the model (prompts included)
    output_tokens: int = 0
    llm_calls: int = 0
    notes_written: int = 0  # chunk notes computed by this run (not taken from the cache)
    retries: int = 0  # model calls the output guard asked for again
    repairs: int = 0  # flawed outputs the guard repaired (cut) instead of a retry
    seconds: float = 0.0
    extract_seconds: float = 0.0
    map_seconds: float = 0.0
    reduce_seconds: float = 0.0
    prompt_seconds: float = 0.0  # prefill time inside model calls
    decode_seconds: float = 0.0
    # What this paper was expected to take, made before it ran (summarize/estimate.py;
    # 0: no estimate, e.g. no model call or no rates known for the model yet)
    estimated_seconds: float = 0.0
    threads: int = 0  # the in-process model's threads (0: none, or a server's)

    def add(self, g: Counted) -> None:
        self.llm_calls += 1
        self.input_tokens += g.prompt_tokens
        self.output_tokens += g.completion_tokens
        self.prompt_seconds += g.prompt_seconds
        self.decode_seconds += g.seconds - g.prompt_seconds


@dataclass(frozen=True)
class Grounding:
    """One sentence of a summary (``part`` "summary") or of its TL;DR ("tldr") and the pages
    of the paper that support it (computed without the model: summarize/grounding.py)."""

    part: str
    sentence: str
    pages: list[int]
    support: float  # 0..1, the best page's score
    unsupported_numbers: list[str]  # the numbers no supporting page has
    unsupported_links: list[str]  # web addresses the paper does not give
    supported: bool

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Grounding:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values.setdefault("unsupported_links", [])
        return cls(**values)


@dataclass(frozen=True)
class PaperSummary:
    source: str  # what the user gave: a path, an id or URL
    path: str
    sha256: str
    title: str
    pages: int
    model: str
    tldr: str
    summary: str
    key: str = ""
    cached: bool = False
    created: str = ""
    authors: list[str] = field(default_factory=list)
    url: str | None = None
    arxiv_id: str | None = None
    abstract: str = ""
    sections_read: list[str] = field(default_factory=list)
    sections_skipped: list[str] = field(default_factory=list)
    sections_shortened: list[str] = field(default_factory=list)  # read in part (leads)
    warnings: list[str] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)
    mode: str = ""  # how the summary was written: write, extract or rewrite ("": unknown)
    # One entry per sentence of the summary and of the TL;DR, in order.
    grounding: list[Grounding] = field(default_factory=list)
    # What each paragraph of ``summary`` is (extract mode): "claims" (what the paper
    # claims, the abstract compressed) and "beyond" (what the abstract does not say), or
    # a card's "claim", "method", "result", "limitation" (ROLE_LABELS); [] for none.
    roles: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def written_by(self) -> str:
        """Who wrote the text: "extraction" (the paper's own sentences, chosen without a
        model) or the model's name."""
        return "extraction" if self.mode == "extract" else self.model

    @property
    def credit(self) -> str:
        """Who wrote the text, as a reader is told it: extract mode names no model."""
        if self.written_by == "extraction":
            return "sentences chosen from the paper (no model wrote them)"
        return f"written by {self.model}"

    def paragraphs(self, text: str | None = None) -> list[tuple[str, str]]:
        """(role, paragraph) for each paragraph of ``text`` (default: the summary; the
        summary with its page marks, say), the role "" where none was given."""
        text = self.summary if text is None else text
        blocks = [b.strip() for b in text.split("\n\n") if b.strip()]
        roles = self.roles if len(self.roles) == len(blocks) else []
        return [(roles[i] if roles else "", b) for i, b in enumerate(blocks)]

    def grounded(self, part: str = "summary") -> list[Grounding]:
        return [g for g in self.grounding if g.part == part]

    @property
    def supported_share(self) -> float | None:
        """The share of the summary's sentences found on a page (None: not grounded)."""
        entries = self.grounded("summary")
        if not entries:
            return None
        return round(sum(g.supported for g in entries) / len(entries), 4)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PaperSummary:
        data = dict(data)
        data.pop("schema", None)
        data["stats"] = Stats(**data.get("stats", {}))
        data["grounding"] = [Grounding.from_dict(g) for g in data.get("grounding", [])]
        return cls(**data)


@dataclass
class PaperFailure:
    source: str
    error: str
    exit_code: int


@dataclass
class PaperInput:
    """A resolved source: a local PDF plus what we know about it beforehand."""

    source: str
    path: Path
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    url: str | None = None
    arxiv_id: str | None = None


Result = PaperSummary | PaperFailure


def succeeded(result: Result) -> bool:
    return isinstance(result, PaperSummary)


# ----------------------------------------------------------------------------- ask


@dataclass(frozen=True)
class Quote:
    """A passage of a paper that answers a question (``ask``)."""

    paper: str  # how it is cited: the arXiv id, else the PDF's file name without .pdf
    title: str
    section: str
    pages: tuple[int, int]  # first and last page it is printed on
    text: str
    score: float
    matched: tuple[str, ...] = ()  # the words of ``text`` that match the question

    @property
    def citation(self) -> str:
        """``[2405.04434 p. 12]`` (``p. 12–13`` for a passage over two pages)."""
        first, last = self.pages
        where = str(first) if first == last else f"{first}–{last}"
        return f"[{self.paper} p. {where}]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "paper": self.paper,
            "title": self.title,
            "section": self.section,
            "pages": list(self.pages),
            "text": self.text,
            "score": self.score,
        }


@dataclass(frozen=True)
class Answer:
    """What ``ask`` found: the passages that answer (best first; none: not found) and,
    when a model able to write wrote one, its short answer with every sentence's citation
    (``[?]``: no passage supports it)."""

    question: str
    quotes: list[Quote]
    answer: str | None = None
    written_by: str | None = None  # the model that wrote ``answer``
    searched: int = 0  # papers searched
    notes: list[str] = field(default_factory=list)  # what the reader should know

    @property
    def found(self) -> bool:
        return bool(self.quotes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "written_by": self.written_by,
            "found": self.found,
            "searched": self.searched,
            "passages": [q.to_dict() for q in self.quotes],
            "notes": list(self.notes),
        }
