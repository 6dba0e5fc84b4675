"""Reproductions of the adversarial pass on the files for people: notes, digests, -o files.

Text from a paper (its title, its authors, its file name, what the model wrote) is data:
it never becomes Markdown or HTML structure, never one of our own markers, and never makes
a write land outside its folder.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from digest_helpers import build_issue, export, make_summary

from localdigest.publish import digest, formats, notes


def pdf(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "pdfs" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"%PDF-1.4 " + name.encode(errors="surrogateescape") + b"\n%%EOF\n")
    return path


def raw(text: str, fragment: str) -> bool:
    """Whether ``fragment`` occurs with its first character unescaped (Markdown reads it)."""
    at = text.find(fragment)
    while at >= 0:
        slashes = len(text[:at]) - len(text[:at].rstrip("\\"))
        if slashes % 2 == 0:
            return True
        at = text.find(fragment, at + 1)
    return False


def no_markup(text: str) -> None:
    for fragment in ("<img", "<script", "<b>", "<!--", "](javascript:"):
        assert not raw(text, fragment), (fragment, text)


def body_of(path: Path) -> str:
    return path.read_text(encoding="utf-8").split(notes.START, 1)[1].split(notes.END, 1)[0]


def test_copy_pdf_never_writes_through_a_planted_temporary_name(tmp_path: Path) -> None:
    outside = tmp_path / "outside.pdf"
    outside.write_bytes(b"precious")
    vault = tmp_path / "vault"
    (vault / "attachments").mkdir(parents=True)
    # The name the old export copied to, planted as a link out of the vault.
    (vault / "attachments" / ".paper-one.pdf.part").symlink_to(outside)
    s = make_summary(1, "Paper One", path=pdf(tmp_path, "1.pdf"))
    [r] = export([s], vault, copy_pdf=True)
    copied = vault / "attachments" / "paper-one.pdf"
    assert outside.read_bytes() == b"precious"
    assert copied.is_file() and not copied.is_symlink()
    assert copied.read_bytes() == Path(s.path).read_bytes()
    assert r.warning is None


def test_a_title_holding_our_end_marker_does_not_grow_the_note(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    s = make_summary(1, f"Evil {notes.END} Title", path=pdf(tmp_path, "1.pdf"))
    s = dataclasses.replace(s, authors=[notes.START], tldr=notes.END, summary=notes.END)
    [first] = export([s], vault)
    size = first.path.stat().st_size
    for _ in range(3):
        [again] = export([s], vault)
        assert again.status == "unchanged"
    assert first.path.stat().st_size == size
    after_front_matter = first.path.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    assert after_front_matter.count(notes.END) == 1
    assert after_front_matter.count(notes.START) == 1
    newer = dataclasses.replace(s, summary="A new summary.")
    [updated] = export([newer], vault)
    assert updated.status == "updated"
    assert "A new summary." in body_of(updated.path)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("authors", ["<img src=x onerror=alert(1)>"]),
        ("title", "[click](javascript:alert(1))"),
        ("title", "<script>alert(1)</script>"),
        ("summary", "Great <img src=x onerror=alert(1)> and [x](javascript:y)."),
        ("tldr", "<!-- hidden --> [x](javascript:y)"),
    ],
)
def test_note_metadata_is_escaped_not_markup(tmp_path: Path, field: str, value: object) -> None:
    s = dataclasses.replace(make_summary(1, "Paper", path=pdf(tmp_path, "1.pdf")), **{field: value})
    [r] = export([s], tmp_path / "vault")
    no_markup(body_of(r.path))
    matter = yaml.safe_load(r.path.read_text(encoding="utf-8").split("---\n")[1])
    if field in ("title", "authors"):  # the front matter keeps the value itself
        assert matter[field] == value


def test_a_file_name_with_a_newline_and_rule_stays_one_link(tmp_path: Path) -> None:
    name = "evil\n---\ntitle: pwned\n[x](javascript:y).pdf"
    s = make_summary(1, "Paper", path=pdf(tmp_path, name))
    [r] = export([s], tmp_path / "vault")
    text = r.path.read_text(encoding="utf-8")
    matter, _ = text.split("---\n")[1], None
    assert yaml.safe_load(matter)["title"] == "Paper"
    assert text.count("\n---\n") == 1  # only the front matter's own closing line
    no_markup(body_of(r.path))
    [link] = [ln for ln in body_of(r.path).splitlines() if ln.startswith("- PDF:")]
    assert "evil" in link


def test_unsafe_urls_are_not_links(tmp_path: Path) -> None:
    s = dataclasses.replace(
        make_summary(1, "Paper", path=pdf(tmp_path, "1.pdf")), url="javascript:alert(1)"
    )
    [r] = export([s], tmp_path / "vault")
    assert "javascript:" not in body_of(r.path)
    issue = build_issue([s])
    assert 'href="javascript:' not in digest.to_html(issue)
    no_markup(digest.to_markdown(issue))


def test_markdown_outputs_escape_paper_text() -> None:
    s = make_summary(1, "# [x](javascript:y) <b>t</b>", authors=["<img src=x onerror=z>"])
    s = dataclasses.replace(s, summary="# heading\n\n<script>x</script>\n\n---")
    for text in (formats.to_markdown([s]), digest.to_markdown(build_issue([s]))):
        no_markup(text)
        assert "\n# heading" not in text and "\n---" not in text


def test_non_utf8_file_names_and_control_characters_can_be_written(tmp_path: Path) -> None:
    s = make_summary(1, "notitle\udcff \x1b]0;pwned\x07 \u202eevil", path=tmp_path / "x\udcff.pdf")
    s = dataclasses.replace(s, authors=["A\udcffB"], summary="ok \x1b[2J done")
    issue = build_issue([s])
    for text in (
        formats.to_markdown([s]),
        formats.to_json([s]),
        digest.to_markdown(issue),
        digest.to_json(issue),
        digest.to_html(issue),
    ):
        text.encode("utf-8")  # no lone surrogate left
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        assert "\\xff" in text
    [r] = export([s], tmp_path / "vault")
    note = r.path.read_text(encoding="utf-8")
    assert "\x1b" not in note and "\\xff" in note


@pytest.mark.parametrize("field", ["title", "authors", "summary", "tldr"])
def test_obsidian_comments_and_tags_are_escaped(tmp_path: Path, field: str) -> None:
    """Issue 25, item 13: ``%%`` hid the rest of a note, ``#tag`` filed it under a tag."""
    evil = "Cut %%here the rest is hidden%% by 100%%% and #pwned/tag or ##x, 5% C# stays"
    value: object = [evil] if field == "authors" else evil
    s = dataclasses.replace(make_summary(1, "Paper", path=pdf(tmp_path, "1.pdf")), **{field: value})
    [r] = export([s], tmp_path / "vault")
    body = body_of(r.path)
    assert "here the rest is hidden" in body and "5% C" in body
    for fragment in ("%%", "#pwned", "#x"):
        assert not raw(body, fragment), (fragment, body)
    assert not raw(digest.to_markdown(build_issue([s])), "%%")
