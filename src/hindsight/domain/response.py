"""Response evaluation: how the incident was found and handled, and what we make of it."""

from __future__ import annotations

from enum import StrEnum

from pydantic.dataclasses import dataclass

from hindsight.domain.base import DOMAIN_CONFIG
from hindsight.domain.text import clean_items, clean_prose


class DetectionMethod(StrEnum):
    """How the team first learned of the incident."""

    AUTOMATED_ALERT = "automated_alert"
    MONITORING_DASHBOARD = "monitoring_dashboard"
    CUSTOMER_REPORT = "customer_report"
    EMPLOYEE_REPORT = "employee_report"
    THIRD_PARTY = "third_party"
    OTHER = "other"


@dataclass(config=DOMAIN_CONFIG)
class ResponseEvaluation:
    """What went well, wrong and lucky; communications; the teams that took part."""

    detection_method: DetectionMethod | None = None
    detection_notes: str = ""
    went_well: tuple[str, ...] = ()
    went_wrong: tuple[str, ...] = ()
    got_lucky: tuple[str, ...] = ()
    communications: str = ""
    teams: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "detection_notes", clean_prose(self.detection_notes, "notes"))
        object.__setattr__(self, "communications", clean_prose(self.communications, "comms"))
        for name in ("went_well", "went_wrong", "got_lucky", "teams"):
            object.__setattr__(self, name, clean_items(getattr(self, name), name))
