"""Chat templates of real instruction models: thinking off and removed, the system prompt
folded where a template has no system role, stop sequences. Checked on the fake backend, on
templates written here the way those model families' templates behave, and on the
templates stored in the two real test GGUFs (SmolLM2's; Gemma 3 270M, a base model, has
none)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FakeBackend, fake_summarizer
from model_stores import configured_model, gemma_path, smollm2_path

from localdigest.cache import Store
from localdigest.llm.chat import (
    ChatTemplate,
    stop_sequences,
    strip_thinking,
)
from localdigest.models.gguf import read_gguf
from localdigest.papers import PaperInput, PaperSummary

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample-paper.pdf"

# How the families behave (written here, not copied): Gemma 1/2 reject a system turn,
# Gemma 3 folds it into the first user turn itself, some templates drop it silently,
# Qwen3 opens and closes an empty think block when enable_thinking is false.
REJECTS_SYSTEM = (
    "{% for m in messages %}{% if m['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "<start_of_turn>{{ 'model' if m['role'] == 'assistant' else m['role'] }}\n"
    "{{ m['content'] }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
FOLDS_SYSTEM = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
    "{% set first = messages[0]['content'] + '\n\n' %}{% set rest = messages[1:] %}"
    "{% else %}{% set first = '' %}{% set rest = messages %}{% endif %}"
    "{% for m in rest %}<start_of_turn>{{ m['role'] }}\n"
    "{% if loop.first %}{{ first }}{% endif %}{{ m['content'] }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
DROPS_SYSTEM = (
    "{% for m in messages if m['role'] != 'system' %}[{{ m['role'] }}] {{ m['content'] }}\n"
    "{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}"
)
THINKING = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}"
    "<think>\n\n</think>\n\n{% endif %}{% endif %}"
)
LLAMA3 = (
    "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}"
    "<|end_header_id|>\n\n{{ m['content'] }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("<think>Let me see.</think>\n\nThe paper proposes X.", "The paper proposes X."),
        ("The paper <thinking>hmm</thinking>proposes X.", "The paper proposes X."),
        ("reasoning the template opened\n</think>\nThe paper proposes X.", "The paper proposes X."),
        ("<think>cut short while still thinking about", ""),
        ("<THINK>a</THINK>Y", "Y"),
        ("No thinking here: a < b > c.", "No thinking here: a < b > c."),
    ],
)
def test_thinking_is_removed(text: str, clean: str) -> None:
    assert strip_thinking(text) == clean


def test_the_real_smollm2_template_keeps_its_system_role() -> None:
    info = read_gguf(smollm2_path())
    assert info.chat_template
    template = ChatTemplate(info.chat_template, eos_token="<|im_end|>")
    assert template.system_role and "enable_thinking" not in template.source
    prompt = template.prompt("SYSTEM TEXT", "USER TEXT")
    assert prompt.startswith("<|im_start|>system\nSYSTEM TEXT<|im_end|>")
    assert prompt.endswith("<|im_start|>user\nUSER TEXT<|im_end|>\n<|im_start|>assistant\n")
    assert template.end_of_turn() == "<|im_end|>"
    assert stop_sequences(template, ["<|im_end|>", ""]) == ["<|im_end|>"]


def test_the_gemma_test_model_has_no_template_so_prompts_are_plain() -> None:
    # Gemma 3 270M is a base model: no template, so the backend writes a plain prompt
    # (system text, a blank line, the user text) and stops on its end-of-generation tokens.
    info = read_gguf(gemma_path())
    assert info.chat_template is None
    assert stop_sequences(None, ["<eos>", "<end_of_turn>"]) == ["<eos>", "<end_of_turn>"]


@pytest.mark.parametrize("source", [REJECTS_SYSTEM, DROPS_SYSTEM])
def test_system_prompt_is_folded_where_the_template_has_no_system_role(source: str) -> None:
    template = ChatTemplate(source)
    assert template.system_role is False
    prompt = template.prompt("Summarize densely.", "The paper text.")
    assert "Summarize densely.\n\nThe paper text." in prompt
    assert prompt.count("Summarize densely.") == 1


def test_a_template_that_folds_the_system_itself_is_left_to_do_it() -> None:
    template = ChatTemplate(FOLDS_SYSTEM, bos_token="<bos>")
    assert template.system_role is True
    prompt = template.prompt("Summarize densely.", "The paper text.")
    assert prompt == (
        "<bos><start_of_turn>user\nSummarize densely.\n\nThe paper text.<end_of_turn>\n"
        "<start_of_turn>model\n"
    )
    assert template.end_of_turn() == "<end_of_turn>"


def test_thinking_is_switched_off_where_the_template_has_the_switch() -> None:
    template = ChatTemplate(THINKING)
    assert "enable_thinking" in template.source
    assert template.prompt("S", "U").endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert ChatTemplate(LLAMA3, bos_token="<|begin_of_text|>").end_of_turn() == "<|eot_id|>"


def test_no_thinking_reaches_a_summary_or_the_cache(tmp_path: Path) -> None:
    thoughts = "<think>The user wants a summary. I should be dense.</think>\n"
    fake = FakeBackend(
        replies={
            "map": lambda u: thoughts + "- The method improves accuracy by 3 points.",
            "reduce": lambda u: thoughts + "The paper proposes a method that improves accuracy.",
            "tldr": lambda u: thoughts + "A method that improves accuracy.",
        }
    )
    store = Store(tmp_path / "cache")
    summarizer = fake_summarizer(store, fake)
    [result] = summarizer.run([PaperInput(str(SAMPLE), SAMPLE)])
    assert isinstance(result, PaperSummary), result
    assert fake.kinds().count("map") >= 1  # the fake did answer with thinking
    for text in (result.summary, result.tldr):
        assert "think" not in text.lower() and "dense" not in text, text
    assert "accuracy" in result.summary
    cached = json.dumps([store.get(k) for k in list(store.cache.iterkeys())])
    store.close()
    assert "<think>" not in cached


@pytest.mark.model
def test_the_real_backend_uses_the_templates_stop_sequence() -> None:
    from localdigest.llm import BackendSettings, backend_factory
    from localdigest.llm.base import GenerationSettings

    backend = backend_factory(
        configured_model("embedded"), BackendSettings(n_ctx=1024, threads=1)
    )()
    assert backend.stop == ["<|im_end|>"]  # type: ignore[attr-defined]
    g = backend.complete("You answer in one word.", "Say hello.", GenerationSettings(max_tokens=8))
    assert g.text and "<|im_end|>" not in g.text and "<think>" not in g.text
