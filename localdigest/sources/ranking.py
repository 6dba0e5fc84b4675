"""Rank a listing of papers by what the reader already reads: BM25 on numpy, offline.

The reader's library is a few documents or a few thousand: each paper fetched or summarized
(title, abstract, summary), each item imported from the reader's reference manager (title,
abstract, authors, keywords) and the ``interests`` text of the config. Every listed paper
(title, abstract, authors) is scored against each of them::

    similarity(p) = listed_age(p) * sum_i w(i) * BM25(i -> p) / BM25(i -> i) / sum_i w(i)

BM25(i -> p) scores the listed paper ``p`` as a document for the library paper ``i``'s
terms as the query, over an index of the listing plus the library (so a term common in
this week's listing weighs little, a rare one much); dividing by the library paper's score
against itself puts it between 0 (nothing shared) and about 1 (as close as the paper to
itself). The weighted mean over the library (as zotero-arxiv-daily ranks) favours a paper
close to many of the reader's papers over one that shares a few words with a single one:
on the recorded cs.AI day and a two-topic library it put 8 of the top 10 on the library's
topics, the best single match 5 (docs/arxiv.md). Two recency weights: papers read recently
count fully and older ones less (``w(i) = 1 / (1 + log10(1 + rank))``, newest first, as
zotero-arxiv-daily weighs a library), and
a listed paper loses half its score per three years it is older than the newest one listed
(a weekly listing is not affected; a search across years leans to the recent without
burying an old paper that matches well). A listed paper is never matched with itself when
it is already in the library.

Authors are terms too: each name becomes one term (``@`` + last name + first initial), so
a paper by someone the library reads often matches on that name. Followed authors and
keywords (``Follow``) lift a paper further: each one found counts like an independent
reason to read it, ``relevance = 1 - (1 - similarity) * (1 - 0.5)^authors * (1 - 0.3)^
keywords``, and leads its ``matched_terms`` ("by Tri Dao", '"state space"').

All pairs at once: the listing's BM25 weights are a term-by-paper table; for the terms
common in both the listing and the library the table is dense and one matrix product scores
every library paper against every listed one, and the rarer terms add their few (library
paper, listed paper) pairs; the shared terms of every listed paper and its best match come
from one intersection. Term ids follow the sorted vocabulary, so equal weights break the
same way in every process. ``bm25s`` scored one query at a time: 4.9 s for a 5,000-paper
library against 1,000 listed papers, where this takes 0.65 s on the loaded 2-core machine
(docs/performance.md). numpy is imported on the first ranking, never by ``--help``.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from itertools import chain
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from localdigest.sources.arxiv.meta import PaperMeta

INTERESTS = "your interests"
MATCHED_TERMS = 4
HALF_LIFE_DAYS = 3 * 365.0
FOLLOWED_AUTHOR = 0.5  # each followed author of a paper
FOLLOWED_KEYWORD = 0.3  # each followed keyword in its title or abstract
K1, B = 1.5, 0.75  # BM25's term-frequency saturation and length normalisation (Lucene's)
# Bump when ``terms`` changes: term lists stored with this number are computed again.
TERMS_VERSION = 1
# Words of two letters or more; hyphens split ("self-attention" also matches "attention").
# Without \b: the same words, twice as fast (a word run is matched whole either way).
TOKEN_RE = re.compile(r"\w\w+")
AUTHOR_MARK = "@"  # author terms: "@vaswani_a" (no word the tokenizer makes starts so)
# Library papers scored per block: bounds memory (block x listed floats) for any library.
BLOCK = 2048
# Pairs a term costs (papers listed x library papers having it) above which it goes in the
# dense table: one row of the matrix product costs about what this many pairs cost.
DENSE_PAIRS = 8000
# English function words (of two letters or more: the tokenizer drops shorter ones).
_ENGLISH = """
about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing don down during each few for from
further had has have having he her here hers herself him himself his how if in into is it
its itself just me more most my myself no nor not now of off on once only or other our
ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up upon very was
we were what when where which while who whom why will with would you your yours yourself
yourselves isn aren wasn weren hasn haven hadn doesn didn won wouldn shouldn couldn ll ve
"""
# Words every abstract uses: matching on them says nothing about what a paper is about.
_ACADEMIC = """
able achieve achieved achieves across additional al allow allows also analysis approach
approaches based best better called can create created current demonstrate demonstrates
design designed despite different effective efficient et existing experiment experiments
extensive first framework furthermore general generally hence however improve improved
improvement improves include includes including introduce key large main make makes
making many method methods model models much need needs new novel obtain obtained often
one paper papers performance possible present previous prior problem propose proposed
provide range recent recently require requires result results set several show shows
significant significantly simple small specific state-of-the-art study successfully task
tasks therefore three thus two typically unlike use used using various via well whereas
wide within without work works
pre non multi semi sub co re art performing requiring improving single
"""
ACADEMIC_STOPWORDS = frozenset(_ACADEMIC.split())


@dataclass(frozen=True)
class LibraryPaper:
    """One paper the reader has (fetched, summarized or imported), as text to match."""

    key: str  # arXiv id (base), the PDF's sha256, or the imported item's key
    title: str
    text: str  # title, abstract, TL;DR and summary; keywords of imported items
    when: datetime | None = None  # last fetched or summarized, or added to the library
    arxiv_id: str | None = None
    authors: tuple[str, ...] = ()
    terms: tuple[str, ...] | None = None  # ``library_terms`` of it, when stored already


@dataclass(frozen=True)
class Follow:
    """Authors and keywords the reader follows (settings ``authors`` and ``keywords``)."""

    authors: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.authors or self.keywords)

    def found(self, paper: PaperMeta) -> tuple[list[str], list[str]]:
        """The followed authors of ``paper`` (as the paper names them) and the followed
        keywords in its title or abstract."""
        wanted = [w for w in map(name_key, self.authors) if w]
        by = [
            a
            for a in (paper.authors if wanted else ())
            if (key := name_key(a)) and any(_same_person(key, w) for w in wanted)
        ]
        text = f"{paper.title} {paper.abstract}"
        return by, [k for k in self.keywords if k.strip() and mentions(text, k)]


@dataclass(frozen=True)
class Score:
    relevance: float
    matched_terms: tuple[str, ...] = ()
    similar_to: str | None = None  # the title of the library paper it is most like

    def to_dict(self) -> dict[str, Any]:
        return {
            "relevance": round(self.relevance, 4),
            "matched_terms": list(self.matched_terms),
            "similar_to": self.similar_to,
        }


@dataclass
class Ranking:
    """One score per listed paper (in the listing's order); none when nothing ranks it."""

    scores: list[Score] = field(default_factory=list)
    library_size: int = 0

    @property
    def empty(self) -> bool:
        return not self.scores

    def order(self) -> list[int]:
        """Indices of the listing, most relevant first (ties keep the listing's order)."""
        if self.empty:
            return []
        return sorted(range(len(self.scores)), key=lambda n: -self.scores[n].relevance)

    def top(self, count: int) -> list[int]:
        return self.order()[:count]


# ----------------------------------------------------------------------------- terms


_SAME_PLURAL = frozenset(("series", "species"))


def _fold(word: str) -> str:
    """A light stemmer: English plurals to singular, so "transformers" meets "transformer"
    and the matched terms stay readable words."""
    if word in _SAME_PLURAL:
        return word
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "ics")):
        return word[:-1]
    return word


