"""The in-process backend: a GGUF model run by llama-cpp-python.

``llama_cpp`` is imported only when a model is actually loaded, so ``--help``, cached
reruns and listing commands stay fast. One backend is loaded once per run and used
serially: decoding several prompts at once in one process was measured slower on a CPU
(docs/performance.md), so many calls at once are a server's job.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from localdigest.errors import ModelError
from localdigest.llm.base import DEFAULT_SEED, Generation, GenerationSettings, TokenCallback
from localdigest.llm.chat import ChatTemplate, stop_sequences
from localdigest.models import ModelChoice, default_n_ctx
from localdigest.models.gguf import kv_cache_bytes

# Performance defaults, chosen by measurement (`bench/bench.py --sweep`,
# docs/performance.md; 2-core Xeon, SmolLM2-135M Q4_1, 1 thread). Flash attention off: CPU
# decode is about 2x faster without it (36 vs 17 tok/s). n_batch 128 vs 512 and mmap
# on/off are within noise.
DEFAULT_N_BATCH = 512  # prompt tokens per llama_decode call
# Tokens per compute step: the attention scratch buffer grows with it (166 MB at 512,
# 83 MB at 256 for an 8192 context) while prefill speed does not (189 vs 184 tok/s).
DEFAULT_N_UBATCH = 256
DEFAULT_FLASH_ATTN = False


def default_threads() -> int:
    """The physical cores this process may run on, as llama.cpp counts them, at least 1.

    One thread per physical core: llama.cpp's worker threads spin while they wait, so a
    hyper-thread sibling adds contention, not speed. --threads / LOCALDIGEST_THREADS
    override it (fewer when other work keeps the cores busy: docs/performance.md).
    """
    return physical_cores() or max(1, (os.cpu_count() or 2) // 2)


def physical_cores() -> int | None:
    """Linux: distinct cores among the CPUs of this process's affinity mask; macOS: the
    performance cores (else all physical cores); None where this cannot be told."""
    if sys.platform == "darwin":
        for key in ("hw.perflevel0.physicalcpu", "hw.physicalcpu"):
            try:
                out = subprocess.run(["sysctl", "-n", key], capture_output=True, text=True)
            except OSError:
                return None
            if out.returncode == 0 and out.stdout.strip().isdigit():
                return int(out.stdout) or None
        return None
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        allowed = os.sched_getaffinity(0)
    except (OSError, AttributeError):  # not Linux: no /proc, no sched_getaffinity
        return None
    return cores_in_cpuinfo(text, allowed) or None


def cores_in_cpuinfo(text: str, allowed: set[int]) -> int:
    """Distinct (physical id, core id) pairs in ``/proc/cpuinfo`` among the processors in
    ``allowed``: SMT siblings share a pair. A processor without a core id (some ARM and
    virtual machines) counts as a core of its own."""
    cores: set[tuple[str, str]] = set()
    for block in text.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
        cpu = fields.get("processor", "")
        if cpu.isdigit() and int(cpu) in allowed:
            cores.add((fields.get("physical id", "0"), fields.get("core id", f"cpu{cpu}")))
    return len(cores)


def _context_does_not_fit(choice: ModelChoice, n_ctx: int) -> str:
    """Say what a context that did not fit in memory needs, and what to do."""
    needed = kv_cache_bytes(choice.info, n_ctx)
    trained = choice.info.context_length
    size = f" needs about {needed / 2**30:.1f} GiB of memory for its cache" if needed else ""
    hint = f" (this model was trained on {trained})" if trained else ""
    return (
        f"A context of {n_ctx} tokens{size} and does not fit in the memory available — "
        f"use a smaller --n-ctx{hint}, or free memory"
    )


@contextlib.contextmanager
def quiet_stderr(enabled: bool) -> Iterator[None]:
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


def token_text(llm: Any, token: int) -> str:
    if token < 0 or token >= llm.n_vocab():
        return ""
    return str(llm._model.token_get_text(token))


def chat_template(llm: Any, choice: ModelChoice) -> ChatTemplate | None:
    """The GGUF's chat template (None for a base model: plain completion prompts). ``llm``
    may be a vocabulary-only ``Llama`` (the server backend counts tokens with one)."""
    template = choice.info.chat_template
    if not template:
        return None
    try:
        return ChatTemplate(
            template,
            bos_token=token_text(llm, llm.token_bos()),
            eos_token=token_text(llm, llm.token_eos()),
        )
    except Exception as e:  # jinja2's TemplateSyntaxError and kin
        raise ModelError(
            f"The chat template inside {choice.path} can't be read ({e}) — "
            "pick another model with --model"
        ) from e


def chat_prompt(
    llm: Any, template: ChatTemplate | None, choice: ModelChoice, system: str, user: str
) -> list[int]:
    """The tokens of one system + user prompt, through ``template``."""
    if template is None:
        text = f"{system}\n\n{user}\n"
        return list(llm.tokenize(text.encode("utf-8"), add_bos=True, special=False))
    try:
        text = template.prompt(system, user)
    except Exception as e:  # the template's own raise_exception, or jinja2's errors
        raise ModelError(
            f"The chat template inside {choice.path} fails on a plain system + user "
            f"conversation ({e}) — pick another model with --model"
        ) from e
    # The rendered template already holds the special tokens (BOS included).
    return list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))


class LlamaCppBackend:
    """A GGUF model run in-process by llama-cpp-python."""

    def __init__(
        self,
        choice: ModelChoice,
        *,
        n_ctx: int | None = None,
        gpu_layers: int = 0,
        threads: int | None = None,
        seed: int = DEFAULT_SEED,
        verbose: bool = False,
        n_batch: int = DEFAULT_N_BATCH,
        n_ubatch: int = DEFAULT_N_UBATCH,
        flash_attn: bool = DEFAULT_FLASH_ATTN,
        use_mmap: bool = True,
    ) -> None:
        self.choice = choice
        self.name = choice.name
        self.fingerprint = choice.fingerprint
        self.n_ctx = n_ctx or default_n_ctx(choice.info)
        self.threads = threads or default_threads()
        self.supports_concurrency = False  # one model, one call at a time
        self.parallel_slots = 1
        try:
            import llama_cpp
        except ImportError as e:  # pragma: no cover - the dependency is declared
            raise ModelError(f"llama-cpp-python is not installed ({e}) — `pip install -e .`") from e
        n_batch = min(n_batch, self.n_ctx)
        try:
            with quiet_stderr(not verbose):
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
            if "llama_context" in str(e):  # the model loaded; its context did not fit
                raise ModelError(_context_does_not_fit(choice, self.n_ctx)) from e
            raise ModelError(
                f"llama.cpp could not load {choice.path} (architecture "
                f"'{choice.info.architecture}'): the file may be truncated, or this "
                "llama-cpp-python may not support it — re-download it, upgrade "
                "llama-cpp-python, or pick another model with --model"
            ) from e
        self._template = chat_template(self.llm, choice)
        self.stop = stop_sequences(self._template, self._end_token_texts())
        self._grammars: dict[str, Any] = {}

    def _end_token_texts(self) -> list[str]:
        """The text of the GGUF's end-of-generation tokens (eos, end of turn, end of message)."""
        meta = self.choice.info.metadata
        keys = ("eos_token_id", "eot_token_id", "eom_token_id")
        ids = [meta.get(f"tokenizer.ggml.{k}") for k in keys]
        return [token_text(self.llm, int(i)) for i in ids if isinstance(i, int)]

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _prompt(self, system: str, user: str) -> list[int]:
        return chat_prompt(self.llm, self._template, self.choice, system, user)

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
        reused = common_prefix(self.llm.input_ids[: self.llm.n_tokens].tolist(), tokens)
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
            grammar=self._grammar(settings.grammar),
            stop=self.stop or None,
            stream=True,
        )
        for part in stream:
            choice: dict[str, Any] = cast(dict[str, Any], part)["choices"][0]
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

    def cancel_calls(self) -> None:
        """Nothing runs in another thread: Ctrl-C stops the call in the caller's."""

    def _grammar(self, text: str | None) -> Any:
        """The compiled grammar (compiled once per text), or None."""
        if text is None:
            return None
        if text not in self._grammars:
            from llama_cpp.llama_grammar import LlamaGrammar

            with quiet_stderr(True):
                self._grammars[text] = LlamaGrammar.from_string(text, verbose=False)
        return self._grammars[text]


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the prefix two token sequences share (0 for none)."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))
