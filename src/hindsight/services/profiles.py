"""Keep each incident's similarity profile (words, factor categories, embedding) in step with
the incident, in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from hindsight.analysis.similarity import MAX_TERMS, profile_text, tokenize
from hindsight.domain.incidents import Postmortem
from hindsight.services.embeddings import Embedder, default_embedder, encode_vector
from hindsight.storage.models import IncidentProfileRow, IncidentRow
from hindsight.storage.repository import postmortem_from_row


class _Default:
    """Marks 'use the process's model' apart from an explicit None (no model)."""


DEFAULT = _Default()
EmbedderChoice = Embedder | None | _Default


def resolve(embedder: EmbedderChoice) -> Embedder | None:
    """The embedder to use: the default one unless the caller chose."""
    return default_embedder() if isinstance(embedder, _Default) else embedder


def _fingerprint(text: str, categories: list[str], model: str) -> str:
    payload = json.dumps([text, categories, model], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


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
    text = profile_text(postmortem)
    categories = sorted({f.category for f in postmortem.analysis.contributing_factors})
    name = model.name if model is not None else ""
    fingerprint = _fingerprint(text, categories, name)
    row = session.get(IncidentProfileRow, incident_id)
    if row is not None and row.text_hash == fingerprint:
        return False
    vector = encode_vector(model.embed([text])[0]) if model is not None else ""
    values = {
        "terms": " ".join(tokenize(text)[:MAX_TERMS]),
        "categories": categories,
        "model": name,
        "vector": vector,
        "text_hash": fingerprint,
        "updated_at": now,
    }
    if row is None:
        session.add(IncidentProfileRow(incident_id=incident_id, **values))
    else:
        for field, value in values.items():
            setattr(row, field, value)
    session.flush()
    return True


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
