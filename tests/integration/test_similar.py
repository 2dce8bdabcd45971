"""Similar incidents and recurrence on both databases: profiles kept in step with changes,
ranking with why, the lexical fallback, links both ways and in history, dismissals, lint,
the 'recurring' filter, and visibility of restricted incidents."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor, Role
from hindsight.domain.actions import ActionItem, ActionStatus
from hindsight.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from hindsight.services import similar_index
from hindsight.services.accounts import create_user
from hindsight.services.database import Database
from hindsight.services.embeddings import MODEL_NAME, decode_vector
from hindsight.services.incidents import (
    IncidentFilter,
    create_postmortem,
    list_postmortems,
    list_revisions,
    update_postmortem,
)
from hindsight.services.lint import lint_stored
from hindsight.services.profiles import refresh_profiles
from hindsight.services.recurrence import (
    dismiss_recurrence,
    link_recurrence,
    unlink_recurrence,
)
from hindsight.services.similar import NO_MODEL_NOTE, find_similar
from hindsight.storage.models import IncidentLinkRow, IncidentProfileRow
from tests.factories import make_postmortem

DAY = dt.timedelta(days=1)
T = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _cert(key: str, title: str, **overrides: object) -> object:
    return make_postmortem(
        key=key,
        title=title,
        summary="The TLS certificate on the ingress expired and browsers refused the site.",
        services=["ingress"],
        tags=["tls"],
        analysis={
            "trigger": "The Let's Encrypt certificate expired.",
            "root_causes": ["Certificate renewal was manual"],
            "contributing_factors": [{"category": "change", "description": "No expiry alert"}],
        },
        **overrides,
    )


def _store(session: Session, pm: object, at: dt.datetime, actor: Actor | None = None) -> None:
    create_postmortem(session, postmortem=pm, author="test", now=at, actor=actor)  # type: ignore[arg-type]


@pytest.fixture
def incidents(session: Session) -> Session:
    actions = [
        {"title": "Alert on certificate expiry", "kind": "detect"},
        {"title": "Automate renewal", "kind": "prevent", "status": "done"},
        {"title": "Document renewal", "kind": "prevent", "status": "done"},
    ]
    _store(session, _cert("first-cert", "Certificate expired on ingress", action_items=actions), T)
    _store(
        session,
        make_postmortem(
            key="disk-full",
            title="Database disk full",
            summary="The database volume ran out of space and writes failed.",
            services=["db"],
            tags=["storage"],
        ),
        T + DAY,
    )
    _store(session, _cert("second-cert", "TLS certificate expired again"), T + 10 * DAY)
    return session


def test_every_change_keeps_the_profile_in_step_with_a_vector_of_the_shipped_model(
    incidents: Session,
) -> None:
    row = incidents.scalars(select(IncidentProfileRow)).first()
    assert row is not None and row.model == MODEL_NAME
    vector = decode_vector(row.vector)
    assert vector is not None and len(vector) == 256
    before = incidents.scalars(select(IncidentProfileRow.text_hash)).all()
    update_postmortem(
        incidents,
        key="disk-full",
        change=lambda pm: replace(pm, title="Database disk full on the primary"),
        author="test",
    )
    after = incidents.scalars(select(IncidentProfileRow.text_hash)).all()
    assert sorted(before) != sorted(after)
    profile = find_similar(incidents, key="disk-full")
    assert profile.mode == "hybrid"


def test_similar_earlier_incidents_come_first_with_why(incidents: Session) -> None:
    result = find_similar(incidents, key="second-cert")
    assert result.mode == "hybrid" and result.note == ""
    assert [item.key for item in result.items] == ["first-cert", "disk-full"]
    best = result.items[0]
    assert best.why.services == ("ingress",) and best.why.tags == ("tls",)
    assert "change" in best.why.categories
    assert "certificate" in best.why.terms
    assert best.score > result.items[1].score
    # Only earlier incidents are "seen before".
    assert find_similar(incidents, key="first-cert").items == []


def test_without_the_model_ranking_falls_back_to_words_and_says_so(incidents: Session) -> None:
    result = find_similar(incidents, key="second-cert", embedder=None)
    assert result.mode == "lexical" and result.note == NO_MODEL_NOTE
    assert result.items[0].key == "first-cert" and result.items[0].semantic is None


def test_a_recurrence_is_suggested_with_the_earlier_action_items(incidents: Session) -> None:
    suggestion = find_similar(incidents, key="second-cert").suggestion
    assert suggestion is not None and suggestion.key == "first-cert"
    assert suggestion.actions_summary == (
        "2 of 3 preventive actions done; 'Alert on certificate expiry' still open"
    )


def test_linking_is_stored_both_ways_shown_on_both_and_in_both_histories(
    incidents: Session,
) -> None:
    link_recurrence(incidents, key="second-cert", other_key="first-cert", author="ana")
    link_recurrence(incidents, key="second-cert", other_key="first-cert", author="ana")
    assert len(incidents.scalars(select(IncidentLinkRow)).all()) == 2
    later = find_similar(incidents, key="second-cert")
    assert [(link.key, link.earlier) for link in later.links] == [("first-cert", True)]
    assert later.suggestion is None and later.items[0].linked
    earlier = find_similar(incidents, key="first-cert")
    assert [(link.key, link.earlier) for link in earlier.links] == [("second-cert", False)]
    for key, other in (("second-cert", "first-cert"), ("first-cert", "second-cert")):
        last = list_revisions(incidents, key=key)[-1]
        assert last.action == "recurrence" and last.author == "ana"
        assert last.changes[0].field == f"recurrence.{other}"
    recurring = list_postmortems(incidents, filters=IncidentFilter(recurring=True))
    assert sorted(item.key for item in recurring.items) == ["first-cert", "second-cert"]
    unlink_recurrence(incidents, key="first-cert", other_key="second-cert", author="ana")
    assert incidents.scalars(select(IncidentLinkRow)).all() == []
    with pytest.raises(InvalidInputError, match="not linked"):
        unlink_recurrence(incidents, key="first-cert", other_key="second-cert", author="ana")


def test_lint_warns_when_the_earlier_prevent_or_detect_items_are_not_done(
    incidents: Session,
) -> None:
    link_recurrence(incidents, key="second-cert", other_key="first-cert", author="ana")
    warnings = [
        f
        for f in lint_stored(incidents, key="second-cert").findings
        if f.rule == "actions/recurrence"
    ]
    assert [w.message for w in warnings] == [
        "this incident recurs 'Certificate expired on ingress' (first-cert), whose detect "
        "action 'Alert on certificate expiry' is still open"
    ]
    update_postmortem(
        incidents,
        key="first-cert",
        change=lambda pm: replace(
            pm,
            action_items=tuple(
                ActionItem(**{**item.__dict__, "status": ActionStatus.WONT_DO, "reason": "cost"})
                if item.title.startswith("Alert")
                else item
                for item in pm.action_items
            ),
        ),
        author="test",
    )
    messages = [
        f.message
        for f in lint_stored(incidents, key="second-cert").findings
        if f.rule == "actions/recurrence"
    ]
    assert messages and messages[0].endswith("was closed as won't do")
    # The earlier incident itself does not recur anything.
    assert not [
        f
        for f in lint_stored(incidents, key="first-cert").findings
        if f.rule == "actions/recurrence"
    ]


def test_a_dismissed_suggestion_is_not_made_again(incidents: Session) -> None:
    dismiss_recurrence(incidents, key="second-cert", other_key="first-cert", author="ana")
    dismiss_recurrence(incidents, key="second-cert", other_key="first-cert", author="ana")
    result = find_similar(incidents, key="second-cert")
    assert result.suggestion is None and result.items[0].key == "first-cert"


def test_bad_links_are_refused_and_change_nothing(incidents: Session) -> None:
    with pytest.raises(InvalidInputError, match="cannot recur itself"):
        link_recurrence(incidents, key="first-cert", other_key="first-cert", author="ana")
    with pytest.raises(NotFoundError, match="no incident with key 'nope'"):
        link_recurrence(incidents, key="first-cert", other_key="nope", author="ana")
    viewer = Actor(id=999, username="viewer", display_name="", role=Role.VIEWER)
    with pytest.raises(PermissionDeniedError, match="viewers cannot link"):
        link_recurrence(
            incidents, key="second-cert", other_key="first-cert", author="v", actor=viewer
        )
    assert incidents.scalars(select(IncidentLinkRow)).all() == []


def test_restricted_incidents_never_show_as_similar_to_outsiders(incidents: Session) -> None:
    owner = create_user(
        incidents, username="owner", password="correct horse battery", role=Role.EDITOR
    )
    outsider = create_user(
        incidents, username="outsider", password="correct horse battery", role=Role.EDITOR
    )
    secret = _cert(
        "secret-cert", "Certificate expired on the payments ingress", visibility="restricted"
    )
    _store(incidents, secret, T + 5 * DAY, actor=owner)
    assert "secret-cert" in [
        i.key for i in find_similar(incidents, key="second-cert", actor=owner).items
    ]
    seen = find_similar(incidents, key="second-cert", actor=outsider)
    assert "secret-cert" not in [i.key for i in seen.items]
    with pytest.raises(NotFoundError):
        find_similar(incidents, key="secret-cert", actor=outsider)
    with pytest.raises(NotFoundError):
        link_recurrence(
            incidents, key="second-cert", other_key="secret-cert", author="o", actor=outsider
        )
    link_recurrence(incidents, key="second-cert", other_key="secret-cert", author="o", actor=owner)
    assert [
        link.key for link in find_similar(incidents, key="second-cert", actor=outsider).links
    ] == []


def test_reindex_computes_missing_and_stale_profiles(incidents: Session) -> None:
    first = incidents.scalars(select(IncidentProfileRow)).first()
    assert first is not None
    incidents.delete(first)
    incidents.flush()
    refreshed, total = refresh_profiles(incidents, now=T)
    assert total == 3 and refreshed >= 1
    assert refresh_profiles(incidents, now=T) == (0, 3)


def test_earlier_means_happened_before_whenever_it_was_written_down(
    incidents: Session,
) -> None:
    # Written down last, but its impact started a day before the others' (the factory's).
    backfill = _cert(
        "backfilled-cert",
        "Certificate expired on the ingress long ago",
        timeline=[
            {
                "at": "2024-03-04T09:00:00+00:00",
                "text": "Certificate expired",
                "kind": "alert",
                "key_moment": "impact_started",
            }
        ],
    )
    _store(incidents, backfill, T + 30 * DAY)
    assert "backfilled-cert" in [i.key for i in find_similar(incidents, key="second-cert").items]
    assert find_similar(incidents, key="backfilled-cert").items == []


def test_the_index_sees_a_change_made_after_it_was_loaded(incidents: Session) -> None:
    assert find_similar(incidents, key="second-cert").items[0].key == "first-cert"
    update_postmortem(
        incidents,
        key="disk-full",
        change=lambda pm: replace(pm, visibility="restricted"),
        author="test",
    )
    outsider = create_user(
        incidents, username="someone", password="correct horse battery", role=Role.EDITOR
    )
    seen = [i.key for i in find_similar(incidents, key="second-cert", actor=outsider).items]
    assert "disk-full" not in seen and "first-cert" in seen


def test_a_large_index_is_rebuilt_in_the_background_and_kept_until_then(
    fresh_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every index counts as large here, so a stale one is served while a new one is built.
    monkeypatch.setattr(similar_index, "BACKGROUND_AT", 1)
    with fresh_database.transaction() as session:
        _store(session, _cert("first-cert", "Certificate expired on ingress"), T)
        _store(session, _cert("second-cert", "TLS certificate expired again"), T + 10 * DAY)
    with fresh_database.transaction() as session:
        assert [i.key for i in find_similar(session, key="second-cert").items] == ["first-cert"]
    with fresh_database.transaction() as session:
        _store(session, _cert("third-cert", "Certificate expired a third time"), T + 5 * DAY)
    with fresh_database.transaction() as session:
        # The reader does not wait: the index loaded before the change answers.
        assert [i.key for i in find_similar(session, key="second-cert").items] == ["first-cert"]
    for _ in range(200):
        if not similar_index.rebuilding():
            break
        time.sleep(0.05)
    assert not similar_index.rebuilding()
    with fresh_database.transaction() as session:
        seen = {i.key for i in find_similar(session, key="second-cert").items}
    assert seen == {"first-cert", "third-cert"}


def _wait_for_the_rebuild() -> None:
    for _ in range(200):
        if not similar_index.rebuilding():
            return
        time.sleep(0.05)
    raise AssertionError("the background rebuild did not end")


def test_a_large_index_is_patched_with_what_changed_and_answers_as_a_full_load(
    fresh_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(similar_index, "BACKGROUND_AT", 1)
    loads: list[int] = []
    load = similar_index._load
    monkeypatch.setattr(similar_index, "_load", lambda *args: loads.append(1) or load(*args))
    now = dt.datetime.now(dt.UTC)  # patches look for changes by time: stored ones are recent
    with fresh_database.transaction() as session:
        _store(session, _cert("first-cert", "Certificate expired on ingress"), now - 3 * DAY)
        _store(session, _cert("second-cert", "TLS certificate expired again"), now - DAY)
        _store(session, make_postmortem(key="disk-full", title="Disk full"), now - 2 * DAY)
    with fresh_database.transaction() as session:
        assert find_similar(session, key="second-cert").items[0].key == "first-cert"
    with fresh_database.transaction() as session:  # an edit, a new incident, a restriction
        update_postmortem(
            session,
            key="disk-full",
            change=lambda pm: replace(pm, title="Certificate expired, disk full", tags=["tls"]),
            author="test",
        )
        _store(session, _cert("third-cert", "Certificate expired a third time"), now - 2 * DAY)
        update_postmortem(
            session,
            key="first-cert",
            change=lambda pm: replace(pm, visibility="restricted"),
            author="test",
        )
    with fresh_database.transaction() as session:
        outsider = create_user(
            session, username="someone", password="correct horse battery", role=Role.EDITOR
        )
        find_similar(session, key="second-cert")  # starts the update in the background
    _wait_for_the_rebuild()
    with fresh_database.reading() as session:
        patched = [find_similar(session, key="second-cert", actor=a) for a in (None, outsider)]
    assert loads == [1]  # patched, not loaded again
    assert {i.key for i in patched[0].items} == {"first-cert", "third-cert", "disk-full"}
    assert "first-cert" not in {i.key for i in patched[1].items}
    similar_index.clear_indexes()
    with fresh_database.reading() as session:
        loaded = [find_similar(session, key="second-cert", actor=a) for a in (None, outsider)]
    assert loaded == patched and loads == [1, 1]
