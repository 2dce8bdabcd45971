"""Hosts, addresses, URLs, paths, e-mail addresses and versions are found by their words on
both databases (storage/search_words.py, migration 0026): PostgreSQL's parser kept each as
one lexeme, so a search for a host found it on SQLite and nothing on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from hindsight.domain.search import parse_query
from hindsight.services.database import Database
from hindsight.storage.db import downgrade_database, upgrade_database
from hindsight.storage.search import search
from hindsight.storage.search_words import HEADLINE_SEPARATOR
from tests.factories import T0, make_incident


def _event(text: str) -> dict[str, str]:
    return {"at": (T0 + dt.timedelta(minutes=5)).isoformat(), "text": text, "kind": "note"}


_CORPUS = [
    ("2024-07-01-host", "Checkout errors", "api.example.com returned 503 for ten minutes"),
    ("2024-07-02-dashed", "Failover", "db-primary.internal stopped answering"),
    ("2024-07-03-address", "Network split", "10.0.0.5 was unreachable from the workers"),
    ("2024-07-04-url", "Status page", "see https://status.example.com/incidents/42 for updates"),
    ("2024-07-05-path", "Disk full", "/var/log/syslog filled the root volume"),
    ("2024-07-06-mail", "Paging gap", "oncall@example.com was paged twice"),
    ("2024-07-07-version", "Bad release", "v1.2.3 rolled out to every region"),
    ("2024-07-08-words", "Example outage", "an example of a com port failing on the api"),
]

# Each query and what it finds, the same on both engines.
_EXPECTED = {
    "api.example.com": ["2024-07-01-host"],
    '"api.example.com"': ["2024-07-01-host"],
    "db-primary.internal": ["2024-07-02-dashed"],
    "10.0.0.5": ["2024-07-03-address"],
    "status.example.com": ["2024-07-04-url"],
    "incidents/42": ["2024-07-04-url"],
    "/var/log/syslog": ["2024-07-05-path"],
    "syslog": ["2024-07-05-path"],
    "oncall@example.com": ["2024-07-06-mail"],
    "v1.2.3": ["2024-07-07-version"],
    '"example com"': ["2024-07-01-host", "2024-07-04-url", "2024-07-06-mail"],
}


@pytest.fixture
def corpus(session: Session) -> Session:
    for key, title, text in _CORPUS:
        make_incident(session, key=key, title=title, timeline=[_event(text)])
    return session


def _keys(session: Session, query: str) -> list[str]:
    return sorted(hit.key for hit in search(session, parse_query(query), actor=None).hits)


@pytest.mark.parametrize("query", sorted(_EXPECTED))
def test_a_host_address_url_path_or_version_is_found_by_its_words(
    corpus: Session, query: str
) -> None:
    assert _keys(corpus, query) == sorted(_EXPECTED[query])


def test_the_snippet_marks_the_words_and_shows_the_text_as_written(corpus: Session) -> None:
    (hit,) = search(corpus, parse_query("api.example.com"), actor=None).hits
    (snippet,) = hit.snippets
    assert snippet.part == "timeline"
    assert "api.example.com returned 503" in snippet.text
    assert HEADLINE_SEPARATOR not in snippet.text
    marked = {segment.text for segment in snippet.segments if segment.match}
    assert {"api", "example", "com"} <= marked or "api.example.com" in marked


def test_migration_0026_splits_the_words_and_back_down_keeps_them_whole(
    fresh_database: Database,
) -> None:
    with fresh_database.transaction() as session:
        for key, title, text in _CORPUS[:2]:
            make_incident(session, key=key, title=title, timeline=[_event(text)])
    engine = fresh_database.engine
    postgres = engine.dialect.name == "postgresql"
    downgrade_database(engine, "0025")
    with engine.connect() as connection:
        # At 0025, PostgreSQL's vector holds the host as one lexeme: the query's words miss.
        found = connection.exec_driver_sql(
            "SELECT count(*) FROM search_documents WHERE document @@ "
            "websearch_to_tsquery('english', 'api example com')"
            if postgres
            else "SELECT count(*) FROM search_fts WHERE search_fts MATCH 'api example com'"
        ).scalar()
        assert found == (0 if postgres else 1)
    upgrade_database(engine)
    with fresh_database.reading() as session:
        assert _keys(session, "api.example.com") == ["2024-07-01-host"]
        assert _keys(session, '"node pool"') == []
        assert _keys(session, "db-primary.internal") == ["2024-07-02-dashed"]
