"""Metric evidence: import series into an incident (a file or a live Prometheus), compute the
impact they show under the incident's SLO, and accept those numbers into the impact part.

Steps of an import: check the person may import; read every series (nothing is written if
any of it is bad); replace the incident's series of the same name, labels and role; then
propose the impact start and end from the windows the series show, as suggested events with
the signals `slo_violated` and `slo_recovered` (the key-moment proposals prefer them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hindsight.analysis.costs import (
    CostBreakdown,
    compute_cost,
    compute_data_loss,
    cost_numbers,
)
from hindsight.analysis.impact import (
    ComputedNumber,
    ImpactEstimate,
    Series,
    SeriesRole,
    compute_impact,
    typical_step,
)
from hindsight.domain.access import Actor
from hindsight.domain.evidence import Signal, SuggestionState
from hindsight.domain.impact import Impact, NumberSource
from hindsight.domain.incidents import Postmortem
from hindsight.domain.timeline import EventKind
from hindsight.errors import InvalidInputError, NotFoundError
from hindsight.importers.base import ImportOptions, NoProgress, Source
from hindsight.importers.metrics import KIND, SeriesData, read_series
from hindsight.importers.metrics.prometheus import RangeQuery, query_range
from hindsight.services.evidence import _checked, require_importer_rights
from hindsight.services.incidents import (
    StoredPostmortem,
    get_postmortem,
    update_postmortem,
    utc_now,
    visible_incident_id,
)
from hindsight.storage.models import EvidenceImportRow, EvidenceRow, MetricSeriesRow

ROLES = tuple(role.value for role in SeriesRole)


@dataclass(frozen=True)
class StoredSeries:
    """A series kept with an incident."""

    id: int
    name: str
    labels: str
    role: SeriesRole
    origin: str
    step_seconds: float
    raw_count: int
    start: dt.datetime
    end: dt.datetime
    points: tuple[tuple[dt.datetime, float], ...]

    @property
    def title(self) -> str:
        """The name with its labels: 'http_requests_total{code="500"}' (a query that names its
        labels already is left as it is)."""
        return self.name if self.labels in self.name else self.name + self.labels

    def as_series(self) -> Series:
        """The analysis' view of it."""
        return Series(self.title, self.role, self.points, self.origin)


@dataclass(frozen=True)
class MetricImportSummary:
    """What an import stored."""

    series: list[StoredSeries]
    replaced: int
    estimate: ImpactEstimate
    step_seconds: float | None = None


@dataclass(frozen=True)
class ImpactReport:
    """Everything computed for the impact part, with where each number came from."""

    series: list[StoredSeries]
    estimate: ImpactEstimate
    data_loss: list[ComputedNumber]
    cost: CostBreakdown
    cost_numbers: list[ComputedNumber]

    @property
    def numbers(self) -> list[ComputedNumber]:
        """Every number that can be accepted into the impact part."""
        return [*self.estimate.numbers, *self.data_loss, *self.cost_numbers]


def _stored(row: MetricSeriesRow) -> StoredSeries:
    return StoredSeries(
        row.id,
        row.name,
        row.labels_text,
        SeriesRole(row.role),
        row.origin,
        row.step_seconds,
        row.raw_count,
        row.start_at,
        row.end_at,
        tuple((dt.datetime.fromtimestamp(t, dt.UTC), float(v)) for t, v in row.points),
    )


def _role(role: str) -> SeriesRole:
    try:
        return SeriesRole(role)
    except ValueError:
        raise InvalidInputError(
            f"role: '{role}' is not a series role; choose one of {', '.join(ROLES)}"
        ) from None


