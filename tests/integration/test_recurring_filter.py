"""The "recurring" filter and facet, on the incident list and in search, on both databases: an
incident counts as recurring for a reader only through a link to an incident that reader may
see (a restricted one says nothing to an outsider)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor, Role
from hindsight.domain.search import parse_query
from hindsight.errors import InvalidInputError
from hindsight.services.incidents import IncidentFilter, create_postmortem, list_postmortems
from hindsight.services.recurrence import link_recurrence, unlink_recurrence
from hindsight.services.search import search_postmortems
from hindsight.storage.models import UserRow
from hindsight.storage.search import search
from tests.factories import T0, make_incident, make_postmortem


def _user(session: Session, name: str, role: Role) -> Actor:
    row = UserRow(
        username=name, display_name=name, password_hash="x", role=role.value, created_at=T0
    )
    session.add(row)
    session.flush()
    return Actor(row.id, name, name, role)


@pytest.fixture
def linked(session: Session) -> dict[str, Actor]:
    """Four 'pelican' incidents: two open ones linked together, an open one linked only to a
    restricted one (the owner's), and one linked to nothing."""
    people = {
        "owner": _user(session, "owner", Role.EDITOR),
        "outsider": _user(session, "outsider", Role.EDITOR),
        "admin": _user(session, "admin", Role.ADMIN),
    }
    for key in ("2024-01-01-first", "2024-02-01-again", "2024-03-01-alone", "2024-04-01-shy"):
        make_incident(session, key=key, title=f"Pelican outage {key[-5:]}")
    secret = make_postmortem(
        key="2024-05-01-secret", title="Pelican secret", visibility="restricted"
    )
    create_postmortem(session, postmortem=secret, author="owner", actor=people["owner"])
    link_recurrence(session, key="2024-02-01-again", other_key="2024-01-01-first", author="t")
    link_recurrence(session, key="2024-04-01-shy", other_key="2024-05-01-secret", author="t")
    return people


EVERY_LINKED = {"2024-01-01-first", "2024-02-01-again", "2024-04-01-shy", "2024-05-01-secret"}
EXPECTED = {
    "owner": EVERY_LINKED,
    "admin": EVERY_LINKED,
    "outsider": {"2024-01-01-first", "2024-02-01-again"},
}


def test_the_list_keeps_incidents_linked_to_one_the_reader_may_see(
    session: Session, linked: dict[str, Actor]
) -> None:
    only = IncidentFilter(recurring=True)
    for name, keys in EXPECTED.items():
        page = list_postmortems(session, filters=only, actor=linked[name])
        assert {item.key for item in page.items} == keys, name
        assert page.total == len(keys), name
    everything = list_postmortems(session, filters=only, actor=None)
    assert {item.key for item in everything.items} == EVERY_LINKED


def test_search_filters_and_counts_recurring_for_each_reader(
    session: Session, linked: dict[str, Actor]
) -> None:
    for name, keys in EXPECTED.items():
        actor = linked[name]
        found = search(session, parse_query("pelican"), actor=actor)
        assert dict(found.facets["recurring"]) == {"yes": len(keys)}, name
        only = search(session, parse_query("pelican"), actor=actor, filters={"recurring": ["yes"]})
        assert {hit.key for hit in only.hits} == keys, name
        assert only.total == len(keys), name
    unlink_recurrence(session, key="2024-01-01-first", other_key="2024-02-01-again", author="t")
    after = search(session, parse_query("pelican"), actor=None, filters={"recurring": ["yes"]})
    assert {hit.key for hit in after.hits} == {"2024-04-01-shy", "2024-05-01-secret"}


def test_the_recurring_filter_accepts_only_yes(session: Session) -> None:
    with pytest.raises(InvalidInputError, match="recurring"):
        search_postmortems(session, query="pelican", actor=None, filters={"recurring": ["no"]})
