"""The Atom feed beside the digests (``feed.xml``, RFC 4287): one entry per issue, newest
first, at most ``MAX_ENTRIES``, so any feed reader can follow the newsletter from a file
or a static server.

An entry's id is derived from the issue's day and papers (the same issue written again
replaces its entry instead of adding one); the feed's id is kept from the file it updates.
The feed's author is the newsletter (RFC 4287 wants one for the feed or every entry).
Entries hold the issue as HTML (no figures: a feed reader shows no embedded images), every
text escaped, and link to the digest file by its name, relative to the feed.
"""

from __future__ import annotations

import datetime as dt
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import quote

from localdigest import __version__
from localdigest.publish.digest import Digest, html_article
from localdigest.publish.markup import html_text
from localdigest.text import one_line, visible

FEED_NAME = "feed.xml"
MAX_ENTRIES = 50
ATOM = "http://www.w3.org/2005/Atom"
_NS = f"{{{ATOM}}}"
_IDS = uuid.UUID("6f1d2a8e-4b7c-5e0f-9a3d-2c1b0e9f8a7d")  # the namespace of our uuid5 ids
_LINK_TYPES = {".md": "text/markdown", ".html": "text/html", ".htm": "text/html"}


def issue_id(digest: Digest) -> str:
    """The same day's issue of the same papers always has this id."""
    papers = ",".join(sorted(p.sha256 or p.key for p in digest.papers))
    return uuid.uuid5(_IDS, f"issue {digest.written.isoformat()} {papers}").urn


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, _NS + tag, attrs)
    if text is not None:
        element.text = visible(text)  # no control character can make the XML invalid
    return element


def issue_entry(digest: Digest, made: dt.datetime, file_name: str) -> ET.Element:
    entry = ET.Element(_NS + "entry")
    _add(entry, "id", issue_id(digest))
    _add(entry, "title", f"{digest.name} — {digest.period}")
    stamp = made.astimezone(dt.UTC).isoformat(timespec="seconds")
    _add(entry, "updated", stamp)
    _add(entry, "published", stamp)
    suffix = "." + file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    link = {"rel": "alternate", "href": quote(file_name)}
    if suffix in _LINK_TYPES:
        link["type"] = _LINK_TYPES[suffix]
    _add(entry, "link", **link)
    titles = "; ".join(one_line(p.title) for p in digest.papers)
    _add(entry, "summary", f"In this issue: {titles}")
    html = [f"<p>{html_text(digest.opening)}</p>", f"<p>{html_text(digest.byline)}</p>"]
    for n, p in enumerate(digest.papers, 1):
        html += html_article(p, n)
    _add(entry, "content", "\n".join(html), type="html")
    return entry


def with_issue(existing: str | None, digest: Digest, made: dt.datetime, file_name: str) -> str:
    """The feed text with this issue first: ``existing``'s entries after it (its own
    earlier entry dropped), at most ``MAX_ENTRIES``. ValueError when ``existing`` is no
    Atom feed."""
    old: list[ET.Element] = []
    feed_id = None
    if existing is not None:
        try:
            root = ET.fromstring(existing)
        except ET.ParseError as e:
            raise ValueError(f"not XML: {e}") from None
        if root.tag != _NS + "feed":
            raise ValueError("not an Atom feed")
        feed_id = root.findtext(_NS + "id")
        old = root.findall(_NS + "entry")
    entry = issue_entry(digest, made, file_name)
    new_id = entry.findtext(_NS + "id")
    entries = [entry, *(e for e in old if e.findtext(_NS + "id") != new_id)][:MAX_ENTRIES]

    feed = ET.Element(_NS + "feed")
    _add(feed, "id", feed_id or uuid.uuid4().urn)  # a new feed's: kept from then on
    _add(feed, "title", digest.name)
    _add(feed, "subtitle", f"{digest.name}'s weekly AI newsletter, written by localdigest")
    _add(feed, "updated", max(e.findtext(_NS + "updated") or "" for e in entries))
    _add(_add(feed, "author"), "name", digest.name)  # every entry's author: the newsletter
    _add(feed, "link", rel="self", href=FEED_NAME)
    _add(feed, "generator", "localdigest", version=__version__)
    feed.extend(entries)
    ET.register_namespace("", ATOM)
    ET.indent(feed)
    return ET.tostring(feed, encoding="unicode", xml_declaration=True) + "\n"
