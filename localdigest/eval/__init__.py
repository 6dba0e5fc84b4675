"""The quality eval, apart from the engine: summarize papers with their abstracts withheld
(``withhold``: the summarizer is handed a document without them) and score the summaries
against those abstracts (``scoring``), beside the baselines (``baselines``); ``evaluate``
runs it and returns an ``EvalReport``."""
