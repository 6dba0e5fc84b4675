"""One polite client for everything sent to arXiv: the API, the listing feeds, the PDFs.

Politeness is the point (arXiv asks for it and blocks clients that ignore it):

* one client per process for a set of endpoints (``ArxivClient.shared``), with a
  descriptive User-Agent;
* at least ``delay`` seconds (default 3) between the starts of any two of its requests;
* 429/5xx, time-outs and dropped connections retried with exponential back-off, honouring
  ``Retry-After`` up to 30 s, within 90 s in all; a refused connection or a failed DNS
  look-up (the network is off) fails after one quick retry (``localdigest.net``);
* an overall deadline per request: 60 s for the API and the feeds, ``download_deadline``
  for a PDF (headers and body together), so a server that drips its answer cannot hold a
  run.

The settings come from the caller (``workflows.arxiv`` reads them from the configuration).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from localdigest import __version__
from localdigest.net import Client, Policy

PROJECT_URL = "https://github.com/localdigest/localdigest"
USER_AGENT = f"localdigest/{__version__} (+{PROJECT_URL}; offline paper digests)"
POLICY = Policy(attempts=5, backoff=2.0, max_wait=30.0, max_total=90.0, deadline=60.0)


@dataclass(frozen=True)
class Endpoints:
    """Where arXiv is (settings, for tests or a mirror), how long to wait between calls,
    and how long a request may take."""

    api: str
    pdf: str
    rss: str
    delay: float
    policy: Policy = POLICY
    download_deadline: float = 600.0  # one PDF (arXiv's PDFs run to tens of MB)


class ArxivClient:
    """The HTTP client (``http``) and the endpoints it serves: what every arXiv call takes."""

    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints
        self.http = Client(
            advice="arXiv may be busy or down; try again in a few minutes",
            offline_advice="check your network; papers already fetched still work offline",
            policy=endpoints.policy,
            headers={"User-Agent": USER_AGENT},
            interval=endpoints.delay,
        )

    @staticmethod
    @functools.lru_cache(maxsize=8)
    def shared(endpoints: Endpoints) -> ArxivClient:
        """The process's client for these endpoints: one rate limit for every request."""
        return ArxivClient(endpoints)
