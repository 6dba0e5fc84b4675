"""The server backend over real HTTP on 127.0.0.1: probing, sampling, retries, deadlines,
errors, the API key. The engine is ``model_server.StandIn`` (faults on demand); the real
engine (llama-cpp-python's server) runs in tests/workflows/test_server_runs.py."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from model_server import LLAMA_SERVER_PROPS, StandIn, free_port

from localdigest.errors import ModelError, NetworkError, UsageError
from localdigest.llm import GenerationSettings
from localdigest.llm.server import ServerBackend, ServerSettings, connect, split_url
from localdigest.llm.tokens import ESTIMATE_TOKENS_PER_BYTE, EstimatedTokens
from localdigest.net import CallsCancelled

SETTINGS = GenerationSettings(max_tokens=32, temperature=0.2, seed=42)
MAP_USER = "Notes please.\n<<<PAPER\nThe method improves accuracy by 3 points.\nPAPER>>>"


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn(props=dict(LLAMA_SERVER_PROPS)).start()
    yield server
    server.stop()


def backend(server: StandIn, **kw: Any) -> ServerBackend:
    kw.setdefault("backoff", 0.05)
    return connect(ServerSettings(url=server.url, **kw))


# ----------------------------------------------------------------------------- pure parts


def test_split_url() -> None:
    assert split_url("http://127.0.0.1:8080/v1") == (
        "http://127.0.0.1:8080/v1",
        "http://127.0.0.1:8080",
        "http://127.0.0.1:8080",
    )
    assert split_url("http://localhost:11434/")[0] == "http://localhost:11434/v1"
    base, root, where = split_url("https://user:secret@gpu.example:8000/openai/v1/")
    assert (base, root) == ("https://gpu.example:8000/openai/v1", "https://gpu.example:8000/openai")
    assert "secret" not in where and where == "https://gpu.example:8000"
    with pytest.raises(UsageError, match="not an http"):
        split_url("127.0.0.1:8080")


def test_estimate_is_bytes_times_a_margin() -> None:
    counter = EstimatedTokens()
    assert counter.count("a" * 1000) == int(1000 * ESTIMATE_TOKENS_PER_BYTE)
    assert counter.count("") == 0
    assert counter.prompt("sys", "user") > counter.count("sys") + counter.count("user")


# ----------------------------------------------------------------------------- probing


def test_llama_server_is_recognised(stand_in: StandIn) -> None:
    b = backend(stand_in)
    assert b.info.kind == "llama-server"
    assert b.n_ctx == 4096 and b.parallel_slots == 3
    assert b.supports_concurrency
    assert b.fingerprint.startswith("server/")
    assert b.count_tokens("three words here") == 3  # the server's /tokenize
    assert "stand-in.gguf" in b.name and "llama-server" in b.name


def test_identity_follows_the_model_not_the_address(stand_in: StandIn) -> None:
    first = backend(stand_in).fingerprint
    other = StandIn(props=dict(LLAMA_SERVER_PROPS)).start()  # same model file and build
    try:
        assert backend(other).fingerprint == first  # a team's servers share the cache
        other.props = {**LLAMA_SERVER_PROPS, "build_info": "b9999-0000000"}
        assert backend(other).fingerprint != first
        other.props = {**LLAMA_SERVER_PROPS, "model_path": "/srv/models/other.gguf"}
        assert backend(other).fingerprint != first
    finally:
        other.stop()


def test_an_engine_that_names_no_file_is_keyed_by_its_address() -> None:
    a, b = StandIn(owned_by="someone").start(), StandIn(owned_by="someone").start()
    try:
        fa, fb = backend(a), backend(b)
        assert fa.info.kind == "openai" and fa.fingerprint != fb.fingerprint
        assert fa.n_ctx == 2048  # nothing reported: llama-cpp-python's server default
        assert fa.counter.source == "estimate"
        assert backend(a, n_ctx=8192).n_ctx == 8192
    finally:
        a.stop()
        b.stop()


# What each engine's probe answers make of it. The fingerprints are cache identities: a
# change here orphans every cached summary made through that engine (say why, if ever).
ENGINES: dict[str, tuple[dict[str, Any], str, int, int, str]] = {
    "llama-server": (
        {
            "props": dict(LLAMA_SERVER_PROPS),
            "meta": {"n_params": 134_515_008, "size": 100, "n_vocab": 49152, "n_ctx": 4096},
        },
        "server/9c46fc92a085bce35972c6ec",
        4096,
        3,
        "server",
    ),
    "llama-cpp-python": (
        {"models": ["/srv/models/stand-in.gguf"], "owned_by": "me", "card": {"permissions": []}},
        "server/a21ff9d7c7a956dedb8fff12",
        2048,
        1,
        "server",
    ),
    "vllm": (
        {
            "models": ["qwen2.5-1.5b"],
            "owned_by": "vllm",
            "card": {"root": "Qwen/Qwen2.5-1.5B-Instruct", "max_model_len": 8192},
        },
        "server/0d73e02f3ef6fd62d56668af",
        8192,
        4,
        "server",
    ),
    "ollama": (
        {
            "models": ["qwen2.5:3b"],
            "owned_by": "library",
            "ollama": {"digest": "sha256:abc", "num_ctx": 8192},
        },
        "server/0dbd975e1c39089c02a54413",
        8192,
        4,
        "estimate",
    ),
    "lmstudio": (
        {
            "models": ["qwen2.5-3b-instruct"],
            "owned_by": "organization_owner",
            "lmstudio": {
                "publisher": "qwen",
                "arch": "qwen2",
                "quantization": "Q4_K_M",
                "loaded_context_length": 4096,
            },
        },
        "server/c285f06c004d4516b7ec6eaa",
        4096,
        4,
        "estimate",
    ),
}


@pytest.mark.parametrize("kind", sorted(ENGINES))
def test_each_engines_identity_is_pinned(kind: str) -> None:
    answers, fingerprint, n_ctx, slots, counter = ENGINES[kind]
    server = StandIn(**answers).start()
    try:
        b = backend(server)
        assert (b.info.kind, b.fingerprint) == (kind, fingerprint)
        assert (b.n_ctx, b.parallel_slots, b.counter.source) == (n_ctx, slots, counter)
    finally:
        server.stop()


def test_a_generic_engines_identity_is_its_model_and_address() -> None:
    server = StandIn(owned_by="someone").start()
    try:
        b = backend(server)
        where = f"http://127.0.0.1:{server.port}"
        ident = {"build": None, "file": None, "kind": "openai", "model": "stand-in.gguf"}
        blob = json.dumps({**ident, "server": where}, sort_keys=True)
        assert b.fingerprint == "server/" + hashlib.sha256(blob.encode()).hexdigest()[:24]
    finally:
        server.stop()


def test_ollama_is_recognised_by_its_api() -> None:
    server = StandIn(
        models=["qwen2.5:3b"], owned_by="library", ollama={"digest": "sha256:abc", "num_ctx": 8192}
    ).start()
    try:
        b = backend(server)
        assert b.info.kind == "ollama" and b.n_ctx == 8192  # its num_ctx, from /api/show
        assert b.info.details == {"digest": "sha256:abc"}  # the weights named: no address
        b.complete("system", MAP_USER, SETTINGS)
        body = server.completions()[0].body
        assert body["frequency_penalty"] == pytest.approx(0.15) and "repeat_penalty" not in body
        other = StandIn(
            models=["qwen2.5:3b"],
            owned_by="library",
            ollama={"digest": "sha256:abc", "num_ctx": 8192},
        ).start()
        try:
            assert backend(other).fingerprint == b.fingerprint  # same digest, another box
        finally:
            other.stop()
    finally:
        server.stop()


def test_lm_studio_is_recognised_by_its_api() -> None:
    card = {
        "publisher": "qwen",
        "arch": "qwen2",
        "quantization": "Q4_K_M",
        "loaded_context_length": 4096,
    }
    server = StandIn(
        models=["qwen2.5-3b-instruct"], owned_by="organization_owner", lmstudio=card
    ).start()
    try:
        b = backend(server)
        assert b.info.kind == "lmstudio" and b.n_ctx == 4096
        b.complete("system", MAP_USER, SETTINGS)
        body = server.completions()[0].body
        assert body["repeat_penalty"] == pytest.approx(1.15) and body["top_k"] == 40
    finally:
        server.stop()


def test_model_choice() -> None:
    server = StandIn(models=["qwen2.5-1.5b", "llama3.2-3b"], owned_by="vllm").start()
    try:
        with pytest.raises(ModelError, match=r"serves 2 models .*--server-model"):
            backend(server)
        with pytest.raises(ModelError, match=r"no model .mistral.*qwen2.5-1.5b, llama3.2-3b"):
            backend(server, model="mistral")
        chosen = backend(server, model="llama3.2-3b")
        assert chosen.info.kind == "vllm" and chosen.info.model == "llama3.2-3b"
    finally:
        server.stop()


def test_n_ctx_above_the_servers_is_refused(stand_in: StandIn) -> None:
    with pytest.raises(UsageError, match="--n-ctx 8192 is more than the 4096"):
        backend(stand_in, n_ctx=8192)
    assert backend(stand_in, n_ctx=1024).n_ctx == 1024


def test_a_list_of_10000_models_is_shortened_in_messages() -> None:
    """Issue 25, item 13: all of them went into one 629 KB error line."""
    server = StandIn(models=[f"model-{n:05d}-" + "x" * 50 for n in range(10_000)]).start()
    try:
        for wanted in (None, "nothing-like-it"):
            with pytest.raises(ModelError) as e:
                connect(ServerSettings(url=server.url, model=wanted))
            assert "model-00000-" in e.value.message and "and 9,992 more" in e.value.message
            assert len(e.value.message) < 1000
    finally:
        server.stop()


@pytest.mark.parametrize("reported", [3, 50, 2**40, 2**53])
def test_an_absurd_context_from_the_server_is_not_believed_nor_suggested(reported: int) -> None:
    """Issue 25, item 13: messages suggested `--n-ctx` values the server made up (negative
    and over 2**53 are refused as shapes; these are whole numbers, and still absurd)."""
    props = {"total_slots": 2, "default_generation_settings": {"n_ctx": reported}}
    server = StandIn(props=props).start()
    try:
        b = backend(server)
        assert b.info.n_ctx is None and b.n_ctx == 2048  # as if it reported none
        assert b.complete("system", MAP_USER, SETTINGS).text
        assert backend(server, n_ctx=100_000).n_ctx == 100_000  # nothing to refuse it by
        with pytest.raises(ModelError) as e:
            b.complete("system", "word " * 5000, SETTINGS)
        assert "the context holds 2048" in e.value.message
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/props", b'{"total_slots": 2, "default_generation_settings": "n_ctx=4096"}'),
        ("/props", b'{"total_slots": 2, "default_generation_settings": {"n_ctx": 1e999}}'),
        ("/v1/models", b'{"data": {"id": "stand-in.gguf"}}'),
        ("/v1/models", b'{"data": [{"id": 7}]}'),
        ("/v1/models", b"<html>a login page</html>"),
        ("/v1/chat/completions", b'{"choices": {"0": {"message": {"content": "x"}}}}'),
        ("/v1/chat/completions", b'{"choices": [{"message": "x"}]}'),
        ("/v1/chat/completions", b'{"choices": [{"message": {"content": "x"}}], "usage": "9"}'),
        ("/v1/chat/completions", b'{"choices": [{"message": {"content": "x"}}], "usage": [9]}'),
        ("/v1/chat/completions", b'{"choices": [{"message": {"content": "x"}}], "timings": "1"}'),
        ("/tokenize", b'{"tokens": "one two three"}'),
        ("/tokenize", b"[" * 100_000),
    ],
)
def test_an_answer_of_another_shape_is_one_line_naming_the_server(path: str, body: bytes) -> None:
    server = StandIn(props=dict(LLAMA_SERVER_PROPS), raw={path: body}).start()
    try:
        with pytest.raises(ModelError) as e:
            backend(server).complete("system", MAP_USER, SETTINGS)
        assert (
            f"127.0.0.1:{server.port}" in e.value.message
            and path.rsplit("/", 1)[1] in e.value.message
        )
        assert "\n" not in e.value.message and e.value.exit_code == 4
    finally:
        server.stop()


def test_not_an_openai_api(stand_in: StandIn) -> None:
    with pytest.raises(UsageError, match="not an OpenAI-compatible API"):
        connect(ServerSettings(url=stand_in.url.replace("/v1", "/nothing")))


# ----------------------------------------------------------------------------- requests


@pytest.mark.parametrize(
    ("owned_by", "props", "present", "absent"),
    [
        (
            "llamacpp",
            LLAMA_SERVER_PROPS,
            {"repeat_penalty": 1.15, "top_k": 40},
            {"frequency_penalty"},
        ),
        ("vllm", None, {"repetition_penalty": 1.15, "min_p": 0.05}, {"repeat_penalty"}),
        ("someone", None, {"frequency_penalty": 0.15}, {"repeat_penalty", "top_k"}),
    ],
    ids=["llama-server", "vllm", "other"],
)
def test_sampling_in_each_engines_names(
    owned_by: str, props: Any, present: dict[str, Any], absent: set[str]
) -> None:
    server = StandIn(owned_by=owned_by, props=dict(props) if props else None).start()
    try:
        g = backend(server).complete("system", MAP_USER, SETTINGS)
        assert g.text.startswith("- map note") and g.finish_reason == "stop"
        [seen] = server.completions()
        body = seen.body
        assert body["seed"] == 42 and body["temperature"] == 0.2 and body["top_p"] == 0.9
        assert body["max_tokens"] == 32 and body["stream"] is False
        assert body["messages"][0] == {"role": "system", "content": "system"}
        for k, v in present.items():
            assert body[k] == pytest.approx(v)
        assert not absent & set(body)
        if props:
            assert body["cache_prompt"] is True  # a retry reuses its evaluated prompt
    finally:
        server.stop()


def test_a_grammar_goes_to_llama_cpp_servers_only() -> None:
    """--structured-notes' GBNF reaches llama-server (and llama-cpp-python's server) as
    ``grammar``; an engine that takes none refuses the call with what to do."""
    grammar = 'root ::= "- " [a-z ]+'
    constrained = GenerationSettings(max_tokens=32, temperature=0.2, seed=42, grammar=grammar)
    llama = StandIn(props=dict(LLAMA_SERVER_PROPS)).start()
    other = StandIn(owned_by="vllm").start()
    try:
        backend(llama).complete("system", MAP_USER, constrained)
        [seen] = llama.completions()
        assert seen.body["grammar"] == grammar
        backend(llama).complete("system", MAP_USER, SETTINGS)
        assert "grammar" not in llama.completions()[-1].body  # free text: no field at all
        with pytest.raises(ModelError, match=r"takes no llama\.cpp grammar.*--structured-notes"):
            backend(other).complete("system", MAP_USER, constrained)
        assert other.completions() == []  # refused before anything was sent
    finally:
        llama.stop()
        other.stop()


def test_the_served_models_size_is_read(stand_in: StandIn) -> None:
    assert backend(stand_in).parameters is None  # no meta: unknown
    sized = StandIn(props=dict(LLAMA_SERVER_PROPS), meta={"n_params": 134_515_008}).start()
    try:
        assert backend(sized).parameters == 134_515_008
    finally:
        sized.stop()


def test_503_and_429_are_retried_after_retry_after(stand_in: StandIn) -> None:
    b = backend(stand_in)
    stand_in.fail_next("status", status=503, retry_after="1")
    stand_in.fail_next("status", status=429)
    t = time.monotonic()
    assert b.complete("system", MAP_USER, SETTINGS).text
    calls = stand_in.completions()
    assert len(calls) == 3
    assert calls[1].at - calls[0].at >= 0.9  # Retry-After: 1 honoured
    assert time.monotonic() - t < 10


def test_500_and_a_dropped_connection_are_retried(stand_in: StandIn) -> None:
    b = backend(stand_in)
    stand_in.fail_next("status", status=500)
    stand_in.fail_next("drop")
    assert b.complete("system", MAP_USER, SETTINGS).text
    assert len(stand_in.completions()) == 3


def test_gives_up_with_one_line_naming_the_server(stand_in: StandIn) -> None:
    b = backend(stand_in, retries=2)
    stand_in.fail_next("status", status=503, times=5)
    with pytest.raises(NetworkError) as e:
        b.complete("system", MAP_USER, SETTINGS)
    message = e.value.message
    assert f"127.0.0.1:{stand_in.port}" in message and "503" in message
    assert "tried 3 times" in message and "\n" not in message
    assert e.value.exit_code == 5
    assert len(stand_in.completions()) == 3


def test_refused_connection() -> None:
    port = free_port()  # nothing listens there
    t = time.monotonic()
    with pytest.raises(NetworkError, match=f"127.0.0.1:{port} refused the connection"):
        connect(ServerSettings(url=f"http://127.0.0.1:{port}/v1", retries=1, backoff=0.05))
    assert time.monotonic() - t < 5


def test_the_deadline_bounds_the_whole_request(stand_in: StandIn) -> None:
    """An answer that trickles in a byte every 0.1 s never trips a per-read timeout; the
    request's overall deadline stops it."""
    b = backend(stand_in, timeout=1.0, retries=0)
    stand_in.fail_next("trickle", seconds=5)
    t = time.monotonic()
    with pytest.raises(NetworkError, match="did not answer within 1 s"):
        b.complete("system", MAP_USER, SETTINGS)
    assert time.monotonic() - t < 3


