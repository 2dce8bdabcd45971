"""Finding who is owed a reminder or a digest now, and making each notification once.

- An action item's owner (an account whose username or display name is the owner's name,
  ignoring case) is reminded when the item is due within `remind_due_soon_days`, and when it
  is overdue: the day after its due date, then every 7 days while it stays open.
- A reviewer is reminded once per request while a review waits for their decision.
- Every Monday (the first scan of an ISO week) each person gets a digest of the week before:
  new postmortems, action items closed and action items overdue, grouped by team (the teams
  of the incident's participants).

Each reminder has a key (what it is about and which occasion); notifications are unique per
person and key in the database, so a scan can run any number of times, in any number of
processes at once, and each reminder is made once. Everything a person is told about is read
through `visible_to` as that person: restricted incidents reach only those who may see them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor, Role
from hindsight.domain.actions import ActionStatus
from hindsight.domain.incidents import ReviewStatus
from hindsight.domain.reviews import ReviewDecision
from hindsight.services.incidents import visible_to as _visible_to
from hindsight.services.notifications import notify_once
from hindsight.storage.models import (
    ActionItemRow,
    ChannelRow,
    IncidentRow,
    ParticipantRow,
    ReviewRow,
    RevisionRow,
    UserRow,
)

OPEN = (ActionStatus.OPEN.value, ActionStatus.IN_PROGRESS.value)


def visible_to(query: Any, actor: Actor) -> Any:
    """`services.incidents.visible_to` for selects of several columns."""
    return _visible_to(query, actor)


@dataclass(frozen=True)
class Recipient:
    """An account with at least one channel, and the names an action item's owner may use."""

    actor: Actor
    names: frozenset[str]


def recipients(session: Session) -> list[Recipient]:
    """Enabled accounts that chose a channel."""
    with_channel = select(ChannelRow.user_id)
    rows = session.scalars(
        select(UserRow).where(UserRow.disabled.is_(False), UserRow.id.in_(with_channel))
    )
    found = []
    for row in rows:
        actor = Actor(
            row.id, row.username, row.display_name or row.username, Role(row.role), row.timezone
        )
        names = {row.username.strip().lower(), (row.display_name or "").strip().lower()} - {""}
        found.append(Recipient(actor, frozenset(names)))
    return found


def _link(base_url: str, key: str, anchor: str = "") -> str:
    return f"{base_url.rstrip('/')}/incidents/{key}" + (f"#{anchor}" if anchor else "")


def _item_reminders(
    session: Session, who: Recipient, *, today: dt.date, soon_days: int, base_url: str
) -> list[tuple[str, str, str, str, dict[str, object]]]:
    """(key, kind, subject, body, payload) of every item reminder `who` is owed today."""
    query = (
        select(ActionItemRow, IncidentRow.key, IncidentRow.title)
        .join(IncidentRow, ActionItemRow.incident_id == IncidentRow.id)
        .where(
            func.lower(ActionItemRow.owner).in_(sorted(who.names)),
            ActionItemRow.status.in_(OPEN),
            ActionItemRow.due.is_not(None),
            ActionItemRow.due <= today + dt.timedelta(days=soon_days),
        )
        .order_by(ActionItemRow.due, ActionItemRow.id)
    )
    found = []
    for item, key, title in session.execute(visible_to(query, who.actor)).all():
        assert item.due is not None
        late = (today - item.due).days
        if late <= 0:
            kind, occasion = "action_due_soon", f"due-soon:{item.due}"
            when = "today" if late == 0 else f"on {item.due} (in {-late} day(s))"
            subject = f"Action item due {when}: {item.title}"
        else:
            kind, occasion = "action_overdue", f"overdue:{item.due}:{late // 7}"
            subject = f"Action item overdue by {late} day(s): {item.title}"
        url = _link(base_url, key, item.item_id)
        body = (
            f"{item.title}\nPostmortem: {title} ({key})\nDue: {item.due} · "
            f"priority {item.priority} · {item.status}\n{url}"
        )
        payload: dict[str, object] = {
            "incident": key,
            "item": item.item_id,
            "title": item.title,
            "due": item.due.isoformat(),
            "url": url,
        }
        found.append((f"action:{key}:{item.item_id}:{occasion}", kind, subject, body, payload))
    return found


def _review_reminders(
    session: Session, who: Recipient, *, base_url: str
) -> list[tuple[str, str, str, str, dict[str, object]]]:
    query = (
        select(ReviewRow.updated_at, IncidentRow.key, IncidentRow.title)
        .join(IncidentRow, ReviewRow.incident_id == IncidentRow.id)
        .where(
            ReviewRow.reviewer_id == who.actor.id,
            ReviewRow.decision == ReviewDecision.REQUESTED.value,
            IncidentRow.review_status == ReviewStatus.IN_REVIEW.value,
        )
    )
    found = []
    for asked, key, title in session.execute(visible_to(query, who.actor)).all():
        url = _link(base_url, key)
        subject = f"Review waiting for you: {title}"
        body = f"{title} ({key}) waits for your review since {asked:%Y-%m-%d %H:%M} UTC.\n{url}"
        payload: dict[str, object] = {"incident": key, "url": url}
        found.append(
            (f"review:{key}:{asked.isoformat()}", "review_waiting", subject, body, payload)
        )
    return found


