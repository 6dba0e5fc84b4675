"""Names vulture (``make lint``) must not report: read by something it cannot see.

Fields written out with ``dataclasses.asdict`` (summaries, stats, eval scores: the JSON
users and the eval read), and the one private hook into the ``arxiv`` package. Typer's
commands and callbacks are left out by ``--ignore-decorators`` in the Makefile. A name
only here because nothing uses it any more is dead code: delete it and its line.
"""

from localdigest.eval import baselines, evaluate, scoring
from localdigest.llm import base
from localdigest.papers import Grounding, Stats
from localdigest.sources import ranking
from localdigest.sources.arxiv import api
from localdigest.summarize import quality
from localdigest.text import strip_page_marks

base.Generation.reused_tokens  # the bench's evaluated-token counts
Stats.pages_read, Stats.text_tokens, Stats.notes_written, Stats.extract_seconds
Stats.reduce_seconds, Stats.decode_seconds  # JSON "stats"
Grounding.unsupported_links  # JSON "grounding"
ranking.Score.library_size  # the run plan's saved scores
evaluate.PaperEval.reference_words  # the eval's JSON
scoring.SummaryScore.rouge1, scoring.SummaryScore.rouge2, scoring.SummaryScore.rougeL
scoring.SummaryScore.rougeLsum, scoring.SummaryScore.facts_missing
scoring.SummaryScore.scaffolding, scoring.SummaryScore.numbers_without_page
scoring.SummaryScore.invented_numbers, scoring.SummaryScore.body_facts_missing
scoring.SummaryScore.tldr_contribution  # the eval's JSON
quality.Degeneration.repeated_ngrams  # the eval's JSON
baselines.SentenceTokenizer.language, baselines.SentenceTokenizer.to_words  # read by sumy
baselines.textrank.stop_words  # set on sumy's summarizer, which reads it
api.arxiv.Client.query_url_format, api.arxiv.Client._session  # the one hook into arxiv
strip_page_marks  # model output is cleaned of page marks (issue 25, item 12: on its way)
