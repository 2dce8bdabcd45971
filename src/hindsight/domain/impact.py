"""Impact assessment: how bad it was, in numbers where numbers exist."""

from __future__ import annotations

import math
import re
from dataclasses import field

from pydantic.dataclasses import dataclass

from hindsight.domain.base import DOMAIN_CONFIG
from hindsight.domain.text import clean_prose

_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _check_non_negative(owner: object, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(owner, name)
        if value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{name}: must be a finite number")
        if value < 0:
            raise ValueError(f"{name}: must be zero or more, not {value}")


@dataclass(config=DOMAIN_CONFIG)
class DataLoss:
    """Records lost and recovered, and recovery objectives (minutes) against what was achieved."""

    records_lost: int | None = None
    records_recovered: int | None = None
    records_unrecoverable: int | None = None
    rpo_target_minutes: float | None = None
    rpo_achieved_minutes: float | None = None
    rto_target_minutes: float | None = None
    rto_achieved_minutes: float | None = None

    def __post_init__(self) -> None:
        _check_non_negative(self, tuple(self.__dataclass_fields__))
        lost, recovered = self.records_lost, self.records_recovered
        if lost is not None and recovered is not None and recovered > lost:
            raise ValueError(f"records_recovered: {recovered} is more than records_lost ({lost})")


@dataclass(config=DOMAIN_CONFIG)
class Cost:
    """What the incident cost: responder time and business cost in one currency."""

    responder_hours: float | None = None
    business_cost: float | None = None
    currency: str | None = None

    def __post_init__(self) -> None:
        _check_non_negative(self, ("responder_hours", "business_cost"))
        if self.currency is not None and not _CURRENCY.match(self.currency):
            raise ValueError(f"currency: {self.currency!r} must be an ISO 4217 code such as USD")
        if self.business_cost is not None and self.currency is None:
            raise ValueError("currency: is required when business_cost is given (e.g. USD)")


@dataclass(config=DOMAIN_CONFIG)
class Impact:
    """Who and what was affected. The impact window is derived from the key moments."""

    users_affected: int | None = None
    failed_requests: int | None = None
    downtime_minutes: float | None = None
    slo_target_percent: float | None = None
    error_budget_burned_percent: float | None = None
    support_tickets: int | None = None
    data_loss: DataLoss = field(default_factory=DataLoss)
    cost: Cost = field(default_factory=Cost)
    narrative: str = ""

    def __post_init__(self) -> None:
        numbers = (
            "users_affected",
            "failed_requests",
            "downtime_minutes",
            "slo_target_percent",
            "error_budget_burned_percent",
            "support_tickets",
        )
        _check_non_negative(self, numbers)
        if self.slo_target_percent is not None and not 0 < self.slo_target_percent <= 100:
            raise ValueError(
                f"slo_target_percent: {self.slo_target_percent} must be above 0 and at most 100"
            )
        object.__setattr__(self, "narrative", clean_prose(self.narrative, "narrative"))
