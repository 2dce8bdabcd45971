"""Evidence import through the service, on SQLite and PostgreSQL: suggestions, merging across
tools, idempotent re-import, all-or-nothing, acceptance, key-moment proposals, live hooks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hindsight.domain.codec import InvalidPostmortemError
from hindsight.domain.evidence import SuggestionState
from hindsight.domain.incidents import Postmortem
from hindsight.domain.timeline import KeyMoment
from hindsight.errors import PermissionDeniedError
from hindsight.importers.base import EvidenceError, ImportOptions, Source
from hindsight.services.demo import load_demo
from hindsight.services.evidence import (
    accept_evidence,
    apply_proposal,
    dismiss_evidence,
    evidence_proposals,
    list_evidence,
)
from hindsight.services.imports import (
    create_hook_token,
    import_evidence,
    receive_hook,
)
from hindsight.services.incidents import get_postmortem, list_revisions, update_postmortem
from hindsight.storage.models import EvidenceImportRow, EvidenceRow, IncidentRow
from tests.factories import make_incident

DATA = Path(__file__).parent.parent / "data"
DEMO = "2018-01-18-reddit-hugs-mybinder"
KEY = "2024-03-05-checkout-errors"
PST = ZoneInfo("America/Los_Angeles")
GIT = DATA / "git" / "mybinder.org-deploy.first-parent.2018-01.jsonl"
PD = DATA / "pagerduty"


def _import(session: Session, kind: str, path: Path, key: str = KEY, **options: object):
    return import_evidence(
        session,
        key=key,
        kind=kind,
        source=Source.open(path),
        options=ImportOptions(**options),
        author="tester",
    )  # type: ignore[arg-type]


def _rows(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(EvidenceRow)) or 0)


def test_the_reddit_hug_deploy_is_rebuilt_from_the_git_history_at_the_reported_time(
    session: Session,
) -> None:
    load_demo(session, author="tester")
    day = dt.datetime(2018, 1, 18, tzinfo=PST)
    summary = _import(
        session,
        "git",
        GIT,
        key=DEMO,
        since=day,
        until=day + dt.timedelta(days=1),
        zone="America/Los_Angeles",
    )
    assert len(summary.added) == 1
    deploy = summary.added[0].event
    assert "#287 from jupyterhub/staging" in deploy.text and "config/prod.yaml" in deploy.text
    assert deploy.at.astimezone(PST).strftime("%H:%M") == "06:53"
    assert deploy.zone == "+01:00"  # the committer's zone, as written in the history
    assert str(deploy.provenance[0]).endswith("line 4, commit 9a3ac02521f0")
    report = get_postmortem(session, key=DEMO).postmortem.timeline
    decision = next(e for e in report if "ingress replicas from five to ten" in e.text)
    assert abs(deploy.at - decision.at) <= dt.timedelta(minutes=2)

    stored, accepted = accept_evidence(session, key=DEMO, ids=None, author="tester")
    assert accepted == 1
    assert deploy in [replace(e, id="") for e in stored.postmortem.timeline if e.source == "git"]
    assert list_revisions(session, key=DEMO)[-1].action == "accept evidence"


def test_re_importing_the_same_file_adds_nothing(session: Session) -> None:
    make_incident(session)
    first = _import(session, "git", GIT)
    again = _import(session, "git", GIT)
    assert len(first.added) == 20
    assert again.added == [] and again.skipped == {"already imported": 20}
    assert _rows(session) == 20


def test_the_same_alert_from_two_tools_is_merged_with_both_provenances(
    session: Session, tmp_path: Path
) -> None:
    make_incident(session)
    _import(session, "alertmanager", DATA / "alertmanager" / "prom_post_request.json")
    csv = tmp_path / "pager.csv"
    csv.write_text(
        "time,text,kind\n2018-03-07T11:33:50Z,high_memory_load: Server High Memory usage,alert\n"
    )
    summary = _import(session, "generic", csv)
    assert summary.merged == 1 and summary.added == []
    (suggestion,) = list_evidence(session, key=KEY)
    origins = [p.origin for p in suggestion.event.provenance]
    assert any(o.endswith("prom_post_request.json") for o in origins)
    assert any(o.endswith("pager.csv") for o in origins)


def test_an_import_with_one_bad_file_writes_nothing(session: Session, tmp_path: Path) -> None:
    make_incident(session)
    folder = tmp_path / "payloads"
    folder.mkdir()
    shutil.copy(DATA / "alertmanager" / "all_ok.json", folder / "a.json")
    (folder / "b.json").write_text('{"alerts": [{"status": "firing", "startsAt": "soon"}]}')
    with pytest.raises(EvidenceError) as caught:
        _import(session, "alertmanager", folder)
    assert "b.json: alert 1: field 'startsAt': 'soon' is not an ISO 8601 time" in str(caught.value)
    assert _rows(session) == 0
    assert session.scalar(select(func.count()).select_from(EvidenceImportRow)) == 0


def test_a_file_with_no_events_in_the_window_is_refused_with_the_reason(session: Session) -> None:
    make_incident(session)
    since = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(
        EvidenceError,
        match=r"no git events found in the time window "
        r"\(skipped: 20 outside the time window\)",
    ):
        _import(session, "git", GIT, since=since)


def test_dismissed_events_stay_dismissed_after_a_re_import(session: Session) -> None:
    make_incident(session)
    summary = _import(session, "git", GIT)
    assert dismiss_evidence(session, key=KEY, ids=[summary.added[0].id]) == 1
    _import(session, "git", GIT)
    assert len(list_evidence(session, key=KEY)) == 19
    dismissed = list_evidence(session, key=KEY, states=[SuggestionState.DISMISSED])
    assert [d.id for d in dismissed] == [summary.added[0].id]


def test_a_preview_writes_nothing(session: Session) -> None:
    make_incident(session)
    preview = import_evidence(
        session,
        key=KEY,
        kind="git",
        source=Source.open(GIT),
        options=ImportOptions(),
        author="tester",
        preview=True,
    )
    assert len(preview.added) == 20
    assert _rows(session) == 0


def test_key_moments_are_proposed_from_pages_acknowledgements_and_resolves(
    session: Session,
) -> None:
    make_incident(session, timeline=[])
    for name in (
        "webhooks-v2_01_incident.trigger.json",
        "webhooks-v2_02_incident.acknowledge.json",
        "webhooks-v2_03_incident.resolve.json",
    ):
        _import(session, "pagerduty", PD / name)
    proposals = {p.moment: p for p in evidence_proposals(session, key=KEY)}
    assert set(proposals) == {KeyMoment.DETECTED, KeyMoment.ACKNOWLEDGED, KeyMoment.RESOLVED}
    assert proposals[KeyMoment.ACKNOWLEDGED].reason == (
        "the first acknowledgement by Laura Haley (pagerduty)"
    )
    assert proposals[KeyMoment.DETECTED].event.at == dt.datetime(
        2017, 9, 26, 15, 14, 36, tzinfo=dt.UTC
    )
    ack = proposals[KeyMoment.ACKNOWLEDGED]
    stored = apply_proposal(
        session,
        key=KEY,
        moment=KeyMoment.ACKNOWLEDGED,
        evidence_id=int(ack.ref.split(":")[1]),
        author="tester",
    )
    marked = stored.postmortem.key_moments()[KeyMoment.ACKNOWLEDGED]
    assert marked.text.startswith("Acknowledged by Laura Haley")


def test_a_proposal_that_breaks_the_key_moment_order_is_refused_with_the_reason(
    session: Session,
) -> None:
    make_incident(session)  # its key moments are in 2024; this acknowledgement is from 2017
    _import(session, "pagerduty", PD / "webhooks-v2_02_incident.acknowledge.json")
    (ack,) = list_evidence(session, key=KEY)
    with pytest.raises(InvalidPostmortemError, match=r"'acknowledged' .* before 'impact started'"):
        apply_proposal(
            session, key=KEY, moment=KeyMoment.ACKNOWLEDGED, evidence_id=ack.id, author="tester"
        )


def test_alertmanager_posts_live_with_the_incident_token_and_repeats_are_harmless(
    session: Session,
) -> None:
    make_incident(session)
    token = create_hook_token(session, key=KEY, author="tester")
    body = (DATA / "alertmanager" / "prom_post_request_2_alerts.json").read_bytes()
    first = receive_hook(session, key=KEY, token=token, kind="alertmanager", body=body)
    again = receive_hook(session, key=KEY, token=token, kind="alertmanager", body=body)
    assert len(first.added) == 2 and again.added == []
    with pytest.raises(PermissionDeniedError):
        receive_hook(session, key=KEY, token=token + "x", kind="alertmanager", body=body)
    newer = create_hook_token(session, key=KEY, author="tester")
    with pytest.raises(PermissionDeniedError):
        receive_hook(session, key=KEY, token=token, kind="alertmanager", body=body)
    assert receive_hook(session, key=KEY, token=newer, kind="alertmanager", body=body).added == []


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.binary(max_size=400), kind=st.sampled_from(["alertmanager", "pagerduty", "generic"]))
def test_an_import_of_arbitrary_bytes_either_succeeds_or_writes_nothing(
    session: Session, data: bytes, kind: str
) -> None:
    if session.scalar(select(func.count()).select_from(IncidentRow)) == 0:
        make_incident(session)
    before = _rows(session), session.scalar(select(func.count()).select_from(EvidenceImportRow))
    try:
        import_evidence(
            session,
            key=KEY,
            kind=kind,
            source=Source.from_bytes("body.json", data),
            options=ImportOptions(),
            author="fuzz",
        )
    except EvidenceError as error:
        assert str(error).startswith("body.json")
        after = _rows(session), session.scalar(select(func.count()).select_from(EvidenceImportRow))
        assert after == before


def test_two_alerts_sharing_a_fingerprint_in_one_payload_are_both_imported_on_a_first_import(
    session: Session,
) -> None:
    make_incident(session)
    # Both alerts of this payload carry fingerprint dd19ae3d4e06ac55 and start at 07:01:37.803.
    first = _import(session, "alertmanager", DATA / "alertmanager" / "all_ok_multiple.json")
    assert len(first.added) == 4 and first.skipped == {}
    texts = sorted(s.event.text for s in first.added)
    assert sum("CS30" in t for t in texts) == 2 and sum("CS31" in t for t in texts) == 2
    again = _import(session, "alertmanager", DATA / "alertmanager" / "all_ok_multiple.json")
    assert again.added == [] and again.skipped == {"already imported": 4}


def test_an_alert_delivered_twice_in_one_import_is_counted_as_repeated_not_already_imported(
    session: Session, tmp_path: Path
) -> None:
    make_incident(session)
    payload = (DATA / "alertmanager" / "all_ok.json").read_text()
    lines = tmp_path / "deliveries.jsonl"
    lines.write_text(" ".join(payload.split()) + "\n" + " ".join(payload.split()) + "\n")
    summary = _import(session, "alertmanager", lines)
    assert len(summary.added) == 2
    assert summary.skipped == {"repeated within this import": 2}


def test_a_proposal_disappears_when_its_event_is_removed_from_the_timeline(
    session: Session,
) -> None:
    make_incident(session, timeline=[])
    for name in (
        "webhooks-v2_01_incident.trigger.json",
        "webhooks-v2_02_incident.acknowledge.json",
    ):
        _import(session, "pagerduty", PD / name)
    accept_evidence(session, key=KEY, ids=None, author="tester")
    assert KeyMoment.ACKNOWLEDGED in {p.moment for p in evidence_proposals(session, key=KEY)}

    def remove_acknowledgement(postmortem: Postmortem) -> Postmortem:
        kept = tuple(e for e in postmortem.timeline if not e.text.startswith("Acknowledged"))
        return dataclasses.replace(postmortem, timeline=kept)

    update_postmortem(session, key=KEY, change=remove_acknowledgement, author="tester")
    proposals = evidence_proposals(session, key=KEY)
    assert KeyMoment.ACKNOWLEDGED not in {p.moment for p in proposals}
    assert KeyMoment.DETECTED in {p.moment for p in proposals}  # its event is still there


def test_mark_says_which_moment_it_replaces_and_resolved_sets_the_incident_status(
    session: Session,
) -> None:
    """Issue 9, finding 3: "Mark" moved a moment silently and left the incident investigating."""
    earlier = {"at": "2017-09-26T15:00:00Z", "text": "Looked fine", "key_moment": "resolved"}
    make_incident(session, timeline=[earlier], status="investigating")
    _import(session, "pagerduty", PD / "webhooks-v2_03_incident.resolve.json")
    (resolve,) = list_evidence(session, key=KEY)
    accept_evidence(session, key=KEY, ids=[resolve.id], author="tester")
    stored = apply_proposal(
        session, key=KEY, moment=KeyMoment.RESOLVED, evidence_id=resolve.id, author="tester"
    )
    assert stored.postmortem.status == "resolved"
    assert stored.postmortem.key_moments()[KeyMoment.RESOLVED].text.startswith("Resolved by")
    note = list_revisions(session, key=KEY)[-1].note
    assert note == (
        "resolved from evidence, replacing 'Looked fine' at 2017-09-26 15:00 UTC "
        "(moved 18m 9s later); incident status investigating → resolved"
    )