def find_due_reminders(
    session: Session, *, now: dt.datetime, soon_days: int, base_url: str
) -> list[int]:
    """Make every reminder owed at `now` that was not made before; the new deliveries' ids."""
    today = now.astimezone(dt.UTC).date()
    deliveries: list[int] = []
    for who in recipients(session):
        owed = _item_reminders(session, who, today=today, soon_days=soon_days, base_url=base_url)
        owed += _review_reminders(session, who, base_url=base_url)
        for key, kind, subject, body, payload in owed:
            deliveries += notify_once(
                session,
                user_id=who.actor.id,
                key=key,
                kind=kind,
                subject=subject,
                body=body,
                payload=payload,
                now=now,
            )
    return deliveries


def week_of(now: dt.datetime) -> str:
    """The ISO week of `now` (UTC), e.g. 2026-W49: the period of the weekly digest."""
    year, week, _ = now.astimezone(dt.UTC).isocalendar()
    return f"{year}-W{week:02d}"


def _teams(session: Session, incident_ids: list[int]) -> dict[int, str]:
    teams: dict[int, set[str]] = defaultdict(set)
    rows = session.execute(
        select(ParticipantRow.incident_id, ParticipantRow.team).where(
            ParticipantRow.incident_id.in_(incident_ids), ParticipantRow.team != ""
        )
    )
    for incident_id, team in rows:
        teams[incident_id].add(team)
    return {i: ", ".join(sorted(names)) for i, names in teams.items()}


def _closed_in(session: Session, actor: Actor, start: dt.datetime, end: dt.datetime) -> list[str]:
    """Labels of the action items marked done by revisions in [start, end) that `actor` sees."""
    query = (
        select(RevisionRow.changes, IncidentRow.key)
        .join(IncidentRow, RevisionRow.incident_id == IncidentRow.id)
        .where(RevisionRow.at >= start, RevisionRow.at < end)
    )
    closed = []
    for changes, key in session.execute(visible_to(query, actor)).all():
        for change in changes:
            field = str(change.get("field", ""))
            is_status = field.startswith("action_items.") and field.endswith(".status")
            if is_status and change.get("new") == ActionStatus.DONE.value:
                closed.append(f"{change.get('label') or field} ({key})")
    return closed


def digest_for(
    session: Session, who: Recipient, *, now: dt.datetime
) -> tuple[str, str, dict[str, Any]]:
    """The weekly digest's subject, body and payload for `who`: the 7 days before `now`."""
    end = now.astimezone(dt.UTC)
    start = end - dt.timedelta(days=7)
    new = session.execute(
        visible_to(
            select(IncidentRow.id, IncidentRow.key, IncidentRow.title, IncidentRow.severity).where(
                IncidentRow.created_at >= start, IncidentRow.created_at < end
            ),
            who.actor,
        ).order_by(IncidentRow.created_at)
    ).all()
    teams = _teams(session, [row.id for row in new])
    overdue = session.execute(
        visible_to(
            select(ActionItemRow.title, ActionItemRow.owner, ActionItemRow.due, IncidentRow.key)
            .join(IncidentRow, ActionItemRow.incident_id == IncidentRow.id)
            .where(ActionItemRow.status.in_(OPEN), ActionItemRow.due < end.date()),
            who.actor,
        ).order_by(ActionItemRow.due)
    ).all()
    closed = _closed_in(session, who.actor, start, end)
    lines = [f"The week to {end:%Y-%m-%d}:", "", f"New postmortems ({len(new)}):"]
    by_team: dict[str, list[str]] = defaultdict(list)
    for row in new:
        by_team[teams.get(row.id, "no team")].append(f"  - {row.severity} {row.title} ({row.key})")
    for team in sorted(by_team):
        lines += [f" {team}:", *by_team[team]]
    lines += ["", f"Action items closed ({len(closed)}):", *[f"  - {c}" for c in closed]]
    lines += ["", f"Action items overdue ({len(overdue)}):"]
    lines += [f"  - {r.title} — {r.owner or 'no owner'}, due {r.due} ({r.key})" for r in overdue]
    subject = (
        f"Hindsight weekly digest: {len(new)} new, {len(closed)} closed, {len(overdue)} overdue"
    )
    payload = {
        "week": week_of(now),
        "new": [row.key for row in new],
        "closed": closed,
        "overdue": [f"{r.key}: {r.title}" for r in overdue],
    }
    return subject, "\n".join(lines), payload


def send_weekly_digests(session: Session, *, now: dt.datetime) -> list[int]:
    """Make this week's digest for every person with a channel (once each); new deliveries."""
    deliveries: list[int] = []
    for who in recipients(session):
        subject, body, payload = digest_for(session, who, now=now)
        deliveries += notify_once(
            session,
            user_id=who.actor.id,
            key=f"digest:{week_of(now)}",
            kind="weekly_digest",
            subject=subject,
            body=body,
            payload=payload,
            now=now,
        )
    return deliveries
