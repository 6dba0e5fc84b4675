"""Notes export: front matter (parsed with a YAML parser), idempotent updates, safe names."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import unicodedata
from pathlib import Path

import pytest
import yaml
from conftest import user_paths
from digest_helpers import MODEL, cache, export, make_summary
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from localdigest.cli import app
from localdigest.publish import notes
from localdigest.sources import library
from localdigest.sources.arxiv.ids import ArxivId
from localdigest.sources.arxiv.meta import PaperMeta

runner = CliRunner()


def read_note(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    _, matter, body = text.split("---\n", 2)
    return yaml.safe_load(matter), body


def pdf(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "pdfs" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"%PDF-1.4 " + name.encode() + b"\n%%EOF\n")
    return path


def test_front_matter_and_body(tmp_path: Path) -> None:
    s = make_summary(
        1,
        'Attention: "Is" All You Need?',
        arxiv_id="1706.03762",
        path=pdf(tmp_path, "a.pdf"),
        authors=["Ashish Vaswani", "Łukasz Kaiser"],
    )
    extras = {"1706.03762": notes.PaperExtras(("cs.CL", "cs.LG"), "2017-06-12")}
    vault = tmp_path / "vault"
    [result] = export([s], vault, extras=extras, tags=["paper", "to read"])
    assert result.status == "created"
    assert result.path.name == "attention-is-all-you-need.md"
    meta, body = read_note(result.path)
    assert meta["title"] == 'Attention: "Is" All You Need?'
    assert meta["authors"] == ["Ashish Vaswani", "Łukasz Kaiser"]
    assert meta["arxiv_id"] == "1706.03762"
    assert meta["categories"] == ["cs.CL", "cs.LG"]
    assert meta["published"] == "2017-06-12"
    assert meta["date"] == s.created[:10]
    assert meta["tags"] == ["paper", "to-read"]
    assert meta["written_by"] == MODEL  # mode unknown: the model is credited
    assert meta["sha256"] == s.sha256
    assert meta["pdf"] == (tmp_path / "pdfs" / "a.pdf").as_uri()
    assert '# Attention: "Is" All You Need?' in body
    assert "**TL;DR:** Paper 1 in one sentence." in body
    assert "Paper 1 proposes a method." in body
    assert "<https://arxiv.org/abs/1706.03762>" in body


def test_reexport_updates_in_place_without_duplicates(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    first = [
        make_summary(1, "Paper One", arxiv_id="1706.03762", path=pdf(tmp_path, "1.pdf")),
        make_summary(2, "Paper Two", path=pdf(tmp_path, "2.pdf")),
    ]
    created = export(first, vault, tags=["paper"])
    assert [r.status for r in created] == ["created", "created"]
    files = sorted(p.name for p in vault.iterdir())

    # The user edits a note: a property of their own, and notes below the marker.
    note = created[0].path
    text = note.read_text().replace("---\n<!--", "rating: 5\n---\n<!--", 1)
    note.write_text(text + "\nMy own thoughts.\n")

    same = export(first, vault, tags=["paper"])
    assert [r.status for r in same] == ["unchanged", "unchanged"]

    # New summaries of the same papers (a better model, a new title): same files, new text.
    newer = [
        dataclasses.replace(first[0], title="Paper One, Revised", summary="Better summary."),
        dataclasses.replace(first[1], summary="Also better.", model="qwen.gguf"),
    ]
    updated = export(newer, vault, tags=["paper"])
    assert [r.status for r in updated] == ["updated", "updated"]
    assert sorted(p.name for p in vault.iterdir()) == files
    meta, body = read_note(note)
    assert meta["title"] == "Paper One, Revised" and meta["rating"] == 5
    assert "Better summary." in body and "Paper 1 proposes" not in body
    assert body.rstrip().endswith("My own thoughts.")
    assert body.count(notes.START) == 1 and body.count(notes.END) == 1
    assert read_note(updated[1].path)[0]["written_by"] == "qwen.gguf"


def test_note_is_found_by_sha256_once_the_arxiv_id_is_known(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    local = make_summary(1, "Same Paper", path=pdf(tmp_path, "1.pdf"))
    [before] = export([local], vault)
    as_arxiv = dataclasses.replace(local, arxiv_id="1706.03762", url="https://arxiv.org/abs/x")
    [after] = export([as_arxiv], vault)
    assert after.path == before.path and after.status == "updated"
    assert read_note(after.path)[0]["arxiv_id"] == "1706.03762"
    assert len(list(vault.glob("*.md"))) == 1


def test_same_title_gets_two_notes(tmp_path: Path) -> None:
    a = make_summary(1, "Deep Learning", arxiv_id="1706.03762")
    b = make_summary(2, "Deep Learning", arxiv_id="hep-th/9901001")
    results = export([a, b], tmp_path / "v")
    assert [r.path.name for r in results] == ["deep-learning.md", "deep-learning-hep-th-9901001.md"]
    again = export([b, a], tmp_path / "v")
    assert [r.path.name for r in again] == ["deep-learning-hep-th-9901001.md", "deep-learning.md"]


def test_copy_pdf_into_attachments(tmp_path: Path) -> None:
    s = make_summary(1, "Paper One", path=pdf(tmp_path, "1.pdf"))
    vault = tmp_path / "vault"
    [r] = export([s], vault, copy_pdf=True)
    copied = vault / "attachments" / "paper-one.pdf"
    assert copied.read_bytes() == Path(s.path).read_bytes()
    assert read_note(r.path)[0]["pdf"] == "attachments/paper-one.pdf"
    assert "(<attachments/paper-one.pdf>)" in r.path.read_text()
    gone = make_summary(2, "Gone", path=tmp_path / "missing.pdf")
    [g] = export([gone], vault, copy_pdf=True)
    assert g.status == "created" and g.warning and "gone" in g.warning


# ----------------------------------------------------------------------------- safety


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("../../etc/passwd", "etc-passwd"),
        ("/absolute/path", "absolute-path"),
        (".hidden", "hidden"),
        ("..", "paper"),
        ("", "paper"),
        ("CON", "con-paper"),
        ("C:\\Windows\\system32", "c-windows-system32"),
        ("Résumé of Naïve Bayes", "resume-of-naive-bayes"),
        ("注意力 is all you need", "注意力-is-all-you-need"),
        ("a\x00b\nc", "a-b-c"),
        ("snake_case_title", "snake-case-title"),
    ],
)
def test_slugify_examples(title: str, slug: str) -> None:
    assert notes.slugify(title) == slug


def test_slug_is_unicode_normalized() -> None:
    composed = "Caf\u00e9 Models"
    decomposed = unicodedata.normalize("NFD", composed)
    assert notes.slugify(composed) == notes.slugify(decomposed) == "cafe-models"
    assert notes.slugify("ﬁne-tuning") == "fine-tuning"  # compatibility forms too


@given(st.text(max_size=400))
def test_slug_is_always_one_safe_component(title: str) -> None:
    slug = notes.slugify(title)
    assert slug and not slug.startswith((".", "-"))
    assert not any(c in slug for c in "/\\:\x00") and "\n" not in slug
    assert len(slug) <= notes.MAX_SLUG and len(slug.encode()) <= notes.MAX_SLUG_BYTES
    assert Path("vault", f"{slug}.md").parent == Path("vault")
    assert slug == unicodedata.normalize("NFC", slug)


def test_nothing_is_written_outside_the_vault(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    outside = tmp_path / "outside"
    outside.mkdir()
    vault.mkdir()
    victim = outside / "victim.md"
    victim.write_text("precious\n")
    # A note name that is a symlink out of the vault, and attachments that point outside.
    (vault / "paper-one.md").symlink_to(victim)
    (vault / "attachments").symlink_to(outside)
    evil = make_summary(
        1, "Paper One", arxiv_id="../../outside/victim", path=pdf(tmp_path, "1.pdf")
    )
    evil2 = make_summary(2, "../../outside/victim", path=pdf(tmp_path, "2.pdf"))
    results = export([evil, evil2], vault, copy_pdf=True)
    assert victim.read_text() == "precious\n"
    assert sorted(p.name for p in outside.iterdir()) == ["victim.md"]
    for r in results:
        assert r.path.parent == vault and not r.path.is_symlink()
        assert r.warning and "not a plain folder" in r.warning


# ----------------------------------------------------------------------------- the command


def test_export_command_with_library_metadata(tmp_path: Path) -> None:
    aid = ArxivId("1706.03762", 7)
    folder = library.Library(user_paths().library).entry_dir(aid)
    folder.mkdir(parents=True)
    (folder / library.PDF_NAME).write_bytes(b"%PDF-1.4\n%%EOF\n")
    meta = PaperMeta(
        arxiv_id="1706.03762",
        version=7,
        title="Attention Is All You Need",
        authors=("Ashish Vaswani",),
        abstract="",
        categories=("cs.CL", "cs.LG"),
        primary_category="cs.CL",
        published=dt.datetime(2017, 6, 12, tzinfo=dt.UTC),
        updated=None,
        abs_url=aid.abs_url,
        pdf_url="https://arxiv.org/pdf/1706.03762v7",
    )
    (folder / library.META_NAME).write_text(json.dumps({"format": 1, **meta.to_dict()}))
    cache(
        make_summary(1, meta.title, arxiv_id="1706.03762", path=folder / library.PDF_NAME),
        make_summary(2, "A Local Paper", path=pdf(tmp_path, "2.pdf")),
    )
    vault = tmp_path / "vault"
    (tmp_path / "config.toml").write_text('tags = ["papers/ml"]\n')
    result = runner.invoke(app, ["export", "--notes", str(vault), "--copy-pdf"])
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output
    meta_read, _ = read_note(vault / "attention-is-all-you-need.md")
    assert meta_read["categories"] == ["cs.CL", "cs.LG"]
    assert meta_read["published"] == "2017-06-12"
    assert meta_read["tags"] == ["papers/ml"]
    assert (vault / "attachments" / "a-local-paper.pdf").is_file()

    again = runner.invoke(app, ["export", "--notes", str(vault), "--copy-pdf"])
    assert "0 created, 0 updated, 2 unchanged" in again.output
    assert len(list(vault.glob("*.md"))) == 2
    as_json = runner.invoke(app, ["export", "--notes", str(vault), "--copy-pdf", "-f", "json"])
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.stdout)
    assert report["bibtex"] is None
    rows = report["notes"]
    assert [(r["title"], r["status"]) for r in rows] == [
        ("Attention Is All You Need", "unchanged"),
        ("A Local Paper", "unchanged"),
    ]
    assert rows[0]["arxiv_id"] == "1706.03762"
    assert rows[0]["path"] == str(vault / "attention-is-all-you-need.md")


def test_export_needs_a_folder() -> None:
    result = runner.invoke(app, ["export"])
    assert result.exit_code == 2
    assert "--notes" in result.output
