"""Two-word phrases decided by the pairs index on PostgreSQL (storage/search/pairs.py,
migration 0025): a phrase that is two lexemes at adjacent positions is matched as its words
and their pair, and must find exactly what the phrase checked in each `tsvector` finds. On
SQLite nothing is decided and the same searches run as before."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from hindsight.domain.search import SearchQuery, parse_query
from hindsight.services.database import Database
from hindsight.storage.db import downgrade_database, upgrade_database
from hindsight.storage.search import pairs, results, search
from tests.factories import T0, make_incident


def _event(words: str, minutes: int = 0) -> dict[str, str]:
    at = T0 + dt.timedelta(minutes=minutes)
    return {"at": at.isoformat(), "text": words, "kind": "note"}


# Each incident is a way a phrase's words can stand: adjacent, apart, reversed, across two
# parts, stemmed, with a stop word between, hyphenated, in a comment-like timeline row.
_CORPUS = [
    ("2024-06-01-adjacent", "Node pool exhausted", []),
    ("2024-06-02-apart", "Pool of one node", [_event("a pool for every node")]),
    ("2024-06-03-reversed", "Pool node swap", []),
    ("2024-06-04-stemmed", "Nodes pooled badly", []),
    ("2024-06-05-timeline", "Quiet day", [_event("the node pool drained", 5)]),
    ("2024-06-06-stopword", "Rollback of deploy failed", []),
    ("2024-06-07-hyphen", "On-call rotation gap", [_event("rotation of on-call staff")]),
    ("2024-06-08-three", "Slack channel archived by accident", []),
    ("2024-06-09-across", "Disk node", [_event("pool filled up")]),
    ("2024-06-10-repeat", "Node node pool pool", [_event("pool node node")]),
]

_QUERIES = [
    '"node pool"',
    '"nodes pools"',
    '"pool node"',
    '"node pool" OR rotation',
    'node -"node pool"',
    '"node pool" -exhausted',
    '"rollback of deploy"',
    '"rollback deploy"',
    '"on-call rotation"',
    '"slack channel archived"',
    '"slack channel"',
    '"node pool" "slack channel"',
    '"disk node" pool',
    '"the node"',
    '"node pool" drained',
]


@pytest.fixture
def corpus(session: Session) -> Session:
    for key, title, timeline in _CORPUS:
        make_incident(session, key=key, title=title, timeline=timeline)
    return session


def _answer(session: Session, query: str) -> tuple[int, list[tuple[str, float]], dict]:
    found = search(session, parse_query(query), actor=None, limit=50)
    scored = [(hit.key, round(hit.score, 6)) for hit in found.hits]
    return found.total, scored, found.facets


@pytest.mark.parametrize("past_the_window", [False, True], ids=["ranked", "candidates"])
@pytest.mark.parametrize("query", _QUERIES)
def test_a_phrase_decided_by_its_pair_finds_what_checking_positions_finds(
    corpus: Session, query: str, past_the_window: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if past_the_window:
        # Every hit past the rank window: the head candidates, then the document's, are
        # looked for newest first in slices of one id (storage/search/postgres.py).
        from hindsight.storage.search import postgres, sqlite

        monkeypatch.setattr(sqlite, "RANK_WINDOW", 1)
        monkeypatch.setattr(postgres, "RANK_WINDOW", 1)
        monkeypatch.setattr(postgres, "SLICE", 1)
    decided = _answer(corpus, query)
    monkeypatch.setattr(results, "decide_phrases", lambda _session, parsed: pairs.Decided(parsed))
    assert decided == _answer(corpus, query)


def test_only_a_phrase_of_two_adjacent_lexemes_alone_in_its_group_is_decided(
    session: Session,
) -> None:
    def decided(query: str) -> tuple[str, ...]:
        answer = pairs.decide_phrases(session, parse_query(query))
        return answer.pairs

    if session.get_bind().dialect.name != "postgresql":
        assert decided('"node pool"') == ()
        return
    assert decided('"Nodes POOLS"') == ("node pool",)
    assert decided('"node pool" "slack channel"') == ("node pool", "slack channel")
    # A stop word at either end is dropped by both engines' phrase matching alike.
    assert decided('"on-call rotation"') == ("call rotat",)
    # Three words, a stop word inside, a phrase in an OR group, an excluded phrase, one of
    # stop words only, no phrase at all: each is checked as before.
    for query in (
        '"slack channel archived"',
        '"rollback of deploy"',
        '"node pool" OR rotation',
        'node -"node pool"',
        '"the of"',
        "node pool",
    ):
        assert decided(query) == (), query
    rewritten = pairs.decide_phrases(session, parse_query('"node pool" outage'))
    assert rewritten.query == SearchQuery(tuple(parse_query("node pool outage").groups))


def test_the_index_answers_a_phrase_on_postgresql(corpus: Session) -> None:
    if corpus.get_bind().dialect.name != "postgresql":
        return
    corpus.execute(text("SET LOCAL enable_seqscan = off"))
    for column, index in pairs.INDEXES.items():
        statement = text(
            "EXPLAIN SELECT count(*) FROM search_documents WHERE "
            f"search_pairs({column}) @> (SELECT ARRAY['node pool'])"
        )
        assert index in "\n".join(corpus.scalars(statement))
    counted = corpus.scalar(
        text(
            "SELECT count(*) FROM search_documents "
            "WHERE search_pairs(document) @> ARRAY['node pool']"
        )
    )
    # adjacent, stemmed ("nodes pooled"), timeline, repeat (not "across": the summary
    # stands between its title and its timeline): the pair holds where the phrase does.
    keys = {key for key, _ in _answer(corpus, '"node pool"')[1]}
    assert counted == 4 == len(keys) and "2024-06-09-across" not in keys


def test_migration_0025_adds_and_drops_the_pairs_index_and_phrases_work_either_way(
    fresh_database: Database,
) -> None:
    with fresh_database.transaction() as session:
        for key, title, timeline in _CORPUS[:5]:
            make_incident(session, key=key, title=title, timeline=timeline)
    engine = fresh_database.engine
    postgres = engine.dialect.name == "postgresql"
    objects = text(
        "SELECT (SELECT count(*) FROM pg_indexes WHERE indexname IN (:document, :head)) "
        "+ (SELECT count(*) FROM pg_proc WHERE proname = :function)"
    )
    names = {**pairs.INDEXES, "function": pairs.FUNCTION}
    with fresh_database.reading() as session:
        before = _answer(session, '"node pool"')
        assert [key for key, _ in before[1]] and before[0] == 3
        assert not postgres or session.scalar(objects, names) == 3
    downgrade_database(engine, "0024")
    with fresh_database.reading() as session:
        assert not postgres or session.scalar(objects, names) == 0
    upgrade_database(engine)
    with fresh_database.reading() as session:
        assert not postgres or session.scalar(objects, names) == 3
        assert _answer(session, '"node pool"') == before


def test_the_planner_reads_the_pairs_from_their_index_never_row_by_row(corpus: Session) -> None:
    """Priced as a default function, `search_pairs` was sometimes computed for every row
    holding a phrase's words (2.6 s for "node pool" at 100,000 incidents): its COST says what
    a call really costs, so the plan reads the pairs' index."""
    if corpus.get_bind().dialect.name != "postgresql":
        return
    cost = corpus.scalar(
        text("SELECT procost FROM pg_proc WHERE proname = :f"), {"f": "search_pairs"}
    )
    # Well above a default function's 100 (what it was), at the order of a call's real cost.
    assert cost >= 10_000
    corpus.execute(text("SET LOCAL enable_seqscan = off"))
    plan = list(
        corpus.scalars(
            text(
                "EXPLAIN SELECT count(*) FROM search_documents WHERE document @@ "
                "(SELECT websearch_to_tsquery('english', 'node pool')) "
                "AND search_pairs(document) @> (SELECT ARRAY['node pool'])"
            )
        )
    )
    assert any(pairs.INDEXES["document"] in line for line in plan), plan
    assert not any("Filter" in line and "search_pairs" in line for line in plan), plan