STOPWORDS = frozenset(_ENGLISH.split()) | ACADEMIC_STOPWORDS


@cache
def _term(word: str) -> str | None:
    """The term a (lower-case) word counts as, or None for a stopword."""
    stop = STOPWORDS
    if word in stop:
        return None
    folded = _fold(word)
    return None if folded in stop else folded


def terms(text: str) -> list[str]:
    """The words of ``text`` that ranking matches on: lower case, plurals folded,
    stopwords left out."""
    return [t for t in map(_term, TOKEN_RE.findall(text.lower())) if t]


# Letters NFKD does not take apart into an ASCII letter and an accent.
_UNACCENTED = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae",
                             "Æ": "AE", "œ": "oe", "Œ": "OE", "đ": "d", "Đ": "D", "þ": "th",
                             "ı": "i"})  # fmt: skip
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_UNACCENTED))
    return text.encode("ascii", "ignore").decode().lower()


@cache
def name_key(name: str) -> str:
    """An author as one term: last name and first given name, accents and case dropped
    ("Erdős, Pál", "Pal Erdos" and arXiv's "P\\'al Erd\\H{o}s" are all ``erdos_pal``);
    "" when the name has no letters. The whole first name, not its initial: "J. Zhang"
    would be hundreds of people."""
    if "\\" in name or "{" in name:
        from localdigest.sources.references import latex_text

        name = latex_text(name)
    if "," in name:
        last, _, given = name.partition(",")
        family = "".join(re.findall(r"[a-z]+", _ascii(last)))
        first = re.findall(r"[a-z]+", _ascii(given))
        return f"{family}_{first[0]}" if family and first else family
    words = re.findall(r"[a-z]+", _ascii(name))
    while len(words) > 1 and words[-1] in _SUFFIXES:
        words.pop()
    if not words:
        return ""
    return f"{words[-1]}_{words[0]}" if len(words) > 1 else words[0]


