"""The reader's reference library as exported or kept by their reference manager: BibTeX,
CSL-JSON (what Zotero, Mendeley, JabRef and Paperpile all export) and Zotero's own
``zotero.sqlite``. Each reader returns ``Reference`` items: title, abstract, authors,
keywords, when it was added, and its arXiv id or DOI when the entry names one. Folders of
PDFs are read by ``workflows.library`` (the PDF stage sits beside this one).

BibTeX is parsed by ``bibtexparser`` (2.x: string macros, ``#`` concatenation, comments);
LaTeX in its values (``{\\"o}``, ``\\'{e}``, ``\\&``, ``{BERT}``) is turned into text here
with one pass over each value: pylatexenc (bibtexparser's own decoder) took 5 ms an abstract,
27 s for a 5,000-entry library, against a 10 s budget for the whole import.

Zotero's database is opened read-only with ``immutable=1``: no lock is taken and nothing
is written, so a running Zotero is never disturbed (it keeps the file locked for writing).
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from localdigest.errors import InputError
from localdigest.sources.arxiv.ids import parse_arxiv_id
from localdigest.text import one_line

Kind = Literal["bibtex", "csl-json", "zotero", "pdfs"]
KINDS: tuple[Kind, ...] = ("bibtex", "csl-json", "zotero", "pdfs")


@dataclass(frozen=True)
class Reference:
    """One item of the reader's library, whichever manager it came from."""

    key: str  # unique within its source: citation key, CSL id, Zotero key, PDF path
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()  # "First Last"
    keywords: tuple[str, ...] = ()  # keywords, tags, collection names
    added: str | None = None  # ISO date (and time) it was added, else published
    arxiv_id: str | None = None
    doi: str | None = None
    stamp: str = ""  # a PDF's size and modification time: unchanged files are not read again

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items() if v}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reference:
        """Read what ``to_dict`` wrote; ValueError for anything else."""
        if not isinstance(data, dict) or not isinstance(data.get("key"), str):
            raise ValueError("an imported item is not an object with a key")
        values: dict[str, Any] = {}
        for name, is_tuple in _ITEM_FIELDS:
            value = data.get(name)
            if value is None:
                continue
            if is_tuple:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ValueError(f"{name} of {data['key']!r} is not a list of texts")
                value = tuple(value)
            elif not isinstance(value, str):
                raise ValueError(f"{name} of {data['key']!r} is not a text")
            values[name] = value
        values.setdefault("title", "")
        return cls(**values)

    @property
    def identity(self) -> str:
        """The same paper from two sources is one: its arXiv id, DOI, or title."""
        if self.arxiv_id:
            return f"arxiv:{self.arxiv_id}"
        if self.doi:
            return f"doi:{self.doi.lower()}"
        return "title:" + " ".join(_WORD.findall(self.title.casefold()))


# What ``from_dict`` reads: each field and whether it is a tuple.
_ITEM_FIELDS = [(name, "tuple" in kind) for name, kind in Reference.__annotations__.items()]
_WORD = re.compile(r"\w+")


def kind_of(path: Path) -> Kind:
    """What a source is, by its name (and a folder: PDFs); InputError for anything else."""
    if path.is_dir():
        return "pdfs"
    suffix = path.suffix.lower()
    if suffix in (".bib", ".bibtex", ".biblatex"):
        return "bibtex"
    if suffix in (".json", ".csljson"):
        return "csl-json"
    if suffix in (".sqlite", ".sqlite3", ".db"):
        return "zotero"
    raise InputError(
        f"{path} is not a library localdigest reads — give a BibTeX file (.bib), a CSL-JSON "
        "export (.json), Zotero's zotero.sqlite or a folder of PDFs"
    )


def zotero_default() -> Path:
    """Where Zotero keeps its database unless told otherwise (every platform)."""
    return Path.home() / "Zotero" / "zotero.sqlite"


