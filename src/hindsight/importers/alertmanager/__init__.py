"""Prometheus Alertmanager webhook payloads (version 4): grouped alerts, firing or resolved.

Each alert gives a "firing" event at `startsAt` and, once resolved, a "resolved" event at
`endsAt`. The alert's fingerprint (or its labels when there is none) names it, so the same
alert delivered again — in a later notification or a second import — is recognised.
A file may hold one payload, a JSON array of payloads or one payload per line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from hindsight.domain.evidence import Evidence, Signal, provenance
from hindsight.domain.text import tidy
from hindsight.domain.timeline import EventKind, TimelineEvent
from hindsight.importers.base import ImportOptions, Progress, Record, Source, each_document

_NEVER = "0001-01-01"
_SHOWN_LABELS = ("severity", "instance", "job", "service", "namespace", "cluster")


def _describe(alert: Record, labels: dict[str, Any], annotations: dict[str, Any]) -> str:
    name = str(labels.get("alertname") or "alert")
    summary = annotations.get("summary") or annotations.get("description") or ""
    shown = ", ".join(f"{k}={labels[k]}" for k in _SHOWN_LABELS if labels.get(k))
    text = name + (f": {summary}" if summary else "")
    return text + (f" ({shown})" if shown else "")


def alert_evidence(
    alert: Record, status: str | None, options: ImportOptions, origin: str
) -> Iterator[Evidence]:
    """The firing and (if resolved) resolved events of one alert."""
    labels = alert.get("labels", dict, required=False) or {}
    annotations = alert.get("annotations", dict, required=False) or {}
    state = alert.get("status", str, required=False) or status
    if state not in ("firing", "resolved"):
        raise alert.fail("field 'status' is missing or not 'firing'/'resolved'")
    fingerprint = (
        alert.get("fingerprint", str, required=False)
        or hashlib.sha1(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
    )
    name = str(labels.get("alertname") or "alert")
    text = tidy(_describe(alert, labels, annotations), limit=1000, one_line=True)
    starts = alert.time("startsAt", options.tzinfo)
    assert starts is not None
    moments = [("firing", starts)]
    ends_raw = alert.get("endsAt", str, required=False)
    if state == "resolved" and ends_raw and not ends_raw.startswith(_NEVER):
        ends = alert.time("endsAt", options.tzinfo)
        assert ends is not None
        moments.append(("resolved", ends))
    for phase, at in moments:
        if not options.in_window(at):
            continue
        firing = phase == "firing"
        yield Evidence(
            event=TimelineEvent(
                at=at,
                text=f"{'Alert firing' if firing else 'Alert resolved'}: {text}",
                source="alertmanager",
                kind=EventKind.ALERT if firing else EventKind.RESOLUTION,
                provenance=(provenance(origin, f"{alert.where} {fingerprint}".strip()),),
            ),
            key=f"{fingerprint}/{phase}/{starts.isoformat()}",
            subject=name,
            signal=Signal.ALERT_FIRING if firing else Signal.ALERT_RESOLVED,
        )


def payload_evidence(payload: Record, options: ImportOptions, origin: str) -> Iterator[Evidence]:
    """The events of one webhook payload."""
    alerts = payload.get("alerts", list)
    status = payload.get("status", str, required=False)
    for index, alert in enumerate(alerts, start=1):
        where = f"{payload.where} alert {index}".strip()
        yield from alert_evidence(Record(payload.source, where, alert), status, options, origin)


class AlertmanagerImporter:
    """Alerts from Alertmanager webhook payloads."""

    kind = "alertmanager"
    title = "Prometheus Alertmanager"
    icon = "🚨"
    accepts = "Alertmanager webhook payloads (JSON; one, an array, or one per line)"

    def read(
        self, source: Source, options: ImportOptions, progress: Progress
    ) -> Iterator[Evidence]:
        """Yield the firing and resolved events of every alert."""
        for record in each_document(source, progress):
            yield from payload_evidence(record, options, record.source)


IMPORTER = AlertmanagerImporter()
