"""Metric evidence stored with an incident: import, replace, propose, accept, and who may."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hindsight.cli.main import app
from hindsight.domain.access import Actor, Role
from hindsight.domain.timeline import KeyMoment
from hindsight.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from hindsight.importers.base import Source
from hindsight.services.evidence import evidence_proposals
from hindsight.services.incidents import create_postmortem, get_postmortem, update_postmortem
from hindsight.services.metrics import (
    accept_impact_numbers,
    delete_series,
    impact_report,
    import_metrics,
    list_series,
)
from hindsight.storage.models import EvidenceRow, MetricSeriesRow
from tests.factories import make_postmortem

NAB = Path(__file__).parents[1] / "data" / "metrics" / "ec2_request_latency_system_failure.csv"
LATENCY_SLO = {
    "slo_target_percent": 99.9,
    "slo": {
        "service": "api",
        "objective": "latency",
        "window_days": 30,
        "latency_threshold_ms": 60,
    },
}
OUTSIDER = Actor(id=987_654, username="outsider", display_name="Outsider", role=Role.EDITOR)
READER = Actor(id=987_655, username="reader", display_name="Reader", role=Role.VIEWER)


def _incident(session: Session, **overrides: object) -> str:
    pm = make_postmortem(**{"key": "2014-03-ec2", **overrides})
    create_postmortem(session, postmortem=pm, author="test")
    return pm.key


def _import(session: Session, key: str, actor: Actor | None = None) -> object:
    return import_metrics(
        session, key=key, role="latency", author="t", source=Source.open(NAB), actor=actor
    )


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_imported_series_is_stored_replaced_on_reimport_and_proposes_the_impact_start(
    session: Session,
) -> None:
    key = _incident(session, impact=LATENCY_SLO)
    first = _import(session, key)
    again = _import(session, key)
    assert first.replaced == 0 and again.replaced == 1  # type: ignore[attr-defined]
    (series,) = list_series(session, key=key)
    assert series.raw_count == len(series.points) == 4032 and series.role.value == "latency"
    proposals = {p.moment: p for p in evidence_proposals(session, key=key)}
    start = proposals[KeyMoment.IMPACT_STARTED]
    windows = impact_report(session, key=key).estimate.windows
    assert start.event.at == windows[0].start
    assert "latency above 60 ms" in start.reason
    # One pair of suggestions, not one per import.
    assert _count(session, EvidenceRow) == 2


def test_accepted_numbers_carry_their_source_until_someone_overrides_them(
    session: Session,
) -> None:
    key = _incident(session, impact=LATENCY_SLO)
    _import(session, key)
    stored, numbers = accept_impact_numbers(
        session, key=key, fields=["downtime_minutes", "error_budget_burned_percent"], author="t"
    )
    impact = stored.postmortem.impact
    computed = {n.field: n.value for n in numbers}
    assert impact.downtime_minutes == computed["downtime_minutes"] > 0
    source = impact.source_of("downtime_minutes")
    assert source is not None and "ec2_request_latency_system_failure" in source.origin
    assert "sum of the impact windows" in source.origin
    overridden = update_postmortem(
        session,
        key=key,
        author="t",
        change=lambda pm: dataclasses.replace(
            pm, impact=dataclasses.replace(pm.impact, downtime_minutes=12.0)
        ),
    ).postmortem
    assert overridden.impact.source_of("downtime_minutes") is None
    assert overridden.impact.source_of("error_budget_burned_percent") is not None


def test_accepting_a_field_nothing_computed_names_what_was_computed(session: Session) -> None:
    key = _incident(session, impact=LATENCY_SLO)
    _import(session, key)
    with pytest.raises(
        InvalidInputError, match="users_affected: nothing computed for it; computed: "
    ):
        accept_impact_numbers(session, key=key, fields=["users_affected"], author="t")


def test_a_bad_file_stores_nothing(session: Session, tmp_path: Path) -> None:
    key = _incident(session)
    bad = tmp_path / "latency.csv"
    bad.write_text("timestamp,value\n2024-01-01T00:00:00Z,1\n2024-01-01T00:05:00Z,high\n")
    with pytest.raises(InvalidInputError, match=r"latency\.csv:3: field 'value'"):
        import_metrics(session, key=key, role="latency", author="t", source=Source.open(bad))
    assert _count(session, MetricSeriesRow) == 0 and _count(session, EvidenceRow) == 0


def test_restricted_incidents_series_are_hidden_from_outsiders_and_viewers_cannot_import(
    session: Session,
) -> None:
    key = _incident(session, visibility="restricted")
    _import(session, key)
    for call in (
        lambda: _import(session, key, OUTSIDER),
        lambda: list_series(session, key=key, actor=OUTSIDER),
        lambda: impact_report(session, key=key, actor=OUTSIDER),
        lambda: accept_impact_numbers(session, key=key, fields=None, author="o", actor=OUTSIDER),
    ):
        with pytest.raises(NotFoundError):
            call()
    open_key = _incident(session, key="2014-03-open")
    with pytest.raises(PermissionDeniedError, match="viewers cannot import"):
        _import(session, open_key, READER)


def test_a_series_can_be_removed_and_an_unknown_id_is_not_found(session: Session) -> None:
    key = _incident(session)
    _import(session, key)
    (series,) = list_series(session, key=key)
    with pytest.raises(NotFoundError):
        delete_series(session, key=key, series_id=series.id + 1000, author="t")
    delete_series(session, key=key, series_id=series.id, author="t")
    assert list_series(session, key=key) == []
    assert _count(session, EvidenceRow) == 0  # its proposals went with it
    assert get_postmortem(session, key=key).postmortem.key == key


def test_the_cli_imports_shows_the_formulas_as_json_and_accepts(empty_database_url: str) -> None:
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, ["--database-url", empty_database_url, *args])
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result.stdout + result.stderr

    key = run("new", "--title", "EC2 latency", "--severity", "SEV2", "--date", "2014-03-18").strip()
    run(
        "set",
        key,
        "impact.slo_target_percent=99.9",
        "impact.slo.objective=latency",
        "impact.slo.latency_threshold_ms=60",
        "impact.slo.window_days=30",
    )
    assert "4,032 points" in run("metrics", "import", key, str(NAB), "--role", "latency")
    data = json.loads(run("metrics", "impact", key, "--json"))
    fields = {n["field"]: n for n in data["numbers"]}
    assert {"downtime_minutes", "burn_rate", "error_budget_burned_percent"} <= set(fields)
    assert "43.2 minutes" in fields["error_budget_burned_percent"]["formula"]
    assert "downtime_minutes =" in run("metrics", "accept", key, "downtime_minutes")
    assert "not a series role" in run("metrics", "import", key, str(NAB), "--role", "x", code=1)
    assert "use `hindsight metrics import" in run(
        "import-evidence", key, "metrics", str(NAB), code=2
    )
