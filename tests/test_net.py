"""The one HTTP client (localdigest.net) against real servers on 127.0.0.1: redirects and
where a token may go, size caps, stalls, a key that a header cannot carry, the answer
shapes; the callers' own behaviour is tested with their stand-ins (arXiv, model servers,
the hub)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from localdigest.errors import NetworkError, UsageError
from localdigest.net import Client, Cut, Opt, Policy, Token, retry_after, shape_problem

Route = Callable[[BaseHTTPRequestHandler], None]


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up mid-answer (a deadline, a stall): the point of a test


@dataclass
class Server:
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[tuple[str, str | None]] = field(default_factory=list)  # path, Authorization
    url: str = ""

    def start(self) -> Server:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None: ...

            def do_GET(self) -> None:
                server.seen.append((self.path, self.headers.get("Authorization")))
                server.routes[self.path](self)

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def send(h: BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str) -> None:
    h.send_response(status)
    for key, value in {"Content-Length": str(len(body)), **headers}.items():
        h.send_header(key.replace("_", "-"), value)
    h.end_headers()
    h.wfile.write(body)


@pytest.fixture
def servers() -> Iterator[tuple[Server, Server]]:
    a, b = Server().start(), Server().start()  # two origins
    yield a, b
    a.stop()
    b.stop()


def client(token: Token | None = None, **policy: float) -> Client:
    return Client(advice="try again", token=token, policy=Policy(backoff=0.01, **policy))  # type: ignore[arg-type]


def test_a_token_goes_to_its_own_origin_at_every_hop(servers: tuple[Server, Server]) -> None:
    a, b = servers
    a.routes["/start"] = lambda h: send(h, 302, Location=f"{b.url}/elsewhere")
    b.routes["/elsewhere"] = lambda h: send(h, 307, Location=f"{a.url}/back")
    a.routes["/back"] = lambda h: send(h, 200, b"done")
    reply = client(Token("s3cret", a.url, "KEY")).request("GET", f"{a.url}/start")
    assert reply.status == 200 and reply.content == b"done" and reply.url == f"{a.url}/back"
    assert a.seen == [("/start", "Bearer s3cret"), ("/back", "Bearer s3cret")]
    assert b.seen == [("/elsewhere", None)]


def test_only_web_addresses_are_followed_and_not_forever(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    a.routes["/file"] = lambda h: send(h, 302, Location="file:///etc/passwd")
    a.routes["/loop"] = lambda h: send(h, 302, Location="/loop")
    with pytest.raises(NetworkError, match=r"redirected to file: address, which is not followed"):
        client().request("GET", f"{a.url}/file")
    with pytest.raises(NetworkError, match="redirected more than 5 times"):
        client().request("GET", f"{a.url}/loop")


def test_a_key_a_header_cannot_carry_is_refused_before_sending() -> None:
    for key in ("sk-ключ", "sk-key\nX-Evil: 1", "sk key"):
        with pytest.raises(UsageError, match="LOCALDIGEST_API_KEY holds a space, a line break"):
            client(Token(key, "http://127.0.0.1", "LOCALDIGEST_API_KEY"))


def test_the_token_is_masked_in_what_the_server_says(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    a.routes["/echo"] = lambda h: send(h, 500, b'{"error": "bad key s3cret-key"}')
    with pytest.raises(NetworkError) as e:
        client(Token("s3cret-key", a.url, "KEY"), attempts=2).request("GET", f"{a.url}/echo")
    assert "s3cret-key" not in e.value.message and "bad key ***" in e.value.message
    assert "(tried twice)" in e.value.message and len(a.seen) == 2


def test_an_answer_past_the_cap_is_not_read(servers: tuple[Server, Server]) -> None:
    a, _ = servers
    a.routes["/big"] = lambda h: send(h, 200, b"x" * (3 << 20))
    with pytest.raises(NetworkError, match="sent more than 1 MB"):
        client(max_bytes=1 << 20).request("GET", f"{a.url}/big")


def test_a_stalled_download_is_cut_and_a_slow_one_meets_its_deadline(
    servers: tuple[Server, Server],
) -> None:
    a, _ = servers

    def stall(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "100")
        h.end_headers()
        h.wfile.write(b"x" * 10)
        h.wfile.flush()
        time.sleep(5)

    def drip(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "100")
        h.end_headers()
        for _ in range(100):
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(0.05)

    a.routes["/stall"], a.routes["/drip"] = stall, drip
    started = time.monotonic()
    with (
        client().stream(f"{a.url}/stall", what="a file", stall=0.3) as download,
        pytest.raises(Cut, match=r"sent nothing for 0\.3 s"),
    ):
        b"".join(download.chunks())
    with (
        client().stream(f"{a.url}/drip", what="a file", deadline=0.5, stall=1) as download,
        pytest.raises(NetworkError, match=r"did not send a file within 0\.5 s"),
    ):
        b"".join(download.chunks())
    assert time.monotonic() - started < 3


def test_no_dns_answer_fails_fast_in_one_line() -> None:
    started = time.monotonic()
    with pytest.raises(NetworkError) as e:
        client().request("GET", "http://no-such-host.invalid/")
    assert "could not be found" in e.value.message and "(tried twice)" in e.value.message
    assert time.monotonic() - started < 10


def test_retry_after() -> None:
    assert retry_after("3") == 3.0
    assert retry_after(None) is None and retry_after("soon") is None
    assert retry_after("inf") is None and retry_after("-4") == 0.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"n": 3, "s": "x", "l": [{"f": 1.5}]}, None),
        ({"s": "x", "l": []}, None),  # n is optional
        ({"n": None, "s": "x", "l": []}, None),  # null is absent
        ({"s": "x"}, "the answer has no 'l'"),
        ({"n": float("inf"), "s": "x", "l": []}, "n is an infinite number, not a whole number"),
        ({"n": -5, "s": "x", "l": []}, "n is the number -5, not a whole number"),
        ({"n": True, "s": "x", "l": []}, "n is true or false, not a whole number"),
        ({"s": {"a": 1}, "l": []}, "s is an object, not a string"),
        ({"s": "x", "l": {"0": {}}}, "l is an object, not a list"),
        ({"s": "x", "l": ["f"]}, "l[0] is a string, not an object"),
        ({"s": "x", "l": [{"f": "1"}]}, "l[0].f is a string, not a number"),
        ("text", "the answer is a string, not an object"),
    ],
)
def test_shapes(value: object, problem: str | None) -> None:
    shape = {"n": Opt(int), "s": str, "l": [{"f": float}]}
    assert shape_problem(value, shape) == problem
