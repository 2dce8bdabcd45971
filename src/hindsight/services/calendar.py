"""A person's iCalendar feed of the due dates of the action items they own, behind a secret
URL that can be rotated (calendar apps cannot sign in, so the URL is the key)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from icalendar import Calendar, Event
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor
from hindsight.errors import NotFoundError
from hindsight.services.accounts import get_actor
from hindsight.services.reminders import OPEN, visible_to
from hindsight.storage.models import ActionItemRow, CalendarFeedRow, IncidentRow, UserRow


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def rotate_feed(session: Session, *, actor: Actor, now: dt.datetime) -> str:
    """A new secret for `actor`'s feed (the old URL stops working); shown once."""
    secret = secrets.token_urlsafe(32)
    session.execute(delete(CalendarFeedRow).where(CalendarFeedRow.user_id == actor.id))
    session.add(CalendarFeedRow(user_id=actor.id, secret_hash=_hash(secret), created_at=now))
    session.flush()
    return secret


def revoke_feed(session: Session, *, actor: Actor) -> None:
    """Turn `actor`'s feed off: its URL stops working."""
    session.execute(delete(CalendarFeedRow).where(CalendarFeedRow.user_id == actor.id))


def feed_created(session: Session, *, actor: Actor) -> dt.datetime | None:
    """When `actor`'s current feed URL was made, or None if there is none."""
    return session.scalar(
        select(CalendarFeedRow.created_at).where(CalendarFeedRow.user_id == actor.id)
    )


def _owner_of(session: Session, secret: str) -> Actor:
    user_id = session.scalar(
        select(CalendarFeedRow.user_id).where(CalendarFeedRow.secret_hash == _hash(secret))
    )
    actor = get_actor(session, user_id=user_id) if user_id is not None else None
    if actor is None:
        raise NotFoundError("no calendar at this address (it may have been rotated)")
    return actor


def render_feed(session: Session, *, secret: str, base_url: str, now: dt.datetime) -> bytes:
    """The feed behind `secret`: an all-day event on the due date of each open action item the
    feed's owner owns (matched by username or display name) in incidents they may see."""
    actor = _owner_of(session, secret)
    row = session.get(UserRow, actor.id)
    assert row is not None
    names = sorted({row.username.lower(), (row.display_name or "").lower()} - {""})
    query = (
        select(ActionItemRow, IncidentRow.key, IncidentRow.title)
        .join(IncidentRow, ActionItemRow.incident_id == IncidentRow.id)
        .where(
            func.lower(ActionItemRow.owner).in_(names),
            ActionItemRow.status.in_(OPEN),
            ActionItemRow.due.is_not(None),
        )
        .order_by(ActionItemRow.due, ActionItemRow.id)
    )
    calendar = Calendar()
    calendar.add("prodid", "-//Hindsight//Action items//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Hindsight: action items of {actor.display_name}")
    for item, key, title in session.execute(visible_to(query, actor)).all():
        assert item.due is not None
        url = f"{base_url.rstrip('/')}/incidents/{key}#{item.item_id}"
        event = Event()
        event.add("uid", f"{key}.{item.item_id}@hindsight")
        event.add("dtstamp", now)
        event.add("dtstart", item.due)
        event.add("dtend", item.due + dt.timedelta(days=1))
        event.add("summary", f"Due: {item.title}")
        event.add(
            "description", f"{title} ({key})\nPriority {item.priority} · {item.status}\n{url}"
        )
        event.add("url", url)
        calendar.add_component(event)
    return bytes(calendar.to_ical())
