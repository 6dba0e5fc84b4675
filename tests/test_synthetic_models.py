"""The benchmark's random-weight GGUFs of real shapes (bench/synthetic.py): a 2-layer one
is built, read back, and runs through `localdigest summarize -m FILE --mode write`."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from localdigest.cli import app
from localdigest.models.gguf import read_gguf
from localdigest.models.resolve import embedded_model_path

pytest.importorskip("gguf", reason="the gguf package writes these models: pip install -e .[dev]")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample-paper.pdf"


@pytest.fixture(scope="module")
def synthetic() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ld_synthetic", ROOT / "bench" / "synthetic.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny(synthetic: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if embedded_model_path() is None:
        pytest.skip("the embedded SmolLM2 model (its tokenizer is copied) is not installed")
    path: Path = synthetic.build(synthetic.TINY, tmp_path_factory.mktemp("bench-models"))
    return path


def test_the_published_shapes_have_their_parameter_counts(synthetic: ModuleType) -> None:
    # The model cards: 0.49B, 1.54B, 3.09B parameters (embeddings tied, so counted once).
    counts = {name: s.parameters() / 1e9 for name, s in synthetic.SHAPES.items()}
    assert counts["qwen2.5-0.5b"] == pytest.approx(0.49, abs=0.01)
    assert counts["qwen2.5-1.5b"] == pytest.approx(1.54, abs=0.01)
    assert counts["qwen2.5-3b"] == pytest.approx(3.09, abs=0.01)


def test_tiny_model_has_its_shape_and_a_padded_real_tokenizer(
    synthetic: ModuleType, tiny: Path
) -> None:
    shape = synthetic.TINY
    info = read_gguf(tiny)
    assert info.architecture == "qwen2"
    assert info.quantization == "Q4_K_M"
    assert info.metadata["qwen2.block_count"] == shape.layers
    assert info.metadata["qwen2.attention.head_count_kv"] == shape.kv_heads
    assert info.chat_template  # SmolLM2's, so prompts go through a real template
    assert synthetic.model_path(shape, tiny.parent) == tiny
    assert [p.name for p in tiny.parent.iterdir()] == [tiny.name]  # no F16 or part left

    import llama_cpp

    text = "Attention is all you need: 28.4 BLEU on WMT 2014 English-to-German."
    vocabularies = [
        llama_cpp.Llama(model_path=str(p), vocab_only=True, verbose=False)
        for p in (tiny, embedded_model_path())
    ]
    ours, smollm = vocabularies
    assert ours.n_vocab() == shape.vocab > smollm.n_vocab()  # padded past SmolLM2's 49152
    assert ours.tokenize(text.encode()) == smollm.tokenize(text.encode())
    pad = shape.vocab - 1  # text when sampled, so that every generated token is counted
    assert ours.detokenize([pad]) == f"[PAD{pad}]".encode()
    assert pad not in ours.tokenize(f"[PAD{pad}]".encode())  # but no text makes it


@pytest.mark.model
def test_tiny_model_summarizes_in_write_mode(tiny: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["summarize", str(SAMPLE), "-m", str(tiny), "--mode", "write", "--format", "json",
         "--max-tokens", "48"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [paper] = json.loads(result.stdout)
    assert paper["model"] == tiny.name
    stats = paper["stats"]
    assert stats["llm_calls"] >= 2 and stats["output_tokens"] > 0
    # Noise fails the output guard, which asks again: why the bench prices write mode from
    # a real model's token counts instead of timing these models' own runs.
    assert stats["retries"] >= 1
