"""Link two incidents as a recurrence (stored both ways, in both histories), dismiss a
suggested recurrence (remembered), and what lint says about a recurrence."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hindsight.analysis.diff import FieldChange
from hindsight.analysis.lint import Finding
from hindsight.analysis.recurrence import Earlier, recurrence_findings
from hindsight.domain.access import Actor, Role
from hindsight.errors import InvalidInputError, PermissionDeniedError
from hindsight.services.incidents import (
    get_postmortem,
    update_postmortem,
    utc_now,
    visible_incident_id,
    visible_to,
)
from hindsight.storage.models import IncidentLinkRow, IncidentRow, RecurrenceDismissalRow


def _pair(session: Session, key: str, other_key: str, actor: Actor | None) -> tuple[int, int]:
    if actor is not None and actor.role is Role.VIEWER:
        raise PermissionDeniedError(
            "viewers cannot link incidents; ask an admin for the editor role"
        )
    if key == other_key:
        raise InvalidInputError(f"other: an incident cannot recur itself ('{key}')")
    return (
        visible_incident_id(session, key=key, actor=actor),
        visible_incident_id(session, key=other_key, actor=actor),
    )


def _note_in_history(
    session: Session,
    key: str,
    other_key: str,
    old: str | None,
    new: str | None,
    author: str,
    actor: Actor | None,
    now: dt.datetime,
) -> None:
    """A revision on `key` saying the link changed (the postmortem itself is unchanged)."""
    title = get_postmortem(session, key=other_key, actor=actor).postmortem.title
    update_postmortem(
        session,
        key=key,
        change=lambda pm: pm,
        author=author,
        action="recurrence",
        now=now,
        actor=actor,
        review_transition=True,  # a link is not an edit of the (possibly published) text
        extra_changes=[FieldChange(f"recurrence.{other_key}", old, new, title)],
    )


def link_recurrence(
    session: Session,
    *,
    key: str,
    other_key: str,
    author: str,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Record that `key` and `other_key` are the same incident happening again; both pages
    show it and both histories record it. Linking twice changes nothing."""
    now = now or utc_now()
    row_id, other_id = _pair(session, key, other_key, actor)
    exists = select(IncidentLinkRow.id).where(
        IncidentLinkRow.incident_id == row_id, IncidentLinkRow.other_id == other_id
    )
    if session.scalar(exists) is not None:
        return
    created = {
        id_: at
        for id_, at in session.execute(
            select(IncidentRow.id, IncidentRow.created_at).where(
                IncidentRow.id.in_([row_id, other_id])
            )
        )
    }
    other_first = (created[other_id], other_id) < (created[row_id], row_id)
    for a, b, earlier in ((row_id, other_id, other_first), (other_id, row_id, not other_first)):
        session.add(
            IncidentLinkRow(
                incident_id=a, other_id=b, earlier=earlier, created_by=author, created_at=now
            )
        )
    session.execute(
        delete(RecurrenceDismissalRow).where(
            RecurrenceDismissalRow.incident_id.in_([row_id, other_id]),
            RecurrenceDismissalRow.other_id.in_([row_id, other_id]),
        )
    )
    session.flush()
    _note_in_history(session, key, other_key, None, "linked", author, actor, now)
    _note_in_history(session, other_key, key, None, "linked", author, actor, now)


def unlink_recurrence(
    session: Session,
    *,
    key: str,
    other_key: str,
    author: str,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Remove the recurrence link between two incidents (both directions, both histories)."""
    now = now or utc_now()
    row_id, other_id = _pair(session, key, other_key, actor)
    removed = session.execute(
        delete(IncidentLinkRow).where(
            IncidentLinkRow.incident_id.in_([row_id, other_id]),
            IncidentLinkRow.other_id.in_([row_id, other_id]),
        )
    )
    if not getattr(removed, "rowcount", 0):
        raise InvalidInputError(f"other: '{key}' and '{other_key}' are not linked")
    _note_in_history(session, key, other_key, "linked", None, author, actor, now)
    _note_in_history(session, other_key, key, "linked", None, author, actor, now)


def dismiss_recurrence(
    session: Session,
    *,
    key: str,
    other_key: str,
    author: str,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Say `key` is not a recurrence of `other_key`: it is not suggested again."""
    now = now or utc_now()
    row_id, other_id = _pair(session, key, other_key, actor)
    exists = select(RecurrenceDismissalRow.id).where(
        RecurrenceDismissalRow.incident_id == row_id, RecurrenceDismissalRow.other_id == other_id
    )
    if session.scalar(exists) is None:
        session.add(
            RecurrenceDismissalRow(
                incident_id=row_id, other_id=other_id, dismissed_by=author, dismissed_at=now
            )
        )
        session.flush()


def recurrence_lint(session: Session, *, key: str, actor: Actor | None = None) -> list[Finding]:
    """Warnings for the earlier incidents `key` recurs whose prevent/detect items are not done."""
    row_id = visible_incident_id(session, key=key, actor=actor)
    query = (
        select(IncidentRow.key)
        .join(IncidentLinkRow, IncidentLinkRow.other_id == IncidentRow.id)
        .where(IncidentLinkRow.incident_id == row_id, IncidentLinkRow.earlier.is_(True))
    )
    earlier = []
    for other_key in session.scalars(visible_to(query, actor, archived=None)):
        pm = get_postmortem(session, key=other_key, actor=actor).postmortem
        earlier.append(Earlier(pm.key, pm.title, pm.action_items))
    return list(recurrence_findings(earlier))
