"""The orchestration behind the commands: each workflow returns data and never prints.

- ``summarize``: a summarize request -> sources resolved and fetched -> summaries;
- ``weekly``: the ``run`` routine (search, choose, fetch, summarize, dated digest, notes);
- ``evaluate``: the eval against the authors' abstracts, with its baselines (``baselines``)
  and scores (``scoring``).
"""
