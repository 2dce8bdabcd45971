"""Facet counts over a set of hits, from `search_facets`."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor
from hindsight.storage.search.access import among
from hindsight.storage.search_index import facets
from hindsight.storage.visibility import linked_to_visible, sees_everything


def count_facets(
    session: Session, ids: Sequence[int], facet_limit: int, actor: Actor | None
) -> dict[str, list[tuple[str, int]]]:
    """Facet counts over `ids`; "recurring" counted for this reader (the index's row says only
    that a link exists, maybe to an incident the reader may not see)."""
    count = sa.func.count().label("n")
    query = (
        sa.select(facets.c.facet, facets.c.value, count)
        .where(among(session, facets.c.incident_id, ids))
        .group_by(facets.c.facet, facets.c.value)
    )
    found: dict[str, list[tuple[str, int]]] = {}
    for facet, value, n in session.execute(query):
        found.setdefault(facet, []).append((value, int(n)))
    recurring = found.pop("recurring", [])  # listed last, as before
    if recurring and not sees_everything(actor):
        # Linked, but maybe only to incidents this reader may not see: counted again for them.
        linked = sa.select(facets.c.incident_id).where(
            among(session, facets.c.incident_id, ids),
            facets.c.facet == "recurring",
            facets.c.incident_id.in_(linked_to_visible(actor)),
        )
        counted = sa.select(sa.func.count()).select_from(linked.subquery())
        visible = int(session.scalar(counted) or 0)
        recurring = [("yes", visible)] if visible else []
    if recurring:
        found["recurring"] = recurring
    for facet, values in found.items():
        if facet == "year":
            values.sort(reverse=True)
        else:
            values.sort(key=lambda pair: (-pair[1], pair[0]))
        found[facet] = values[:facet_limit]
    return found
