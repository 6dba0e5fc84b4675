"""Property: whatever a title, the authors, a file name, a summary or a TL;DR hold (random
Unicode with control characters and lone surrogates, random bytes in file names, our own
markers and fences, Markdown and HTML), every output stays well-formed and inside its
folder: the terminal (tables, panels, messages), Markdown (summaries and digest), HTML,
JSON, and notes with their front matter."""

from __future__ import annotations

import dataclasses
import html.parser
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from digest_helpers import build_issue, export, make_summary
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from model_server import StandIn

from localdigest.cache import CachedSummary
from localdigest.errors import LocaldigestError
from localdigest.llm import GenerationSettings
from localdigest.llm.server import ServerSettings, connect
from localdigest.papers import PaperFailure, PaperSummary
from localdigest.publish import digest, formats, notes
from localdigest.render import console
from localdigest.render.summary import cached_list, results_table, summary_block
from localdigest.text import one_line, visible

MARKERS = [
    notes.START,
    notes.END,
    "<!--",
    "-->",
    "<<<PAPER",
    "PAPER>>>",
    "<<<NOTES",
    "NOTES>>>",
    "SUMMARY>>>",
    "\n---\n",
    "---",
    "\n# heading\n",
    "[x](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "\x1b]0;title\x07",
    "\x1b[2J",
    "\r",
    "\u202e",
    "\x00",
    "\\",
    '"',
    "'",
    "&amp;",
    "{title}",
    "[/]",
    "[bold]",
]
ANY_CHAR = st.characters(exclude_categories=())  # controls and lone surrogates included
PIECES = st.one_of(
    st.text(ANY_CHAR, max_size=12),
    st.sampled_from(MARKERS),
    st.binary(max_size=8).map(lambda b: b.decode("utf-8", "surrogateescape")),
)
HOSTILE = st.lists(PIECES, max_size=6).map("".join)
FILE_NAME = st.binary(min_size=1, max_size=40).filter(
    lambda b: b"/" not in b and b"\0" not in b and b.strip(b".") != b""
)
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
OUR_TAGS = {
    *("html", "head", "meta", "title", "style", "body", "main", "header", "h1", "p", "nav"),
    *("h2", "ol", "li", "a", "article", "strong", "footer"),
}


def no_unsafe(text: str) -> None:
    assert not UNSAFE.search(text), repr(UNSAFE.search(text))
    text.encode("utf-8")


def unescaped(text: str, fragment: str) -> bool:
    at = text.find(fragment)
    while at >= 0:
        slashes = len(text[:at]) - len(text[:at].rstrip("\\"))
        if slashes % 2 == 0:
            return True
        at = text.find(fragment, at + 1)
    return False


def check_markdown(text: str, headings: int) -> None:
    no_unsafe(text)
    for fragment in ("<!--", "<img", "<script", "](javascript:"):
        assert not unescaped(text, fragment), (fragment, text)
    assert len(re.findall(r"(?m)^# ", text)) == headings, text


class TagCollector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def check_html(text: str) -> None:
    no_unsafe(text)
    parser = TagCollector()
    parser.feed(text)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in OUR_TAGS, tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            if name == "href":
                assert value and re.match(r"(https?:|file:|#paper-)", value), value


def check_terminal(summary: PaperSummary, failure: PaperFailure) -> None:
    row = CachedSummary("summary/" + "0" * 64, summary)
    with console.out.capture() as captured:
        results_table([summary, failure])
        console.out.print(summary_block(summary))
        cached_list([row])
    with console.err.capture() as messages:
        console.error(f"Cannot read {summary.path}: {summary.title}")
        console.warning(summary.tldr)
    for shown in (captured.get(), messages.get()):
        no_unsafe(shown)


