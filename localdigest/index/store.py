"""The passage index on disk: every paper read, cut into passages, searchable offline.

One SQLite file next to the cache (``passages.sqlite``, in WAL mode) holds:

- ``papers``: each paper read, by its PDF's sha256 (title, where it is, its arXiv id);
- ``passages``: its passages as they are shown (section, first and last page, text, and
  which of the paper's paragraph-passages it spans: a window spans two);
- ``terms``: an FTS5 table with one row per passage (rowid = the passage's id) and three
  columns, the passage's terms, its section heading's and its paper title's. The caller
  stems them (``summarize/passages.py``, with grounding's stemming), so FTS5's tokenizer
  only splits them at spaces;
- ``meta``: the format, the running totals BM25 needs, what is still to be read.

Why FTS5 and not bm25s (docs/ask.md has the numbers): a paper is added in one transaction
in a few milliseconds (bm25s rebuilds its whole index to add one: 41 s at 10,000 papers),
it is in the standard library (no import cost), and it is durable by itself: a killed run
leaves the previous state, never half a paper.

A question is answered in two steps, so that it stays fast at 10,000 papers: FTS5 picks
``CANDIDATES`` passages by the question's rarest terms, as many of them as are held by
``POSTINGS`` passages at most all told (at least the rarest: a common term picks little
out, and its long list of passages was most of a query's time), then every candidate is
scored with all the question's terms (``rank.bm25f``). In a small library that is every
term. A question naming something (``Query.named``) is only answered from papers that
name it too (a name in at most ``SELECTIVE`` of the passages). No text is shown twice:
a passage that overlaps a better one is left out, unless it holds all of it and more (a
window over it and its neighbour), which then takes its place, with the context the
better one lacked, or the two are windows sharing a paragraph, then shown as one.

Damage (SQLite says the file is not a database, or malformed) is repaired here: the file
is removed, a fresh index started and marked for a backfill, which the ask workflow does
from the papers the cache and the library know. Nothing else is touched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeVar

from localdigest.errors import CacheError
from localdigest.index import rank

# The passages' and terms' rules: a new FORMAT rebuilds the index from the papers read.
FORMAT = "2"  # 2: windows over neighbouring passages, Greek letters, stems folded, and
# passages cut at sentences split knowing abbreviations
CANDIDATES = 200  # passages FTS5 hands to the full scoring
JOINED_SPAN = 3  # two overlapping windows are shown as one passage of three
POSTINGS = 20_000  # the passages FTS5 reads to pick candidates, the rarest terms' first
SELECTIVE = 0.05  # a name in more passages than this share does not say which papers
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS papers(
    id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
    path TEXT NOT NULL, arxiv_id TEXT, added TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS passages(
    id INTEGER PRIMARY KEY, paper INTEGER NOT NULL, section TEXT NOT NULL,
    first_page INTEGER NOT NULL, last_page INTEGER NOT NULL, text TEXT NOT NULL,
    span_first INTEGER NOT NULL, span_last INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS passages_by_paper ON passages(paper);
CREATE VIRTUAL TABLE IF NOT EXISTS terms USING fts5(body, section, title);
CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab(terms, row);
"""
T = TypeVar("T")


@dataclass(frozen=True)
class IndexedPaper:
    """A paper as the index knows it."""

    sha256: str
    title: str
    path: str
    arxiv_id: str | None = None


@dataclass(frozen=True)
class Passage:
    """A passage of a paper, with its search terms (stemmed, space-separated) and the
    paper's paragraph-passages it spans (first and last, counted from 0)."""

    section: str
    first_page: int
    last_page: int
    text: str
    terms: str
    section_terms: str
    span: tuple[int, int]


@dataclass(frozen=True)
class Query:
    """A question's search terms (stemmed, in the question's order) and those it names
    (a capitalised word, an acronym, a number: only a paper naming them answers)."""

    terms: tuple[str, ...]
    named: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    paper: IndexedPaper
    section: str
    pages: tuple[int, int]
    text: str
    score: float


