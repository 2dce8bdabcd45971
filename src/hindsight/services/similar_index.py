"""One similarity index (analysis/similarity_index.py) per process and database, loaded once
from the stored profiles and kept in step with them.

Steps of `current_index`: read the database's version of the profiles (the newest profile
change and the newest incident change: two index look-ups in one statement) and this process's
own change counter; if they match the cached index's, use it; else load every profile again
and build a new index (under a lock, so that concurrent requests build it once). A large index
(BACKGROUND_AT profiles or more) is brought up to date on a background thread instead, and
requests keep the previous one until the new one is ready: a change then shows in "Seen
before" once that ends, never by making a reader wait for it. The background thread patches
the index it has with the incidents changed since it was loaded (`_patched`: a second or two at
100,000 incidents instead of a full load's 15-25 s), and loads everything again only when many
changed or incidents were deleted. Every change that the index reads (words, vector, fields,
visibility, when it happened) rewrites the incident's profile (services/profiles.py), so an
edit in another process changes the version. Results are checked against the database anyway
(services/similar.py), so an incident archived, deleted or restricted since the index was
built is never shown.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, func, select, union
from sqlalchemy.orm import Session

from hindsight.analysis.similarity_index import Profile, SimilarityIndex
from hindsight.services.embeddings import Embedder, decode_vector
from hindsight.storage.models import IncidentProfileRow, IncidentRow, ServiceRow, TagRow

BACKGROUND_AT = 5000
# More changed incidents than this since the index was loaded: load it all again instead.
PATCH_AT_MOST = 2000
PATCH_MARGIN = dt.timedelta(minutes=10)
_LOCK = threading.Lock()
_REBUILDING: set[tuple[str, str]] = set()
_CHANGES = 0  # profile writes in this process, also those not committed yet
NOTED_AT_MOST = 1000
_NOTED: list[tuple[int, tuple[int, ...]]] = []  # (change number, incidents), the latest ones


@dataclass(frozen=True)
class LoadedIndex:
    """The index and what each row is: restricted (members only), archived (never listed)."""

    index: SimilarityIndex
    restricted: npt.NDArray[np.bool_]
    archived: npt.NDArray[np.bool_]
    version: tuple[Any, ...]


_INDEXES: dict[tuple[str, str], LoadedIndex] = {}


def note_profile_change(incident_ids: Iterable[int] = ()) -> None:
    """Mark this process's indexes stale: the profiles of `incident_ids` were written in this
    process (none given: unknown ones, and the next update loads the whole index)."""
    global _CHANGES
    with _LOCK:
        _CHANGES += 1
        _NOTED.append((_CHANGES, tuple(incident_ids)))
        del _NOTED[:-NOTED_AT_MOST]


def _noted_since(change: int) -> set[int] | None:
    """The incidents this process noted changed after its change number `change`, or None
    when that is not known any more (forgotten, or noted without ids)."""
    with _LOCK:
        later = [ids for number, ids in _NOTED if number > change]
        if len(later) != _CHANGES - change or not all(later):
            return None
        return {incident_id for ids in later for incident_id in ids}


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
                version = _version(session)
                stale = _INDEXES.get(place)
                patched = _patched(session, stale, model, version) if stale else None
                built = patched or _load(session, model, version)
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


def _names(
    session: Session, table: type[ServiceRow] | type[TagRow], ids: list[int] | None = None
) -> dict[int, set[str]]:
    query = select(table.incident_id, table.name)
    if ids is not None:
        query = query.where(table.incident_id.in_(ids))
    found: dict[int, set[str]] = defaultdict(set)
    for incident_id, name in session.execute(query):
        found[incident_id].add(name)
    return found


def _rows(session: Session, ids: list[int] | None = None) -> Iterator[Any]:
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
    if ids is not None:
        query = query.where(IncidentRow.id.in_(ids))
    yield from session.execute(query)


def _profile(
    row: Any, services: dict[int, set[str]], tags: dict[int, set[str]], model: Embedder | None
) -> Profile:
    """A stored profile as the index takes it; a vector of another model than ours is left
    out."""
    current = model is not None and row.model == model.name and row.vector
    return Profile(
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


def _load(session: Session, model: Embedder | None, version: tuple[Any, ...]) -> LoadedIndex:
    """Every stored profile as an index."""
    services = _names(session, ServiceRow)
    tags = _names(session, TagRow)
    restricted: list[bool] = []
    archived: list[bool] = []

    def profiles() -> Iterator[Profile]:
        for row in _rows(session):
            restricted.append(row.visibility == "restricted")
            archived.append(row.archived_at is not None)
            yield _profile(row, services, tags, model)

    index = SimilarityIndex(profiles())
    return LoadedIndex(
        index,
        np.array(restricted, dtype=np.bool_),
        np.array(archived, dtype=np.bool_),
        version,
    )


def _changed_since(session: Session, version: tuple[Any, ...]) -> list[int] | None:
    """The incidents whose profile or row changed since `version` (an index's): noted by this
    process, or stored at most PATCH_MARGIN before that version's newest times (a transaction
    of another process may commit after a quicker one with later times); None when too many
    changed for a patch to pay, or it is not known which did."""
    noted = _noted_since(version[0])
    _, profiles_at, incidents_at = version
    if noted is None or profiles_at is None or incidents_at is None:
        return None
    changed = union(
        select(IncidentProfileRow.incident_id).where(
            IncidentProfileRow.updated_at >= profiles_at - PATCH_MARGIN
        ),
        select(IncidentRow.id).where(IncidentRow.updated_at >= incidents_at - PATCH_MARGIN),
    ).subquery()
    ids = noted | set(session.scalars(select(changed.c[0]).limit(PATCH_AT_MOST + 1)))
    return sorted(ids) if len(ids) <= PATCH_AT_MOST else None


def _patched(
    session: Session, loaded: LoadedIndex, model: Embedder | None, version: tuple[Any, ...]
) -> LoadedIndex | None:
    """`loaded` with the profiles changed since it was loaded put in (SimilarityIndex.
    with_changes: the same answers as a full load), or None when a full load is needed: too
    many changes, a change the index cannot take in place, or incidents deleted (the count
    of profiles is not the index's)."""
    ids = _changed_since(session, loaded.version)
    if ids is None:
        return None
    profiles, restricted, archived = [], {}, {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        services, tags = _names(session, ServiceRow, part), _names(session, TagRow, part)
        for row in _rows(session, part):
            profiles.append(_profile(row, services, tags, model))
            restricted[row.id] = row.visibility == "restricted"
            archived[row.id] = row.archived_at is not None
    index = loaded.index.with_changes(profiles)
    stored = session.scalar(select(func.count()).select_from(IncidentProfileRow).join(IncidentRow))
    if index is None or stored != len(index):
        return None
    grown = np.zeros(len(index) - len(loaded.index), dtype=np.bool_)
    masks = [np.concatenate([loaded.restricted, grown]), np.concatenate([loaded.archived, grown])]
    for mask, found in zip(masks, (restricted, archived), strict=True):
        for incident_id, value in found.items():
            mask[index.position(incident_id)] = value
    return LoadedIndex(index, masks[0], masks[1], version)


def happened(loaded: LoadedIndex, position: int) -> dt.datetime:
    """When the incident at `position` happened (its creation time when not known)."""
    return dt.datetime.fromtimestamp(float(loaded.index.happened[position]), dt.UTC)
