"""Prometheus Alertmanager webhook payloads (version 4): grouped alerts, firing or resolved.

Each alert gives a "firing" event at `startsAt` and, once resolved, a "resolved" event at
`endsAt`. The alert's `status` wins over its times: a resolved alert whose `endsAt` is the zero
time (0001-01-01, "not known") still reads as resolved, though it gives no resolved event.
An alert is named by its fingerprint (or its labels when there is none) and its start time, so
the same alert delivered again — in a later notification or a second import — is recognised.
Two alerts of one payload that share both but carry different labels (a copied fingerprint)
are told apart by a digest of their labels, so neither is dropped.
A `startsAt` at a zero time (0001-01-01 or 1970-01-01T00:00:00, sent by test notifications)
gives no firing event and is counted as skipped.
A file may hold one payload, a JSON array of payloads, one payload per line, or several
pretty-printed payloads one after another (`cat a.json b.json`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from hindsight.domain.evidence import Evidence, Signal, provenance
from hindsight.domain.text import tidy
from hindsight.domain.timeline import EventKind, TimelineEvent
from hindsight.importers.base import (
    EvidenceError,
    ImportOptions,
    Progress,
    Record,
    Source,
)
from hindsight.importers.json_documents import each_document

_NEVER = "0001-01-01"
_EPOCH = "1970-01-01T00:00:00"
_SHOWN_LABELS = ("severity", "instance", "job", "service", "namespace", "cluster")


def _describe(alert: Record, labels: dict[str, Any], annotations: dict[str, Any]) -> str:
    name = str(labels.get("alertname") or "alert")
    summary = annotations.get("summary") or annotations.get("description") or ""
    shown = ", ".join(f"{k}={labels[k]}" for k in _SHOWN_LABELS if labels.get(k))
    text = name + (f": {summary}" if summary else "")
    return text + (f" ({shown})" if shown else "")


def _labels_digest(labels: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]


def _fingerprint(alert: Record, labels: dict[str, Any]) -> str:
    return alert.get("fingerprint", str, required=False) or _labels_digest(labels)


def alert_evidence(
    alert: Record,
    status: str | None,
    options: ImportOptions,
    origin: str,
    *,
    shared: bool = False,
) -> Iterator[Evidence]:
    """The firing and (if resolved) resolved events of one alert. `shared` says another alert
    of the payload has the same fingerprint and start time with other labels."""
    labels = alert.get("labels", dict, required=False) or {}
    annotations = alert.get("annotations", dict, required=False) or {}
    state = alert.get("status", str, required=False) or status
    if state not in ("firing", "resolved"):
        raise alert.fail("field 'status' is missing or not 'firing'/'resolved'")
    fingerprint = _fingerprint(alert, labels)
    name = str(labels.get("alertname") or "alert")
    text = tidy(_describe(alert, labels, annotations), limit=1000, one_line=True)
    starts = _start(alert, options)
    started = starts.isoformat() if starts else "start-unknown"
    identity = f"{started}/{_labels_digest(labels)}" if shared else started
    # A resolved alert always says so; without a known end it gives no resolved event.
    opening = "Alert firing" if state == "firing" else "Alert fired (since resolved)"
    moments: list[tuple[str, dt.datetime]] = [("firing", starts)] if starts else []
    ends_raw = alert.get("endsAt", str, required=False)
    if state == "resolved" and ends_raw and not ends_raw.startswith(_NEVER):
        ends = alert.time("endsAt", options.tzinfo)
        assert ends is not None
        moments.append(("resolved", ends))
        opening = "Alert firing"
    elif state == "resolved":
        options.skip("resolved alerts without an end time (no resolved event)")
    for phase, at in moments:
        if not options.in_window(at):
            continue
        firing = phase == "firing"
        yield Evidence(
            event=TimelineEvent(
                at=at,
                text=f"{opening if firing else 'Alert resolved'}: {text}",
                source="alertmanager",
                kind=EventKind.ALERT if firing else EventKind.RESOLUTION,
                provenance=(provenance(origin, f"{alert.where} {fingerprint}".strip()),),
            ),
            key=f"{fingerprint}/{phase}/{identity}",
            subject=name,
            signal=Signal.ALERT_FIRING if firing else Signal.ALERT_RESOLVED,
        )


def _start(alert: Record, options: ImportOptions) -> dt.datetime | None:
    """The alert's start, or None (counted as skipped) when `startsAt` is a zero time: Go's
    0001-01-01 or the Unix epoch, which test notifications (Grafana's "Test" button, receiver
    checks) and some relays send instead of a real start."""
    raw = alert.get("startsAt", str)
    if raw.startswith(_NEVER) or raw.startswith(_EPOCH):
        options.skip(f"alerts whose startsAt is a zero time ({raw[:10]}), so no firing event")
        return None
    return alert.time("startsAt", options.tzinfo)


def payload_evidence(payload: Record, options: ImportOptions, origin: str) -> Iterator[Evidence]:
    """The events of one webhook payload."""
    alerts = payload.get("alerts", list)
    status = payload.get("status", str, required=False)
    records = [
        Record(payload.source, f"{payload.where} alert {index}".strip(), alert)
        for index, alert in enumerate(alerts, start=1)
    ]
    shared = _shared_identities(records, options)
    for record in records:
        yield from alert_evidence(
            record, status, options, origin, shared=_identity(record, options) in shared
        )


def _identity(alert: Record, options: ImportOptions) -> tuple[str, dt.datetime | str] | None:
    """(fingerprint, start) of an alert, leniently: None for a record alert_evidence refuses."""
    try:
        labels = alert.get("labels", dict, required=False) or {}
        starts = alert.time("startsAt", options.tzinfo)
        return _fingerprint(alert, labels), starts or ""
    except EvidenceError:
        return None


def _shared_identities(
    records: list[Record], options: ImportOptions
) -> set[tuple[str, dt.datetime | str]]:
    """The (fingerprint, start) pairs that more than one set of labels claims in a payload."""
    labels_of: defaultdict[tuple[str, dt.datetime | str], set[str]] = defaultdict(set)
    for record in records:
        identity = _identity(record, options)
        if identity is not None:
            labels = record.data.get("labels") if isinstance(record.data, dict) else None
            labels_of[identity].add(_labels_digest(labels if isinstance(labels, dict) else {}))
    return {identity for identity, digests in labels_of.items() if len(digests) > 1}


class AlertmanagerImporter:
    """Alerts from Alertmanager webhook payloads."""

    kind = "alertmanager"
    title = "Prometheus Alertmanager"
    icon = "🚨"
    accepts = (
        "Alertmanager webhook payloads (JSON; one, an array, one per line, or several one "
        "after another)"
    )

    def read(
        self, source: Source, options: ImportOptions, progress: Progress
    ) -> Iterator[Evidence]:
        """Yield the firing and resolved events of every alert."""
        for record in each_document(source, progress):
            yield from payload_evidence(record, options, record.source)


IMPORTER = AlertmanagerImporter()