def check_notes(summary: PaperSummary, root: Path) -> None:
    vault = root / "vault"
    before = set(root.rglob("*"))
    [first] = export([summary], vault, copy_pdf=True, tags=["paper"])
    assert first.path.parent == vault and not first.path.is_symlink()
    created = set(root.rglob("*")) - before
    assert all(p == vault or vault in p.parents for p in created), created
    text = first.path.read_text(encoding="utf-8")
    no_unsafe(text)
    assert text.startswith("---\n")
    matter, rest = text[4:].split("\n---\n", 1)
    fields = yaml.safe_load(matter)
    assert fields["title"] == visible(one_line(summary.title))
    assert fields["authors"] == [visible(a) for a in summary.authors]
    assert rest.count(notes.START) == 1 and rest.count(notes.END) == 1
    body = rest.split(notes.START, 1)[1].split(notes.END, 1)[0]
    check_markdown(body, headings=1)
    [again] = export([summary], vault, copy_pdf=True, tags=["paper"])
    assert again.status == "unchanged" and again.path == first.path


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    title=HOSTILE,
    authors=st.lists(HOSTILE, max_size=3),
    summary=HOSTILE,
    tldr=HOSTILE,
    file_name=FILE_NAME,
    url=st.one_of(st.none(), HOSTILE, st.sampled_from(["javascript:alert(1)", "https://a/b c"])),
)
def test_every_output_stays_well_formed_and_in_its_folder(
    title: str,
    authors: list[str],
    summary: str,
    tldr: str,
    file_name: bytes,
    url: str | None,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pdf = root / "pdfs" / (os.fsdecode(file_name) + ".pdf")
        pdf.parent.mkdir()
        with open(os.fsencode(pdf), "wb") as f:
            f.write(b"%PDF-1.4 test\n%%EOF\n")
        s = dataclasses.replace(
            make_summary(1, "x", path=pdf),
            title=title,
            authors=authors,
            summary=summary,
            tldr=tldr,
            url=url,
            source=os.fsdecode(file_name),
            warnings=[title],
        )
        failure = PaperFailure(os.fsdecode(file_name), f"Cannot read {title}", 3)

        check_terminal(s, failure)
        check_markdown(formats.to_markdown([s, failure]), headings=2)
        issue = build_issue([s], name=title, closing=tldr)
        check_markdown(digest.to_markdown(issue), headings=1)
        check_html(digest.to_html(issue))
        for text in (formats.to_json([s, failure]), digest.to_json(issue)):
            no_unsafe(text)
            data = json.loads(text)
            assert data
        assert json.loads(formats.to_json([s]))[0]["title"] == visible(title)
        check_notes(s, root)


# ----------------------------------------------------------------------------- server answers

SERVER_SETTINGS = GenerationSettings(max_tokens=16, temperature=0.2, seed=1)
# The fields the server backend reads, so that random answers reach its deeper checks.
SERVER_KEYS = [
    *("data", "id", "owned_by", "meta", "n_ctx", "n_vocab", "n_params", "total_slots"),
    *("default_generation_settings", "model_path", "build_info", "choices", "message"),
    *("content", "reasoning_content", "finish_reason", "model", "usage", "prompt_tokens"),
    *("completion_tokens", "prompt_tokens_details", "cached_tokens", "timings", "prompt_ms"),
    *("cache_n", "truncated", "tokens", "count", "prompt", "version", "models", "name"),
    *("digest", "parameters", "loaded_context_length", "max_context_length", "publisher"),
    *("arch", "quantization", "max_model_len", "root", "permissions", "size"),
]
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from([-5, 0, 3, 2**30, 2**53, 2**53 + 1])  # counts that lie
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(SERVER_KEYS), inner, max_size=5)
    ),
    max_leaves=16,
)
COMPLETION = {
    "model": "stand-in.gguf",
    "choices": [{"message": {"content": "A note."}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 40, "completion_tokens": 3},
}


def card(**fields: object) -> dict[str, object]:
    return {"data": [{"id": "stand-in.gguf", **fields}]}


# Good answers of every endpoint the client reads, by the engine that serves them (an
# endpoint left out answers 404, as that engine's does).
ENGINE_ANSWERS: dict[str, dict[str, object]] = {
    "llama-server": {
        "/v1/models": card(owned_by="llamacpp", meta={"n_ctx": 4096, "n_vocab": 32000}),
        "/props": {"total_slots": 2, "default_generation_settings": {"n_ctx": 4096}},
        "/tokenize": {"tokens": [1, 2, 3]},
        "/apply-template": {"prompt": "<s>system user"},
        "/v1/chat/completions": COMPLETION,
    },
    "llama-cpp-python": {
        "/v1/models": card(owned_by="me", permissions=[]),
        "/v1/extras/tokenize/count": {"count": 3},
        "/v1/chat/completions": COMPLETION,
    },
    "vllm": {
        "/v1/models": card(owned_by="vllm", max_model_len=8192, root="org/model"),
        "/tokenize": {"count": 3, "tokens": [1, 2, 3], "max_model_len": 8192},
        "/v1/chat/completions": COMPLETION,
    },
    "ollama": {
        "/v1/models": card(owned_by="library"),
        "/api/version": {"version": "0.12.3"},
        "/api/tags": {"models": [{"name": "stand-in.gguf", "digest": "sha256:" + "ab" * 32}]},
        "/api/show": {"parameters": "stop <|im_end|>\nnum_ctx 4096"},
        "/v1/chat/completions": COMPLETION,
    },
    "lmstudio": {
        "/v1/models": card(owned_by="organization_owner"),
        "/api/v0/models": card(loaded_context_length=4096, publisher="x", arch="llama"),
        "/v1/chat/completions": COMPLETION,
    },
}
ENDPOINTS = [(engine, path) for engine, paths in ENGINE_ANSWERS.items() for path in paths]
SANE_N_CTX = range(1, (1 << 24) + 1)
NESTS = [None, None, None, "data", "choices", "message", "usage", "models", "n_ctx"]
NESTS += ["max_model_len", "loaded_context_length", "total_slots"]


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[StandIn]:
    server = StandIn(max_delay=0.0).start()
    yield server
    server.stop()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    value=JSON_VALUES,
    nest=st.sampled_from(NESTS),
)
@example(endpoint=("vllm", "/v1/models"), value=2**40, nest="max_model_len")
@example(endpoint=("lmstudio", "/api/v0/models"), value=3, nest="loaded_context_length")
def test_server_answers_of_any_shape_end_in_one_line(
    hostile_server: StandIn, endpoint: tuple[str, str], value: object, nest: str | None
) -> None:
    """Whatever one endpoint of any engine answers (the others answer well), connecting and
    one call either work or fail with one short line that names the server, exit 4 or 5,
    and suggests no --n-ctx the server made up: never a traceback. ``nest`` puts the random
    value where a good answer has that field."""
    engine, path = endpoint
    good = ENGINE_ANSWERS[engine]
    answer: object = value
    if nest is not None:
        answer = json.loads(json.dumps(good[path]))
        _replace_field(answer, nest, value)
    hostile_server.raw = {p: json.dumps(a).encode() for p, a in good.items()}
    hostile_server.raw[path] = json.dumps(answer).encode()
    try:
        backend = connect(ServerSettings(url=hostile_server.url, retries=0))
        generation = backend.complete("system", "<<<PAPER\nwords\nPAPER>>>", SERVER_SETTINGS)
    except LocaldigestError as e:
        assert e.exit_code in (4, 5), e.message
        assert f"127.0.0.1:{hostile_server.port}" in e.message and "\n" not in e.message
        assert len(e.message) < 1500, e.message
        for n in re.findall(r"--n-ctx (-?\d+)", e.message):
            assert int(n) in SANE_N_CTX, e.message
        return
    assert isinstance(generation.text, str) and generation.completion_tokens >= 0
    assert backend.n_ctx in SANE_N_CTX


def _replace_field(answer: object, key: str, value: object) -> None:
    """Put ``value`` at the first ``key`` found in ``answer`` (depth first)."""
    if isinstance(answer, dict):
        if key in answer:
            answer[key] = value
            return
        for inner in answer.values():
            _replace_field(inner, key, value)
    elif isinstance(answer, list):
        for inner in answer:
            _replace_field(inner, key, value)
