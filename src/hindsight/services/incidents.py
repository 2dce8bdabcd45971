"""Create, read, list, change and import postmortems, with a revision for every change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, load_only, selectinload

from hindsight.analysis.diff import FieldChange, diff_postmortems
from hindsight.domain.access import Actor, Role, is_allowed_after_publication
from hindsight.domain.codec import InvalidPostmortemError, Problem
from hindsight.domain.incidents import IncidentStatus, Postmortem, ReviewStatus, Severity
from hindsight.domain.text import slugify
from hindsight.errors import (
    ConflictError,
    HindsightError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from hindsight.services.merging import rebase
from hindsight.services.profiles import refresh_profile
from hindsight.storage.db import reads_only
from hindsight.storage.insight_facts import refresh_insight_facts
from hindsight.storage.models import (
    FactorCategoryRow,
    IncidentMemberRow,
    IncidentRow,
    RevisionRow,
    ServiceRow,
    TagRow,
)
from hindsight.storage.repository import postmortem_from_row, write_postmortem
from hindsight.storage.search_index import reindex_incidents
from hindsight.storage.visibility import (
    count_statement,
    count_visible,
    linked_to_visible,
    member_of,
    sees_everything,
    where_visible,
)


def utc_now() -> dt.datetime:
    """The current time; services take it from here so tests can pass their own."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class StoredPostmortem:
    """A postmortem as stored: the value plus its version and timestamps."""

    postmortem: Postmortem
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    archived_at: dt.datetime | None = None
    archived_by: str = ""


@dataclass(frozen=True)
class IncidentSummary:
    """One line of the incident list."""

    key: str
    title: str
    severity: str
    status: str
    review_status: str
    visibility: str
    services: tuple[str, ...]
    tags: tuple[str, ...]
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int


@dataclass(frozen=True)
class IncidentPage:
    """A page of the incident list and the total number that matched."""

    items: list[IncidentSummary]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class Revision:
    """One entry of a postmortem's history."""

    version: int
    author: str
    at: dt.datetime
    action: str
    changes: list[FieldChange]
    note: str = ""


_ALL_PARTS = tuple(
    selectinload(part)
    for part in (
        IncidentRow.services,
        IncidentRow.tags,
        IncidentRow.participants,
        IncidentRow.timeline,
        IncidentRow.action_items,
    )
)


def load_all_parts() -> tuple[Any, ...]:
    """Loader options that read every part of an incident with its row."""
    return _ALL_PARTS


_SUMMARY_COLUMNS = (
    IncidentRow.key,
    IncidentRow.title,
    IncidentRow.severity,
    IncidentRow.status,
    IncidentRow.review_status,
    IncidentRow.visibility,
    IncidentRow.created_at,
    IncidentRow.updated_at,
    IncidentRow.version,
)


def _stored(row: IncidentRow) -> StoredPostmortem:
    return StoredPostmortem(
        postmortem_from_row(row),
        row.version,
        row.created_at,
        row.updated_at,
        row.archived_at,
        row.archived_by or "",
    )


def _count_visible(
    session: Session, filters: IncidentFilter, actor: Actor | None, archived: bool
) -> int:
    """How many incidents match and are visible (storage/visibility.py's cheap count); the few
    archived ones are counted directly."""
    count = _filtered(count_statement(), filters, actor)
    if archived:
        return session.scalar(visible_to(count, actor, archived=True)) or 0
    return count_visible(session, count.where(IncidentRow.archived_at.is_(None)), actor)


def visible_to(
    query: Select[Any], actor: Actor | None, *, archived: bool | None = False
) -> Select[Any]:
    """Narrow an incident query to what `actor` may see (None: the local operator, sees all).

    Every list, count and search goes through here, so archived incidents stay out of them
    by default. `archived=True` keeps only archived incidents; `None` (opening one by its key)
    keeps both. Archived incidents are visible to admins and the incident's members only.
    """
    if archived is False:
        query = query.where(IncidentRow.archived_at.is_(None))
    elif archived is True:
        query = query.where(IncidentRow.archived_at.is_not(None))
    # The rule for restricted incidents is storage/visibility.py's, the one every read uses.
    query = where_visible(query, actor)
    if archived is not False and not sees_everything(actor):
        assert actor is not None
        query = query.where(
            IncidentRow.archived_at.is_(None) | IncidentRow.id.in_(member_of(actor))
        )
    return query


