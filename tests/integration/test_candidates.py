"""Root-cause candidates through the service, on SQLite and PostgreSQL: ranked from imported
evidence, taken into the analysis as a revision with provenance, and only for those who may
see the incident."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from hindsight.domain.access import Role
from hindsight.errors import InvalidInputError, NotFoundError
from hindsight.importers.base import ImportOptions, Source
from hindsight.services.accounts import create_user
from hindsight.services.candidates import accept_candidate, report_json, root_cause_candidates
from hindsight.services.demo import load_demo
from hindsight.services.imports import import_evidence
from hindsight.services.incidents import create_postmortem, get_postmortem, list_revisions
from tests.factories import make_postmortem

DEMO = "2018-01-18-reddit-hugs-mybinder"
GIT = (
    Path(__file__).parent.parent / "data" / "git" / "mybinder.org-deploy.first-parent.2018-01.jsonl"
)


def with_git_evidence(session: Session) -> None:
    """The demo incident with the mybinder deploy repository's history imported as evidence."""
    load_demo(session, author="demo")
    import_evidence(
        session,
        key=DEMO,
        kind="git",
        source=Source.open(GIT),
        options=ImportOptions(),
        author="ana",
    )


def test_the_reddit_hug_ranks_the_ingress_merge_first_against_the_marked_impact_start(
    session: Session,
) -> None:
    with_git_evidence(session)
    report = root_cause_candidates(session, key=DEMO)
    assert report.basis == "the marked 'impact started' moment"
    assert "Merge pull request #287" in report.candidates[0].event.text
    data = report_json(report)
    assert data["candidates"][0]["rank"] == 1  # type: ignore[index]
    assert data["candidates"][0]["factors"][0] == {  # type: ignore[index]
        "name": "kind",
        "points": 1.0,
        "reason": "a change event",
    }


def test_a_candidate_becomes_a_contributing_factor_with_its_provenance_in_one_revision(
    session: Session,
) -> None:
    with_git_evidence(session)
    ref = root_cause_candidates(session, key=DEMO).candidates[0].ref
    before = len(list_revisions(session, key=DEMO))
    stored = accept_candidate(session, key=DEMO, ref=ref, as_="factor", author="ana")
    factor = stored.postmortem.analysis.contributing_factors[-1]
    assert factor.category == "change"
    assert "Merge pull request #287" in factor.description
    assert "mybinder.org-deploy.first-parent.2018-01.jsonl#line 4" in factor.description
    revisions = list_revisions(session, key=DEMO)
    assert len(revisions) == before + 1
    assert revisions[-1].author == "ana" and ref in revisions[-1].note
    # Twice is once.
    again = accept_candidate(session, key=DEMO, ref=ref, as_="factor", author="ana")
    assert again.version == stored.version


def test_accepting_as_trigger_never_overwrites_a_written_trigger(session: Session) -> None:
    with_git_evidence(session)
    ref = root_cause_candidates(session, key=DEMO).candidates[0].ref
    written = get_postmortem(session, key=DEMO).postmortem.analysis.trigger
    with pytest.raises(InvalidInputError, match="the trigger is already written"):
        accept_candidate(session, key=DEMO, ref=ref, as_="trigger", author="ana")
    assert get_postmortem(session, key=DEMO).postmortem.analysis.trigger == written


def test_a_trigger_is_set_from_a_candidate_when_none_is_written(session: Session) -> None:
    create_postmortem(session, postmortem=make_postmortem(analysis={}), author="ana")
    key = "2024-03-05-checkout-errors"
    report = root_cause_candidates(session, key=key)
    (pushed,) = [c for c in report.candidates if c.event.text == "Config pushed"]
    stored = accept_candidate(session, key=key, ref=pushed.ref, as_="trigger", author="ana")
    assert stored.postmortem.analysis.trigger.startswith("Config pushed (2024-03-05 09:00 UTC")


def test_an_unknown_candidate_is_named(session: Session) -> None:
    with_git_evidence(session)
    with pytest.raises(InvalidInputError, match="no root-cause candidate 'evidence:999999'"):
        accept_candidate(session, key=DEMO, ref="evidence:999999", as_="factor", author="ana")


def test_candidates_of_a_restricted_incident_are_hidden_from_an_outsider(session: Session) -> None:
    owner = create_user(
        session, username="owner", password="correct horse battery", role=Role.EDITOR
    )
    outsider = create_user(
        session, username="outsider", password="correct horse battery", role=Role.EDITOR
    )
    secret = make_postmortem(key="secret-breach", visibility="restricted")
    create_postmortem(session, postmortem=secret, author="owner", actor=owner)
    assert root_cause_candidates(session, key="secret-breach", actor=owner).candidates
    with pytest.raises(NotFoundError, match="no incident with key 'secret-breach'"):
        root_cause_candidates(session, key="secret-breach", actor=outsider)
    with pytest.raises(NotFoundError):
        accept_candidate(
            session, key="secret-breach", ref="timeline:x", as_="factor", author="o", actor=outsider
        )
