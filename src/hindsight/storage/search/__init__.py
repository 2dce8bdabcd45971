"""Full-text search over the index (storage/search_index.py): the one place that knows the two
engines. SQLite: FTS5 with bm25 and column weights. PostgreSQL: a weighted `tsvector`, GIN
index, `websearch_to_tsquery`, `ts_rank_cd` and `ts_headline`.

Queries arrive parsed (domain/search.py) and are rendered here for the engine, as bound
parameters: no text a person typed reaches FTS5 MATCH or a tsquery unparsed. Visibility is
storage/visibility.py's rule, applied to hits, totals and facet counts alike. Hits are
counted up to TOTAL_BOUND and paged no further (past it the total is a lower bound).

Modules: `results` (a page of results: the steps of one search), `sqlite` and `postgres` (the
matching, counting and ranking of each engine), `snippets`, `facets` and `access` (who may
see which hit, in the index's terms). Similar incidents rank from their own in-process index
(analysis/similarity_index.py), not from here.
"""

from __future__ import annotations

from hindsight.storage.search.results import TOTAL_BOUND, search

__all__ = ["TOTAL_BOUND", "search"]
