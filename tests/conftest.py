"""Shared fixtures: isolated user state, the shared corpus, a fake model backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own LOCALDIGEST_HOME and an empty config file location."""
    home = tmp_path / "ld-home"
    monkeypatch.setenv("LOCALDIGEST_HOME", str(home))
    monkeypatch.setenv("LOCALDIGEST_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("LOCALDIGEST_MODELS_DIR", str(tmp_path / "no-models"))
    for var in ("LOCALDIGEST_MODEL", "LOCALDIGEST_N_CTX"):
        monkeypatch.delenv(var, raising=False)
    # One thread, not the default one per physical core: the suite runs on shared 2-core
    # machines, where llama.cpp's spinning threads lose many times over to other jobs (the
    # 2-layer synthetic model's summarize: 2.3 s on 1 thread, 8.5 s on 2, load 5).
    monkeypatch.setenv("LOCALDIGEST_THREADS", "1")
    # The model stores other tools keep (Ollama, LM Studio, the Hugging Face cache,
    # llama.cpp, GPT4All) are looked up under HOME and these variables: none of the user's.
    user = tmp_path / "user-home"
    monkeypatch.setenv("HOME", str(user))
    monkeypatch.setenv("OLLAMA_MODELS", str(user / "no-ollama"))
    for var in (
        "HF_HUB_CACHE",
        "HUGGINGFACE_HUB_CACHE",
        "HF_HOME",
        "LLAMA_CACHE",
        "XDG_CACHE_HOME",
        "XDG_DATA_HOME",
        "XDG_CONFIG_HOME",
        "HF_ENDPOINT",
        "HF_TOKEN",
        "HF_HUB_OFFLINE",
    ):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus of real arXiv PDFs and API responses (outside this repo)."""
    if not (CORPUS / "expected.json").exists():
        pytest.skip(f"shared corpus not found at {CORPUS} (only present in the team workspace)")
    return CORPUS


@pytest.fixture(scope="session")
def expected(corpus: Path) -> list[dict[str, Any]]:
    return json.loads((corpus / "expected.json").read_text())


# ----------------------------------------------------------------------------- fake model

from localdigest.cache import Store  # noqa: E402
from localdigest.llm import Generation, GenerationSettings  # noqa: E402
from localdigest.summarize import (  # noqa: E402
    BackendLoader,
    ModelRef,
    Options,
    Summarizer,
    load_prompts,
)


def call_kind(user: str) -> str:
    """Which prompt a call used, told by the markers each template carries (the reduce has
    both a PAPER and a NOTES fence; the map and the stuff baseline only PAPER)."""
    if "Merged notes:" in user:
        return "collapse"
    if user.startswith("Answer the question"):
        return "answer"
    if "<<<SUMMARY" in user:
        return "tldr"
    if "<<<NOTES" in user:
        return "reduce"
    if "<<<SENTENCES" in user:
        return "rewrite"
    if "<<<PAPER" in user:
        return "map"
    return "other"


# What the fake's default answers claim, as a paper would say it: test documents hold these
# sentences (and this title) so that the fake's summaries are grounded in them.
FAKE_TITLE = "A Method That Improves Accuracy"
FAKE_FINDINGS = (
    "The paper proposes a method that improves accuracy. It improves accuracy by 3 points "
    "over the baseline."
)


class FakeBackend:
    """A model stand-in for orchestration tests: counts words as tokens, records calls.

    ``replies`` maps a call kind to a function of the prompt returning the text; by
    default each kind answers with a short, recognisable sentence.
    """

    name = "fake.gguf"
    fingerprint = "fake-model"
    supports_concurrency = False
    parallel_slots = 1

    def __init__(
        self,
        n_ctx: int = 4096,
        replies: dict[str, Any] | None = None,
        fail_after: int | None = None,
    ) -> None:
        self.n_ctx = n_ctx
        self.replies = replies or {}
        self.calls: list[tuple[str, str]] = []
        self.fail_after = fail_after  # raise KeyboardInterrupt on this call number

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def prompt_tokens(self, system: str, user: str) -> int:
        return self.count_tokens(system) + self.count_tokens(user) + 4

    def cancel_calls(self) -> None: ...

    def kinds(self) -> list[str]:
        return [k for k, _ in self.calls]

    def complete(
        self, system: str, user: str, settings: GenerationSettings, on_token: Any = None
    ) -> Generation:
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise KeyboardInterrupt
        kind = call_kind(user)
        self.calls.append((kind, user))
        reply = self.replies.get(kind)
        n = len(self.calls)
        text = reply(user) if reply else f"- {kind} note {n}: the method improves accuracy."
        if kind == "reduce" and not reply:
            text = "The paper proposes a method. It improves accuracy by 3 points."
        if kind == "tldr" and not reply:
            text = "A method that improves accuracy."
        words = len(text.split())
        return Generation(text, self.prompt_tokens(system, user), words, "stop", 0.01, 0.02)


@pytest.fixture
def fake_backend() -> FakeBackend:
    return FakeBackend()


def fake_summarizer(
    cache: Path | Store, backend: Any, options: Options | None = None, **kw: Any
) -> Summarizer:
    """A Summarizer over ``backend`` (a FakeBackend or any stand-in with its attributes),
    with the shipped prompts and a cache folder (or store); ``kw`` are Summarizer fields
    (reporter, refresh, in_flight)."""
    return Summarizer(
        cache if isinstance(cache, Store) else Store(cache),
        kw.pop("prompts", None) or load_prompts(),
        options or Options(),
        ModelRef(backend.name, backend.fingerprint, backend.n_ctx),
        BackendLoader(lambda: backend),
        **kw,
    )


# ----------------------------------------------------------------------------- the user's config

from localdigest import config  # noqa: E402


def user_paths() -> config.Paths:
    """Where this test's user keeps things (its own LOCALDIGEST_HOME)."""
    return config.load().paths


@pytest.fixture
def cfg(isolated_home: Path) -> config.RunConfig:
    """The run's config as a command in this test's home would build it."""
    return config.load()