def test_a_slow_answer_is_retried_after_the_deadline(stand_in: StandIn) -> None:
    b = backend(stand_in, timeout=1.0, retries=1)
    stand_in.fail_next("delay", seconds=2.5)
    assert b.complete("system", MAP_USER, SETTINGS).text
    assert len(stand_in.completions()) == 2


def test_cancel_stops_calls_in_flight(stand_in: StandIn) -> None:
    b = backend(stand_in)
    stand_in.fail_next("delay", seconds=10)
    raised: list[BaseException] = []

    def call() -> None:
        try:
            b.complete("system", MAP_USER, SETTINGS)
        except BaseException as e:
            raised.append(e)

    thread = threading.Thread(target=call)
    t = time.monotonic()
    thread.start()
    time.sleep(0.5)
    b.cancel_calls()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - t < 3
    assert isinstance(raised[0], CallsCancelled)


# ----------------------------------------------------------------------------- answers


def test_wrong_model_in_the_answer(stand_in: StandIn) -> None:
    stand_in.answer_model = "someone-elses-model"
    with pytest.raises(ModelError, match="answered with model 'someone-elses-model'"):
        backend(stand_in).complete("system", MAP_USER, SETTINGS)


def test_an_empty_completion_from_reasoning_is_explained(stand_in: StandIn) -> None:
    stand_in.content, stand_in.reasoning = "", "Let me think about this paper..."
    with pytest.raises(ModelError, match="spent its tokens reasoning"):
        backend(stand_in).complete("system", MAP_USER, SETTINGS)