def read(path: Path, kind: Kind) -> list[Reference]:
    """The items of a BibTeX, CSL-JSON or Zotero source (InputError when it can't be read)."""
    readers = {"bibtex": read_bibtex, "csl-json": read_csl_json, "zotero": read_zotero}
    return readers[kind](path)


# ----------------------------------------------------------------------------- text


_ACCENTS = {
    "`": "\u0300", "'": "\u0301", "^": "\u0302", '"': "\u0308", "~": "\u0303",
    "=": "\u0304", ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b",
    "c": "\u0327", "k": "\u0328", "r": "\u030a", "d": "\u0323", "b": "\u0331",
}  # fmt: skip
_LETTERS = {
    "ss": "ß", "o": "ø", "O": "Ø", "l": "ł", "L": "Ł", "ae": "æ", "AE": "Æ", "oe": "œ",
    "OE": "Œ", "aa": "å", "AA": "Å", "i": "ı", "j": "ȷ", "textendash": "–",
    "textemdash": "—", "dots": "…", "ldots": "…", "textquoteright": "’",
}  # fmt: skip
# An accent with its letter (\"o, \"{o}, \'{\i}, \c c), a named letter (\ss, \o{}), an
# escaped character (\&, \%, \_), or any other command (its name goes, its text stays).
_LATEX = re.compile(
    r"""\\(?P<accent>[`'^"~=.])\s*(?:\{\s*(?:\\(?P<dotless1>[ij])\b\s*)?(?P<braced>[^{}\\]?)\s*\}|"""
    r"""\\(?P<dotless2>[ij])\b|(?P<bare>[A-Za-z]))"""
    r"""|\\(?P<named>[uvHckrdb])(?:\s*\{\s*(?P<named_arg>[^{}]?)\s*\}|\s+(?P<named_bare>[A-Za-z]))"""
    r"""|\\(?P<letter>ss|ae|AE|oe|OE|aa|AA|o|O|l|L|i|j|textendash|textemdash|l?dots|textquoteright)(?![A-Za-z])(?:\{\})?"""
    r"""|\\(?P<escaped>[&%$_#{} ])"""
    r"""|\\(?P<command>[A-Za-z]+)\*?""",
)


def _latex_piece(m: re.Match[str]) -> str:
    if m["accent"] or m["named"]:
        mark = _ACCENTS[m["accent"] or m["named"]]
        base = m["braced"] or m["bare"] or m["named_arg"] or m["named_bare"] or ""
        if m["dotless1"] or m["dotless2"]:
            base = m["dotless1"] or m["dotless2"]
        return unicodedata.normalize("NFC", base + mark) if base else ""
    if m["letter"]:
        return _LETTERS[m["letter"]]
    if m["escaped"]:
        return m["escaped"]
    return ""  # \emph, \textbf, \url...: the text in its braces stays


def latex_text(value: str) -> str:
    """A BibTeX value as plain text: accents composed, commands dropped (their text kept),
    protective braces and ``~`` gone, ``--`` a dash, on one line."""
    if "\\" in value:
        value = _LATEX.sub(_latex_piece, value)
    value = value.replace("{", "").replace("}", "").replace("~", " ")
    return one_line(value.replace("---", "—").replace("--", "–"))


def _markup_free(text: str) -> str:
    """CSL-JSON's rich text (``<i>``, ``<sup>``, ``<span class="nocase">``) as plain text."""
    return one_line(re.sub(r"</?(?:i|b|sup|sub|span)(?:\s[^>]*)?>", "", text))


def find_arxiv_id(texts: Iterable[str | None]) -> str | None:
    """The arXiv id an entry names anywhere (eprint, URL, DOI 10.48550/arXiv.*, a note)."""
    for text in texts:
        if not text:
            continue
        for m in re.finditer(
            r"arxiv(?:\.org/(?:abs|pdf)/|:\s*|\.)\s*([\w.\-/]+?)(?:\.pdf)?(?=[\s,;}\]]|$)"
            r"|^\s*(\d{4}\.\d{4,5}(?:v\d+)?)\s*$",
            text,
            re.IGNORECASE,
        ):
            try:
                return parse_arxiv_id(m[1] or m[2]).base
            except InputError:
                continue
    return None


