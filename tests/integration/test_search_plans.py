"""A search is planned for its own values on PostgreSQL (storage/search/access.py
plan_each_search): prepared statements' generic plans were four times slower for common
words. The setting lasts for the search's transaction only; SQLite has nothing to set."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from hindsight.domain.search import parse_query
from hindsight.storage.search import search
from tests.factories import make_incident


def test_a_search_plans_each_statement_for_its_own_values(session: Session) -> None:
    make_incident(session, key="2024-03-05-rollback", title="Rollback of the payments deploy")
    is_postgresql = session.get_bind().dialect.name == "postgresql"
    if is_postgresql:
        assert session.scalar(text("SHOW plan_cache_mode")) == "auto"
    found = search(session, parse_query("rollback"), actor=None)
    assert [hit.key for hit in found.hits] == ["2024-03-05-rollback"]
    if is_postgresql:
        assert session.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