def _same_person(key: str, wanted: str) -> bool:
    """A followed name written as a last name alone matches any first name, one with an
    initial ("Y. LeCun") any first name that starts so."""
    last, _, first = key.partition("_")
    want_last, _, want_first = wanted.partition("_")
    if last != want_last:
        return False
    return (
        not want_first or first == want_first or (len(want_first) == 1 and first[:1] == want_first)
    )


def author_terms(authors: Iterable[str]) -> list[str]:
    return [AUTHOR_MARK + k for k in map(name_key, authors) if k]


def mentions(text: str, phrase: str) -> bool:
    """Whether ``phrase`` is in ``text`` as whole words, any case, any spacing, its words
    singular or plural, hyphens or spaces between ("knowledge graph" is in "Knowledge
    Graphs", "mixture of experts" in "Mixture-of-Experts")."""
    words = [_fold(w) for w in re.findall(r"\w+", phrase.lower())]
    if not words:
        return False
    forms = [
        re.escape(w[:-1]) + "(?:y|ies)" if w.endswith("y") else re.escape(w) + "(?:s|es)?"
        for w in words
    ]
    pattern = r"(?<!\w)" + r"[\s-]+".join(forms) + r"(?!\w)"
    return re.search(pattern, text, re.IGNORECASE) is not None


def listing_terms(paper: PaperMeta) -> list[str]:
    """A listed paper's terms: its title counts twice."""
    title = terms(paper.title)
    return [*title, *title, *terms(paper.abstract), *author_terms(paper.authors)]


def library_terms(title: str, text: str, authors: Sequence[str]) -> tuple[str, ...]:
    """A library paper's terms (what imported items store, TERMS_VERSION)."""
    return (*terms(f"{title}. {text}"), *author_terms(authors))


# ----------------------------------------------------------------------------- weights


def _age_weights(library: Sequence[LibraryPaper]) -> list[float]:
    """1 / (1 + log10(1 + rank)), rank = how many library papers are more recent (so the
    newest weigh 1, the 10th most recent 0.5, the 100th 0.33); undated ones count as oldest."""
    stamps = [p.when.timestamp() if p.when else -math.inf for p in library]
    ascending = sorted(stamps)
    newer = [len(ascending) - bisect.bisect_right(ascending, s) for s in stamps]
    return [1.0 / (1.0 + math.log10(1 + n)) for n in newer]


def _listed_age_weights(papers: Sequence[PaperMeta]) -> list[float]:
    dates = [p.published for p in papers]
    known = [d for d in dates if d is not None]
    if not known:
        return [1.0] * len(papers)
    newest = max(known)
    return [
        0.5 ** (max((newest - d).days, 0) / HALF_LIFE_DAYS) if d is not None else 1.0 for d in dates
    ]


# ----------------------------------------------------------------------------- ranking


