"""arXiv: ids, one polite HTTP client, the API (search, metadata) and the daily feed.

- ``ids``: ``ArxivId``, ``parse_arxiv_id``, ``looks_like_arxiv`` (no network, no imports);
- ``meta``: ``PaperMeta`` (what we know of a paper) and ``Filters`` (categories, phrases);
- ``client``: the polite client (``localdigest.net``) and the ``Endpoints`` it is given;
- ``api``: search and batched metadata through the ``arxiv`` package;
- ``feed``: the daily listing (RSS/Atom).

Import from the submodules: this package re-exports nothing, so that reading an id or a
stored ``PaperMeta`` never imports ``arxiv`` (and ``requests`` under it, ~90 ms). Nothing
here reads the configuration (``workflows.arxiv`` does) or writes anything: the library
(``sources.library``) stores PDFs and ``sources.listing`` remembers what was listed.
"""
