"""The review workflow, membership of restricted incidents, and comments on sections."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.analysis.diff import FieldChange
from hindsight.domain.access import Actor, Role
from hindsight.domain.incidents import Postmortem, ReviewStatus
from hindsight.domain.reviews import ReviewAction, ReviewDecision, ReviewError, status_after
from hindsight.domain.text import clean_line, clean_prose
from hindsight.errors import HindsightError, InvalidInputError, PermissionDeniedError
from hindsight.services.incidents import (
    StoredPostmortem,
    get_postmortem,
    update_postmortem,
    utc_now,
    visible_incident_id,
)
from hindsight.services.lint import lint_stored
from hindsight.storage.models import (
    CommentRow,
    IncidentMemberRow,
    IncidentRow,
    ReviewRow,
    RevisionRow,
    UserRow,
)
from hindsight.storage.search_index import reindex_incidents
from hindsight.storage.visibility import where_visible

MAX_COMMENT_CHARS = 20_000
SECTIONS = ("overview", "timeline", "analysis", "impact", "response", "lessons", "actions")


@dataclass(frozen=True)
class ReviewerState:
    """A requested reviewer and their decision."""

    username: str
    display_name: str
    decision: ReviewDecision
    note: str
    updated_at: dt.datetime


def _users(session: Session, usernames: Sequence[str], what: str) -> list[UserRow]:
    rows = []
    for name in usernames:
        row = session.scalars(select(UserRow).where(UserRow.username == name)).one_or_none()
        if row is None or row.disabled:
            raise HindsightError(f"{what}: no active account named '{name}'")
        rows.append(row)
    return rows


def _author(session: Session, incident_id: int) -> str | None:
    """Who wrote the postmortem: the author of its first revision."""
    query = select(RevisionRow.author).where(RevisionRow.incident_id == incident_id)
    return session.scalar(query.order_by(RevisionRow.version).limit(1))


def _check_reviewer(session: Session, incident_id: int, user: UserRow, author: str | None) -> None:
    """A reviewer must be able to decide: an editor or admin who can see the incident, and not
    the person who wrote it (a review is someone else's eyes)."""
    if user.username == author:
        raise HindsightError(
            f"reviewers: '{user.username}' wrote this postmortem; ask someone else to review it"
        )
    if Role(user.role) is Role.VIEWER:
        raise HindsightError(
            f"reviewers: '{user.username}' is a viewer and cannot approve; choose an editor"
        )
    reviewer = Actor(user.id, user.username, user.display_name, Role(user.role))
    query = where_visible(select(IncidentRow.id).where(IncidentRow.id == incident_id), reviewer)
    if session.scalar(query) is None:
        raise HindsightError(
            f"reviewers: '{user.username}' cannot see this restricted incident; "
            "add them as a member first"
        )


def list_reviewers(
    session: Session, *, key: str, actor: Actor | None = None
) -> list[ReviewerState]:
    """The requested reviewers of a postmortem and where each stands."""
    incident = visible_incident_id(session, key=key, actor=actor)
    query = (
        select(ReviewRow, UserRow)
        .join(UserRow, UserRow.id == ReviewRow.reviewer_id)
        .where(ReviewRow.incident_id == incident)
        .order_by(UserRow.username)
    )
    return [
        ReviewerState(
            user.username,
            user.display_name or user.username,
            ReviewDecision(review.decision),
            review.note,
            review.updated_at,
        )
        for review, user in session.execute(query)
    ]


def _decisions(session: Session, incident_id: int) -> dict[int, ReviewRow]:
    rows = session.scalars(select(ReviewRow).where(ReviewRow.incident_id == incident_id))
    return {row.reviewer_id: row for row in rows}


def _transition(
    session: Session,
    *,
    key: str,
    actor: Actor,
    action: ReviewAction,
    decisions: dict[int, ReviewRow],
    note: str = "",
    decided: Sequence[FieldChange] = (),
) -> StoredPostmortem:
    current = get_postmortem(session, key=key, actor=actor)
    try:
        status = status_after(
            action,
            current.postmortem.review_status,
            {str(uid): ReviewDecision(row.decision) for uid, row in decisions.items()},
        )
    except ReviewError as error:
        raise HindsightError(str(error)) from None

    def change(postmortem: Postmortem) -> Postmortem:
        return dataclasses.replace(postmortem, review_status=status)

    return update_postmortem(
        session,
        key=key,
        change=change,
        author=actor.username,
        action=action.value,
        actor=actor,
        review_transition=True,
        expected_version=current.version,
        note=note,
        extra_changes=decided,
    )


def request_review(
    session: Session,
    *,
    key: str,
    actor: Actor,
    reviewers: Sequence[str],
    now: dt.datetime | None = None,
) -> StoredPostmortem:
    """Ask people to review; each starts as 'requested' (asking again resets their decision).
    Reviewers are editors or admins who can see the incident, neither the author nor the
    person asking."""
    now = now or utc_now()
    incident = visible_incident_id(session, key=key, actor=actor)
    decisions = _decisions(session, incident)
    decided = []
    author = _author(session, incident)
    for user in _users(session, reviewers, "reviewers"):
        if user.id == actor.id:
            raise HindsightError("reviewers: ask someone else; you cannot review your own request")
        _check_reviewer(session, incident, user, author)
        row = decisions.get(user.id) or ReviewRow(incident_id=incident, reviewer_id=user.id)
        old = row.decision if row.decision else None
        decided.append(FieldChange(f"reviewers.{user.username}", old, ReviewDecision.REQUESTED))
        row.decision, row.note, row.updated_at = ReviewDecision.REQUESTED, "", now
        decisions[user.id] = row
        session.add(row)
    session.flush()
    return _transition(
        session,
        key=key,
        actor=actor,
        action=ReviewAction.REQUEST_REVIEW,
        decisions=decisions,
        decided=decided,
    )


def decide(
    session: Session,
    *,
    key: str,
    actor: Actor,
    approve: bool,
    note: str = "",
    now: dt.datetime | None = None,
) -> StoredPostmortem:
    """A requested reviewer approves or asks for changes (with a note saying what); the author
    cannot approve their own postmortem."""
    # Visibility first: a restricted incident the actor cannot see answers exactly as a
    # missing one does (404), never "you are not a reviewer" (403).
    incident = visible_incident_id(session, key=key, actor=actor)
    decisions = _decisions(session, incident)
    row = decisions.get(actor.id)
    if row is None:
        raise PermissionDeniedError("only a requested reviewer can approve or request changes")
    if approve and actor.username == _author(session, incident):
        raise PermissionDeniedError("you wrote this postmortem; someone else must approve it")
    note = clean_line(note, "note")
    if not approve and not note:
        raise HindsightError("note: say what needs to change")
    old = row.decision
    row.decision = ReviewDecision.APPROVED if approve else ReviewDecision.CHANGES_REQUESTED
    decided = [FieldChange(f"reviewers.{actor.username}", old, row.decision.value)]
    row.note, row.updated_at = note, now or utc_now()
    session.flush()
    action = ReviewAction.APPROVE if approve else ReviewAction.REQUEST_CHANGES
    return _transition(
        session,
        key=key,
        actor=actor,
        action=action,
        decisions=decisions,
        note=note,
        decided=decided,
    )


def publish(session: Session, *, key: str, actor: Actor, override: str = "") -> StoredPostmortem:
    """Publish an approved postmortem; it becomes read-only except action-item status.

    The lint gate: with error-level lint findings, publishing needs an `override` reason,
    which the history records with the number of findings overridden.
    """
    incident = visible_incident_id(session, key=key, actor=actor)
    errors = lint_stored(session, key=key, actor=actor).errors
    note = ""
    if errors:
        reason = " ".join(override.split())
        if not reason:
            raise InvalidInputError(
                f"{len(errors)} error-level lint finding{'s' if len(errors) != 1 else ''} "
                f"(first: {errors[0].message}); fix them, or publish with an override reason, "
                "which the history records"
            )
        note = f"published over {len(errors)} lint error{'s' if len(errors) != 1 else ''}: {reason}"
    return _transition(
        session,
        key=key,
        actor=actor,
        action=ReviewAction.PUBLISH,
        decisions=_decisions(session, incident),
        note=note,
    )


def reopen(session: Session, *, key: str, actor: Actor, reason: str) -> StoredPostmortem:
    """Reopen a published postmortem for editing; the reason goes into the history. Every
    approval is withdrawn (back to 'requested'): what gets published next must be reviewed
    again."""
    try:
        reason = clean_line(reason, "reason", required=True)
    except ValueError as error:
        raise HindsightError(f"{error}: say why it is reopened") from None
    incident = visible_incident_id(session, key=key, actor=actor)
    decisions = _decisions(session, incident)
    status = session.scalar(select(IncidentRow.review_status).where(IncidentRow.id == incident))
    if status != ReviewStatus.PUBLISHED:
        raise HindsightError("only a published postmortem can be reopened")
    query = select(UserRow.id, UserRow.username).where(UserRow.id.in_(list(decisions)))
    names: dict[int, str] = {user_id: name for user_id, name in session.execute(query)}
    withdrawn = []
    for user_id, row in sorted(decisions.items(), key=lambda item: names.get(item[0], "")):
        if row.decision != ReviewDecision.REQUESTED:
            withdrawn.append(
                FieldChange(f"reviewers.{names[user_id]}", row.decision, ReviewDecision.REQUESTED)
            )
            row.decision, row.note, row.updated_at = ReviewDecision.REQUESTED, "", utc_now()
    session.flush()
    return _transition(
        session,
        key=key,
        actor=actor,
        action=ReviewAction.REOPEN,
        decisions=decisions,
        note=reason,
        decided=withdrawn,
    )


def add_member(session: Session, *, key: str, actor: Actor, username: str) -> None:
    """Give an account access to a (restricted) incident."""
    incident = visible_incident_id(session, key=key, actor=actor)
    if actor.role is Role.VIEWER:
        raise PermissionDeniedError("viewers cannot add members")
    [user] = _users(session, [username], "members")
    exists = session.scalar(
        select(IncidentMemberRow.id).where(
            IncidentMemberRow.incident_id == incident, IncidentMemberRow.user_id == user.id
        )
    )
    if exists is None:
        session.add(IncidentMemberRow(incident_id=incident, user_id=user.id))
        session.flush()


def list_members(session: Session, *, key: str, actor: Actor | None = None) -> list[str]:
    """Usernames of the incident's members."""
    incident = visible_incident_id(session, key=key, actor=actor)
    query = (
        select(UserRow.username)
        .join(IncidentMemberRow, IncidentMemberRow.user_id == UserRow.id)
        .where(IncidentMemberRow.incident_id == incident)
        .order_by(UserRow.username)
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class Comment:
    """A comment on one section of a postmortem."""

    id: int
    section: str
    author: str
    body: str
    created_at: dt.datetime


def add_comment(
    session: Session,
    *,
    key: str,
    actor: Actor,
    section: str,
    body: str,
    now: dt.datetime | None = None,
) -> Comment:
    """Comment on a section; anyone who can see the postmortem may comment."""
    incident = visible_incident_id(session, key=key, actor=actor)
    if section not in SECTIONS:
        raise HindsightError(f"section: '{section}' is not one of {', '.join(SECTIONS)}")
    if len(body) > MAX_COMMENT_CHARS:
        raise HindsightError(
            f"comment: at most {MAX_COMMENT_CHARS:,} characters (this one has {len(body):,}); "
            "shorten it, or split it into several comments"
        )
    try:
        body = clean_prose(body, "comment")
    except ValueError as error:
        raise HindsightError(str(error)) from None
    if not body:
        raise HindsightError("comment: write something first")
    row = CommentRow(
        incident_id=incident,
        section=section,
        author_id=actor.id,
        body=body,
        created_at=now or utc_now(),
    )
    session.add(row)
    session.flush()
    reindex_incidents(session.connection(), [incident])  # comments are searched too
    return Comment(row.id, section, actor.username, body, row.created_at)


def list_comments(session: Session, *, key: str, actor: Actor | None = None) -> list[Comment]:
    """Every comment on the postmortem, oldest first."""
    incident = visible_incident_id(session, key=key, actor=actor)
    query = (
        select(CommentRow, UserRow.username)
        .join(UserRow, UserRow.id == CommentRow.author_id)
        .where(CommentRow.incident_id == incident)
        .order_by(CommentRow.created_at, CommentRow.id)
    )
    return [
        Comment(c.id, c.section, name, c.body, c.created_at) for c, name in session.execute(query)
    ]


def is_published(stored: StoredPostmortem) -> bool:
    """True when the postmortem is published (and so read-only but for action items)."""
    return stored.postmortem.review_status is ReviewStatus.PUBLISHED
