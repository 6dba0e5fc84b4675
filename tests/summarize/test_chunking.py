"""The chunker: budgets, no lost text, section awareness, balance."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from localdigest.summarize.chunking import chunk_budget, make_chunks


def words(text: str) -> int:
    return len(text.split())


def body_words(chunks) -> list[str]:
    """Words of all chunks minus the '## heading' lines the chunker adds."""
    out: list[str] = []
    for c in chunks:
        for line in c.text.split("\n\n"):
            if not line.startswith("## "):
                out.extend(line.split())
    return out


def test_budget_arithmetic() -> None:
    assert chunk_budget(4096, 300, 200, margin=32) == 4096 - 300 - 200 - 32


def test_chunks_fit_budget_and_keep_all_text() -> None:
    sections = [
        (f"{i} Section", "\n\n".join(f"para {i}.{j} " + "word " * 40 for j in range(5)))
        for i in range(1, 6)
    ]
    chunks = make_chunks(sections, words, budget=120)
    assert all(c.tokens <= 120 for c in chunks)
    assert all(words(c.text) == c.tokens for c in chunks)
    original = [w for _, t in sections for w in t.split()]
    assert body_words(chunks) == original


def test_sections_are_labelled_and_ordered() -> None:
    sections = [("1 Introduction", "Intro text here."), ("2 Method", "We do things.")]
    chunks = make_chunks(sections, words, budget=200)
    assert len(chunks) == 1
    assert chunks[0].headings == ("1 Introduction", "2 Method")
    assert chunks[0].text.index("## 1 Introduction") < chunks[0].text.index("## 2 Method")


def test_balanced_chunks_have_no_sliver() -> None:
    text = "\n\n".join("sentence " * 10 for _ in range(21))  # 210 words
    chunks = make_chunks([("Body", text)], words, budget=100, target=100)
    sizes = [c.tokens for c in chunks]
    assert len(chunks) == 3
    assert min(sizes) > 0.6 * max(sizes)


def test_paragraph_longer_than_budget_is_split_by_sentences() -> None:
    para = " ".join(f"Sentence number {i} ends here." for i in range(60))
    chunks = make_chunks([("Body", para)], words, budget=50)
    assert len(chunks) > 1
    assert all(c.tokens <= 50 for c in chunks)
    assert body_words(chunks) == para.split()


def test_giant_word_is_cut() -> None:
    chunks = make_chunks([("", "x" * 5000)], lambda s: len(s) // 10 + 1, budget=60)
    assert all(c.tokens <= 60 for c in chunks)
    assert "".join(c.text for c in chunks) == "x" * 5000


def test_empty_input_gives_no_chunks() -> None:
    assert make_chunks([("A", "  "), ("B", "")], words, budget=100) == []


@settings(max_examples=60, deadline=None)
@given(
    paragraphs=st.lists(
        st.lists(
            st.text(alphabet="abcdefgh.", min_size=1, max_size=8), min_size=1, max_size=80
        ).map(" ".join),
        min_size=1,
        max_size=20,
    ),
    budget=st.integers(min_value=30, max_value=300),
)
def test_property_never_over_budget_and_nothing_lost(paragraphs: list[str], budget: int) -> None:
    sections = [(f"S{i % 3}", p) for i, p in enumerate(paragraphs)]
    chunks = make_chunks(sections, words, budget=budget)
    assert all(c.tokens <= budget for c in chunks)
    assert body_words(chunks) == [w for p in paragraphs for w in p.split()]
