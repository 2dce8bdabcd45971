"""Small typed factories for postmortems and stored incidents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from hindsight.domain.codec import postmortem_from_dict
from hindsight.domain.incidents import Postmortem
from hindsight.services.incidents import StoredPostmortem, create_postmortem

T0 = dt.datetime(2024, 3, 5, 9, 0, tzinfo=dt.UTC)


def make_postmortem(**overrides: Any) -> Postmortem:
    """A small valid postmortem with a full set of key moments; fields can be overridden."""
    data: dict[str, Any] = {
        "key": "2024-03-05-checkout-errors",
        "title": "Checkout errors after a config push",
        "severity": "SEV2",
        "summary": "Checkout returned 500s for **42 minutes**.",
        "services": ["checkout"],
        "tags": ["config"],
        "participants": [{"name": "Ana", "role": "incident_commander"}],
        "timeline": [
            {
                "at": T0.isoformat(),
                "text": "Config pushed",
                "kind": "change",
                "key_moment": "impact_started",
            },
            {
                "at": (T0 + dt.timedelta(minutes=4)).isoformat(),
                "text": "Error-rate alert fired",
                "kind": "alert",
                "key_moment": "detected",
                "source": "alertmanager",
            },
            {
                "at": (T0 + dt.timedelta(minutes=9)).isoformat(),
                "text": "Ana acknowledged",
                "kind": "acknowledgement",
                "actor": "Ana",
                "key_moment": "acknowledged",
            },
            {
                "at": (T0 + dt.timedelta(minutes=30)).isoformat(),
                "text": "Config rolled back",
                "kind": "action",
                "key_moment": "mitigated",
            },
            {
                "at": (T0 + dt.timedelta(minutes=42)).isoformat(),
                "text": "Error rate normal",
                "kind": "resolution",
                "key_moment": "resolved",
            },
        ],
        "analysis": {
            "trigger": "A config push with a typo in the payment endpoint.",
            "root_causes": ["Config changes skip the canary stage"],
            "contributing_factors": [{"category": "change", "description": "No config lint"}],
            "five_whys": [{"question": "Why 500s?", "answer": "The endpoint did not resolve"}],
        },
        "impact": {"users_affected": 1200, "failed_requests": 35000, "downtime_minutes": 42.0},
        "response": {"detection_method": "automated_alert", "went_well": ["Fast rollback"]},
        "lessons": ["Config is code"],
        "action_items": [
            {
                "title": "Add config lint to CI",
                "kind": "prevent",
                "owner": "Ana",
                "due": "2024-04-01",
            },
        ],
    }
    data.update(overrides)
    return postmortem_from_dict(data)


def make_incident(session: Session, **overrides: Any) -> StoredPostmortem:
    """Store `make_postmortem(**overrides)`."""
    return create_postmortem(session, postmortem=make_postmortem(**overrides), author="tester")
