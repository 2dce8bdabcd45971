"""Storing, reading, listing and changing postmortems, with their history."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from hindsight.domain.codec import InvalidPostmortemError
from hindsight.domain.editing import set_field
from hindsight.errors import ConflictError, NotFoundError
from hindsight.services.incidents import (
    IncidentFilter,
    get_postmortem,
    list_postmortems,
    list_revisions,
    new_key,
    update_postmortem,
)
from hindsight.services.taxonomy import add_category
from tests.factories import make_incident, make_postmortem


def test_a_stored_postmortem_reads_back_equal(session: Session) -> None:
    stored = make_incident(session)
    assert stored.version == 1
    again = get_postmortem(session, key=stored.postmortem.key)
    assert again.postmortem == make_postmortem()
    assert again.created_at.tzinfo is not None


def test_an_unknown_key_is_not_found(session: Session) -> None:
    with pytest.raises(NotFoundError, match="no incident with key 'nope'"):
        get_postmortem(session, key="nope")


def test_a_key_cannot_be_used_twice(session: Session) -> None:
    make_incident(session)
    with pytest.raises(ConflictError, match="is taken; choose another key"):
        make_incident(session)


def test_new_keys_are_readable_and_unique(session: Session) -> None:
    day = dt.date(2024, 3, 5)
    assert new_key(session, "Checkout errors!", day) == "2024-03-05-checkout-errors"
    make_incident(session, key="2024-03-05-checkout-errors")
    assert new_key(session, "Checkout errors!", day) == "2024-03-05-checkout-errors-2"


def test_an_update_bumps_the_version_and_records_who_changed_what(session: Session) -> None:
    key = make_incident(session).postmortem.key
    stored = update_postmortem(
        session,
        key=key,
        change=lambda pm: set_field(pm, "severity", "SEV1"),
        author="bea",
        expected_version=1,
    )
    assert stored.version == 2
    created, changed = list_revisions(session, key=key)
    assert (created.version, created.action, created.author) == (1, "create", "tester")
    assert (changed.version, changed.author, changed.action) == (2, "bea", "update")
    assert [(c.field, c.old, c.new) for c in changed.changes] == [("severity", "SEV2", "SEV1")]


def test_an_update_that_changes_nothing_stores_nothing(session: Session) -> None:
    key = make_incident(session).postmortem.key
    stored = update_postmortem(session, key=key, change=lambda pm: pm, author="bea")
    assert stored.version == 1
    assert len(list_revisions(session, key=key)) == 1


def test_a_stale_version_is_refused_with_the_current_one(session: Session) -> None:
    key = make_incident(session).postmortem.key
    update_postmortem(session, key=key, change=lambda pm: set_field(pm, "title", "A"), author="a")
    with pytest.raises(ConflictError) as caught:
        update_postmortem(
            session,
            key=key,
            change=lambda pm: set_field(pm, "title", "B"),
            author="b",
            expected_version=1,
        )
    assert caught.value.current_version == 2
    assert get_postmortem(session, key=key).postmortem.title == "A"


def test_contributing_factors_need_a_category_from_the_taxonomy(session: Session) -> None:
    factors = [{"category": "feature-flags", "description": "A flag flipped"}]
    with pytest.raises(InvalidPostmortemError, match="not in the taxonomy"):
        make_incident(session, analysis={"contributing_factors": factors})
    add_category(session, name="feature-flags", description="Flags")
    assert make_incident(session, analysis={"contributing_factors": factors}).version == 1


def test_the_list_filters_and_paginates(session: Session) -> None:
    for number in range(7):
        make_incident(
            session,
            key=f"incident-{number}",
            title=f"Incident {number}",
            severity="SEV1" if number % 2 else "SEV3",
            services=["api"] if number < 3 else ["web"],
            tags=["db"] if number == 4 else [],
        )
    page = list_postmortems(session, limit=3, offset=0)
    assert page.total == 7 and len(page.items) == 3
    assert list_postmortems(session, filters=IncidentFilter(severities=["SEV1"])).total == 3
    assert list_postmortems(session, filters=IncidentFilter(service="api")).total == 3
    assert [i.key for i in list_postmortems(session, filters=IncidentFilter(tag="db")).items] == [
        "incident-4"
    ]
    assert list_postmortems(session, filters=IncidentFilter(text="INCIDENT 6")).total == 1
    keys = [i.key for p in range(3) for i in list_postmortems(session, limit=3, offset=3 * p).items]
    assert sorted(keys) == sorted(f"incident-{n}" for n in range(7))
