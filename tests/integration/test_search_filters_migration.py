"""Migration 0020: the search index holds its filters (flags, facet tokens; PostgreSQL's
`head`), up from 0010's shape with the existing incidents refilled, and back down."""

from __future__ import annotations

from sqlalchemy import inspect, text

from hindsight.domain.search import parse_query
from hindsight.services.archive import archive_incident
from hindsight.services.database import Database
from hindsight.services.recurrence import link_recurrence
from hindsight.storage.db import downgrade_database, upgrade_database
from hindsight.storage.search import search
from tests.factories import make_incident


def _columns(database: Database) -> set[str]:
    return {column["name"] for column in inspect(database.engine).get_columns("search_documents")}


def _fts_hits(database: Database, word: str) -> list[int]:
    with database.reading() as session:
        if database.engine.dialect.name == "postgresql":
            sql = "SELECT incident_id FROM search_documents WHERE document @@ to_tsquery(:w)"
        else:
            sql = "SELECT rowid FROM search_fts WHERE search_fts MATCH :w"
        return sorted(session.scalars(text(sql), {"w": word}))


def test_0020_refills_the_filters_of_existing_incidents_and_goes_back_down(
    fresh_database: Database,
) -> None:
    with fresh_database.transaction() as session:
        make_incident(session, key="2024-04-01-open", title="Terraform drift", severity="SEV1")
        make_incident(
            session, key="2024-04-02-secret", title="Secret drift", visibility="restricted"
        )
        make_incident(session, key="2024-04-03-old", title="Old drift")
        link_recurrence(session, key="2024-04-02-secret", other_key="2024-04-01-open", author="t")
        archive_incident(session, key="2024-04-03-old", author="tester")
    downgrade_database(fresh_database.engine, "0019")
    columns = _columns(fresh_database)
    assert {"restricted", "archived", "tokens", "head"}.isdisjoint(columns)
    assert "title" in columns
    assert len(_fts_hits(fresh_database, "drift")) == 3  # the text stayed, and FTS5 reads it
    upgrade_database(fresh_database.engine)
    assert {"restricted", "archived", "tokens"} <= _columns(fresh_database)
    with fresh_database.reading() as session:
        flags = dict(
            session.execute(
                text(
                    "SELECT i.key, d.restricted FROM search_documents d "
                    "JOIN incidents i ON i.id = d.incident_id"
                )
            ).all()
        )
        assert {key: bool(value) for key, value in flags.items()} == {
            "2024-04-01-open": False,
            "2024-04-02-secret": True,
            "2024-04-03-old": False,
        }
        found = search(session, parse_query("drift"), actor=None)
        assert {hit.key for hit in found.hits} == {"2024-04-01-open", "2024-04-02-secret"}
        filtered = search(session, parse_query("drift"), actor=None, filters={"severity": ["SEV1"]})
        assert [hit.key for hit in filtered.hits] == ["2024-04-01-open"]
        archived = search(session, parse_query("drift"), actor=None, include_archived=True)
        assert archived.total == 3
        assert dict(found.facets["recurring"]) == {"yes": 2}
        recurring = search(
            session, parse_query("drift"), actor=None, filters={"recurring": ["yes"]}
        )
        assert recurring.total == 2