def test_a_completion_without_text_is_explained(stand_in: StandIn) -> None:
    stand_in.content = None
    with pytest.raises(ModelError, match="without text"):
        backend(stand_in).complete("system", MAP_USER, SETTINGS)


def test_an_empty_text_goes_to_the_guard(stand_in: StandIn) -> None:
    stand_in.content = ""
    g = backend(stand_in).complete("system", MAP_USER, SETTINGS)
    assert g.text == "" and g.completion_tokens == 0  # the guard retries it


@pytest.mark.parametrize(
    "error",
    [
        {
            "message": "request (5000 tokens) exceeds the available context size (4096 tokens)",
            "type": "exceed_context_size_error",
            "code": 400,
        },
        {
            "message": "This model's maximum context length is 2048 tokens.",
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
        },
    ],
    ids=["llama-server", "llama-cpp-python"],
)
def test_a_context_error_says_what_to_do(stand_in: StandIn, error: dict[str, Any]) -> None:
    b = backend(stand_in)
    stand_in.fail_next("status", status=400, error=error)
    with pytest.raises(ModelError, match=r"does not fit its context .* --n-ctx"):
        b.complete("system", MAP_USER, SETTINGS)
    assert len(stand_in.completions()) == 1  # never retried


def test_the_prompt_must_fit_before_it_is_sent(stand_in: StandIn) -> None:
    b = backend(stand_in, n_ctx=64)
    with pytest.raises(ModelError, match=r"needs .* tokens but the context holds 64"):
        b.complete("system", "word " * 100, SETTINGS)
    assert stand_in.completions() == []


