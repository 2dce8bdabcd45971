"""Accounts, tokens, login limits, access to restricted incidents and the review workflow."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor, Role
from hindsight.domain.editing import set_field
from hindsight.errors import HindsightError, NotFoundError, PermissionDeniedError
from hindsight.services.accounts import (
    AuthenticationError,
    RateLimitedError,
    actor_for_token,
    check_login_allowed,
    create_token,
    create_user,
    ensure_first_admin,
    record_login_failure,
    record_token_use,
    revoke_token,
    set_disabled,
    verify_login,
)
from hindsight.services.incidents import (
    get_postmortem,
    list_postmortems,
    list_revisions,
    update_postmortem,
)
from hindsight.services.reviews import (
    add_comment,
    add_member,
    decide,
    list_comments,
    list_reviewers,
    publish,
    reopen,
    request_review,
)
from tests.factories import make_postmortem

PASSWORD = "correct horse battery"


def _people(session: Session) -> dict[str, Actor]:
    return {
        name: create_user(session, username=name, password=PASSWORD, role=role)
        for name, role in [
            ("owner", Role.EDITOR),
            ("teammate", Role.EDITOR),
            ("outsider", Role.EDITOR),
            ("reader", Role.VIEWER),
            ("boss", Role.ADMIN),
        ]
    }


def _restricted(session: Session, owner: Actor) -> str:
    from hindsight.services.incidents import create_postmortem

    pm = make_postmortem(key="breach", visibility="restricted")
    return create_postmortem(
        session, postmortem=pm, author=owner.username, actor=owner
    ).postmortem.key


def test_passwords_are_verified_and_never_stored_plainly(session: Session) -> None:
    create_user(session, username="ana", password=PASSWORD)
    assert verify_login(session, username="ana", password=PASSWORD).username == "ana"
    with pytest.raises(AuthenticationError):
        verify_login(session, username="ana", password="wrong password!")
    with pytest.raises(AuthenticationError):
        verify_login(session, username="nobody", password=PASSWORD)
    with pytest.raises(HindsightError, match="at least 10"):
        create_user(session, username="bo", password="short")
    set_disabled(session, username="ana")
    with pytest.raises(AuthenticationError):
        verify_login(session, username="ana", password=PASSWORD)


def test_repeated_failed_logins_are_limited(session: Session) -> None:
    now = dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.UTC)
    for minute in range(5):
        check_login_allowed(
            session, username="ana", address="10.0.0.1", now=now + dt.timedelta(minutes=minute)
        )
        record_login_failure(
            session, username="ana", address="10.0.0.1", now=now + dt.timedelta(minutes=minute)
        )
    with pytest.raises(RateLimitedError, match="try again") as caught:
        check_login_allowed(
            session, username="ana", address="10.0.0.9", now=now + dt.timedelta(minutes=5)
        )
    assert 0 < caught.value.retry_after <= 15 * 60
    check_login_allowed(
        session, username="ana", address="10.0.0.1", now=now + dt.timedelta(minutes=16)
    )


def test_tokens_are_shown_once_and_can_be_revoked(session: Session) -> None:
    ana = create_user(session, username="ana", password=PASSWORD)
    token = create_token(session, actor=ana, name="ci")
    assert token.startswith("hs_")
    found, stale = actor_for_token(session, token=token)
    assert found is not None and found.username == "ana" and stale
    record_token_use(session, token=token)
    assert actor_for_token(session, token=token)[1] is False
    assert actor_for_token(session, token=token + "x") == (None, False)
    from hindsight.services.accounts import list_tokens

    [info] = list_tokens(session, actor=ana)
    revoke_token(session, actor=ana, token_id=info.id)
    assert actor_for_token(session, token=token) == (None, False)


def test_the_first_admin_is_made_once(session: Session) -> None:
    password = ensure_first_admin(session)
    assert password and len(password) >= 12
    assert verify_login(session, username="admin", password=password).role is Role.ADMIN
    assert ensure_first_admin(session) is None


def test_restricted_incidents_are_invisible_to_outsiders(session: Session) -> None:
    people = _people(session)
    key = _restricted(session, people["owner"])
    add_member(session, key=key, actor=people["owner"], username="teammate")
    for name in ("owner", "teammate", "boss"):
        assert get_postmortem(session, key=key, actor=people[name]).postmortem.key == key
        assert list_postmortems(session, actor=people[name]).total == 1
    for name in ("outsider", "reader"):
        with pytest.raises(NotFoundError):
            get_postmortem(session, key=key, actor=people[name])
        assert list_postmortems(session, actor=people[name]).total == 0
        with pytest.raises(NotFoundError):
            list_revisions(session, key=key, actor=people[name])


def test_viewers_cannot_edit(session: Session) -> None:
    people = _people(session)
    from hindsight.services.incidents import create_postmortem

    create_postmortem(session, postmortem=make_postmortem(), author="owner", actor=people["owner"])
    with pytest.raises(PermissionDeniedError, match="viewers"):
        update_postmortem(
            session,
            key="2024-03-05-checkout-errors",
            author="reader",
            change=lambda pm: set_field(pm, "title", "x"),
            actor=people["reader"],
        )


def test_review_request_approve_publish_and_reopen(session: Session) -> None:
    people = _people(session)
    from hindsight.services.incidents import create_postmortem

    key = create_postmortem(
        session, postmortem=make_postmortem(), author="owner", actor=people["owner"]
    ).postmortem.key
    with pytest.raises(HindsightError, match="approved"):
        publish(session, key=key, actor=people["owner"])
    stored = request_review(session, key=key, actor=people["owner"], reviewers=["teammate", "boss"])
    assert stored.postmortem.review_status == "in_review"
    with pytest.raises(PermissionDeniedError, match="requested reviewer"):
        decide(session, key=key, actor=people["outsider"], approve=True)
    with pytest.raises(HindsightError, match="say what needs to change"):
        decide(session, key=key, actor=people["teammate"], approve=False)
    decide(session, key=key, actor=people["teammate"], approve=False, note="Quantify impact")
    assert (
        decide(session, key=key, actor=people["boss"], approve=True).postmortem.review_status
        == "in_review"
    )
    stored = decide(session, key=key, actor=people["teammate"], approve=True)
    assert stored.postmortem.review_status == "approved"
    assert {r.decision for r in list_reviewers(session, key=key)} == {"approved"}
    assert publish(session, key=key, actor=people["owner"]).postmortem.review_status == "published"

    with pytest.raises(PermissionDeniedError, match="published and read-only"):
        update_postmortem(
            session,
            key=key,
            author="owner",
            actor=people["owner"],
            change=lambda pm: set_field(pm, "title", "Changed"),
        )
    done = update_postmortem(
        session,
        key=key,
        author="owner",
        actor=people["owner"],
        change=lambda pm: set_field(pm, "action_items.0.status", "done"),
    )
    assert done.postmortem.action_items[0].status == "done"
    with pytest.raises(HindsightError, match="say why"):
        reopen(session, key=key, actor=people["owner"], reason=" ")
    reopened = reopen(session, key=key, actor=people["owner"], reason="New evidence")
    assert reopened.postmortem.review_status == "draft"
    history = list_revisions(session, key=key)
    assert [r.action for r in history] == [
        "create",
        "request_review",
        "request_changes",
        "approve",
        "approve",
        "publish",
        "update",
        "reopen",
    ]
    assert history[-1].note == "New evidence" and history[-1].author == "owner"
    assert [(c.field, c.old, c.new) for c in history[-1].changes] == [
        ("review_status", "published", "draft"),
        ("reviewers.boss", "approved", "requested"),
        ("reviewers.teammate", "approved", "requested"),
    ]


def test_comments_belong_to_a_section(session: Session) -> None:
    people = _people(session)
    from hindsight.services.incidents import create_postmortem

    key = create_postmortem(
        session, postmortem=make_postmortem(), author="owner", actor=people["owner"]
    ).postmortem.key
    add_comment(session, key=key, actor=people["reader"], section="impact", body="How many?")
    with pytest.raises(HindsightError, match="not one of"):
        add_comment(session, key=key, actor=people["reader"], section="nope", body="x")
    [comment] = list_comments(session, key=key)
    assert (comment.section, comment.author, comment.body) == ("impact", "reader", "How many?")
