"""The page marks of a grounded summary survive into every file a reader gets."""

from __future__ import annotations

import dataclasses
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


def test_extract_mode_credits_no_model_and_shows_what_the_abstract_does_not_say(
    tmp_path: Path, corpus: Path, isolated_home: Path
) -> None:
    """Issue 22: no model call was made, yet the Markdown said "model SmolLM2-...", notes
    "Summarized by SmolLM2-..." and the digest "This article was written by SmolLM2-..."."""
    import json

    from localdigest.render import console
    from localdigest.render.summary import summary_block

    paper = grounded_summary(tmp_path, corpus)
    assert paper.roles == ["claims", "beyond"]
    name = FakeBackend.name
    issue = build_issue([paper], figures=False)
    notes_dir = tmp_path / "vault"
    note = export([paper], notes_dir, figures=False)[0].path.read_text()
    with console.out.capture() as shown:
        console.out.print(summary_block(paper))
    texts = {
        "markdown": to_markdown([paper]),
        "html": digest.render(issue, "html"),
        "digest": digest.render(issue, "markdown"),
        "notes": note,
        "terminal": shown.get(),
    }
    for where, text in texts.items():
        assert name not in text, where  # no model named as the writer
        assert "What the abstract does not say" in " ".join(text.split()), where
    record = json.loads(to_json([paper]))[0]
    assert record["written_by"] == "extraction" and record["model"] == name
    assert json.loads(digest.render(issue, "json"))["papers"][0]["written_by"] == "extraction"
    # A model's own summary keeps its credit.
    written = dataclasses.replace(paper, mode="write", roles=[])
    assert f"written by {name}" in to_markdown([written])
    assert name in build_issue([written], figures=False).byline
