"""Summarizing one paper, as pure stages with typed hand-offs, composed by the Summarizer.

- ``plan``: ``plan(document, title, options, prompts, tokens) -> PaperPlan`` — the reading
  plan (``reading``), the chunks in the model's tokens (``chunking``), the anchor, the pages;
- ``write``: one writer per mode, ``(PaperPlan, PaperCalls) -> Draft`` (map-reduce; the
  paper's own sentences, ``sentences``; or those rewritten);
- ``grounding``: ``ground(summary, tldr, pages) -> Grounded``, every sentence's pages;
- ``calls``: one paper's model calls from an explicit ``CallContext``, each through the
  ``guard`` (which scores with ``quality``), notes cached one by one; ``hygiene``: cleaning
  what the model writes; ``prompts``; ``options``: what besides the PDF and model changes a
  summary;
- ``runner``: the one way papers are run (one by one, or side by side behind one gate);
- ``summarizer``: the ``Summarizer`` composing them, cached.
"""

from __future__ import annotations

from localdigest.summarize.calls import BackendLoader, CallContext, ModelRef, PaperCalls
from localdigest.summarize.options import Options
from localdigest.summarize.plan import PaperPlan
from localdigest.summarize.progress import NullReporter, Reporter
from localdigest.summarize.prompts import Prompts, load_prompts
from localdigest.summarize.summarizer import SUMMARY_SCHEMA, Summarizer

__all__ = [
    "SUMMARY_SCHEMA",
    "BackendLoader",
    "CallContext",
    "ModelRef",
    "NullReporter",
    "Options",
    "PaperCalls",
    "PaperPlan",
    "Prompts",
    "Reporter",
    "Summarizer",
    "load_prompts",
]
