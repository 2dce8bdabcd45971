"""Accounts, tokens, login limits, access to restricted incidents and the review workflow."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor, Role
from hindsight.domain.editing import set_field
from hindsight.errors import ConflictError, HindsightError, NotFoundError, PermissionDeniedError
from hindsight.services.accounts import (
    AuthenticationError,
    actor_for_session,
    actor_for_token,
    change_disabled,
    change_role,
    create_token,
    create_user,
    ensure_first_admin,
    get_account,
    list_accounts,
    list_users,
    record_token_use,
    revoke_token,
    set_disabled,
    set_password,
    set_role,
    verify_login,
)
from hindsight.services.incidents import (
    get_postmortem,
    list_postmortems,
    list_revisions,
    update_postmortem,
    utc_now,
)
from hindsight.services.logins import (
    ADDRESS_LIMIT,
    RateLimitedError,
    check_login_allowed,
    device_token,
    record_login_failure,
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
from hindsight.services.sessions import SessionLimits, start_session, touch_session
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
    with pytest.raises(HindsightError, match="at least 12"):
        create_user(session, username="bo", password="short")
    set_disabled(session, username="ana")
    with pytest.raises(AuthenticationError):
        verify_login(session, username="ana", password=PASSWORD)


NOON = dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.UTC)


def _fail(session: Session, username: str, address: str, at: dt.datetime) -> None:
    check_login_allowed(session, username=username, address=address, now=at)
    record_login_failure(session, username=username, address=address, now=at)


def test_five_wrong_passwords_delay_the_account_with_backoff_and_never_lock_it(
    session: Session,
) -> None:
    """Issue 10, finding 9: a growing delay after each failure, not a 15-minute lockout."""
    for n in range(5):
        _fail(session, "ana", "10.0.0.1", NOON + dt.timedelta(minutes=n))
    last = NOON + dt.timedelta(minutes=4)
    with pytest.raises(RateLimitedError, match="wait 4 seconds") as caught:
        check_login_allowed(session, username="ana", address="10.0.0.9", now=last)
    assert caught.value.retry_after == 4
    later = last + dt.timedelta(seconds=5)
    check_login_allowed(session, username="ana", address="10.0.0.9", now=later)
    # Each further failure doubles the wait, up to a minute.
    for n in range(6):
        _fail(session, "ana", "10.0.0.1", last + dt.timedelta(seconds=65 * (n + 1)))
    with pytest.raises(RateLimitedError) as caught:
        check_login_allowed(
            session, username="ana", address="10.0.0.9", now=last + dt.timedelta(seconds=390)
        )
    assert caught.value.retry_after == 60


def test_guessing_from_another_address_never_delays_a_browser_that_signed_in_before(
    session: Session,
) -> None:
    """Issue 10, finding 9: the attacker's failures do not lock the real user out."""
    ana = create_user(session, username="ana", password=PASSWORD)
    for n in range(8):
        at = NOON + dt.timedelta(seconds=n)
        record_login_failure(session, username="ana", address="203.0.113.7", now=at)
    now = NOON + dt.timedelta(seconds=8)
    with pytest.raises(RateLimitedError):
        check_login_allowed(session, username="ana", address="10.0.0.1", now=now)
    device = device_token(session, user_id=ana.id)
    check_login_allowed(session, username="ana", address="10.0.0.1", device=device, now=now)
    with pytest.raises(RateLimitedError):  # a forged or foreign device cookie is not trusted
        check_login_allowed(
            session, username="ana", address="10.0.0.1", device=device + "0", now=now
        )


def test_one_address_guessing_many_accounts_is_stopped(session: Session) -> None:
    """Issue 10, finding 9: a per-address limit across account names."""
    for n in range(20):
        _fail(session, f"user{n}", "203.0.113.7", NOON + dt.timedelta(seconds=n))
    assert ADDRESS_LIMIT == 20
    with pytest.raises(RateLimitedError, match="from this address") as caught:
        check_login_allowed(
            session, username="someone", address="203.0.113.7", now=NOON + dt.timedelta(seconds=60)
        )
    assert 0 < caught.value.retry_after <= 15 * 60
    check_login_allowed(session, username="someone", address="10.0.0.1", now=NOON)
    check_login_allowed(
        session, username="someone", address="203.0.113.7", now=NOON + dt.timedelta(minutes=16)
    )


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        (" " * 12, "only spaces"),
        ("a" * 12, "one character repeated"),
        ("x" * 900_000, "at most 256"),
        ("short pw", "at least 12"),
        ("password1234", "commonly used"),
        ("QWERTY123456", "commonly used"),
        ("ana.example1", "the username"),
    ],
)
def test_the_password_policy_refuses_blank_repeated_huge_and_common_passwords(
    session: Session, password: str, reason: str
) -> None:
    """Issue 10, finding 18: ten spaces, 'aaaaaaaaaa' and a 900 KB password were accepted."""
    with pytest.raises(HindsightError, match=reason):
        create_user(session, username="ana.example1", password=password)
    create_user(session, username="bo", password="twelve chars ok")
    if "username" not in reason:
        with pytest.raises(HindsightError, match=reason):
            set_password(session, username="bo", password=password)


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


# -- sessions, roles and disabling (issue 10 findings 4 and 20, issue 9 finding 9) ------------

LIMITS = SessionLimits(idle=dt.timedelta(hours=12), lifetime=dt.timedelta(days=7))


def _signed_in(session: Session, actor: Actor) -> str:
    return start_session(session, user_id=actor.id, user_agent="Firefox", address="10.0.0.1")


def _who(session: Session, secret: str, now: dt.datetime | None = None) -> str | None:
    actor, _ = actor_for_session(session, secret=secret, limits=LIMITS, now=now)
    return actor.username if actor else None


