"""Summarizing one paper: what to read, chunks, prompts, the model calls, the guard.

- ``reading``: the reading plan (surveys skipped, long sections read by their leads);
- ``chunking``: sections into chunks measured in the model's tokens;
- ``prompts``: the prompt files; ``options``: what besides the PDF and model changes a summary;
- ``calls``: one paper's model calls, each through the ``guard`` (which scores with
  ``quality``), notes cached one by one; ``hygiene``: cleaning what the model writes;
- ``summarizer``: the ``Summarizer``, map-reduce per paper, cached;
- ``withhold``: the eval's mode, where the abstract never reaches the model.
"""

from __future__ import annotations

from localdigest.summarize.options import STYLES, Options
from localdigest.summarize.progress import NullReporter, Reporter
from localdigest.summarize.prompts import Prompts, load_prompts
from localdigest.summarize.summarizer import SUMMARY_SCHEMA, PaperPlan, Summarizer

__all__ = [
    "STYLES",
    "SUMMARY_SCHEMA",
    "NullReporter",
    "Options",
    "PaperPlan",
    "Prompts",
    "Reporter",
    "Summarizer",
    "load_prompts",
]