def _find_row(
    session: Session, key: str, *, for_update: bool = False, actor: Actor | None = None
) -> IncidentRow:
    query = visible_to(select(IncidentRow).where(IncidentRow.key == key), actor, archived=None)
    query = query.options(*_ALL_PARTS)
    if for_update:
        # PostgreSQL: a second writer waits here until the first commits, then sees its version.
        # SQLite: BEGIN IMMEDIATE has already serialised writers.
        query = query.with_for_update().execution_options(populate_existing=True)
    row: IncidentRow | None = session.scalars(query).one_or_none()
    if row is None:
        raise NotFoundError(f"no incident with key '{key}'")
    return row


def check_categories(session: Session, postmortem: Postmortem) -> None:
    """Refuse contributing factors whose category is not in the team's taxonomy."""
    known = set(session.scalars(select(FactorCategoryRow.name)))
    problems = [
        Problem(
            ("analysis", "contributing_factors", index, "category"),
            f"'{factor.category}' is not in the taxonomy ({', '.join(sorted(known))}); "
            "add it with `hindsight taxonomy add NAME`",
        )
        for index, factor in enumerate(postmortem.analysis.contributing_factors)
        if factor.category not in known
    ]
    if problems:
        raise InvalidPostmortemError(problems)


def _record(session: Session, row: IncidentRow, **values: Any) -> None:
    changes = [c.to_dict() for c in values.pop("changes")]
    session.add(RevisionRow(incident_id=row.id, version=row.version, changes=changes, **values))


def new_key(session: Session, title: str, on: dt.date) -> str:
    """A readable unique key: '2018-01-18-reddit-hugs-mybinder', then '-2', '-3'…"""
    base = f"{on.isoformat()}-{slugify(title)}"
    taken = set(
        session.scalars(
            select(IncidentRow.key).where(IncidentRow.key.startswith(base, autoescape=True))
        )
    )
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


def create_postmortem(
    session: Session,
    *,
    postmortem: Postmortem,
    author: str,
    action: str = "create",
    now: dt.datetime | None = None,
    actor: Actor | None = None,
    derived: bool = True,
) -> StoredPostmortem:
    """Store a new postmortem; its key must be free. The creating account becomes a member.
    `derived=False` leaves its search entry and similarity profile to the caller, who brings
    them up to date in the same transaction (the archive import does so in batches)."""
    now = now or utc_now()
    _require_editor(actor)
    if actor is not None and postmortem.review_status is not ReviewStatus.DRAFT:
        # Only the review workflow moves a postmortem past draft (reviewers, the lint gate).
        raise InvalidPostmortemError(
            [
                Problem(
                    ("review_status",),
                    "a new postmortem starts as a draft; request review, approve and publish "
                    "through the review workflow",
                )
            ]
        )
    if session.scalars(select(IncidentRow.id).where(IncidentRow.key == postmortem.key)).first():
        # The same words whether or not the asker may see the incident holding the key, so
        # creating cannot tell a restricted incident from a visible one.
        raise ConflictError(
            f"the key '{postmortem.key}' is taken; choose another key, or leave it out "
            "to have one made from the title",
            0,
        )
    check_categories(session, postmortem)
    row = IncidentRow(created_at=now)
    write_postmortem(row, postmortem, now)
    session.add(row)
    session.flush()
    if actor is not None:
        session.add(IncidentMemberRow(incident_id=row.id, user_id=actor.id))
    changes = diff_postmortems(None, postmortem)
    _record(session, row, author=author, at=now, action=action, changes=changes)
    if derived:
        refresh_profile(session, incident_id=row.id, postmortem=postmortem, now=now)
        session.flush()
        reindex_incidents(session.connection(), [row.id])
        refresh_insight_facts(session.connection(), [row.id])
    return _stored(row)


_READ_MEMO = "hindsight_postmortems"  # session.info keys of what a read-only session keeps
_ID_MEMO = "hindsight_incident_ids"


def visible_incident_id(session: Session, *, key: str, actor: Actor | None = None) -> int:
    """The row id of the incident with this key if `actor` may see it (NotFoundError if not);
    a cheap check for use cases that need access, not the whole postmortem (kept for the
    session's later callers when it reads only, as `get_postmortem` does)."""
    memo: dict[tuple[str, object], int] | None = None
    asked = (key, None if actor is None else (actor.id, actor.role))
    if reads_only(session):
        memo = session.info.setdefault(_ID_MEMO, {})
        if asked in memo:
            return memo[asked]
    query = select(IncidentRow.id).where(IncidentRow.key == key)
    found = session.scalar(visible_to(query, actor, archived=None))
    if found is None:
        raise NotFoundError(f"no incident with key '{key}'")
    if memo is not None:
        memo[asked] = int(found)
    return int(found)


