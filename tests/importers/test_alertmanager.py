"""Alertmanager semantics the golden files do not show on their own: status against times."""

from __future__ import annotations

import json

from hindsight.domain.evidence import Signal
from hindsight.importers.base import ImportOptions, NoProgress, Source
from hindsight.importers.registry import read_all


def _payload(*alerts: dict[str, object]) -> bytes:
    return json.dumps({"version": "4", "status": "resolved", "alerts": list(alerts)}).encode()


def _alert(**fields: object) -> dict[str, object]:
    return {
        "status": "resolved",
        "labels": {"alertname": "DiskFull", "instance": "db-1"},
        "startsAt": "2024-03-05T09:04:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": "a1b2c3d4e5f60718",
        **fields,
    }


def test_a_resolved_alert_with_a_zero_end_time_is_not_shown_as_firing() -> None:
    options = ImportOptions()
    found = read_all(
        "alertmanager", Source.from_bytes("am.json", _payload(_alert())), options, NoProgress()
    )
    (fired,) = found
    assert fired.event.text.startswith("Alert fired (since resolved): DiskFull")
    assert "Alert firing" not in fired.event.text
    assert fired.signal is Signal.ALERT_FIRING  # it did fire then: still a sign of impact
    assert options.skipped == {"resolved alerts without an end time (no resolved event)": 1}


def test_a_firing_alert_with_a_zero_end_time_is_still_firing() -> None:
    body = _payload(_alert(status="firing"))
    (fired,) = read_all(
        "alertmanager", Source.from_bytes("am.json", body), ImportOptions(), NoProgress()
    )
    assert fired.event.text.startswith("Alert firing: DiskFull")


def test_the_alert_status_wins_over_the_payload_status() -> None:
    body = json.dumps(
        {"status": "firing", "alerts": [_alert(endsAt="2024-03-05T09:30:00Z")]}
    ).encode()
    found = read_all(
        "alertmanager", Source.from_bytes("am.json", body), ImportOptions(), NoProgress()
    )
    assert [e.signal for e in found] == [Signal.ALERT_FIRING, Signal.ALERT_RESOLVED]


def test_alerts_sharing_a_fingerprint_and_start_but_not_labels_get_distinct_keys() -> None:
    one = _alert(endsAt="2024-03-05T09:30:00Z")
    two = _alert(
        endsAt="2024-03-05T09:31:00Z", labels={"alertname": "DiskFull", "instance": "db-2"}
    )
    later = _alert(startsAt="2024-03-05T11:00:00Z", endsAt="2024-03-05T11:10:00Z")
    body = _payload(one, two, later)
    found = read_all(
        "alertmanager", Source.from_bytes("am.json", body), ImportOptions(), NoProgress()
    )
    keys = [e.key for e in found]
    assert len(set(keys)) == 6
    # An alert alone with its fingerprint and start keeps the plain key, as imported before.
    assert "a1b2c3d4e5f60718/firing/2024-03-05T11:00:00+00:00" in keys


def test_the_same_alert_repeated_in_one_payload_keeps_one_key() -> None:
    body = _payload(_alert(endsAt="2024-03-05T09:30:00Z"), _alert(endsAt="2024-03-05T09:30:00Z"))
    found = read_all(
        "alertmanager", Source.from_bytes("am.json", body), ImportOptions(), NoProgress()
    )
    assert len({e.key for e in found}) == 2
