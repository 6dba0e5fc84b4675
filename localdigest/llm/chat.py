"""Chat templates of real instruction models: what each one needs to be prompted well.

The template stored in the GGUF (``tokenizer.chat_template``, Jinja) is rendered here, the
way Hugging Face's tokenizers and llama-cpp-python render it (a sandboxed environment,
``trim_blocks``/``lstrip_blocks``, ``raise_exception``, ``strftime_now``), so what follows
does not depend on the llama-cpp-python version:

- **thinking off**: a template with the switch (Qwen3, SmolLM3, GLM: ``enable_thinking``)
  is rendered with ``enable_thinking=False``; any ``<think>...</think>`` block a model writes
  anyway is removed from every output (``strip_thinking``), as is a block whose opening tag
  the template itself put into the prompt;
- **no system role**: a template that rejects a system message (Gemma 1/2 raise "System role
  not supported") or silently drops it gets the system prompt folded into the first user
  turn (Gemma 3's own template does that fold itself, and is left to do it);
- **stop sequences**: the text of the GGUF's end-of-generation tokens (eos, eot, eom) and the
  end-of-turn marker the template writes after an assistant message, so generation also
  stops where a model spells the marker out as text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_TAGS = ("think", "thinking", "reasoning")
_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_CLOSE = re.compile(r"^.*?</(?:think|thinking|reasoning)>", re.DOTALL | re.IGNORECASE)
_OPEN = re.compile(r"<(?:think|thinking|reasoning)>.*\Z", re.DOTALL | re.IGNORECASE)
_MARKER = re.compile(r"<[|\w/][^<>\s]{0,40}>|\[/?[A-Z_]{2,20}\]")
_SYSTEM_PROBE = "SYSTEM-PROBE-7f3a"
_USER_PROBE = "USER-PROBE-9c1e"
_ANSWER_PROBE = "ANSWER-PROBE-2b8d"


def strip_thinking(text: str) -> str:
    """``text`` without the model's thinking: closed blocks anywhere, a block opened in the
    prompt (only its closing tag is in the output), and an unclosed block (cut short)."""
    if not any(f"<{t}" in text.lower() or f"</{t}" in text.lower() for t in _TAGS):
        return text
    text = _BLOCK.sub("", text)
    text = _CLOSE.sub("", text, count=1)
    text = _OPEN.sub("", text)
    return text.strip()


def _tojson(
    x: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    return json.dumps(
        x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


def _raise(message: str) -> None:
    raise ValueError(message)


@dataclass
class ChatTemplate:
    """A GGUF's chat template, with what it supports worked out once."""

    source: str
    bos_token: str = ""
    eos_token: str = ""

    def __post_init__(self) -> None:
        from jinja2 import ext
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        class GenerationTags(ext.Extension):
            """``{% generation %}...{% endgeneration %}`` (Hugging Face's training marker)
            renders its body unchanged."""

            tags = {"generation"}  # noqa: RUF012 - jinja2's own class attribute

            def parse(self, parser: Any) -> Any:
                next(parser.stream)
                return parser.parse_statements(("name:endgeneration",), drop_needle=True)

        env = ImmutableSandboxedEnvironment(
            trim_blocks=True, lstrip_blocks=True, extensions=[ext.loopcontrols, GenerationTags]
        )
        env.filters["tojson"] = _tojson
        self._template = env.from_string(self.source)
        self.system_role = self._keeps_system()

    def render(self, messages: list[dict[str, str]], generation_prompt: bool = True) -> str:
        return str(
            self._template.render(
                messages=messages,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
                add_generation_prompt=generation_prompt,
                raise_exception=_raise,
                strftime_now=lambda fmt: dt.datetime.now().strftime(fmt),
                enable_thinking=False,
            )
        )

    def _keeps_system(self) -> bool:
        try:
            probe = self.render(
                [
                    {"role": "system", "content": _SYSTEM_PROBE},
                    {"role": "user", "content": _USER_PROBE},
                ]
            )
        except Exception:  # a template may raise anything (jinja2, its own raise_exception)
            return False
        return _SYSTEM_PROBE in probe

    def messages(self, system: str, user: str) -> list[dict[str, str]]:
        if self.system_role:
            return [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return [{"role": "user", "content": f"{system}\n\n{user}" if system else user}]

    def prompt(self, system: str, user: str) -> str:
        """The rendered prompt: system and user turns, then the assistant's opening."""
        return self.render(self.messages(system, user))

    def end_of_turn(self) -> str | None:
        """The marker the template writes right after an assistant's answer, if it is a
        special-token-like marker (``<|im_end|>``, ``<end_of_turn>``, ``<|eot_id|>``)."""
        try:
            text = self.render(
                [
                    {"role": "user", "content": _USER_PROBE},
                    {"role": "assistant", "content": _ANSWER_PROBE},
                ],
                generation_prompt=False,
            )
        except Exception:
            return None
        _, found, after = text.partition(_ANSWER_PROBE)
        match = _MARKER.match(after.lstrip(" ")) if found else None
        return match.group(0) if match else None


def stop_sequences(template: ChatTemplate | None, token_texts: Sequence[str]) -> list[str]:
    """Stop strings: the end-of-generation tokens' text and the template's turn marker."""
    stops = [t for t in token_texts if t and _MARKER.fullmatch(t)]
    marker = template.end_of_turn() if template is not None else None
    if marker:
        stops.append(marker)
    return list(dict.fromkeys(stops))