def get_postmortem(session: Session, *, key: str, actor: Actor | None = None) -> StoredPostmortem:
    """The stored postmortem with this key, if `actor` may see it.

    A read-only session (a page view) keeps each answer for its later callers: the page's
    parts (lint, root-cause candidates, evidence, recurrence) each ask for the postmortem, and
    loading it is most of their cost. Nothing in such a session can change it."""
    if not reads_only(session):
        return _stored(_find_row(session, key, actor=actor))
    memo: dict[tuple[str, object], StoredPostmortem] = session.info.setdefault(_READ_MEMO, {})
    asked = (key, None if actor is None else (actor.id, actor.role))
    found = memo.get(asked)
    if found is None:
        found = memo[asked] = _stored(_find_row(session, key, actor=actor))
    return found


def _require_editor(actor: Actor | None) -> None:
    if actor is not None and actor.role is Role.VIEWER:
        raise PermissionDeniedError(
            "viewers cannot change postmortems; ask an admin for the editor role"
        )


def _check_publication_lock(before: Postmortem, changes: list[FieldChange]) -> None:
    if before.review_status != "published":
        return
    locked = [c.field for c in changes if not is_allowed_after_publication(c.field)]
    if locked:
        raise PermissionDeniedError(
            f"this postmortem is published and read-only (tried to change {locked[0]}); "
            "only action items can still be updated. Reopen it to edit."
        )


def update_postmortem(
    session: Session,
    *,
    key: str,
    change: Callable[[Postmortem], Postmortem],
    author: str,
    expected_version: int | None = None,
    action: str = "update",
    now: dt.datetime | None = None,
    actor: Actor | None = None,
    review_transition: bool = False,
    note: str = "",
    extra_changes: Sequence[FieldChange] = (),
    force: bool = False,
    derived: bool = True,
) -> StoredPostmortem:
    """Apply `change` to the current postmortem and store it with a revision.

    Steps: lock the row; if the caller's `expected_version` is stale, merge the change onto
    the current version per item and field (services/merging.py; ConflictError lists the
    fields both sides changed, unless `force` keeps the caller's); store and record what
    differs. A change that alters nothing stores nothing. `derived` as `create_postmortem`.
    """
    now = now or utc_now()
    _require_editor(actor)
    row = _find_row(session, key, for_update=True, actor=actor)
    before = postmortem_from_row(row)
    if expected_version is not None and expected_version > row.version:
        raise ConflictError(
            f"incident '{key}' was changed by someone else or never had version "
            f"{expected_version} (it is at version {row.version}); reload it",
            row.version,
        )
    if row.archived_at is not None:
        raise PermissionDeniedError(
            f"incident '{key}' is archived and read-only; unarchive it to change it"
        )
    if expected_version is not None and row.version != expected_version:
        after = rebase(
            session,
            key=key,
            incident_id=row.id,
            current=before,
            current_version=row.version,
            expected_version=expected_version,
            change=change,
            force=force,
        )
    else:
        after = change(before)
    if after.key != key:
        raise InvalidPostmortemError([Problem(("key",), "cannot be changed")])
    changes = diff_postmortems(before, after)
    if not changes and not extra_changes:
        return _stored(row)
    if not review_transition:
        _check_publication_lock(before, changes)
        if any(change.field == "review_status" for change in changes) and actor is not None:
            raise PermissionDeniedError(
                "the review status changes through the review "
                "workflow (request review, approve, publish, reopen)"
            )
    check_categories(session, after)
    write_postmortem(row, after, now)
    session.flush()
    if not changes:
        row.updated_at = now  # still a new version: the review decision is the change
    changes = changes + list(extra_changes)
    _record(session, row, author=author, at=now, action=action, changes=changes, note=note)
    if derived:
        refresh_profile(session, incident_id=row.id, postmortem=after, now=now)
        session.flush()
        reindex_incidents(session.connection(), [row.id])
        refresh_insight_facts(session.connection(), [row.id])
    return _stored(row)


def save_postmortem(
    session: Session,
    *,
    postmortem: Postmortem,
    author: str,
    action: str = "import",
) -> tuple[str, StoredPostmortem]:
    """Create the postmortem, or update the one with the same key; says which (or unchanged)."""
    exists = session.scalars(select(IncidentRow.id).where(IncidentRow.key == postmortem.key))
    if exists.first() is None:
        return "created", create_postmortem(
            session, postmortem=postmortem, author=author, action=action
        )
    before = get_postmortem(session, key=postmortem.key)
    stored = update_postmortem(
        session, key=postmortem.key, change=lambda _: postmortem, author=author, action=action
    )
    return ("unchanged" if stored.version == before.version else "updated"), stored


