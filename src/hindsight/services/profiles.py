"""Keep each incident's similarity profile (words, factor categories, embedding) in step with
the incident, in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.analysis.similarity import MAX_TERMS, profile_text, tokenize
from hindsight.domain.incidents import Postmortem
from hindsight.domain.timeline import KeyMoment
from hindsight.services.embeddings import Embedder, default_embedder, encode_vector
from hindsight.services.similar_index import note_profile_change
from hindsight.storage.models import IncidentProfileRow, IncidentRow
from hindsight.storage.repository import postmortem_from_row


class _Default:
    """Marks 'use the process's model' apart from an explicit None (no model)."""


DEFAULT = _Default()
EmbedderChoice = Embedder | None | _Default


def resolve(embedder: EmbedderChoice) -> Embedder | None:
    """The embedder to use: the default one unless the caller chose."""
    return default_embedder() if isinstance(embedder, _Default) else embedder


def _fingerprint(text: str, categories: list[str], model: str, fields: list[Any]) -> str:
    payload = json.dumps([text, categories, model, fields], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def happened_at(postmortem: Postmortem) -> dt.datetime | None:
    """When the incident happened: impact started, else its first event (None: neither)."""
    moments = postmortem.key_moments()
    if KeyMoment.IMPACT_STARTED in moments:
        return moments[KeyMoment.IMPACT_STARTED].at
    return min((event.at for event in postmortem.timeline), default=None)


def refresh_profile(
    session: Session,
    *,
    incident_id: int,
    postmortem: Postmortem,
    now: dt.datetime,
    embedder: EmbedderChoice = DEFAULT,
) -> bool:
    """Store the profile of `postmortem` for `incident_id`; False when it was already current
    (same words, categories and model), so an unchanged text is never embedded twice."""
    model = resolve(embedder)
    text, categories, fingerprint = _identity(postmortem, model)
    row = session.get(IncidentProfileRow, incident_id)
    if row is not None and row.text_hash == fingerprint:
        return False
    values = _values(text, categories, fingerprint, model, now)
    values["happened_at"] = happened_at(postmortem)
    _store(session, row, incident_id, values)
    session.flush()
    note_profile_change([incident_id])
    return True


def refresh_profiles_of(
    session: Session,
    postmortems: Mapping[int, Postmortem],
    *,
    now: dt.datetime,
    embedder: EmbedderChoice = DEFAULT,
) -> int:
    """`refresh_profile` for many incidents (by id) at once: their stored profiles read in
    one query per 500, one flush; how many changed. Texts are embedded one at a time: a
    batch pads every text to the longest one's tokens, which is slower and can take
    hundreds of MB for long reports."""
    model = resolve(embedder)
    ids = sorted(postmortems)
    changed: list[int] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = {
            row.incident_id: row
            for row in session.scalars(
                select(IncidentProfileRow).where(IncidentProfileRow.incident_id.in_(chunk))
            )
        }
        for incident_id in chunk:
            text, categories, fingerprint = _identity(postmortems[incident_id], model)
            row = rows.get(incident_id)
            if row is not None and row.text_hash == fingerprint:
                continue
            values = _values(text, categories, fingerprint, model, now)
            values["happened_at"] = happened_at(postmortems[incident_id])
            _store(session, row, incident_id, values)
            changed.append(incident_id)
    session.flush()
    if changed:
        note_profile_change(changed)
    return len(changed)


def _identity(postmortem: Postmortem, model: Embedder | None) -> tuple[str, list[str], str]:
    """The text compared, the factor categories and their fingerprint with the model's name
    and the other fields the similarity index reads (services, tags, visibility, when it
    happened): any change of them rewrites the profile, which other processes notice."""
    text = profile_text(postmortem)
    categories = sorted({f.category for f in postmortem.analysis.contributing_factors})
    name = model.name if model is not None else ""
    at = happened_at(postmortem)
    fields = [
        sorted(postmortem.services),
        sorted(postmortem.tags),
        postmortem.visibility.value,
        at.isoformat() if at else "",
    ]
    return text, categories, _fingerprint(text, categories, name, fields)


def _values(
    text: str, categories: list[str], fingerprint: str, model: Embedder | None, now: dt.datetime
) -> dict[str, Any]:
    return {
        "terms": " ".join(tokenize(text)[:MAX_TERMS]),
        "categories": categories,
        "model": model.name if model is not None else "",
        "vector": encode_vector(model.embed([text])[0]) if model is not None else "",
        "text_hash": fingerprint,
        "updated_at": now,
    }


def _store(
    session: Session, row: IncidentProfileRow | None, incident_id: int, values: dict[str, Any]
) -> None:
    if row is None:
        session.add(IncidentProfileRow(incident_id=incident_id, **values))
    else:
        for field, value in values.items():
            setattr(row, field, value)


def refresh_profiles(
    session: Session, *, now: dt.datetime, embedder: EmbedderChoice = DEFAULT, batch: int = 200
) -> tuple[int, int]:
    """Recompute every stale or missing profile (after migration 0011, or once the model is
    installed); returns (refreshed, total). Reads incidents in batches of `batch`."""
    from hindsight.services.incidents import load_all_parts

    model = resolve(embedder)
    ids = list(session.scalars(select(IncidentRow.id).order_by(IncidentRow.id)))
    refreshed = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        rows = session.scalars(
            select(IncidentRow).where(IncidentRow.id.in_(chunk)).options(*load_all_parts())
        )
        for row in rows:
            changed = refresh_profile(
                session,
                incident_id=row.id,
                postmortem=postmortem_from_row(row),
                now=now,
                embedder=model,
            )
            refreshed += int(changed)
        session.expunge_all()
    return refreshed, len(ids)