def test_a_user_and_password_in_the_url_are_sent_as_basic_auth() -> None:
    """Issue 25, item 13: they were dropped silently (and the server answered 401)."""
    pair = base64.b64encode("ada:s3cret/é".encode()).decode()
    server = StandIn(authorization=f"Basic {pair}").start()
    try:
        with_user = server.url.replace("://", "://ada:s3cret%2F%C3%A9@")
        b = connect(ServerSettings(url=with_user, backoff=0.05))
        assert b.complete("system", MAP_USER, SETTINGS).text
        assert all(s.headers.get("Authorization") == f"Basic {pair}" for s in server.seen)
        assert "s3cret" not in b.name
        with pytest.raises(UsageError, match="LOCALDIGEST_API_KEY is set too"):
            connect(ServerSettings(url=with_user, api_key="sk-other"))
        with pytest.raises(NetworkError, match="user:password@") as e:
            connect(ServerSettings(url=server.url.replace("://", "://ada:wrong@"), backoff=0.05))
        assert "wrong" not in e.value.message
    finally:
        server.stop()


def test_api_key_is_sent_and_never_shown() -> None:
    key = "sk-local-0123456789abcdef"
    server = StandIn(api_key=key).start()
    try:
        b = backend(server, api_key=key)
        assert b.complete("system", MAP_USER, SETTINGS).text
        assert all(s.headers.get("Authorization") == f"Bearer {key}" for s in server.seen)
        assert key not in b.name and key not in b.fingerprint
        with pytest.raises(NetworkError) as e:  # the server quotes the wrong key back
            backend(server, api_key=key + "-wrong")
        assert "LOCALDIGEST_API_KEY" in e.value.message
        assert key not in e.value.message and "***" in e.value.message
    finally:
        server.stop()
