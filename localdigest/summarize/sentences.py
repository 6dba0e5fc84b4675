"""Extract, then write: the paper's most informative sentences, chosen without a model.

A small model's own words lose a paper's facts; the paper's sentences keep them. Each prose
sentence of the sections the summarizer reads is scored for what a reader of a summary needs:

- centrality: how much it shares with the paper as a whole (TF-IDF cosine to the centroid);
- the paper's claims: "we propose / introduce / show / achieve / outperform ...";
- facts: numbers (more with a unit or a decimal), names (acronyms, CamelCase), title terms;
- place: the abstract, and the first sentences of the introduction and the conclusion;

minus what reads badly out of context (figure and section references, citations, formulas,
"this"/"these" openings that point at a previous sentence). ``parts.compose`` picks from
them the two parts of the summary.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from localdigest.pdf import Section
from localdigest.summarize.facts import ACRONYM, REFERENCE_MARK
from localdigest.summarize.quality import content_words, numbers
from localdigest.text import split_sentences

VERSION = 6  # part of an extracted summary's cache key: a changed selection recomputes it
# (3: the TL;DR is a picked sentence too, not the model's; 4: sentences split knowing
# abbreviations, "et al." and initials; 5: two parts, what the paper claims and what the
# abstract does not say, no two sentences saying the same thing; 6: settings such as
# "β1 = 0.9" read as prose, part 2 favours compared results and stated limitations)
MIN_WORDS, MAX_WORDS = 8, 50  # shorter or longer sentences read badly on their own
MAX_ABSTRACT_WORDS = 75  # an abstract's long results sentence is worth its length

_CLAIM = re.compile(
    r"\b(we (propose|present|introduce|show|demonstrate|find|achieve|obtain|report|develop|"
    r"describe|train|evaluate|use)|our (method|model|approach|system|results?|experiments?)|"
    r"outperform\w*|state[- ]of[- ]the[- ]art|results? (show|demonstrate|indicate)|"
    r"improv\w+ (over|on|by)|achiev\w+|significantly)\b",
    re.IGNORECASE,
)
_OUT_OF_CONTEXT = re.compile(
    r"^(this|these|those|such|it|they|here|thus|hence|then|also|in (this|the next) section|"
    r"as (shown|seen|described|mentioned|we show)|see|following|figure|fig\.|table|section|"
    r"but|and|or|so|however|nonetheless|moreover|furthermore|therefore|instead|"
    r"first|second|third|fourth|finally|lastly)\b",
    re.IGNORECASE,
)
# "In Section II we introduce ..." reads on its own as "We introduce ...".
_SECTION_LEAD = re.compile(r"^(?:In|See) (?:Section|Sec\.|Appendix) [\w.]+,? (?=we\b)", re.I)
_FOOTNOTE_MARK = re.compile(r"(?<=[.!?])\s+\d{1,2}\s+(?=[A-Z])")
_REFERS = re.compile(
    r"\b(Fig(ure)?\.?|Table|Section|Sec\.|Eq(uation)?\.?|Appendix|Algorithm)\s*([\dA-Z]|[IVX]+\b)"
)
_CITES = re.compile(REFERENCE_MARK.pattern + r"|\bet al\.")
_KEY_SECTION = re.compile(r"\b(introduction|conclusions?|concluding|summary|discussion)\b", re.I)


@dataclass(frozen=True)
class Candidate:
    text: str
    heading: str
    kind: str  # the section's kind: "abstract" or "body"
    pages: tuple[int, int]
    order: int  # position in the paper
    lead: int  # position within its section (0: the section's first sentence)
    score: float = 0.0


_CAPTION = re.compile(r"^(Figure|Fig\.|Table|Algorithm|Listing)\s*[A-Z]?\d+", re.IGNORECASE)
_FORMULA = re.compile(r"[=<>≤≥≈∑∏∫√]|\(\d{1,3}\)|\b[a-z]\s*[=+]")
_SETTING = re.compile(r"(?<!\S)[^\W\d]\w*\s*=\s*[\d.]+(?:[−-]\d+)?(?=[\s,.;])")
_ENDED = re.compile(r"[.!?][\"”’')\]]*$")  # not cut off where a column or page ended
_NUMERIC = re.compile(r"^[-+±(]?\d[\d.,%]*[)]?$")


def _prose(sentence: str, longest: int = MAX_WORDS) -> bool:
    """A sentence that reads on its own: words (not table cells or a formula), starting
    with a capital letter and ending with its end mark, not a caption."""
    w = sentence.split()
    if not MIN_WORDS <= len(w) <= longest or not sentence[0].isupper():
        return False
    if not _ENDED.search(sentence):
        return False
    # "β1 = 0.9" states a setting, not a formula: read as a word
    sentence = _SETTING.sub("setting", sentence)
    w = sentence.split()
    if _CAPTION.match(sentence) or _FORMULA.search(sentence):
        return False
    numeric = sum(1 for t in w if _NUMERIC.match(t.strip(",;:")))
    # A body sentence full of numbers is table cells; an abstract's is its results.
    most = len(w) // 4 if longest > MAX_WORDS else max(2, len(w) // 8)
    return (
        sum(t.isalpha() for t in w) / len(w) >= 0.6 - 0.2 * (longest > MAX_WORDS)
        and numeric <= most
    )


def _clean(sentence: str) -> str:
    """A sentence as a summary shows it: whitespace folded, reference marks and a leading
    footnote mark dropped."""
    sentence = re.sub(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]", "", sentence)
    sentence = re.sub(r"^\d{1,2}\s+(?=[A-Z])", "", sentence.strip())
    # a footnote mark at the end, or the number of the next section ("... available. 5.")
    sentence = re.sub(r"(?<=[.!?])(?:\s*\d{1,2}|\s+\d{1,2}\.)$", "", sentence)
    lead = _SECTION_LEAD.match(sentence)
    if lead:
        rest = sentence[lead.end() :]
        sentence = rest[:1].upper() + rest[1:]
    return " ".join(sentence.split())


def candidates(sections: Sequence[Section]) -> list[Candidate]:
    """Every prose sentence of ``sections``, in order."""
    out: list[Candidate] = []
    for section in sections:
        lead = 0
        for paragraph, pages in section.paragraphs():
            text = _FOOTNOTE_MARK.sub(" ", paragraph)  # "... difficulties. 1 In the ..."
            for raw in split_sentences(text):
                sentence = _clean(raw)
                longest = MAX_ABSTRACT_WORDS if section.kind == "abstract" else MAX_WORDS
                if not _prose(sentence, longest):
                    continue
                out.append(
                    Candidate(sentence, section.heading, section.kind, pages, len(out), lead)
                )
                lead += 1
    return out


def _vectors(cands: Sequence[Candidate]) -> list[dict[str, float]]:
    docs = [Counter(content_words(c.text)) for c in cands]
    df: Counter[str] = Counter()
    for d in docs:
        df.update(d.keys())
    n = len(docs)
    vectors = []
    for d in docs:
        v = {w: c * math.log(1 + n / df[w]) for w, c in d.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vectors.append({w: x / norm for w, x in v.items()})
    return vectors


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(w, 0.0) for w, x in a.items())


def score(cands: Sequence[Candidate], title: str) -> list[Candidate]:
    """The candidates with their scores (see the module docstring)."""
    if not cands:
        return []
    vectors = _vectors(cands)
    centroid: Counter[str] = Counter()
    for v in vectors:
        centroid.update(v)
    norm = math.sqrt(sum(x * x for x in centroid.values())) or 1.0
    center = {w: x / norm for w, x in centroid.items()}
    title_terms = set(content_words(title))
    scored = []
    for c, v in zip(cands, vectors, strict=True):
        s = 2.0 * _cosine(v, center)
        if _CLAIM.search(c.text):
            s += 0.35
        found = [n for n in numbers(c.text) if len(n.replace(".", "")) > 1 or "." in n]
        s += min(0.3, 0.12 * len(found))
        s += min(0.2, 0.07 * len({m for m in ACRONYM.findall(c.text) if not m.isdigit()}))
        if title_terms:
            s += 0.4 * len(title_terms & set(content_words(c.text))) / len(title_terms)
        if c.kind == "abstract":
            s += 0.5
        elif _KEY_SECTION.search(c.heading) and c.lead < 3:
            s += 0.25 - 0.05 * c.lead
        if _OUT_OF_CONTEXT.match(c.text):
            s -= 0.35
        if _REFERS.search(c.text):
            s -= 0.3
        s -= 0.15 * min(2, len(_CITES.findall(c.text)))
        scored.append(Candidate(c.text, c.heading, c.kind, c.pages, c.order, c.lead, round(s, 4)))
    return scored
