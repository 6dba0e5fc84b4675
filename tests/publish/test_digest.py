"""The newsletter: choosing papers, its Markdown/JSON/HTML shapes, the `digest` command, audio."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from digest_helpers import MODEL, build_issue, cache, make_summary
from typer.testing import CliRunner

from localdigest.cache import CachedSummary
from localdigest.cli import app
from localdigest.publish import audio, digest
from localdigest.workflows import digest as workflow
from localdigest.workflows.digest import Selection

runner = CliRunner()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def three_papers(tmp_path: Path) -> list:
    local = tmp_path / "my paper.pdf"
    local.write_bytes(b"%PDF-1.4\n%%EOF\n")
    return [
        make_summary(1, "Attention Is All You Need", arxiv_id="1706.03762"),
        make_summary(2, "Adam: A Method for Stochastic Optimization", arxiv_id="1412.6980"),
        make_summary(3, "A Local Paper", path=local, authors=[]),
    ]


def headings(markdown: str) -> list[str]:
    return re.findall(r"^# (.+)$", markdown, flags=re.MULTILINE)


# ----------------------------------------------------------------------------- Markdown


def test_markdown_shape(tmp_path: Path) -> None:
    papers = three_papers(tmp_path)
    issue = build_issue(papers, today=dt.date(2024, 5, 12), name="Ada", closing="Bye now.")
    md = digest.to_markdown(issue)
    lines = md.splitlines()
    assert lines[0] == "Welcome to Ada's weekly AI newsletter for 7–12 May 2024."
    assert f"This article was written by {MODEL} on 2024-05-12." in lines
    # "In this issue" lists the titles, in order, before the first paper.
    start = lines.index("**In this issue:**")
    listed = [ln.split(". ", 1)[1] for ln in lines[start + 1 :] if re.match(r"\d+\. ", ln)]
    assert listed == ["Attention Is All You Need", "Adam: A Method for Stochastic Optimization",
                      "A Local Paper"]  # fmt: skip
    assert start < lines.index("# Attention Is All You Need")
    # One heading per paper, in order, each followed by its link, TL;DR and summary.
    assert headings(md) == listed
    sections = md.split("\n# ")[1:]
    assert "[arXiv:1706.03762](<https://arxiv.org/abs/1706.03762>)" in sections[0]
    assert "Author 1, Second Author" in sections[0]
    assert "**TL;DR:** Paper 1 in one sentence." in sections[0]
    assert "Paper 1 proposes a method.\n\nIt improves accuracy by 1 points." in sections[0]
    assert f"(<{(tmp_path / 'my paper.pdf').as_uri()}>)" in sections[2]
    assert lines[-1] == "Bye now."


def test_markdown_uses_config_name_and_closing(tmp_path: Path) -> None:
    Path(tmp_path / "config.toml").write_text(
        'newsletter_name = "Grace"\nclosing = "See you next week."\n'
    )
    md = digest.to_markdown(build_issue(three_papers(tmp_path), today=dt.date(2024, 5, 12)))
    assert md.startswith("Welcome to Grace's weekly AI newsletter")
    assert md.rstrip().endswith("See you next week.")


def test_titles_cannot_inject_markdown(tmp_path: Path) -> None:
    evil = make_summary(1, "Fake\n# Heading [x](http://evil) *bold*")
    md = digest.to_markdown(build_issue([evil], today=dt.date(2024, 5, 12)))
    assert len(headings(md)) == 1
    assert "[x](http://evil)" not in md and r"\[x\](http://evil)" in md


def test_several_models_are_named() -> None:
    a = make_summary(1, "A")
    b = make_summary(2, "B", model="qwen2.5-1.5b-instruct-q4_k_m.gguf")
    issue = build_issue([a, b], today=dt.date(2024, 5, 12))
    assert issue.byline == (
        f"This article was written by {MODEL} and qwen2.5-1.5b-instruct-q4_k_m.gguf on 2024-05-12."
    )


@pytest.mark.parametrize(
    ("start", "end", "text"),
    [
        ((2024, 5, 12), (2024, 5, 12), "12 May 2024"),
        ((2024, 5, 6), (2024, 5, 12), "6–12 May 2024"),
        ((2024, 4, 28), (2024, 5, 4), "28 April – 4 May 2024"),
        ((2023, 12, 30), (2024, 1, 5), "30 December 2023 – 5 January 2024"),
    ],
)
def test_format_period(start: tuple, end: tuple, text: str) -> None:
    assert digest.format_period(dt.date(*start), dt.date(*end)) == text


# ----------------------------------------------------------------------------- JSON and HTML


def test_json_output(tmp_path: Path) -> None:
    issue = build_issue(three_papers(tmp_path), today=dt.date(2024, 5, 12), name="Ada")
    data = json.loads(digest.to_json(issue))
    assert data["name"] == "Ada" and data["date"] == "2024-05-12"
    assert data["models"] == [MODEL]
    assert data["byline"] == f"This article was written by {MODEL} on 2024-05-12."
    assert data["in_this_issue"] == [p["title"] for p in data["papers"]]
    first = data["papers"][0]
    assert first["arxiv_id"] == "1706.03762"
    assert first["link"] == "https://arxiv.org/abs/1706.03762"
    assert first["summary"].startswith("Paper 1 proposes")
    assert data["period"] == {"start": "2024-05-07", "end": "2024-05-12"}


class Tree(HTMLParser):
    """A tiny DOM: elements as (tag, attrs, text, children); checks nesting as it goes."""

    VOID = frozenset({"meta", "link", "br", "img", "hr", "input"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: dict = {"tag": "#root", "attrs": {}, "text": "", "children": []}
        self.stack = [self.root]
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list) -> None:
        node = {"tag": tag, "attrs": dict(attrs), "text": "", "children": []}
        self.stack[-1]["children"].append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1]["tag"] == tag, f"</{tag}> closes <{self.stack[-1]['tag']}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        for node in self.stack[1:]:
            node["text"] += data

    def find(self, tag: str, node: dict | None = None) -> list[dict]:
        node = node or self.root
        found = [c for c in node["children"] if c["tag"] == tag]
        for c in node["children"]:
            found += self.find(tag, c)
        return found


def parse_html(text: str) -> Tree:
    tree = Tree()
    tree.feed(text)
    tree.close()
    assert tree.stack == [tree.root], "unclosed elements"
    return tree


def test_html_is_one_safe_self_contained_page(tmp_path: Path) -> None:
    evil = make_summary(4, 'Robust <script>alert("x")</script> & "Quoted" Models', arxiv_id=None)
    papers = [*three_papers(tmp_path), evil]
    page = digest.to_html(build_issue(papers, today=dt.date(2024, 5, 12), name="Ada & Co"))
    tree = parse_html(page)
    assert tree.doctype.lower() == "doctype html"
    assert tree.find("script") == []
    # Self-contained: inline CSS, nothing loaded from elsewhere.
    assert tree.find("style") and "font" in tree.find("style")[0]["text"]
    assert tree.find("link") == [] and not re.search(r"\bsrc=", page)
    [title] = tree.find("title")
    assert title["text"].startswith("Ada & Co — ")
    assert tree.find("h1")[0]["text"] == "Ada & Co"
    articles = tree.find("article")
    expected = [p.title for p in papers]
    assert [tree.find("h2", a)[0]["text"] for a in articles] == expected
    [nav] = tree.find("nav")
    assert [li["text"] for li in tree.find("li", nav)] == expected
    anchors = [a["attrs"]["href"] for a in tree.find("a", nav)]
    assert anchors == [f"#{a['attrs']['id']}" for a in articles]
    first_links = [a["attrs"]["href"] for a in tree.find("a", articles[0])]
    assert first_links == ["https://arxiv.org/abs/1706.03762"]
    paragraphs = [p["text"] for p in tree.find("p", articles[0])]
    assert "Paper 1 proposes a method." in paragraphs
    byline = [p for p in tree.find("p") if p["attrs"].get("class") == "byline"]
    assert byline[0]["text"] == f"This article was written by {MODEL} on 2024-05-12."
    assert tree.find("footer")[0]["text"].strip() == "Thanks for reading!"


# ----------------------------------------------------------------------------- choosing papers


def test_select_newest_summary_per_paper_and_order() -> None:
    old = make_summary(1, "Old take", created=dt.datetime(2024, 5, 1, tzinfo=dt.UTC))
    new = make_summary(1, "New take", created=dt.datetime(2024, 5, 3, tzinfo=dt.UTC))
    other = make_summary(2, "Other", created=dt.datetime(2024, 5, 2, tzinfo=dt.UTC))
    rows = [CachedSummary(s.key, s) for s in (new, other, old)]
    assert [p.title for p in workflow.select(rows, Selection())] == ["Other", "New take"]
    assert [p.title for p in workflow.select(rows, Selection(last=1))] == ["New take"]
    since = workflow.select(rows, Selection(since=dt.date(2024, 5, 3)))
    assert [p.title for p in since] == ["New take"]


def test_cli_digest_since_last_digest_then_explicit_choices(tmp_path: Path) -> None:
    a = make_summary(1, "First Paper", arxiv_id="1706.03762", created=now() - dt.timedelta(days=2))
    b = make_summary(2, "Second Paper", created=now() - dt.timedelta(days=1))
    cache(a, b)
    first = runner.invoke(app, ["digest"])
    assert first.exit_code == 0, first.output
    assert headings(first.stdout) == ["First Paper", "Second Paper"]

    again = runner.invoke(app, ["digest"])
    assert again.exit_code == 2
    assert "since the last digest" in again.output and "--last" in again.output

    c = make_summary(3, "Third Paper", created=now() + dt.timedelta(seconds=5))
    cache(c)
    third = runner.invoke(app, ["digest", "--name", "Ada"])
    assert third.exit_code == 0, third.output
    assert headings(third.stdout) == ["Third Paper"]
    assert third.stdout.startswith("Welcome to Ada's weekly AI newsletter")

    last = runner.invoke(app, ["digest", "--last", "2"])
    assert headings(last.stdout) == ["Second Paper", "Third Paper"]
    chosen = runner.invoke(app, ["digest", "third", "1706.03762"])
    assert headings(chosen.stdout) == ["Third Paper", "First Paper"]
    unknown = runner.invoke(app, ["digest", "no-such-paper"])
    assert unknown.exit_code == 2

    out = tmp_path / "issue.html"
    written = runner.invoke(app, ["digest", "--last", "3", "-o", str(out)])
    assert written.exit_code == 0, written.output
    assert len(parse_html(out.read_text()).find("article")) == 3
    as_json = runner.invoke(app, ["digest", "--last", "1", "--format", "json"])
    assert json.loads(as_json.stdout)["papers"][0]["title"] == "Third Paper"


def test_cli_digest_with_nothing_cached() -> None:
    result = runner.invoke(app, ["digest"])
    assert result.exit_code == 2
    assert "localdigest summarize" in result.output
    assert runner.invoke(app, ["digest", "--since", "May 5"]).exit_code == 2
    assert runner.invoke(app, ["digest", "--last", "0"]).exit_code == 2


# ----------------------------------------------------------------------------- audio


def test_speech_text_strips_markdown(tmp_path: Path) -> None:
    md = digest.to_markdown(build_issue(three_papers(tmp_path), today=dt.date(2024, 5, 12)))
    text = audio.speech_text(md)
    for mark in ("#", "**", "](", "<", "https://", "file://", "*"):
        assert mark not in text
    assert "Attention Is All You Need." in text
    assert "arXiv:1706.03762" in text
    assert "This article was written by" in text
    assert text.rstrip().endswith("Thanks for reading!")


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None and shutil.which("espeak") is None,
    reason="espeak-ng is not installed (apt-get install espeak-ng / brew install espeak-ng)",
)
def test_audio_is_written(tmp_path: Path) -> None:
    cache(make_summary(1, "A Short Paper", created=now()))
    wav = tmp_path / "out" / "digest.wav"
    result = runner.invoke(app, ["digest", "--audio", str(wav), "-o", str(tmp_path / "d.md")])
    assert result.exit_code == 0, result.output
    data = wav.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert len(data) > 20_000  # more than a header: seconds of speech
    assert not [p for p in wav.parent.iterdir() if p.name.startswith(".")]  # no leftovers


def test_audio_without_engine_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCALDIGEST_SPEECH_ENGINE", "no-such-speech-engine")
    cache(make_summary(1, "A Short Paper", created=now()))
    wav = tmp_path / "digest.wav"
    result = runner.invoke(app, ["digest", "--audio", str(wav), "-o", str(tmp_path / "d.md")])
    assert result.exit_code == 2
    assert "apt-get install espeak-ng" in result.output
    assert "brew install espeak-ng" in result.output
    assert not wav.exists()
