"""Write small paper-shaped PDFs whose text we wrote ourselves (demo input and test files).

`python tests/samplepaper.py OUT.pdf` writes the demo paper `make demo` summarizes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pymupdf

PAGE_WIDTH, PAGE_HEIGHT = 612.0, 792.0  # US Letter
MARGIN = 72.0
BODY_FONT, BOLD_FONT = "tiro", "tibo"  # PDF base-14 Times: no font files needed
BODY_SIZE = 10.0


class _Layout:
    """A minimal single-column typesetter: wraps text and starts pages as needed."""

    def __init__(self, doc: pymupdf.Document) -> None:
        self.doc = doc
        self.page: pymupdf.Page | None = None
        self.y = 0.0
        self.new_page()

    def new_page(self) -> None:
        if self.page is not None:
            self._page_number()
        self.page = self.doc.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
        self.y = MARGIN

    def finish(self) -> None:
        self._page_number()

    def _page_number(self) -> None:
        assert self.page is not None
        number = str(self.doc.page_count)
        width = pymupdf.get_text_length(number, fontname=BODY_FONT, fontsize=9)
        point = ((PAGE_WIDTH - width) / 2, PAGE_HEIGHT - 40)
        self.page.insert_text(point, number, fontname=BODY_FONT, fontsize=9)

    def text_line(self, text: str, font: str, size: float, *, center: bool = False) -> None:
        if self.y + size * 1.25 > PAGE_HEIGHT - MARGIN:
            self.new_page()
        assert self.page is not None
        x = MARGIN
        if center:
            x = (PAGE_WIDTH - pymupdf.get_text_length(text, fontname=font, fontsize=size)) / 2
        self.y += size
        self.page.insert_text((x, self.y), text, fontname=font, fontsize=size)
        self.y += size * 0.25

    def paragraph(self, text: str, font: str = BODY_FONT, size: float = BODY_SIZE) -> None:
        width = PAGE_WIDTH - 2 * MARGIN
        for line in _wrap(text, font, size, width):
            self.text_line(line, font, size)
        self.y += size * 0.6

    def space(self, points: float) -> None:
        self.y += points


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and pymupdf.get_text_length(candidate, fontname=font, fontsize=size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def write_paper_pdf(
    path: Path,
    *,
    title: str,
    authors: list[str],
    abstract: str,
    sections: list[tuple[str, str]],
    references: list[str],
    contents: list[tuple[str, int]] | None = None,
) -> Path:
    """Typeset a paper: title, authors, abstract, numbered-or-not sections, references.

    Section texts may hold several paragraphs separated by blank lines. ``contents``:
    a table of contents after the abstract, one "heading page" line per entry, printed
    without dot leaders (as some technical reports do).
    """
    path = Path(path)
    doc = pymupdf.open()
    layout = _Layout(doc)
    for line in _wrap(title, BOLD_FONT, 17, PAGE_WIDTH - 2 * MARGIN - 40):
        layout.text_line(line, BOLD_FONT, 17, center=True)
    layout.space(8)
    layout.text_line(", ".join(authors), BODY_FONT, 11, center=True)
    layout.space(16)
    layout.text_line("Abstract", BOLD_FONT, 12, center=True)
    layout.space(4)
    layout.paragraph(abstract)
    if contents:
        layout.space(8)
        layout.text_line("Contents", BOLD_FONT, 12)
        for heading, number in contents:  # top-level entries in bold, as reports print them
            font = BODY_FONT if "." in heading.split()[0] else BOLD_FONT
            layout.text_line(f"{heading} {number}", font, 10)
    for heading, body in sections:
        layout.space(8)
        layout.text_line(heading, BOLD_FONT, 12)
        layout.space(3)
        for para in body.split("\n\n"):
            layout.paragraph(" ".join(para.split()))
    if references:
        layout.space(8)
        layout.text_line("References", BOLD_FONT, 12)
        layout.space(3)
        for number, ref in enumerate(references, 1):
            layout.paragraph(f"[{number}] {ref}", size=9)
    layout.finish()
    doc.set_metadata({"title": title, "author": ", ".join(authors), "creator": "localdigest"})
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path, garbage=3, deflate=True)
    doc.close()
    return path


SAMPLE_TITLE = "Gated Residual Adapters for Efficient Fine-Tuning of Small Language Models"
SAMPLE_AUTHORS = ["Mara Lindqvist", "Tomas Okafor", "Priya Raman"]
SAMPLE_ABSTRACT = (
    "Fine-tuning every weight of a language model is wasteful when only a few behaviours "
    "need to change. We introduce Gated Residual Adapters (GRA), small bottleneck modules "
    "inserted after each feed-forward block whose contribution is scaled by a learned "
    "scalar gate initialised at zero. Because the gate starts closed, training begins "
    "exactly at the pretrained model and drifts away only as far as the task requires. "
    "On a suite of six classification and extraction tasks, GRA trains 0.8% of the "
    "parameters of a 350M-parameter model, matches full fine-tuning within 0.4 points on "
    "average, and uses 3.1 times less accelerator memory. We also find that the learned "
    "gates reveal which layers a task actually needs."
)
SAMPLE_SECTIONS = [
    (
        "1 Introduction",
        """Small language models are attractive for on-device use, yet adapting them to a new
        task usually means copying and updating all of their weights. Parameter-efficient
        methods such as bottleneck adapters [1] and low-rank updates [2] reduce this cost,
        but they start from a randomly perturbed model and can destabilise early training
        when learning rates are high.

        We ask a simple question: what if an adapter could not change the model at all
        until the data gave it a reason to? Our answer is a residual adapter multiplied by
        a scalar gate that is initialised at zero. The network therefore computes exactly
        the pretrained function at step zero, and every change is learned rather than
        injected.

        Our contributions are threefold. First, we describe the gated adapter and its
        initialisation. Second, we show on six tasks that it matches full fine-tuning
        while training under one percent of the weights. Third, we show that the final
        gate values are a cheap diagnostic of where task-specific computation lives.""",
    ),
    (
        "2 Method",
        """Let h be the output of a feed-forward block. A gated residual adapter computes
        h + g * W_up(relu(W_down(h))), where W_down projects to a bottleneck of width r,
        W_up projects back, and g is a scalar gate. We use r = 16 for all experiments.
        The gate g is initialised at zero and W_up with small random values, so the first
        update moves the gate before anything else.

        Only the adapter weights and gates are trained; the pretrained weights stay frozen
        and can be shared between tasks. With 24 layers and a hidden size of 1024, the
        adapters add 0.8% parameters. We apply weight decay to the adapter matrices but
        not to the gates, because decaying the gates pulls the model back towards its
        pretrained behaviour and slowed convergence in pilot runs.""",
    ),
    (
        "3 Experiments",
        """We fine-tune a 350M-parameter decoder on six tasks: sentiment, topic
        classification, natural language inference, named entity extraction, intent
        detection and question classification. Every method uses the same data, three
        random seeds and a budget of 5,000 updates with batch size 32.

        Full fine-tuning reaches an average score of 84.9. Bottleneck adapters without
        gates reach 83.7, low-rank updates reach 84.1, and GRA reaches 84.5, within 0.4
        points of full fine-tuning. Peak accelerator memory falls from 11.2 GB for full
        fine-tuning to 3.6 GB for GRA, a reduction of 3.1 times, because no optimiser state
        is kept for frozen weights.

        Gates are informative. On entity extraction the largest gates sit in layers 4 to
        9, while on natural language inference they sit in layers 17 to 22. Removing the
        adapters whose gate magnitude is below 0.05 after training deletes 38% of them and
        costs only 0.2 points on average.""",
    ),
    (
        "4 Conclusion",
        """Gated residual adapters are a small change to standard adapters: one scalar per
        layer, initialised at zero. The change keeps training anchored to the pretrained
        model, closes most of the gap to full fine-tuning, and turns the adapter into an
        interpretable map of where a task needs capacity. Future work will test larger
        models and gates per attention head.""",
    ),
]
SAMPLE_REFERENCES = [
    "N. Houlsby, A. Giurgiu, S. Jastrzebski et al. Parameter-efficient transfer learning "
    "for NLP. In Proceedings of ICML, 2019.",
    "E. J. Hu, Y. Shen, P. Wallis et al. LoRA: Low-rank adaptation of large language "
    "models. In Proceedings of ICLR, 2022.",
    "J. Pfeiffer, A. Kamath, A. Rueckle et al. AdapterFusion: Non-destructive task "
    "composition for transfer learning. In Proceedings of EACL, 2021.",
]


def write_sample_paper(path: Path) -> Path:
    """The demo paper: an invented but plausible two-page ML paper."""
    return write_paper_pdf(
        path,
        title=SAMPLE_TITLE,
        authors=SAMPLE_AUTHORS,
        abstract=SAMPLE_ABSTRACT,
        sections=SAMPLE_SECTIONS,
        references=SAMPLE_REFERENCES,
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python tests/samplepaper.py OUT.pdf", file=sys.stderr)
        return 2
    out = write_sample_paper(Path(args[0]))
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
