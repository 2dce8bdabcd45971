"""Key-moment proposals from evidence that covers several incidents warn instead of giving
durations of years (issue 13: a PagerDuty folder gave "Time to acknowledge: 2308d")."""

from __future__ import annotations

from pathlib import Path

from hindsight.analysis.evidence import (
    Candidate,
    proposal_span_warning,
    propose_key_moments,
    proposed_metrics,
)
from hindsight.domain.evidence import Evidence
from hindsight.importers.base import EvidenceError, ImportOptions, NoProgress, Source
from hindsight.importers.registry import read_all

DATA = Path(__file__).parent.parent / "data"


def _candidates(kind: str, paths: list[Path]) -> list[Candidate]:
    found: list[Evidence] = []
    for path in paths:
        try:
            found += read_all(kind, Source.open(path), ImportOptions(), NoProgress())
        except EvidenceError:
            continue  # fragments without times (Events API acknowledge/resolve) are refused
    return [Candidate(str(n), e.event, e.signal, e.subject, kind) for n, e in enumerate(found)]


def test_proposals_from_a_pagerduty_folder_of_years_warn_and_give_no_durations() -> None:
    # The PagerDuty documentation examples: incidents from 2015 and from 2017.
    proposals = propose_key_moments(
        _candidates("pagerduty", sorted((DATA / "pagerduty").glob("*.json")))
    )
    warning = proposal_span_warning(proposals)
    assert warning.startswith("the proposed moments lie 802 days apart (detected 2015-07-17")
    assert "--since/--until" in warning
    assert all(value is None for _label, value in proposed_metrics(proposals).rows())


def test_proposals_of_one_incident_give_their_durations_without_a_warning() -> None:
    proposals = propose_key_moments(
        _candidates("alertmanager", [DATA / "alertmanager" / "all_ok.json"])
    )
    assert proposals and proposal_span_warning(proposals) == ""
    assert any(value is not None for _label, value in proposed_metrics(proposals).rows())