def _date(text: str | None) -> str | None:
    """An ISO date from what managers write (``2017-06-12 10:00:00``, ``2017``, ``2017-06``)."""
    if not text:
        return None
    m = re.search(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?(?:[ T](\d{2}:\d{2}:\d{2}))?", text)
    if not m:
        return None
    year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    try:
        when = datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None
    if m[4]:
        return f"{when.date().isoformat()}T{m[4]}+00:00"
    return when.date().isoformat()


def _words_list(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(dict.fromkeys(w.strip() for w in re.split(r"[;,]", text) if w.strip()))


# ----------------------------------------------------------------------------- BibTeX

_MONTHS = {
    m: n
    for n, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"Cannot read {path} ({e.strerror or e}) — check the path") from e
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # older BibTeX files: each byte is a character


def _bib_author(name: str) -> str:
    """ "Last, First" or "First Last" as "First Last"; {Google Brain} stays whole."""
    name = latex_text(name)
    if "," in name:
        last, _, first = name.partition(",")
        return one_line(f"{first.split(',')[-1]} {last}")
    return name


def read_bibtex(path: Path) -> list[Reference]:
    from bibtexparser.entrypoint import parse_string

    library = parse_string(_read_text(path))
    if not library.entries and library.failed_blocks:
        raise InputError(f"{path} has no BibTeX entry localdigest can read — is it a .bib file?")
    items = []
    for entry in library.entries:
        fields = {f.key.lower(): str(f.value) for f in entry.fields}
        title = latex_text(fields.get("title", ""))
        if not title:
            continue
        authors = (
            re.split(r"\s+and\s+", fields.get("author", "").strip()) if "author" in fields else []
        )
        year, month = fields.get("year", ""), fields.get("month", "").strip().title()[:3]
        published = f"{year}-{_MONTHS.get(month, month) or 1}" if year else fields.get("date")
        added = fields.get("dateadded") or fields.get("timestamp") or fields.get("added-at")
        items.append(
            Reference(
                key=entry.key,
                title=title,
                abstract=latex_text(fields.get("abstract", "")),
                authors=tuple(a for a in map(_bib_author, authors) if a and a != "others"),
                keywords=_words_list(latex_text(fields.get("keywords", ""))),
                added=_date(added) or _date(published),
                arxiv_id=find_arxiv_id(
                    [
                        fields.get("eprint"),
                        fields.get("url"),
                        fields.get("doi"),
                        fields.get("journal"),
                        fields.get("note"),
                        fields.get("howpublished"),
                    ]
                ),
                doi=fields.get("doi") or None,
            )
        )
    return items


# ----------------------------------------------------------------------------- CSL-JSON


def _csl_author(person: Any) -> str:
    if not isinstance(person, dict):
        return ""
    if person.get("literal"):
        return one_line(str(person["literal"]))
    parts = [person.get("given"), person.get("non-dropping-particle"), person.get("family")]
    return one_line(" ".join(str(p) for p in parts if p))


def _csl_date(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    parts = value.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        numbers = [str(p) for p in parts[0][:3]]
        return _date("-".join(numbers))
    return _date(str(value.get("raw") or value.get("literal") or ""))


def read_csl_json(path: Path) -> list[Reference]:
    try:
        data = json.loads(_read_text(path))
    except ValueError as e:
        raise InputError(f"{path} is not valid JSON ({e}) — export CSL JSON again") from e
    if isinstance(data, dict):
        data = data.get("items", [data])
    if not isinstance(data, list):
        raise InputError(f"{path} is not a CSL-JSON list of items — export CSL JSON again")
    items = []
    for n, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("title"), str):
            continue
        keywords = item.get("keyword")
        items.append(
            Reference(
                key=str(item.get("id") or item.get("citation-key") or n),
                title=_markup_free(item["title"]),
                abstract=_markup_free(str(item.get("abstract") or "")),
                authors=tuple(a for a in map(_csl_author, item.get("author") or []) if a),
                keywords=_words_list(keywords if isinstance(keywords, str) else None),
                added=_csl_date(item.get("accessed")) or _csl_date(item.get("issued")),
                arxiv_id=find_arxiv_id(
                    [str(item.get(k) or "") for k in ("number", "URL", "DOI", "note")]
                ),
                doi=str(item["DOI"]) if item.get("DOI") else None,
            )
        )
    return items


# ----------------------------------------------------------------------------- Zotero

# Items that are no reference: notes, attachments (PDFs, snapshots), annotations.
_NOT_REFERENCES = ("note", "attachment", "annotation")
_FIELDS = ("title", "abstractNote", "DOI", "url", "extra", "archiveID", "date")


def read_zotero(path: Path) -> list[Reference]:
    """Every regular item of a zotero.sqlite (not in the trash), with its creators, tags
    and collection names, read through an immutable read-only connection."""
    if not path.is_file():
        raise InputError(f"No Zotero database at {path} — give the path of your zotero.sqlite")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
    try:
        db = sqlite3.connect(uri, uri=True)
        try:
            return list(_zotero_items(db))
        finally:
            db.close()
    except sqlite3.DatabaseError as e:
        raise InputError(
            f"{path} is not a Zotero database localdigest can read ({e}) — give Zotero's "
            "zotero.sqlite (Zotero 5 to 7), or export the library as BibTeX or CSL JSON"
        ) from e


def _zotero_items(db: sqlite3.Connection) -> Iterator[Reference]:
    marks = ",".join("?" * len(_NOT_REFERENCES))
    rows = db.execute(
        f"""SELECT i.itemID, i.key, i.dateAdded FROM items i
            JOIN itemTypes t ON t.itemTypeID = i.itemTypeID
            WHERE t.typeName NOT IN ({marks})
              AND i.itemID NOT IN (SELECT itemID FROM deletedItems)""",
        _NOT_REFERENCES,
    ).fetchall()
    fields: dict[int, dict[str, str]] = {}
    names = ",".join("?" * len(_FIELDS))
    for item, name, value in db.execute(
        f"""SELECT d.itemID, f.fieldName, v.value FROM itemData d
            JOIN fields f ON f.fieldID = d.fieldID
            JOIN itemDataValues v ON v.valueID = d.valueID
            WHERE f.fieldName IN ({names})""",
        _FIELDS,
    ):
        fields.setdefault(item, {})[name] = str(value)
    creators: dict[int, list[str]] = {}
    for item, first, last in db.execute(
        """SELECT ic.itemID, c.firstName, c.lastName FROM itemCreators ic
           JOIN creators c ON c.creatorID = ic.creatorID ORDER BY ic.itemID, ic.orderIndex"""
    ):
        creators.setdefault(item, []).append(one_line(f"{first or ''} {last or ''}"))
    labels: dict[int, list[str]] = {}
    for item, label in db.execute(
        """SELECT it.itemID, t.name FROM itemTags it JOIN tags t ON t.tagID = it.tagID
           UNION ALL
           SELECT ci.itemID, c.collectionName FROM collectionItems ci
           JOIN collections c ON c.collectionID = ci.collectionID"""
    ):
        labels.setdefault(item, []).append(str(label))
    for item, key, added in rows:
        data = fields.get(item, {})
        title = one_line(data.get("title", ""))
        if not title:
            continue
        yield Reference(
            key=str(key),
            title=title,
            abstract=one_line(data.get("abstractNote", "")),
            authors=tuple(a for a in creators.get(item, []) if a),
            keywords=tuple(dict.fromkeys(labels.get(item, []))),
            added=_date(str(added)) or _date(data.get("date")),
            arxiv_id=find_arxiv_id(
                [data.get("archiveID"), data.get("url"), data.get("DOI"), data.get("extra")]
            ),
            doi=data.get("DOI") or None,
        )
