"""One similarity index (analysis/similarity_index.py) per process and database, loaded once
from the stored profiles and kept in step with them.

Steps of `current_index`: read the database's version of the profiles (the newest profile
change and the newest incident change: two index look-ups) and this process's own change
counter; if they match the cached index's, use it; else load every profile again and
build a new index (under a lock, so that concurrent requests build it once). A large index
(BACKGROUND_AT profiles or more: about a second to load here, a minute at 100,000) is rebuilt
on a background thread instead, and requests keep the previous one until the new one is
ready: a change then shows in "Seen before" once the rebuild ends, never by making a reader
wait for it. Every change that
the index reads (words, vector, fields, visibility, when it happened) rewrites the incident's
profile (services/profiles.py), so an edit in another process changes the version. Results are
checked against the database anyway (services/similar.py), so an incident archived, deleted or
restricted since the index was built is never shown.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from hindsight.analysis.similarity_index import Profile, SimilarityIndex
from hindsight.services.embeddings import Embedder, decode_vector
from hindsight.storage.models import IncidentProfileRow, IncidentRow, ServiceRow, TagRow

BACKGROUND_AT = 5000
_LOCK = threading.Lock()
_REBUILDING: set[tuple[str, str]] = set()
_CHANGES = 0  # profile writes in this process, also those not committed yet


@dataclass(frozen=True)
class LoadedIndex:
    """The index and what each row is: restricted (members only), archived (never listed)."""

    index: SimilarityIndex
    restricted: npt.NDArray[np.bool_]
    archived: npt.NDArray[np.bool_]
    version: tuple[Any, ...]


_INDEXES: dict[tuple[str, str], LoadedIndex] = {}


def note_profile_change() -> None:
    """Mark this process's indexes stale (a profile was written in this process)."""
    global _CHANGES
    with _LOCK:
        _CHANGES += 1


def clear_indexes() -> None:
    """Forget every loaded index (tests, and after a restore)."""
    with _LOCK:
        _INDEXES.clear()


def _version(session: Session) -> tuple[Any, ...]:
    """This process's change counter and the newest change of profiles and of incidents: two
    look-ups at the end of an index each, in one statement. (A deleted incident is not noticed
    here; the lookup's check against the database drops it from the results.)"""
    newest = select(
        select(func.max(IncidentProfileRow.updated_at)).scalar_subquery(),
        select(func.max(IncidentRow.updated_at)).scalar_subquery(),
    )
    profiles, incidents = session.execute(newest).one()
    return (_CHANGES, profiles, incidents)


def current_index(session: Session, model: Embedder | None) -> LoadedIndex:
    """The index of every stored profile as `session` sees them, built again when stale."""
    place = (str(session.get_bind().engine.url), model.name if model is not None else "")
    version = _version(session)
    loaded = _INDEXES.get(place)
    if loaded is not None and loaded.version == version:
        return loaded
    if loaded is not None and len(loaded.index.ids_list) >= BACKGROUND_AT:
        _rebuild_in_background(session.get_bind().engine, place, model)
        return loaded
    with _LOCK:
        loaded = _INDEXES.get(place)
        if loaded is None or loaded.version != version:
            loaded = _load(session, model, version)
            _INDEXES[place] = loaded
    return loaded


def _rebuild_in_background(engine: Engine, place: tuple[str, str], model: Embedder | None) -> None:
    """Start one rebuild of `place` on its own connection, unless one is running."""
    with _LOCK:
        if place in _REBUILDING:
            return
        _REBUILDING.add(place)

    def rebuild() -> None:
        try:
            with Session(engine) as session:
                built = _load(session, model, _version(session))
            with _LOCK:
                _INDEXES[place] = built
        finally:
            with _LOCK:
                _REBUILDING.discard(place)

    threading.Thread(target=rebuild, name="similar-index", daemon=True).start()


def rebuilding() -> bool:
    """Whether a background rebuild is running (tests wait for it)."""
    with _LOCK:
        return bool(_REBUILDING)


def _names(session: Session, table: type[ServiceRow] | type[TagRow]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for incident_id, name in session.execute(select(table.incident_id, table.name)):
        found[incident_id].add(name)
    return found


def _rows(session: Session) -> Iterator[Any]:
    query = (
        select(
            IncidentRow.id,
            IncidentRow.key,
            IncidentRow.title,
            IncidentRow.created_at,
            IncidentRow.visibility,
            IncidentRow.archived_at,
            IncidentProfileRow.happened_at,
            IncidentProfileRow.terms,
            IncidentProfileRow.categories,
            IncidentProfileRow.model,
            IncidentProfileRow.vector,
        )
        .join(IncidentProfileRow, IncidentProfileRow.incident_id == IncidentRow.id)
        .order_by(IncidentRow.id)
        .execution_options(yield_per=2000)
    )
    yield from session.execute(query)


def _load(session: Session, model: Embedder | None, version: tuple[Any, ...]) -> LoadedIndex:
    """Every stored profile as an index; a vector of another model than ours is left out."""
    services = _names(session, ServiceRow)
    tags = _names(session, TagRow)
    restricted: list[bool] = []
    archived: list[bool] = []

    def profiles() -> Iterator[Profile]:
        for row in _rows(session):
            restricted.append(row.visibility == "restricted")
            archived.append(row.archived_at is not None)
            current = model is not None and row.model == model.name and row.vector
            yield Profile(
                id=row.id,
                key=row.key,
                title=row.title,
                created_at=row.created_at,
                terms=tuple(row.terms.split()),
                services=frozenset(services.get(row.id, ())),
                categories=frozenset(row.categories),
                tags=frozenset(tags.get(row.id, ())),
                vector=decode_vector(row.vector) if current else None,
                happened_at=row.happened_at,
            )

    index = SimilarityIndex(profiles())
    return LoadedIndex(
        index,
        np.array(restricted, dtype=np.bool_),
        np.array(archived, dtype=np.bool_),
        version,
    )


def happened(loaded: LoadedIndex, position: int) -> dt.datetime:
    """When the incident at `position` happened (its creation time when not known)."""
    return dt.datetime.fromtimestamp(float(loaded.index.happened[position]), dt.UTC)