def rank(
    papers: Sequence[PaperMeta],
    library: Sequence[LibraryPaper],
    interests: str = "",
    follow: Follow | None = None,
) -> Ranking:
    """Score every listed paper against the library and what the reader follows (see the
    module docstring); no scores when there is nothing to rank by."""
    follow = follow or Follow()
    readers = list(library)
    if interests.strip():
        readers.append(LibraryPaper(INTERESTS, INTERESTS, interests, datetime.now(UTC)))
    if not papers or not (readers or follow):
        return Ranking([], len(library))
    index = _Index(papers, readers)
    weights = _age_weights(library) + ([1.0] if len(readers) > len(library) else [])
    similar, best_reader = index.best_matches(weights)
    listed_age = _listed_age_weights(papers)
    shared = index.matched(best_reader)
    scores = []
    for k, paper in enumerate(papers):
        by, keywords = follow.found(paper)
        why = [f"by {a}" for a in by] + [f'"{k}"' for k in keywords]
        i = int(best_reader[k])
        similarity = float(similar[k]) * listed_age[k] if i >= 0 else 0.0
        words = _matched_terms(shared[k], paper)
        rest = (1 - FOLLOWED_AUTHOR) ** len(by) * (1 - FOLLOWED_KEYWORD) ** len(keywords)
        scores.append(
            Score(
                1 - (1 - similarity) * rest,
                tuple(why + words),
                readers[i].title if i >= 0 and similarity > 0 else None,
            )
        )
    return Ranking(scores, len(library))


def _matched_terms(shared: list[str], paper: PaperMeta) -> list[str]:
    """The authors both share as the paper writes them, then the words (``_Index.matched``)."""
    if not shared or not shared[0].startswith(AUTHOR_MARK):
        return shared
    names = {AUTHOR_MARK + name_key(x): x for x in paper.authors}
    return [names.get(t, t) if t.startswith(AUTHOR_MARK) else t for t in shared]


