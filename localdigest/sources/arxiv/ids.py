"""arXiv identifiers: new- and old-style ids, with or without a version, and abs/pdf URLs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from localdigest.errors import InputError

ABS_BASE = "https://arxiv.org/abs"
PDF_BASE = "https://arxiv.org/pdf"  # canonical links; downloads use the configured arxiv_pdf

# New-style ids (April 2007 on): YYMM.NNNN until 2014, YYMM.NNNNN from 2015.
_NEW_ID = r"(?P<yy>\d{2})(?P<mm>\d{2})\.(?P<num>\d{4,5})"
# Old-style ids: archive[.SUBJECT-CLASS]/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136.
_OLD_ID = r"(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.(?P<subj>[A-Z]{2}))?/(?P<omm>\d{4})(?P<onum>\d{3})"
_BASE_ID = rf"(?:{_NEW_ID}|{_OLD_ID})"
_VERSIONED = rf"(?P<base>{_BASE_ID})(?:v(?P<version>[1-9]\d{{0,3}}))?"
# re.ASCII: arXiv ids are ASCII. Without it \d also matches other scripts' digits, and
# "２４０５.０４４３４" would pass as a second, different id of 2405.04434.
_ID_RE = re.compile(rf"(?:arxiv:)?{_VERSIONED}", re.IGNORECASE | re.ASCII)
_URL_RE = re.compile(
    rf"(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/{_VERSIONED}(?:\.pdf)?/?"
    r"(?:[?#].*)?",
    re.IGNORECASE | re.ASCII,
)
_BASE_ONLY_RE = re.compile(_BASE_ID, re.ASCII)
_EXAMPLE = "use e.g. 2405.04434 or https://arxiv.org/abs/2405.04434"


@dataclass(frozen=True, order=True)
class ArxivId:
    """An arXiv identifier: the base id (``2405.04434``, ``hep-th/9901001``) and a version."""

    base: str
    version: int | None = None

    def __post_init__(self) -> None:
        # Validating here too means no ArxivId can carry "..", a backslash or an absolute path
        # into a file name, however it was built.
        if not _BASE_ONLY_RE.fullmatch(self.base) or not _valid_numbers(self.base):
            raise ValueError(f"not an arXiv base id: {self.base!r}")
        if self.version is not None and self.version < 1:
            raise ValueError(f"arXiv versions start at 1, got {self.version}")

    def __str__(self) -> str:
        return self.base if self.version is None else f"{self.base}v{self.version}"

    @property
    def safe_name(self) -> str:
        """A single path component for this paper: old-style ids lose their "/"."""
        return self.base.replace("/", "_")

    @property
    def abs_url(self) -> str:
        return f"{ABS_BASE}/{self}"

    def pdf_url(self, base_url: str = PDF_BASE) -> str:
        """The PDF's URL under ``base_url`` (default: arXiv's own; the library downloads
        from the configured ``arxiv_pdf``)."""
        return f"{base_url.rstrip('/')}/{self}"


def _valid_numbers(base: str) -> bool:
    """Month 01-12, and the 4/5-digit serial number that matches the year."""
    new = re.fullmatch(_NEW_ID, base, re.ASCII)
    if new:
        yymm = int(new["yy"] + new["mm"])
        if not 1 <= int(new["mm"]) <= 12 or yymm < 704:
            return False
        return len(new["num"]) == (4 if yymm < 1501 else 5)
    old = re.fullmatch(_OLD_ID, base, re.ASCII)
    return old is not None and 1 <= int(old["omm"][2:]) <= 12


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse an arXiv id or abs/pdf URL; raise ``InputError`` for anything else.

    Accepted: ``2405.04434``, ``2405.04434v2``, ``arXiv:2405.04434``, ``hep-th/9901001``,
    ``math.GT/0309136``, ``https://arxiv.org/abs/2405.04434v2``,
    ``http://arxiv.org/pdf/2405.04434.pdf``, the same on ``export.arxiv.org``.
    """
    cleaned = text.strip()
    match = _URL_RE.fullmatch(cleaned) or _ID_RE.fullmatch(cleaned)
    if match:
        base = match["base"]
        if base[0].isalpha():  # old-style: archive names are lower case, subject class upper
            archive, _, rest = base.partition("/")
            name, dot, subj = archive.partition(".")
            base = f"{name.lower()}{dot}{subj.upper()}/{rest}"
        version = int(match["version"]) if match["version"] else None
        try:
            return ArxivId(base, version)
        except ValueError:
            pass
    raise InputError(f"{text!r} is not an arXiv id or URL — {_EXAMPLE}")


def looks_like_arxiv(text: str) -> bool:
    """True if ``text`` is meant as an arXiv reference rather than a file path.

    That is a valid id or URL, and also anything that starts with ``arXiv:`` or is an
    arxiv.org URL, so that a mistyped one gets the arXiv error instead of "no such file".
    """
    cleaned = text.strip()
    try:
        parse_arxiv_id(cleaned)
        return True
    except InputError:
        pass
    lowered = cleaned.lower()
    return lowered.startswith("arxiv:") or bool(
        re.match(r"(?:https?://)?(?:www\.|export\.)?arxiv\.org/", lowered)
    )
