"""The one rule for who may read which incident, as SQL: every query that reads incidents (or
rows that belong to them) for a person goes through `where_visible` or `visible_incidents`.

The rule (domain/access.py says it in plain values): internal incidents are visible to every
account, restricted ones to their members and to admins. `actor=None` is the local operator
(CLI, migrations, the demo), who sees everything.

A new reason to hide an incident from every reader (the archive, say) belongs in
`_HIDDEN_FROM_EVERY_READER`, the single place each query here applies.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, func, select, text, true
from sqlalchemy.orm import Session, aliased

from hindsight.domain.access import Actor, Role
from hindsight.storage.models import ActionItemRow, IncidentLinkRow, IncidentMemberRow, IncidentRow

Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])

# Conditions that hide an incident from every reader, admins included (none: archived incidents
# stay readable by key for admins and members, so lists leave them out in
# services/incidents.visible_to, which builds on `where_visible`). Both `where_visible` and
# `count_visible` apply them, so lists, counts, lookups by key and cross-references all agree.
_HIDDEN_FROM_EVERY_READER: tuple[ColumnElement[bool], ...] = ()


def sees_everything(actor: Actor | None) -> bool:
    """The operator and admins see every incident."""
    return actor is None or actor.role is Role.ADMIN


def member_of(actor: Actor) -> Select[int]:
    """The ids of the incidents `actor` is a member of."""
    return select(IncidentMemberRow.incident_id).where(IncidentMemberRow.user_id == actor.id)


def where_visible(query: Query, actor: Actor | None) -> Query:
    """Narrow `query` (which must involve IncidentRow, selected or joined) to the incidents
    `actor` may see."""
    query = query.where(*_HIDDEN_FROM_EVERY_READER) if _HIDDEN_FROM_EVERY_READER else query
    if sees_everything(actor):
        return query
    assert actor is not None
    return query.where(
        (IncidentRow.visibility == "internal") | IncidentRow.id.in_(member_of(actor))
    )


def linked_to_visible(actor: Actor | None) -> Select[Any]:
    """The ids of the incidents linked as a recurrence to an incident `actor` may see (a link
    to one the reader may not see says nothing to that reader)."""
    links = select(IncidentLinkRow.incident_id)
    if sees_everything(actor):
        return links
    assert actor is not None
    # An alias, so that inside a query of `incidents` this is not correlated with it.
    other = aliased(IncidentRow)
    visible = select(other.id).where(
        (other.visibility == "internal") | other.id.in_(member_of(actor))
    )
    return links.where(IncidentLinkRow.other_id.in_(visible))


def visible_incidents(actor: Actor | None) -> Select[IncidentRow]:
    """`select(IncidentRow)` narrowed to what `actor` may see."""
    return where_visible(select(IncidentRow), actor)


def count_visible(session: Session, filtered: Select[Any], actor: Actor | None) -> int:
    """How many incidents `filtered` (a `select(func.count(IncidentRow.id))` with the caller's
    filters) counts that `actor` may see: all that match, less the restricted ones the reader
    is not a member of. Two cheap counts (one over an index, one over the few restricted
    incidents) instead of a scan that checks membership on every row."""
    if _HIDDEN_FROM_EVERY_READER:
        filtered = filtered.where(*_HIDDEN_FROM_EVERY_READER)
    total = session.scalar(filtered) or 0
    if sees_everything(actor):
        return int(total)
    assert actor is not None
    hidden = filtered.where(
        # A literal, not a bound parameter, so the planner can use the partial index.
        text("incidents.visibility = 'restricted'"),
        IncidentRow.id.not_in(member_of(actor)),
    )
    return int(total) - int(session.scalar(hidden) or 0)


def count_statement() -> Select[int]:
    """The statement `count_visible` expects, before filters."""
    return select(func.count(IncidentRow.id))


def visible_items(query: Query, actor: Actor | None) -> Query:
    """Narrow an action-item query to the items of incidents `actor` may list: not archived,
    and internal or restricted with the reader a member — the rule above, on the copies of
    their incident's facts that items carry (models/incidents.py ActionItemRow), so no join is
    needed."""
    assert not _HIDDEN_FROM_EVERY_READER, "items carry no copy of a new hiding rule yet"
    query = query.where(ActionItemRow.archived == false())
    if sees_everything(actor):
        return query
    assert actor is not None
    return query.where(
        (ActionItemRow.restricted == false()) | ActionItemRow.incident_id.in_(member_of(actor))
    )


def count_visible_items(session: Session, filtered: Select[Any], actor: Actor | None) -> int:
    """How many items `filtered` (a `select(func.count())` with the caller's filters on item
    columns) counts that `visible_items` keeps: all that match, less the archived ones and the
    restricted ones the reader is not a member of — a count over an index (or the table's
    own count) and two over the few archived and restricted items (models/incidents.py's
    indexes)."""
    filtered = filtered.select_from(ActionItemRow)
    total = int(session.scalar(filtered) or 0)
    total -= int(session.scalar(filtered.where(ActionItemRow.archived == true())) or 0)
    if sees_everything(actor):
        return total
    assert actor is not None
    hidden = filtered.where(
        ActionItemRow.restricted == true(),
        ActionItemRow.archived == false(),
        ActionItemRow.incident_id.not_in(member_of(actor)),
    )
    return total - int(session.scalar(hidden) or 0)