class _Index:
    """The listing and the library as term ids, with each term's BM25 weight in each."""

    def __init__(self, papers: Sequence[PaperMeta], readers: Sequence[LibraryPaper]) -> None:
        import numpy as np

        self.n, self.readers = len(papers), readers
        self.listed_at = {p.arxiv_id: k for k, p in enumerate(papers)}
        docs: list[Sequence[str]] = [listing_terms(p) for p in papers]
        docs += [
            r.terms if r.terms is not None else library_terms(r.title, r.text, r.authors)
            for r in readers
        ]
        lengths = np.array([len(d) for d in docs], dtype=np.float64)
        count = int(lengths.sum())
        first: dict[str, int] = {}  # each term and where it first occurs
        seen = np.fromiter(
            map(first.setdefault, chain.from_iterable(docs), range(count)), np.int64, count
        )
        words = list(first)
        self.vocab = sorted(words)  # term ids in sorted order: the same in every process
        size = len(words)
        term_at = np.zeros(count, dtype=np.int64)
        term_at[list(first.values())] = np.argsort(sorted(range(size), key=words.__getitem__))
        flat = term_at[seen]
        self.author = np.array([t.startswith(AUTHOR_MARK) for t in self.vocab], dtype=bool)
        doc_of = np.repeat(np.arange(len(docs)), lengths.astype(np.int64))
        pairs, tf = np.unique(doc_of * size + flat, return_counts=True)
        self.doc, self.term = pairs // size, pairs % size  # sorted by document, then term
        self.starts = np.searchsorted(self.doc, np.arange(len(docs) + 1))
        self.tf = tf.astype(np.float64)
        df = np.bincount(self.term, minlength=size)
        self.idf = np.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        norm = K1 * (1 - B + B * lengths[self.doc] / max(float(lengths.mean()), 1.0))
        self.weight = self.idf[self.term] * self.tf / (self.tf + norm)

    def best_matches(self, weights: Sequence[float]) -> tuple[NDArray[Any], NDArray[Any]]:
        """For each listed paper, the weighted mean over the library of its share of each
        library paper's score against itself, and the library paper of the largest share
        (-1: none shares a term)."""
        import numpy as np

        n, size = self.n, len(self.vocab)
        listed = self.doc < n
        lt, ld, lw = self.term[listed], self.doc[listed], self.weight[listed]
        rt, ri, rw = self.term[~listed], self.doc[~listed] - n, self.weight[~listed]
        count = len(self.readers)
        own = np.bincount(ri, weights=rw, minlength=count)
        scale = np.asarray(weights) / np.where(own > 0, own, np.inf)
        df_listed = np.bincount(lt, minlength=size)
        cost = df_listed * np.bincount(rt, minlength=size)
        column = np.full(size, -1)
        dense = np.flatnonzero(cost > DENSE_PAIRS)
        column[dense] = np.arange(len(dense))
        table = np.zeros((len(dense), n), dtype=np.float32)
        in_table = column[lt] >= 0
        table[column[lt[in_table]], ld[in_table]] = lw[in_table]
        sparse = ~in_table  # the listing's postings of the other terms, by term
        order = np.argsort(lt[sparse], kind="stable")
        post_doc, post_w = ld[sparse][order], lw[sparse][order]
        post_at = np.zeros(size + 1, dtype=np.int64)
        np.cumsum(np.bincount(lt[sparse], minlength=size), out=post_at[1:])
        best = np.zeros(n)
        best_reader = np.full(n, -1)
        total = np.zeros(n)
        own_listed = [  # a paper you have is not its own reason
            (i, k)
            for i, r in enumerate(self.readers)
            if (k := self.listed_at.get(r.arxiv_id or "")) is not None
        ]
        starts = np.searchsorted(ri, np.arange(0, count + BLOCK, BLOCK))
        for block, first in enumerate(range(0, count, BLOCK)):
            last = min(first + BLOCK, count)
            t = rt[starts[block] : starts[block + 1]]
            r = ri[starts[block] : starts[block + 1]] - first
            dense_term = column[t] >= 0
            sparse_t, sparse_r = t[~dense_term], r[~dense_term]
            at, hits = _spans(post_at[sparse_t], post_at[sparse_t + 1])
            flat = post_doc[at] * (last - first)
            flat += np.repeat(sparse_r, hits)
            scores: NDArray[Any] = np.bincount(  # listed paper x library paper
                flat, weights=post_w[at], minlength=n * (last - first)
            )
            scores = scores.astype(np.float64, copy=False).reshape(n, -1)  # none: int zeros
            query = np.zeros((len(dense), last - first), dtype=np.float32)
            query[column[t[dense_term]], r[dense_term]] = 1.0
            scores += table.T @ query
            scores *= scale[None, first:last]
            for i, k in own_listed:
                if first <= i < last:
                    scores[k, i - first] = 0.0
            total += scores.sum(axis=1)
            arg = scores.argmax(axis=1)  # the first of equal ones
            top = scores[np.arange(n), arg]
            better = top > best
            best[better] = top[better]
            best_reader[better] = arg[better] + first
        return total / max(sum(weights), 1e-9), best_reader

    def matched(self, best_reader: NDArray[Any]) -> list[list[str]]:
        """For each listed paper, the terms it shares with its closest library paper (none
        without one): the authors, then the MATCHED_TERMS words that weigh most (rare in
        the index, frequent in both texts; equal weights in the vocabulary's order)."""
        import numpy as np

        size = len(self.vocab)
        listed = np.flatnonzero(best_reader >= 0)
        keys, tfs = [], []
        for docs in (listed, self.n + best_reader[listed]):  # the listed papers, their best
            at, hits = _spans(self.starts[docs], self.starts[docs + 1])
            keys.append(np.repeat(np.arange(len(docs)), hits) * size + self.term[at])
            tfs.append(self.tf[at])
        shared, at_a, at_b = np.intersect1d(
            keys[0], keys[1], assume_unique=True, return_indices=True
        )
        pair, term = shared // size, shared % size
        weight = self.idf[term] * (1 + np.log(tfs[0][at_a])) * (1 + np.log(tfs[1][at_b]))
        author = self.author[term]
        order = np.lexsort((-weight, ~author, pair))  # by paper, authors, heaviest (stable)
        pair, term, author = pair[order], term[order], author[order]
        bounds = np.searchsorted(pair, np.arange(len(listed) + 1))
        authors = np.bincount(pair[author], minlength=len(listed))
        place = np.arange(len(pair)) - bounds[pair] - authors[pair]  # among the words
        keep = author | (place < MATCHED_TERMS)
        words = [self.vocab[t] for t in term[keep].tolist()]
        bounds = np.searchsorted(pair[keep], np.arange(len(listed) + 1)).tolist()
        found: list[list[str]] = [[] for _ in range(self.n)]
        for j, k in enumerate(listed.tolist()):
            found[k] = words[bounds[j] : bounds[j + 1]]
        return found


def _spans(starts: NDArray[Any], stops: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
    """The positions of every span ``starts[j]:stops[j]``, one span after another, and the
    length of each."""
    import numpy as np

    hits = stops - starts
    at = np.repeat(starts - (np.cumsum(hits) - hits), hits)
    at += np.arange(len(at))
    return at, hits