@dataclass(frozen=True)
class IncidentFilter:
    """What the incident list is narrowed to; empty values do not filter."""

    severities: Sequence[str] = ()
    statuses: Sequence[str] = ()
    review_statuses: Sequence[str] = ()
    service: str | None = None
    tag: str | None = None
    text: str | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    archived: bool = False  # True: the archived incidents instead of the live ones
    # True: only incidents linked as a recurrence (services/recurrence) to one the reader sees
    recurring: bool = False


def _filtered(query: Select[Any], filters: IncidentFilter, actor: Actor | None) -> Select[Any]:
    if filters.severities:
        query = query.where(IncidentRow.severity.in_(filters.severities))
    if filters.statuses:
        query = query.where(IncidentRow.status.in_(filters.statuses))
    if filters.review_statuses:
        query = query.where(IncidentRow.review_status.in_(filters.review_statuses))
    if filters.service:
        services = select(ServiceRow.incident_id).where(ServiceRow.name == filters.service)
        query = query.where(IncidentRow.id.in_(services))
    if filters.tag:
        tags = select(TagRow.incident_id).where(TagRow.name == filters.tag)
        query = query.where(IncidentRow.id.in_(tags))
    if filters.text:
        # autoescape: '%' and '_' in the search text are letters, not LIKE wildcards.
        text = filters.text.lower()
        query = query.where(func.lower(IncidentRow.title).contains(text, autoescape=True))
    if filters.recurring:
        query = query.where(IncidentRow.id.in_(linked_to_visible(actor)))
    if filters.created_from:
        start = dt.datetime.combine(filters.created_from, dt.time(), dt.UTC)
        query = query.where(IncidentRow.created_at >= start)
    if filters.created_to:
        end = dt.datetime.combine(filters.created_to + dt.timedelta(days=1), dt.time(), dt.UTC)
        query = query.where(IncidentRow.created_at < end)
    return query


def _check_filter_values(filters: IncidentFilter) -> None:
    """Unknown severities or statuses are a mistake worth saying, not an empty list."""
    allowed = (
        ("severity", filters.severities, Severity),
        ("status", filters.statuses, IncidentStatus),
        ("review", filters.review_statuses, ReviewStatus),
    )
    for name, values, enum in allowed:
        known = [member.value for member in enum]
        for value in values:
            if value not in known:
                raise InvalidInputError(f"{name}: {value!r} is not one of {', '.join(known)}")


SORTS = {
    "newest": (IncidentRow.created_at.desc(), IncidentRow.id.desc()),
    "oldest": (IncidentRow.created_at.asc(), IncidentRow.id.asc()),
    "updated": (IncidentRow.updated_at.desc(), IncidentRow.id.desc()),
    "severity": (IncidentRow.severity.asc(), IncidentRow.created_at.desc(), IncidentRow.id.desc()),
    "title": (IncidentRow.title.asc(), IncidentRow.id.asc()),
}


def list_postmortems(
    session: Session,
    *,
    filters: IncidentFilter | None = None,
    limit: int = 50,
    offset: int = 0,
    actor: Actor | None = None,
    sort: str = "newest",
) -> IncidentPage:
    """A page of incidents `actor` may see, in `sort` order (see SORTS), with the total."""
    filters = filters or IncidentFilter()
    _check_filter_values(filters)
    if sort not in SORTS:
        raise HindsightError(f"sort: '{sort}' is not one of {', '.join(SORTS)}")
    total = _count_visible(session, filters, actor, filters.archived)
    rows = session.scalars(
        visible_to(_filtered(select(IncidentRow), filters, actor), actor, archived=filters.archived)
        .options(
            load_only(*_SUMMARY_COLUMNS),  # the list never reads prose or JSON parts
            selectinload(IncidentRow.services),
            selectinload(IncidentRow.tags),
        )
        .order_by(*SORTS[sort])
        .limit(limit)
        .offset(offset)
    ).all()
    items = [
        IncidentSummary(
            key=row.key,
            title=row.title,
            severity=row.severity,
            status=row.status,
            review_status=row.review_status,
            visibility=row.visibility,
            services=tuple(s.name for s in row.services),
            tags=tuple(t.name for t in row.tags),
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
        )
        for row in rows
    ]
    return IncidentPage(items=items, total=total, limit=limit, offset=offset)


def list_revisions(session: Session, *, key: str, actor: Actor | None = None) -> list[Revision]:
    """The postmortem's history, oldest first."""
    row = _find_row(session, key, actor=actor)
    revisions = session.scalars(
        select(RevisionRow).where(RevisionRow.incident_id == row.id).order_by(RevisionRow.version)
    )
    return [
        Revision(
            version=rev.version,
            author=rev.author,
            at=rev.at,
            action=rev.action,
            changes=[FieldChange.from_dict(c) for c in rev.changes],
            note=rev.note,
        )
        for rev in revisions
    ]