def test_a_password_reset_a_role_change_and_disabling_end_every_session(
    session: Session,
) -> None:
    """Issue 10, finding 4: sessions used to outlive all three."""
    people = _people(session)
    owner, reader = people["owner"], people["reader"]
    first, second = _signed_in(session, owner), _signed_in(session, owner)
    bystander = _signed_in(session, reader)
    assert _who(session, first) == _who(session, second) == "owner"
    set_password(session, username="owner", password="a new long password")
    assert _who(session, first) is None and _who(session, second) is None
    assert _who(session, bystander) == "reader"
    third = _signed_in(session, owner)
    set_role(session, username="owner", role=Role.VIEWER)
    assert _who(session, third) is None
    fourth = _signed_in(session, owner)
    set_disabled(session, username="owner")
    assert _who(session, fourth) is None
    set_disabled(session, username="owner", disabled=False)
    assert _who(session, fourth) is None


def test_a_session_ends_after_its_idle_timeout_and_its_lifetime(session: Session) -> None:
    ana = create_user(session, username="ana", password=PASSWORD)
    start = utc_now()
    secret = start_session(session, user_id=ana.id, user_agent="", address="", now=start)
    assert _who(session, secret, start + dt.timedelta(hours=11)) == "ana"
    assert _who(session, secret, start + dt.timedelta(hours=13)) is None
    # Used every few hours it stays alive, but not past its lifetime.
    for hours in range(0, 7 * 24, 6):
        touch_session(session, secret=secret, now=start + dt.timedelta(hours=hours))
        assert _who(session, secret, start + dt.timedelta(hours=hours, minutes=1)) == "ana"
    assert _who(session, secret, start + dt.timedelta(days=7, minutes=1)) is None


def test_re_enabling_a_disabled_account_does_not_revive_its_api_tokens(session: Session) -> None:
    """Issue 10, finding 20."""
    ana = create_user(session, username="ana", password=PASSWORD)
    token = create_token(session, actor=ana, name="ci")
    set_disabled(session, username="ana")
    assert actor_for_token(session, token=token) == (None, False)
    set_disabled(session, username="ana", disabled=False)
    assert actor_for_token(session, token=token) == (None, False)
    assert verify_login(session, username="ana", password=PASSWORD).username == "ana"


def test_a_password_change_revokes_api_tokens_and_a_role_change_keeps_them(
    session: Session,
) -> None:
    ana = create_user(session, username="ana", password=PASSWORD)
    token = create_token(session, actor=ana, name="ci")
    set_role(session, username="ana", role=Role.VIEWER)
    found, _ = actor_for_token(session, token=token)
    assert found is not None and found.role is Role.VIEWER  # the new role, at once
    assert set_password(session, username="ana", password="a new long password") == 1
    assert actor_for_token(session, token=token) == (None, False)


def test_the_last_active_admin_cannot_be_demoted_or_disabled(session: Session) -> None:
    """Issue 9, finding 9: roles change without SQL, but never to zero admins."""
    create_user(session, username="root", password=PASSWORD, role=Role.ADMIN)
    with pytest.raises(ConflictError, match="last active admin"):
        set_role(session, username="root", role=Role.EDITOR)
    with pytest.raises(ConflictError, match="last active admin"):
        set_disabled(session, username="root")
    create_user(session, username="ana", password=PASSWORD)
    set_role(session, username="ana", role=Role.ADMIN)
    set_role(session, username="root", role=Role.EDITOR)
    assert {a.username: a.role for a, _ in list_users(session)} == {
        "ana": Role.ADMIN,
        "root": Role.EDITOR,
    }


def test_only_admins_list_and_change_accounts_and_never_their_own(session: Session) -> None:
    people = _people(session)
    boss = people["boss"]
    for persona in ("owner", "reader"):
        with pytest.raises(PermissionDeniedError):
            list_accounts(session, actor=people[persona])
        with pytest.raises(PermissionDeniedError):
            change_role(session, actor=people[persona], username=persona, role=Role.ADMIN)
    with pytest.raises(PermissionDeniedError, match="your own"):
        change_role(session, actor=boss, username="boss", role=Role.EDITOR)
    with pytest.raises(PermissionDeniedError, match="your own"):
        change_disabled(session, actor=boss, username="boss", disabled=True)
    _signed_in(session, people["owner"])
    create_token(session, actor=people["owner"], name="ci")
    page = list_accounts(session, actor=boss, limit=2, offset=1)
    assert page.total == 5 and [u.username for u in page.items] == ["outsider", "owner"]
    assert (page.items[1].sessions, page.items[1].tokens) == (1, 1)
    change_disabled(session, actor=boss, username="owner", disabled=True)
    owner = get_account(session, actor=boss, username="owner")
    assert owner.disabled and (owner.sessions, owner.tokens) == (0, 0)
    with pytest.raises(NotFoundError):
        get_account(session, actor=boss, username="nobody")


@pytest.mark.parametrize("wildcard", ["%", "_"])
def test_a_title_search_for_a_like_wildcard_matches_only_titles_holding_it(
    session: Session, wildcard: str
) -> None:
    """Issue 10, finding 20: `q=%` and `q=_` matched every incident."""
    from hindsight.services.incidents import IncidentFilter, create_postmortem

    people = _people(session)
    for key, title in [("plain", "Disk full"), ("odd", f"Quota at 100{wildcard} on db")]:
        create_postmortem(
            session,
            postmortem=make_postmortem(key=key, title=title),
            author="owner",
            actor=people["owner"],
        )
    found = list_postmortems(session, filters=IncidentFilter(text=wildcard), actor=people["boss"])
    assert [item.key for item in found.items] == ["odd"]
