"""The Atom feed beside the digests: valid per RFC 4287 (parsed with xml.etree and checked
for the elements it requires), one entry per issue, newest first, stable ids, bounded."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

from digest_helpers import build_issue, cache, make_summary
from typer.testing import CliRunner

from localdigest.cli import app
from localdigest.publish import feed

runner = CliRunner()
A = "{http://www.w3.org/2005/Atom}"


def when(text: str | None) -> dt.datetime:
    assert text, "a date is missing"
    parsed = dt.datetime.fromisoformat(text)  # RFC 3339, with its offset
    assert parsed.tzinfo is not None, text
    return parsed


def read_feed(path: Path) -> list[ET.Element]:
    """The feed's entries, after checking every element RFC 4287 requires of it and them."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{A}feed"
    for required in ("id", "title", "updated"):
        assert (root.findtext(f"{A}{required}") or "").strip(), required
    when(root.findtext(f"{A}updated"))
    entries = root.findall(f"{A}entry")
    feed_author = root.find(f"{A}author/{A}name")
    for entry in entries:
        for required in ("id", "title", "updated"):
            assert (entry.findtext(f"{A}{required}") or "").strip(), required
        assert entry.findtext(f"{A}id", "").startswith("urn:uuid:")
        assert feed_author is not None or entry.find(f"{A}author/{A}name") is not None
        link = entry.find(f"{A}link[@rel='alternate']")
        assert link is not None and link.get("href")
        content = entry.find(f"{A}content")
        assert content is not None and content.get("type") == "html" and content.text
    if entries:
        newest = max(when(e.findtext(f"{A}updated")) for e in entries)
        assert when(root.findtext(f"{A}updated")) == newest
    return entries


def test_each_digest_adds_one_entry_newest_first(tmp_path: Path) -> None:
    hostile = 'A <b>bold</b> & "quoted" title\x1b]0;owned\x07'
    cache(make_summary(1, "Attention Is All You Need", arxiv_id="1706.03762"))
    cache(make_summary(2, hostile))
    out = tmp_path / "digests"
    first = runner.invoke(app, ["digest", "-o", str(out / "digest-1.md")])
    assert first.exit_code == 0, first.output
    [entry] = read_feed(out / "feed.xml")
    assert entry.find(f"{A}link").get("href") == "digest-1.md"
    assert entry.find(f"{A}link").get("type") == "text/markdown"
    content = entry.findtext(f"{A}content")
    assert "Attention Is All You Need" in content
    # The title is text in the HTML: escaped once for HTML, and the XML holds it as text.
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;" in content
    assert "\x1b" not in (out / "feed.xml").read_text(encoding="utf-8")
    first_id = entry.findtext(f"{A}id")

    cache(make_summary(3, "A Third Paper", created=dt.datetime.now(dt.UTC)))
    second = runner.invoke(app, ["digest", "--last", "1", "-o", str(out / "digest-2.html")])
    assert second.exit_code == 0, second.output
    newest, older = read_feed(out / "feed.xml")
    assert newest.find(f"{A}link").get("href") == "digest-2.html"
    assert "A Third Paper" in newest.findtext(f"{A}content")
    assert older.findtext(f"{A}id") == first_id  # stable: the earlier issue keeps its id
    assert when(newest.findtext(f"{A}updated")) >= when(older.findtext(f"{A}updated"))

    # The first issue written again (the same papers, the same day) replaces its entry.
    again = runner.invoke(app, ["digest", "1706.03762", f"{2:064x}", "-o", str(out / "again.md")])
    assert again.exit_code == 0, again.output
    entries = read_feed(out / "feed.xml")
    assert entries[0].findtext(f"{A}id") == first_id and len(entries) == 2


def test_no_feed_without_a_file_and_a_damaged_one_is_moved_aside(tmp_path: Path) -> None:
    cache(make_summary(1, "Attention Is All You Need", arxiv_id="1706.03762"))
    printed = runner.invoke(app, ["digest"])
    assert printed.exit_code == 0 and not list(tmp_path.glob("**/feed.xml"))
    (tmp_path / "feed.xml").write_text("<rss><channel/></rss>")
    result = runner.invoke(app, ["digest", "--last", "1", "-o", str(tmp_path / "d.md")])
    assert result.exit_code == 0, result.output
    assert "no Atom feed" in result.stderr and "feed.xml.damaged" in result.stderr
    assert (tmp_path / "feed.xml.damaged").read_text() == "<rss><channel/></rss>"
    assert len(read_feed(tmp_path / "feed.xml")) == 1


def test_the_feed_keeps_the_newest_entries_only(tmp_path: Path) -> None:
    text = None
    start = dt.datetime(2024, 1, 1, 8, tzinfo=dt.UTC)
    for n in range(feed.MAX_ENTRIES + 5):
        issue = build_issue([make_summary(n, f"Paper {n}")], figures=False)
        text = feed.with_issue(text, issue, start + dt.timedelta(days=n), f"digest-{n}.md")
    path = tmp_path / "feed.xml"
    path.write_text(text or "", encoding="utf-8")
    entries = read_feed(path)
    assert len(entries) == feed.MAX_ENTRIES
    hrefs = [e.find(f"{A}link").get("href") for e in entries]
    assert hrefs[0] == f"digest-{feed.MAX_ENTRIES + 4}.md" and hrefs[-1] == "digest-5.md"
