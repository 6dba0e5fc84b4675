"""The page marks of a grounded summary survive into every file a reader gets."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import FakeBackend, fake_summarizer
from digest_helpers import build_issue, export

from localdigest.papers import Grounding, PaperInput, PaperSummary
from localdigest.publish import digest
from localdigest.publish.formats import to_json, to_markdown, with_pages
from localdigest.summarize import Options
from localdigest.summarize.hygiene import SCAFFOLDING, scaffolding_in, tidy

MARK = re.compile(r"\[p\. \d+(?:[–,] ?\d+)*\]")


def grounded_summary(tmp_path: Path, corpus: Path) -> PaperSummary:
    pdf = corpus / "pdfs" / "1706.03762.pdf"
    fake = FakeBackend()
    s = fake_summarizer(
        tmp_path / "cache",
        fake,
        Options(mode="extract"),
    )
    result = s.summarize(PaperInput(str(pdf), pdf))
    assert fake.kinds() == ["tldr"] * len(fake.kinds())  # extract: the model writes the TL;DR
    return result


def test_marks_in_markdown_html_digest_and_notes(tmp_path: Path, corpus: Path) -> None:
    paper = grounded_summary(tmp_path, corpus)
    sentences = paper.grounded("summary")
    assert sentences and all(g.supported for g in sentences)
    marked = with_pages(paper)
    assert len(MARK.findall(marked)) == len(sentences)
    assert MARK.sub("", marked).split() == paper.summary.split()  # marks only, text intact

    assert len(MARK.findall(to_markdown([paper]))) >= len(sentences)
    issue = build_issue([paper])
    assert len(MARK.findall(digest.to_markdown(issue))) >= len(sentences)
    assert len(MARK.findall(digest.to_html(issue))) >= len(sentences)
    assert '"grounding"' in digest.to_json(issue) and '"grounding"' in to_json([paper])
    [note] = export([paper], tmp_path / "vault")
    assert len(MARK.findall(note.path.read_text())) >= len(sentences)


def test_an_unsupported_sentence_is_marked_not_hidden() -> None:
    paper = PaperSummary(
        "x.pdf", "x.pdf", "0" * 64, "T", 3, "m", "A TL;DR.", "It works. Pigs fly.",
        grounding=[
            Grounding("summary", "It works.", [2], 0.9, [], [], supported=True),
            Grounding("summary", "Pigs fly.", [], 0.1, [], [], supported=False),
        ],
    )  # fmt: skip
    assert with_pages(paper) == "It works. [p. 2] Pigs fly. [?]"
    assert paper.supported_share == 0.5
    assert with_pages(paper, "tldr") == "A TL;DR."  # no grounding recorded: left as is


def test_scaffolding_is_found_and_tidied_away() -> None:
    for piece in SCAFFOLDING:
        text = f"The method works. {piece.title()} it is fast."
        assert scaffolding_in(text), piece
    echo = "Paper Title: DeepseekMmLEx. Abstract by the authors Preliminaries: it trains fast."
    assert scaffolding_in(echo) == ["paper title", "abstract by the authors"]
    assert scaffolding_in(tidy(echo, cut_short=False)) == []
    assert scaffolding_in("The model reads papers and writes summaries.") == []
