"""The degeneration guard: retry a loop with other settings, trim, flag what stays wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FakeBackend, fake_summarizer

from localdigest import pdf
from localdigest.eval.withhold import withheld_document
from localdigest.llm import Generation, GenerationSettings
from localdigest.papers import PaperInput
from localdigest.summarize import Options, Summarizer, guard

LOOP = "The method is good. " * 6
CLEAN = "The method trains a convolutional network on audio and improves accuracy by 3 points."
SOURCE = "We train a convolutional network on audio; accuracy improves by 3 points (method)."


def gen(text: str) -> Generation:
    return Generation(text, 10, len(text.split()), "stop", 0.0, 0.0)


def test_a_loop_is_retried_with_a_higher_penalty_and_another_seed() -> None:
    replies = iter([LOOP, CLEAN])
    asked: list[GenerationSettings] = []

    def generate(s: GenerationSettings) -> Generation:
        asked.append(s)
        return gen(next(replies))

    base = GenerationSettings(max_tokens=100, repeat_penalty=1.1, seed=42)
    result = guard.guarded(generate, base, SOURCE)
    assert result.text == CLEAN and result.attempts == 2 and result.warning is None
    assert asked[1].repeat_penalty > base.repeat_penalty and asked[1].seed != base.seed
    assert result.problems and result.problems[0].startswith("degenerate")


LONG = (
    "The method trains a convolutional network on audio clips. "
    "It improves accuracy by 3 points over the previous network. "
    "The convolutional network is trained on audio clips with labels. "
    "Training uses audio from many sources."
)
# The third sentence mostly repeats the first: SmolLM2's most frequent flaw.
ECHOING = LONG.replace(
    "The convolutional network is trained on audio clips with labels.",
    "The method trains a convolutional network on audio clips again.",
)
SOURCE_LONG = SOURCE + " The network is trained on audio clips with labels from many sources."


def test_one_repeated_sentence_is_cut_without_another_call() -> None:
    calls: list[GenerationSettings] = []

    def generate(s: GenerationSettings) -> Generation:
        calls.append(s)
        return gen(ECHOING)

    result = guard.guarded(generate, GenerationSettings(max_tokens=100), SOURCE_LONG)
    assert len(calls) == 1 and result.repaired and result.warning is None
    assert "again" not in result.text and result.text.endswith("many sources.")
    assert result.problems[0].startswith("degenerate")


def test_a_repair_that_keeps_too_little_is_retried() -> None:
    replies = iter(["The method is good. " + "the model of the " * 12, CLEAN])
    result = guard.guarded(lambda s: gen(next(replies)), GenerationSettings(max_tokens=100), SOURCE)
    assert result.text == CLEAN and result.attempts == 2 and not result.repaired


def test_repair_keeps_the_lines_of_notes() -> None:
    notes = "- The network is trained on audio.\n- Accuracy is 97.25.\n- It uses audio clips."
    fixed = guard.repair(notes, SOURCE_LONG)
    assert fixed.splitlines() == ["- The network is trained on audio.", "- It uses audio clips."]
    assert guard.repair(notes, SOURCE_LONG, check_numbers=False) == notes


def test_a_loop_that_persists_is_trimmed() -> None:
    result = guard.guarded(lambda s: gen(LOOP), GenerationSettings(max_tokens=100), SOURCE)
    assert result.text == "The method is good."
    assert result.warning is None  # trimming fixed it
    assert result.attempts == 1 + len(guard.retry_settings(GenerationSettings(max_tokens=1)))


def test_off_topic_output_is_flagged() -> None:
    off = "Bananas ripen quickly in tropical greenhouses during the monsoon, farmers report daily."
    result = guard.guarded(lambda s: gen(off), GenerationSettings(max_tokens=100), SOURCE)
    assert result.warning is not None and "off-topic" in result.warning


# A summary long enough for the guard (40+ words), every sentence and number found in the
# sample paper (the summarizer's tests summarize it).
FULL = (
    "We introduce Gated Residual Adapters (GRA), small bottleneck modules inserted after "
    "each feed-forward block whose contribution is scaled by a learned scalar gate. "
    "Because the gate starts closed, training begins exactly at the pretrained model. "
    "GRA trains 0.8% of the parameters of a 350M-parameter model and matches full "
    "fine-tuning within 0.4 points on average. The learned gates reveal which layers a "
    "task actually needs."
)


@pytest.fixture
def paper(tmp_path: Path) -> PaperInput:
    from samplepaper import write_sample_paper

    path = tmp_path / "paper.pdf"
    write_sample_paper(path)
    return PaperInput(str(path), path)


def summarizer(tmp_path: Path, backend: FakeBackend, **options: object) -> Summarizer:
    return fake_summarizer(tmp_path / "cache", backend, Options(**options))  # type: ignore[arg-type]


def test_the_summarizer_retries_a_looping_reduce(tmp_path: Path, paper: PaperInput) -> None:
    # tidy() already drops repeated sentences: the loop the guard must catch is inside one.
    answers = iter(
        [
            "We propose " + "the model of the " * 12,
            FULL,
        ]
    )
    fake = FakeBackend(replies={"reduce": lambda u: next(answers)})
    result = summarizer(tmp_path, fake).summarize(paper)
    assert fake.kinds().count("reduce") == 2
    assert result.summary == FULL
    assert not any("reduce" in w for w in result.warnings)


def test_what_the_guard_cannot_fix_is_a_warning(tmp_path: Path, paper: PaperInput) -> None:
    off = "Bananas ripen quickly in tropical greenhouses during the monsoon, farmers report daily."
    fake = FakeBackend(replies={"reduce": lambda u: off})
    result = summarizer(tmp_path, fake).summarize(paper)
    assert fake.kinds().count("reduce") == 3
    assert any(w.startswith("reduce: off-topic") for w in result.warnings)


def test_guard_off_calls_once(tmp_path: Path, paper: PaperInput) -> None:
    fake = FakeBackend(replies={"reduce": lambda u: LOOP})
    summarizer(tmp_path, fake, guard=False).summarize(paper)
    assert fake.kinds().count("reduce") == 1


def test_styles(tmp_path: Path, paper: PaperInput) -> None:
    bullets = (
        "- Claim: GRA matches full fine-tuning within 0.4 points on average.\n"
        "- Method: a learned scalar gate initialised at zero scales each adapter.\n"
        "* Result: GRA uses 3.1 times less accelerator memory."
    )
    fake = FakeBackend(replies={"reduce": lambda u: bullets})
    result = summarizer(tmp_path / "b", fake, style="bullets").summarize(paper)
    assert "Claim:" in fake.calls[-2][1]  # the bullets prompt
    assert result.summary.splitlines() == [
        "- Claim: GRA matches full fine-tuning within 0.4 points on average.",
        "- Method: a learned scalar gate initialised at zero scales each adapter.",
        "- Result: GRA uses 3.1 times less accelerator memory.",
    ]
    fake = FakeBackend()
    result = summarizer(tmp_path / "t", fake, style="tldr").summarize(paper)
    assert fake.kinds()[-1] == "tldr" and "reduce" not in fake.kinds()
    assert result.summary == result.tldr == "A method that improves accuracy."


def test_the_abstract_anchors_the_reduce(tmp_path: Path, paper: PaperInput) -> None:
    fake = FakeBackend()
    summarizer(tmp_path, fake).summarize(paper)
    reduce = next(u for k, u in fake.calls if k == "reduce")
    assert "Abstract by the authors:" in reduce
    fake = FakeBackend()
    withheld = withheld_document(pdf.extract(paper.path), "")
    summarizer(tmp_path / "x", fake).summarize(paper, document=withheld)
    reduce = next(u for k, u in fake.calls if k == "reduce")
    assert "Abstract by the authors:" not in reduce and "Start of the paper:" in reduce


def test_unknown_style_is_a_usage_error(tmp_path: Path) -> None:
    """Styles (and modes) are one Literal each: the command line refuses another, naming
    the choices, before any work (exit 2)."""
    from typer.testing import CliRunner

    from localdigest.cli import app

    paper = tmp_path / "p.pdf"
    paper.write_bytes(b"%PDF-1.4")
    result = CliRunner().invoke(app, ["summarize", str(paper), "--style", "poem"])
    assert result.exit_code == 2 and "bullets" in result.output


def test_a_number_made_up_in_the_notes_is_kept_out_of_the_summary(
    tmp_path: Path, paper: PaperInput
) -> None:
    replies = {
        "map": lambda u: "- The method reaches 97.25 points.",
        "reduce": lambda u: f"{FULL} It reaches 97.25 points on the benchmark.",
    }
    fake = FakeBackend(replies=replies)
    result = summarizer(tmp_path, fake).summarize(paper)
    assert fake.kinds().count("reduce") == 1  # repaired: 97.25 is in the notes, not the paper
    assert "97.25" not in result.summary
    assert result.summary == FULL


def test_a_summary_too_short_is_written_again(tmp_path: Path, paper: PaperInput) -> None:
    answers = iter(["Pre-trained models help.", FULL])
    # Notes of 50 words a chunk: the summary of them must have 12+ words at least.
    fake = FakeBackend(replies={"reduce": lambda u: next(answers), "map": lambda u: FULL})
    result = summarizer(tmp_path, fake).summarize(paper)
    assert fake.kinds().count("reduce") == 2 and result.summary == FULL
    replies = iter(["Too short.", FULL])
    g = guard.guarded(
        lambda s: gen(next(replies)), GenerationSettings(max_tokens=99), None, min_words=40
    )
    assert g.text == FULL and g.problems == ["too short (2 words)"]
    assert guard.problem("Pre-trained models help.", None, min_words=40) == "too short (3 words)"