def import_metrics(
    session: Session,
    *,
    key: str,
    role: str,
    author: str,
    source: Source | None = None,
    query: RangeQuery | None = None,
    name: str = "",
    options: ImportOptions | None = None,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> MetricImportSummary:
    """Import the series of `source` (a file) or `query` (a live Prometheus) into incident
    `key` as `role` series, replacing earlier ones of the same name, labels and role."""
    incident_id = require_importer_rights(session, key, actor)
    kind = _role(role)
    options = options or ImportOptions()
    step: float | None = None
    if query is not None:
        found, step = query_range(query, options)
    elif source is not None:
        found = read_series(source, options, NoProgress(), name)
    else:
        raise InvalidInputError("give a file of samples or a Prometheus query")
    now = now or utc_now()
    replaced = 0
    stored = []
    for data in found:
        replaced += _remove_same(session, incident_id, data, kind)
        row = _row(incident_id, data, kind, step, author, now)
        session.add(row)
        session.flush()
        stored.append(_stored(row))
    estimate = refresh_metric_proposals(session, key=key, actor=actor, author=author, now=now)
    return MetricImportSummary(stored, replaced, estimate, step)


def _remove_same(session: Session, incident_id: int, data: SeriesData, role: SeriesRole) -> int:
    result = session.execute(
        delete(MetricSeriesRow).where(
            MetricSeriesRow.incident_id == incident_id,
            MetricSeriesRow.name == data.name[:300],
            MetricSeriesRow.labels_text == data.label_text[:500],
            MetricSeriesRow.role == role.value,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _row(
    incident_id: int,
    data: SeriesData,
    role: SeriesRole,
    step: float | None,
    author: str,
    now: dt.datetime,
) -> MetricSeriesRow:
    return MetricSeriesRow(
        incident_id=incident_id,
        name=data.name[:300],
        labels_text=data.label_text[:500],
        role=role.value,
        origin=data.origin[:2000],
        step_seconds=step or typical_step(data.points).total_seconds(),
        raw_count=data.raw_count,
        start_at=data.points[0][0],
        end_at=data.points[-1][0],
        points=[[round(at.timestamp(), 3), value] for at, value in data.points],
        imported_by=author,
        imported_at=now,
    )


def list_series(session: Session, *, key: str, actor: Actor | None = None) -> list[StoredSeries]:
    """The incident's metric series, by name."""
    incident_id = visible_incident_id(session, key=key, actor=actor)
    rows = session.scalars(
        select(MetricSeriesRow)
        .where(MetricSeriesRow.incident_id == incident_id)
        .order_by(MetricSeriesRow.name, MetricSeriesRow.id)
    )
    return [_stored(row) for row in rows]


def delete_series(
    session: Session, *, key: str, series_id: int, author: str, actor: Actor | None = None
) -> None:
    """Remove one series from the incident (and propose the impact again without it)."""
    incident_id = require_importer_rights(session, key, actor)
    row = session.get(MetricSeriesRow, series_id) if 0 < series_id < 2**31 else None
    if row is None or row.incident_id != incident_id:
        raise NotFoundError(f"no metric series with id {series_id} in this incident")
    session.delete(row)
    session.flush()
    refresh_metric_proposals(session, key=key, author=author, actor=actor)


def report_for(pm: Postmortem, series: Sequence[StoredSeries]) -> ImpactReport:
    """The impact report of a postmortem and its series (no database)."""
    estimate = compute_impact(
        [item.as_series() for item in series], pm.impact.slo, pm.impact.slo_target_percent
    )
    return ImpactReport(
        list(series), estimate, compute_data_loss(pm), compute_cost(pm), cost_numbers(pm)
    )


def impact_report(session: Session, *, key: str, actor: Actor | None = None) -> ImpactReport:
    """What the series, key moments, data-loss figures and participants say about impact."""
    pm = get_postmortem(session, key=key, actor=actor).postmortem
    return report_for(pm, list_series(session, key=key, actor=actor))


def refresh_metric_proposals(
    session: Session,
    *,
    key: str,
    author: str,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> ImpactEstimate:
    """Replace the suggested 'impact started/ended' events from metrics with those the series
    show now (after an import, or after the SLO changed)."""
    incident_id = visible_incident_id(session, key=key, actor=actor)
    report = impact_report(session, key=key, actor=actor)
    estimate = report.estimate
    session.execute(
        delete(EvidenceRow).where(
            EvidenceRow.incident_id == incident_id,
            EvidenceRow.kind == KIND,
            EvidenceRow.state == SuggestionState.SUGGESTED.value,
        )
    )
    taken = set(
        session.scalars(
            select(EvidenceRow.key).where(
                EvidenceRow.incident_id == incident_id, EvidenceRow.kind == KIND
            )
        )
    )
    if not estimate.windows:
        session.flush()
        return estimate
    batch = EvidenceImportRow(
        incident_id=incident_id,
        kind=KIND,
        origin="metric series",
        author=author,
        at=now or utc_now(),
        added=0,
        merged=0,
        skipped={},
    )
    session.add(batch)
    session.flush()
    source = estimate.numbers[0].origin if estimate.numbers else "metric series"
    first, last = estimate.windows[0], estimate.windows[-1]
    for at, signal, text in (
        (first.start, Signal.SLO_VIOLATED, f"impact begins: {first.basis} ({source})"),
        (last.end, Signal.SLO_RECOVERED, f"impact ends: {last.basis} no longer ({source})"),
    ):
        event_key = f"{signal.value}:{at.isoformat()}"
        if event_key in taken:
            continue
        session.add(
            EvidenceRow(
                incident_id=incident_id,
                import_id=batch.id,
                kind=KIND,
                key=event_key,
                state=SuggestionState.SUGGESTED.value,
                merged_into=None,
                subject="metrics",
                signal=signal.value,
                at=at,
                zone="UTC",
                text=text[:2000],
                event_kind=EventKind.OBSERVATION.value,
                actor="",
                source="metrics",
                provenance=[{"origin": "metric series", "locator": source[:200]}],
            )
        )
        batch.added += 1
    session.flush()
    return estimate


def accept_impact_numbers(
    session: Session,
    *,
    key: str,
    fields: Sequence[str] | None,
    author: str,
    actor: Actor | None = None,
) -> tuple[StoredPostmortem, list[ComputedNumber]]:
    """Copy computed numbers (`fields`, or all with None) into the impact part, each with its
    source, as one revision. A number edited by hand later keeps its own value."""
    report = impact_report(session, key=key, actor=actor)
    available = {number.field: number for number in report.numbers}
    chosen = list(available.values()) if fields is None else []
    for name in fields or ():
        if name not in available:
            known = ", ".join(available) or "none: import series or mark key moments first"
            raise InvalidInputError(f"{name}: nothing computed for it; computed: {known}")
        chosen.append(available[name])
    if not chosen:
        raise InvalidInputError("nothing computed to accept: import metric series first")

    def change(pm: Postmortem) -> Postmortem:
        return _checked(lambda: replace(pm, impact=with_numbers(pm.impact, chosen)))

    stored = update_postmortem(
        session,
        key=key,
        change=change,
        author=author,
        actor=actor,
        action="accept impact",
        note="accepted computed " + ", ".join(n.field for n in chosen),
    )
    return stored, chosen


def with_numbers(impact: Impact, numbers: Sequence[ComputedNumber]) -> Impact:
    """The impact part with these numbers set and their sources recorded."""
    sources = {source.field: source for source in impact.sources}
    for number in numbers:
        *parents, name = number.field.split(".")
        value: float | int = number.value
        if name in ("failed_requests", "users_affected", "records_unrecoverable"):
            value = round(number.value)
        impact = _set(impact, [*parents, name], value)
        sources[number.field] = NumberSource(
            number.field, float(value), f"{number.formula}; {number.origin}"[:1000]
        )
    return replace(impact, sources=tuple(sources.values()))


def _set(holder: Any, path: list[str], value: object) -> Any:
    """`holder` with the field at `path` (nested dataclasses) set to `value`."""
    if len(path) == 1:
        return replace(holder, **{path[0]: value})
    return replace(holder, **{path[0]: _set(getattr(holder, path[0]), path[1:], value)})


def _number_data(number: ComputedNumber) -> dict[str, Any]:
    return {
        "field": number.field,
        "label": number.label,
        "value": number.value,
        "formula": number.formula,
        "origin": number.origin,
    }


def report_data(report: ImpactReport) -> dict[str, Any]:
    """The report as JSON-ready data (the CLI's --json and the API share it)."""
    cost = report.cost
    return {
        "series": [
            {
                "id": s.id,
                "name": s.title,
                "role": s.role.value,
                "origin": s.origin,
                "points": len(s.points),
                "samples_read": s.raw_count,
                "step_seconds": s.step_seconds,
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
            }
            for s in report.series
        ],
        "windows": [
            {"start": w.start.isoformat(), "end": w.end.isoformat(), "basis": w.basis}
            for w in report.estimate.windows
        ],
        "numbers": [_number_data(n) for n in report.numbers],
        "notes": list(report.estimate.notes),
        "cost": {
            "responder_hours": cost.responder_hours,
            "hours_basis": cost.hours_basis,
            "responder_cost": cost.responder_cost,
            "business_cost": cost.business_cost,
            "total": cost.total,
            "currency": cost.currency,
            "formula": cost.formula,
            "responders": [{"name": t.name, "hours": round(t.hours, 2)} for t in cost.responders],
        },
    }