@dataclass(frozen=True)
class Found:
    """The best passages (best first), whether they answer, and how many papers were
    searched."""

    hits: list[Hit]
    answers: bool
    searched: int


class PassageIndex:
    """The index file at ``path``, opened on first use and kept open until ``close``
    (closing a WAL database checkpoints it: once per run, not once per paper). Threads
    share the connection one call at a time; other processes wait for a write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.repaired: str | None = None  # why a fresh index was made, if one was
        self._db: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    # -- reading

    def has(self, sha256: str) -> bool:
        query = "SELECT 1 FROM papers WHERE sha256 = ?"
        return self._run(lambda db: db.execute(query, (sha256,)).fetchone() is not None)

    def papers(self) -> list[IndexedPaper]:
        def query(db: sqlite3.Connection) -> list[IndexedPaper]:
            rows = db.execute(f"SELECT {_PAPER_COLUMNS} FROM papers ORDER BY id").fetchall()
            return [_paper(row) for row in rows]

        return self._run(query)

    def counts(self) -> tuple[int, int]:
        """Papers and passages held."""

        def query(db: sqlite3.Connection) -> tuple[int, int]:
            papers = db.execute("SELECT count(*) FROM papers").fetchone()[0]
            return int(papers), int(_meta_number(db, "passages"))

        return self._run(query)

    def note(self, key: str) -> str | None:
        """A value the workflow keeps here (what was last synced)."""
        return self._run(lambda db: _meta(db, key))

    # -- writing

    def add(self, paper: IndexedPaper, passages: Sequence[Passage], title_terms: str) -> None:
        """Store ``paper`` with its passages (replacing what was stored for the same PDF),
        in one transaction."""

        def write(db: sqlite3.Connection) -> None:
            old = db.execute("SELECT id FROM papers WHERE sha256 = ?", (paper.sha256,)).fetchone()
            if old is not None:
                _remove(db, int(old[0]))
            cursor = db.execute(
                "INSERT INTO papers(sha256, title, path, arxiv_id, added) VALUES (?, ?, ?, ?, ?)",
                (
                    paper.sha256,
                    paper.title,
                    paper.path,
                    paper.arxiv_id,
                    dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                ),
            )
            paper_id = cursor.lastrowid
            for p in passages:
                row = db.execute(
                    "INSERT INTO passages(paper, section, first_page, last_page, text,"
                    " span_first, span_last) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (paper_id, p.section, p.first_page, p.last_page, p.text, *p.span),
                )
                db.execute(
                    "INSERT INTO terms(rowid, body, section, title) VALUES (?, ?, ?, ?)",
                    (row.lastrowid, p.terms, p.section_terms, title_terms),
                )
            _add_totals(db, [(p.terms, p.section_terms, title_terms) for p in passages], +1)

        self._run(write, write=True)

    def set_note(self, key: str, value: str | None) -> None:
        def write(db: sqlite3.Connection) -> None:
            if value is None:
                db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

        self._run(write, write=True)

    def clear(self) -> int:
        """Forget every paper (the file itself is made afresh): how many there were."""
        with self._lock:
            try:
                papers, _ = self.counts()
            except CacheError:
                papers = 0
            self.close()
            self._remove_files()
            self._run(lambda db: None)  # a fresh file, marked for a backfill
            return papers

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = None

    # -- searching

    def search(self, query: Query, top: int, within: Collection[str] | None = None) -> Found:
        """The ``top`` passages that best answer ``query``, of every paper or of those
        whose sha256 is in ``within``; ``answers`` is False when none of them does."""
        return self._run(lambda db: _search(db, query, top, within))

    # -- the connection, damage and repair

    def _run(self, op: Callable[[sqlite3.Connection], T], write: bool = False) -> T:
        """``op`` on the connection (a write in one transaction). A damaged file is
        replaced by a fresh index and ``op`` is run again there."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._db is None:
                        self._db = self._open()
                    return _transaction(self._db, op) if write else op(self._db)
                except sqlite3.DatabaseError as e:
                    if _damaged(e) and attempt == 1:
                        self.repaired = f"{e}"
                        self.close()
                        self._remove_files()
                        continue
                    if _damaged(e) or isinstance(e, sqlite3.OperationalError):
                        raise CacheError(
                            f"Cannot use the passage index at {self.path} ({e}) — check its "
                            "permissions and free space, or set LOCALDIGEST_HOME"
                        ) from e
                    raise  # a constraint or a statement of ours is wrong: a bug
                except OSError as e:
                    raise CacheError(
                        f"Cannot open the passage index at {self.path} ({e.strerror or e}) — "
                        "check its folder's permissions, or set LOCALDIGEST_HOME"
                    ) from e
            raise AssertionError("unreachable")

    def _open(self) -> sqlite3.Connection:
        """A connection to an index of this FORMAT: made (and marked for a backfill) when
        the file is new or was made by a version whose passages differ."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = _connect(self.path)
        fmt = _meta(db, "format") if _has_schema(db) else None
        if fmt == FORMAT:
            return db
        if fmt is not None:
            db.close()
            self.repaired = f"made with passage format {fmt}, this version uses {FORMAT}"
            self._remove_files()
            db = _connect(self.path)
        db.execute("BEGIN IMMEDIATE")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (FORMAT,))
        db.execute("INSERT OR REPLACE INTO meta VALUES ('backfill', 'pending')")
        db.execute("COMMIT")
        return db

    def _remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                self.path.with_name(self.path.name + suffix).unlink()


# ----------------------------------------------------------------------------- helpers

_PAPER_COLUMNS = "sha256, title, path, arxiv_id"


def _paper(row: Sequence[object]) -> IndexedPaper:
    sha, title, path, arxiv_id = row
    return IndexedPaper(str(sha), str(title), str(path), str(arxiv_id) if arxiv_id else None)


def _damaged(error: sqlite3.DatabaseError) -> bool:
    """SQLite says the file is not a database, or its image (an FTS5 index too) is
    malformed: damage, which a fresh index repairs. Not: locked, read-only, full, a
    constraint (those are said, or a bug)."""
    return getattr(error, "sqlite_errorcode", 0) & 0xFF in (11, 26)  # CORRUPT, NOTADB


def _transaction(db: sqlite3.Connection, op: Callable[[sqlite3.Connection], T]) -> T:
    db.execute("BEGIN IMMEDIATE")
    try:
        result = op(db)
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return result


def _connect(path: Path) -> sqlite3.Connection:
    # Transactions are begun and committed explicitly (isolation_level None); another
    # process writing the same file is waited for, up to 30 s. In WAL mode, synchronous
    # NORMAL never leaves a damaged file; a power cut may lose the last papers added, which
    # are read again (the index is recomputable). FULL's fsync per commit was half of the
    # time a paper took to add.
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def _has_schema(db: sqlite3.Connection) -> bool:
    found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
    return found.fetchone() is not None


def _meta(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row is not None else None


def _meta_number(db: sqlite3.Connection, key: str) -> float:
    return float(_meta(db, key) or 0)


def _add_totals(db: sqlite3.Connection, rows: Sequence[tuple[str, ...]], sign: int) -> None:
    """Keep the passage count and each field's total length (BM25's averages) in step."""
    changes = {"passages": sign * len(rows)}
    for name, i in zip(rank.FIELDS, range(3), strict=True):
        changes[f"length:{name}"] = sign * sum(len(r[i].split()) for r in rows)
    for key, change in changes.items():
        value = _meta_number(db, key) + change
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))


def _remove(db: sqlite3.Connection, paper_id: int) -> None:
    rows = db.execute(
        "SELECT body, section, title FROM terms WHERE rowid IN "
        "(SELECT id FROM passages WHERE paper = ?)",
        (paper_id,),
    ).fetchall()
    _add_totals(db, rows, -1)
    passages = "SELECT id FROM passages WHERE paper = ?"
    db.execute(f"DELETE FROM terms WHERE rowid IN ({passages})", (paper_id,))
    db.execute("DELETE FROM passages WHERE paper = ?", (paper_id,))
    db.execute("DELETE FROM papers WHERE id = ?", (paper_id,))


def _library(db: sqlite3.Connection) -> rank.Library:
    lengths = {name: _meta_number(db, f"length:{name}") for name in rank.FIELDS}
    return rank.Library(int(_meta_number(db, "passages")), lengths)


def _doc_counts(db: sqlite3.Connection, terms: Sequence[str]) -> dict[str, int]:
    marks = ",".join("?" * len(terms))
    rows = db.execute(f"SELECT term, doc FROM vocab WHERE term IN ({marks})", tuple(terms))
    return {str(term): int(doc) for term, doc in rows}


def _match(terms: Sequence[str]) -> str:
    return " OR ".join(f'"{t}"' for t in terms)  # terms are [a-z0-9]+: nothing to escape


class _Row(NamedTuple):
    """A candidate passage as read back: its terms, its paper and what is shown."""

    id: int
    body: str
    section_terms: str
    title_terms: str
    paper: int
    section: str
    first_page: int
    last_page: int
    text: str
    span_first: int
    span_last: int

    def candidate(self) -> rank.Candidate:
        return rank.Candidate(
            {
                "body": Counter(self.body.split()),
                "section": Counter(self.section_terms.split()),
                "title": Counter(self.title_terms.split()),
            }
        )


def _search(
    db: sqlite3.Connection, query: Query, top: int, within: Collection[str] | None
) -> Found:
    scope: list[int] | None = None
    if within is not None:
        marks = ",".join("?" * len(within))
        rows = db.execute(f"SELECT id FROM papers WHERE sha256 IN ({marks})", tuple(within))
        scope = [int(r[0]) for r in rows]
        searched = len(scope)
    else:
        searched = int(db.execute("SELECT count(*) FROM papers").fetchone()[0])
    lib = _library(db)
    df = _doc_counts(db, [*query.terms, *query.named])
    known = [t for t in query.terms if df.get(t)]
    if not known or not lib.passages or scope == []:
        return Found([], False, searched)
    picking: list[str] = []
    for term in sorted(known, key=lambda t: df[t]):
        if picking and sum(df[t] for t in picking) + df[term] > POSTINGS:
            break
        picking.append(term)
    allowed = _naming_papers(db, query.named, df, lib)
    scored = _distinct(
        sorted(
            (
                (rank.bm25f(row.candidate(), query.terms, df, lib), row)
                for row in _candidates(db, picking, scope)
                if allowed is None or row.paper in allowed
            ),
            key=lambda s: (-s[0], s[1].id),
        ),
        top,
    )
    if not scored:
        return Found([], False, searched)
    best = rank.coverage(scored[0][1].candidate(), query.terms, df, lib)
    papers = _papers_by_id(db, {row.paper for _, row in scored})
    hits = [
        Hit(
            papers[row.paper],
            row.section,
            (row.first_page, row.last_page),
            row.text,
            round(score, 4),
        )
        for score, row in scored
    ]
    return Found(hits, best >= rank.ANSWERS_AT, searched)


def _distinct(scored: Sequence[tuple[float, _Row]], top: int) -> list[tuple[float, _Row]]:
    """The first ``top`` passages of ``scored`` (best first) that show no text twice. One
    that overlaps a single passage already kept joins it, in its place and with its
    score: spanning all of it and more, it is shown instead; overlapping its end or its
    start (two windows sharing a paragraph), the two are shown as one, up to
    ``JOINED_SPAN`` paragraph-passages. Any other overlap is left out."""
    kept: list[tuple[float, _Row]] = []
    for score, row in scored:
        if len(kept) == top:
            break
        overlaps = [
            i
            for i, (_, k) in enumerate(kept)
            if k.paper == row.paper
            and k.span_first <= row.span_last
            and row.span_first <= k.span_last
        ]
        if not overlaps:
            kept.append((score, row))
        elif len(overlaps) == 1:
            best, shown = kept[overlaps[0]]
            joined = _joined(shown, row)
            if joined is not None:
                kept[overlaps[0]] = (best, joined)
    return kept


def _joined(shown: _Row, row: _Row) -> _Row | None:
    """``shown`` and ``row`` (overlapping, of one paper) as one passage, or None when they
    do not make one short enough."""
    if row.span_first <= shown.span_first and shown.span_last <= row.span_last:
        return row
    first, second = sorted((shown, row), key=lambda r: r.span_first)
    if second.span_last <= first.span_last or second.span_last - first.span_first >= JOINED_SPAN:
        return None
    # the paragraph they share ends the first and starts the second: the longest start of
    # the second (at a word break) that ends the first
    cut = len(second.text)
    while cut > 0 and not first.text.endswith(second.text[:cut]):
        cut = second.text.rfind(" ", 0, cut)
    if cut <= 0:
        return None
    return shown._replace(
        text=first.text + second.text[cut:],
        first_page=first.first_page,
        last_page=max(first.last_page, second.last_page),
        span_first=first.span_first,
        span_last=second.span_last,
    )


def _candidates(
    db: sqlite3.Connection, terms: Sequence[str], scope: list[int] | None
) -> list[_Row]:
    """The CANDIDATES passages FTS5 ranks best for ``terms`` (in ``scope``'s papers)."""
    weights = ", ".join(str(rank.WEIGHTS[name]) for name in rank.FIELDS)
    tables, where = "terms", "terms MATCH ?"
    params: list[object] = [_match(terms)]
    if scope is not None:
        # CROSS JOIN keeps FTS5 the outer loop (one pass over the terms' passages, each
        # checked against the scope): with the scope outside, FTS5 would be asked once
        # per passage of the scope (9 s for 300 papers of 10,000).
        tables = "terms CROSS JOIN passages ON passages.id = terms.rowid"
        where += f" AND passages.paper IN ({','.join('?' * len(scope))})"
        params.extend(scope)
    ids = [
        int(r[0])
        for r in db.execute(
            f"SELECT terms.rowid FROM {tables} WHERE {where} "
            f"ORDER BY bm25(terms, {weights}) LIMIT {CANDIDATES}",
            params,
        )
    ]
    rows = db.execute(
        "SELECT terms.rowid, terms.body, terms.section, terms.title, passages.paper, "
        "passages.section, passages.first_page, passages.last_page, passages.text, "
        "passages.span_first, passages.span_last "
        "FROM terms JOIN passages ON passages.id = terms.rowid "
        f"WHERE terms.rowid IN ({','.join('?' * len(ids))})",
        ids,
    )
    return [_Row(*row) for row in rows]


def _naming_papers(
    db: sqlite3.Connection, named: Sequence[str], df: dict[str, int], lib: rank.Library
) -> set[int] | None:
    """The papers that hold every selective named term (None: no such term to check). A
    named term no passage holds leaves no paper."""
    allowed: set[int] | None = None
    for term in named:
        count = df.get(term, 0)
        if count > SELECTIVE * lib.passages:
            continue  # named by a tenth of the library: it says little about which paper
        holders = (
            {
                int(r[0])
                for r in db.execute(
                    "SELECT DISTINCT passages.paper FROM terms JOIN passages "
                    "ON passages.id = terms.rowid WHERE terms MATCH ?",
                    (_match([term]),),
                )
            }
            if count
            else set()
        )
        allowed = holders if allowed is None else allowed & holders
    return allowed


def _papers_by_id(db: sqlite3.Connection, ids: Collection[int]) -> dict[int, IndexedPaper]:
    marks = ",".join("?" * len(ids))
    rows = db.execute(f"SELECT id, {_PAPER_COLUMNS} FROM papers WHERE id IN ({marks})", tuple(ids))
    return {int(r[0]): _paper(r[1:]) for r in rows}
