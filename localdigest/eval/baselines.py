"""The eval's baselines, run with the same model and settings over the same withheld text.

- ``lead``: the first sentences of the introduction, up to BASELINE_WORDS words;
- ``textrank``: the best TextRank sentences (sumy), up to BASELINE_WORDS words, in order;
- ``stuff``: one call of the model on as much of the paper as fits the context (no
  map-reduce, no guard).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from localdigest import pdf
from localdigest.summarize import PaperCalls, Summarizer
from localdigest.summarize.plan import text_budget
from localdigest.text import split_sentences, words

BASELINE_WORDS = 150  # about the length the summary prompt asks for (100 to 180 words)
EVAL_KIND = "eval"  # the cache kind of the stuff baseline's calls


class SentenceTokenizer:
    """What sumy needs of a tokenizer, without NLTK's downloadable punkt data."""

    language = "english"

    def to_sentences(self, text: str) -> list[str]:
        return [s.strip() for s in split_sentences(text) if s.strip()]

    def to_words(self, text: str) -> list[str]:
        return words(text)  # sumy lower-cases words itself


def _take_words(sentences: Sequence[str], limit: int) -> list[str]:
    taken, count = [], 0
    for s in sentences:
        if count >= limit:
            break
        taken.append(s)
        count += len(s.split())
    return taken


def _prose(sentence: str) -> bool:
    """A sentence worth extracting: mostly words, not a formula or table row."""
    w = sentence.split()
    return len(w) >= 6 and sum(t.isalpha() for t in w) / len(w) >= 0.6


def lead(sections: Sequence[pdf.Section], limit: int = BASELINE_WORDS) -> str:
    """The first sentences of the introduction (else of the first body section)."""
    body = [s for s in sections if s.kind == "body" and s.text.strip()]
    intro = next((s for s in body if "introduction" in s.heading.lower()), None)
    chosen = intro or (body[0] if body else None)
    if chosen is None:
        return ""
    sentences = [s for s in SentenceTokenizer().to_sentences(chosen.text) if _prose(s)]
    return " ".join(_take_words(sentences, limit))


def textrank(sections: Sequence[pdf.Section], limit: int = BASELINE_WORDS) -> str:
    """The best-ranked TextRank sentences (sumy) up to ``limit`` words, in paper order."""
    from sumy.nlp.stemmers import Stemmer
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    text = "\n\n".join(s.text for s in sections if s.kind == "body")
    tokenizer = SentenceTokenizer()
    prose = "\n\n".join(
        " ".join(s for s in tokenizer.to_sentences(p) if _prose(s)) for p in text.split("\n\n")
    )
    # Lower-case: PlaintextParser reads an all-caps line as a heading.
    document = PlaintextParser.from_string(prose, tokenizer).document
    if not document.sentences:
        return ""
    ranker = TextRankSummarizer(Stemmer("english"))
    ranker.stop_words = get_stop_words("english")
    ratings = ranker.rate_sentences(document)
    order = {s: i for i, s in enumerate(document.sentences)}
    best = sorted(document.sentences, key=lambda s: ratings[s], reverse=True)
    chosen: list[Any] = []
    count = 0
    for s in best:
        if count >= limit:
            break
        chosen.append(s)
        count += len(str(s).split())
    return " ".join(str(s) for s in sorted(chosen, key=order.__getitem__))


def _fit_tokens(text: str, count: Callable[[str], int], budget: int) -> str:
    """The longest prefix of whole words that fits ``budget`` tokens (binary search)."""
    words = text.split(" ")
    if count(text) <= budget:
        return text
    lo, hi = 0, len(words)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(" ".join(words[:mid])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return " ".join(words[:lo])


def stuff(summarizer: Summarizer, title: str, sections: Sequence[pdf.Section]) -> tuple[str, float]:
    """One model call on the first n_ctx tokens of the paper; cached like everything else.

    The same model and generation settings as the summarizer; no guard (this is the plain
    "stuff it all in one prompt" approach)."""
    text = "\n\n".join(f"{s.heading}\n{s.text}" if s.heading else s.text for s in sections)
    max_tokens = summarizer.options.max_tokens
    budget = text_budget(summarizer.prompts, summarizer.backend, "stuff", title, max_tokens)
    text = _fit_tokens(text, summarizer.backend.count_tokens, budget)
    calls = PaperCalls(summarizer)
    return calls.complete_once(EVAL_KIND, "stuff", max_tokens, title=title, text=text)
