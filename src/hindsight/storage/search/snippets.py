"""The marked snippets of a page of hits: FTS5's `snippet` on SQLite, `ts_headline` on
PostgreSQL, around the first query word of each part that matched."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hindsight.domain.search import (
    MATCH_END,
    MATCH_START,
    NOT_A_TAG,
    SearchQuery,
    Snippet,
    split_marked,
    to_websearch,
)
from hindsight.storage.search.access import is_sqlite
from hindsight.storage.search.postgres import TSQUERY
from hindsight.storage.search.sqlite import words_match
from hindsight.storage.search_index import PART_NAMES
from hindsight.storage.search_words import HEADLINE_SEPARATOR, split_sql

MAX_SNIPPETS = 3
_HEADLINE_OPTIONS = (
    f"StartSel={MATCH_START}, StopSel={MATCH_END}, MaxWords=30, MinWords=12, ShortWord=0"
)
# ts_headline re-reads the whole text it is given (a timeline runs to thousands of words), so
# it gets the part only if a query word's start is in it, and then only the text around the
# first one: a snippet is MaxWords=30 words.
_HEADLINE_AROUND = 240


def _prefix(word: str) -> str:
    """What any word the stemmer takes for `word` starts with (it only cuts endings)."""
    return word[: max(min(len(word), 3), len(word) - 3)]


def _pg_headlines(session: Session, query: SearchQuery, ids: Sequence[int]) -> list[Any]:
    prefixes = sorted({_prefix(word) for word in query.words()})
    params: dict[str, Any] = {
        "match": to_websearch(query),
        "options": _HEADLINE_OPTIONS,
        "ids": list(ids),
        **{f"p{n}": prefix for n, prefix in enumerate(prefixes)},
    }
    parts = []
    for name in PART_NAMES:
        found = ", ".join(f"nullif(strpos(lower({name}), :p{n}), 0)" for n in range(len(prefixes)))
        around = (
            f"substr({name}, greatest(1, least({found}) - {_HEADLINE_AROUND}), "
            f"{2 * _HEADLINE_AROUND})"
        )
        # Split as the vector was (storage/search_words.py), the separators taken out below.
        text = split_sql(
            f"replace({around}, '<', '<' || chr({ord(NOT_A_TAG)}))",
            f"chr({ord(HEADLINE_SEPARATOR)})",
        )
        parts.append(
            f"CASE WHEN least({found}) IS NOT NULL THEN ts_headline('english'::regconfig, "
            f"{text}, q, :options) END"
        )
    sql = (
        f"SELECT incident_id, {', '.join(parts)} FROM search_documents, {TSQUERY} AS q "
        "WHERE incident_id IN :ids"
    )
    statement = sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))
    return list(session.execute(statement, params))


def _fts_snippets(session: Session, query: SearchQuery, ids: Sequence[int]) -> list[Any]:
    parts = ", ".join(
        f"snippet(search_fts, {n}, :start, :end, '…', 16)" for n in range(len(PART_NAMES))
    )
    # One scan of the matches between the page's lowest and highest id, the page's ids kept
    # by a filter FTS5 is not given (`+rowid`: handed `rowid IN (…)`, FTS5 would run the
    # MATCH once per id), so snippet() runs for the page only: half the time of a statement
    # of one `rowid = ?` branch a hit (each branch opens a cursor of its own).
    sql = (
        f"SELECT rowid, {parts} FROM search_fts WHERE search_fts MATCH :match "
        "AND rowid BETWEEN :low AND :high AND +rowid IN (SELECT value FROM json_each(:ids))"
    )
    marks = {"match": words_match(query), "start": MATCH_START, "end": MATCH_END}
    page = {"ids": json.dumps(list(ids)), "low": min(ids), "high": max(ids)}
    return list(session.execute(sa.text(sql), {**marks, **page}))


def _unmarked(text: str) -> str:
    return text.replace(NOT_A_TAG, "").replace(HEADLINE_SEPARATOR, "")


def snippets(
    session: Session, query: SearchQuery, ids: Sequence[int]
) -> dict[int, tuple[Snippet, ...]]:
    """For each id, the marked text of up to MAX_SNIPPETS parts that matched, best part first."""
    if not ids:
        return {}
    rows = (
        _fts_snippets(session, query, ids)
        if is_sqlite(session)
        else _pg_headlines(session, query, ids)
    )
    found: dict[int, tuple[Snippet, ...]] = {}
    for row in rows:
        marked = [
            Snippet(name, split_marked(_unmarked(text).strip()))
            for name, text in zip(PART_NAMES, row[1:], strict=True)
            if text and MATCH_START in text
        ]
        found[int(row[0])] = tuple(marked[:MAX_SNIPPETS])
    return found
