"""The model servers a reader already runs on their own machine, by name: Ollama and LM
Studio.

``--server ollama`` is Ollama's OpenAI-compatible API at the address its own clients use:
``OLLAMA_HOST`` read as Ollama reads it (``host``, ``host:port``, ``:port``,
``http[s]://host[:port]``; default ``127.0.0.1:11434``; no port after ``http://`` is 80 and
after ``https://`` 443, as Ollama has it; a listen-everywhere address, ``0.0.0.0`` or
``::``, is reached on the loopback). ``--server lmstudio`` is LM Studio's server at its
default port, ``http://127.0.0.1:1234/v1``.

``ollama_answers`` asks Ollama for its version with a short deadline and one try: for
``-m ollama:NAME``, a running Ollama (a GPU, the model perhaps loaded already) is used when
it answers there, and the model's blob runs in-process only when it does not.
"""

from __future__ import annotations

import os

from localdigest.errors import LocaldigestError

OLLAMA_PORT = 11434
LMSTUDIO = "http://127.0.0.1:1234/v1"
PROBE_SECONDS = 0.5  # an Ollama on this machine answers in milliseconds


def ollama_root(host: str | None = None) -> str:
    """Ollama's address (no ``/v1``), from ``host`` (default: ``$OLLAMA_HOST``) as Ollama
    reads that variable."""
    text = (os.environ.get("OLLAMA_HOST", "") if host is None else host).strip().strip("\"'")
    scheme, sep, rest = text.partition("://")
    port = str(OLLAMA_PORT)
    if not sep:
        scheme, rest = "http", text
    elif scheme == "https":
        port = "443"
    elif scheme == "http":
        port = "80"
    rest, _, path = rest.partition("/")
    name, given = _split_host_port(rest)
    if given is not None and given.isdigit() and int(given) <= 65535:
        port = given
    name = name or "127.0.0.1"
    if name in ("0.0.0.0", "::"):  # where a server listens, not an address to call
        name = "127.0.0.1" if name == "0.0.0.0" else "::1"
    if ":" in name:
        name = f"[{name}]"
    return f"{scheme}://{name}:{port}" + (f"/{path.strip('/')}" if path.strip("/") else "")


def _split_host_port(text: str) -> tuple[str, str | None]:
    """``host:port``, ``[v6]:port``, ``:port``, ``host`` or a bare IPv6 address."""
    if text.startswith("["):
        name, _, tail = text[1:].partition("]")
        return name, tail[1:] if tail.startswith(":") else None
    if text.count(":") == 1:
        name, _, port = text.partition(":")
        return name, port
    return text, None  # a host, or an IPv6 address without brackets


def server_url(value: str | None) -> str | None:
    """The ``server`` setting as a URL: ``ollama`` and ``lmstudio`` by name, else as given."""
    if value is None:
        return None
    named = value.strip().lower()
    if named == "ollama":
        return ollama_root() + "/v1"
    if named == "lmstudio":
        return LMSTUDIO
    return value


def ollama_answers(root: str) -> bool:
    """Whether an Ollama answers at ``root`` (one quick ``/api/version``; nothing retried)."""
    from localdigest.net import Client, Policy  # httpx: only when a server is asked

    client = Client(
        name=f"Ollama at {root}",
        advice="is it running?",
        policy=Policy(attempts=1, offline_attempts=1, deadline=PROBE_SECONDS,
                      connect=PROBE_SECONDS),
    )  # fmt: skip
    try:
        reply = client.request("GET", f"{root}/api/version", attempts=1, follow=False)
    except LocaldigestError:
        return False
    return reply.status == 200 and isinstance(reply.data, dict) and "version" in reply.data
