"""Dismissing a lint finding with a reason, and taking the dismissal back. A dismissed finding
stops counting in the score and the publish gate; each dismissal and restoration is a
revision in the history, with the reason."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.analysis.findings import Dismissal
from hindsight.domain.access import Actor, can_edit
from hindsight.domain.incidents import Visibility
from hindsight.domain.text import clean_line
from hindsight.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from hindsight.services.incidents import utc_now, visible_to
from hindsight.storage.models import IncidentMemberRow, IncidentRow, LintDismissalRow, RevisionRow

_NAME = re.compile(r"[\w/.\[\]-]{1,300}")


def _check_names(rule: str, field: str) -> None:
    """Rules and fields are short names such as 'blameless/counterfactual' and
    'lessons[0].text'; anything else is refused before it reaches the database."""
    for what, value in (("rule", rule), ("field", field)):
        if not _NAME.fullmatch(value):
            raise InvalidInputError(
                f"{what} {value[:60]!r} is not a finding's {what}: use the {what} that "
                "`hindsight findings KEY` lists"
            )


def list_dismissals(session: Session, incident_id: int) -> list[Dismissal]:
    """The dismissals of one incident (its row id, checked visible by the caller)."""
    rows = session.scalars(
        select(LintDismissalRow)
        .where(LintDismissalRow.incident_id == incident_id)
        .order_by(LintDismissalRow.id)
    )
    return [Dismissal(r.rule, r.field, r.reason, r.author, r.at, r.fingerprint or "") for r in rows]


def _editable_row(session: Session, key: str, actor: Actor | None) -> IncidentRow:
    """The incident row, locked, if `actor` may see and edit it."""
    query = visible_to(select(IncidentRow).where(IncidentRow.key == key), actor, archived=None)
    row: IncidentRow | None = session.scalars(
        query.with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"no incident with key '{key}'")
    member = actor is not None and session.scalar(
        select(IncidentMemberRow.user_id).where(
            IncidentMemberRow.incident_id == row.id, IncidentMemberRow.user_id == actor.id
        )
    )
    if actor is not None and not can_edit(
        actor.role, is_member=bool(member), visibility=Visibility(row.visibility)
    ):
        raise PermissionDeniedError("only editors who may change this incident can dismiss")
    return row


def _record(session: Session, row: IncidentRow, author: str, action: str, note: str) -> None:
    now = utc_now()
    row.updated_at = now
    session.flush()  # bumps the version (optimistic concurrency column)
    session.add(
        RevisionRow(
            incident_id=row.id,
            version=row.version,
            author=author,
            at=now,
            action=action,
            note=note,
            changes=[],
        )
    )
    session.flush()


def dismiss_finding(
    session: Session,
    *,
    key: str,
    rule: str,
    field: str,
    reason: str,
    author: str,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> Dismissal:
    """Dismiss the finding `rule` at `field` of `key` with `reason` (required): it stops
    counting while its text stays as it is now (a changed text makes it count again); the
    history records who, when and why. The finding must be reported now; an older dismissal
    of the same rule and field whose text has since changed is replaced."""
    from hindsight.services.lint import lint_stored

    _check_names(rule, field)
    try:
        reason = clean_line(reason, "reason", required=True)
    except ValueError as error:
        raise InvalidInputError(f"{error}: say why this finding does not apply") from None
    row = _editable_row(session, key, actor)
    report = lint_stored(session, key=key, actor=actor)
    current = next((f for f in report.findings if f.rule == rule and f.field == field), None)
    if current is None:
        listed = any(f.rule == rule and f.field == field for f, _ in report.dismissed)
        raise InvalidInputError(
            f"'{rule}' at '{field}' is already dismissed"
            if listed
            else f"no finding '{rule}' at '{field}' in '{key}'; `hindsight findings {key}` "
            "lists the findings with their rule and field"
        )
    at = now or utc_now()
    stale = session.scalars(
        select(LintDismissalRow).where(
            LintDismissalRow.incident_id == row.id,
            LintDismissalRow.rule == rule,
            LintDismissalRow.field == field,
        )
    ).one_or_none()
    if stale is not None:
        session.delete(stale)
        session.flush()
    session.add(
        LintDismissalRow(
            incident_id=row.id,
            rule=rule,
            field=field,
            reason=reason,
            author=author,
            at=at,
            fingerprint=current.fingerprint,
        )
    )
    _record(session, row, author, "dismiss-finding", f"dismissed {rule} at {field}: {reason}")
    return Dismissal(rule, field, reason, author, at, current.fingerprint)


def restore_finding(
    session: Session, *, key: str, rule: str, field: str, author: str, actor: Actor | None = None
) -> None:
    """Take back the dismissal of `rule` at `field`: the finding counts again (recorded)."""
    _check_names(rule, field)
    row = _editable_row(session, key, actor)
    found = session.scalars(
        select(LintDismissalRow).where(
            LintDismissalRow.incident_id == row.id,
            LintDismissalRow.rule == rule,
            LintDismissalRow.field == field,
        )
    ).one_or_none()
    if found is None:
        raise NotFoundError(f"no dismissed finding '{rule}' at '{field}' in '{key}'")
    session.delete(found)
    _record(session, row, author, "restore-finding", f"restored {rule} at {field}")
