"""Impact assessment: how bad it was, in numbers where numbers exist."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import field
from enum import StrEnum

from pydantic.dataclasses import dataclass

from hindsight.domain.base import DOMAIN_CONFIG
from hindsight.domain.text import clean_line, clean_prose
from hindsight.domain.timeline import require_aware

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
    # The last backup known good before the impact: RPO achieved is measured from it.
    last_good_backup_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        numbers = tuple(n for n in self.__dataclass_fields__ if n != "last_good_backup_at")
        _check_non_negative(self, numbers)
        lost, recovered = self.records_lost, self.records_recovered
        if lost is not None and recovered is not None and recovered > lost:
            raise ValueError(f"records_recovered: {recovered} is more than records_lost ({lost})")
        unrecoverable = self.records_unrecoverable
        if lost is not None and unrecoverable is not None and unrecoverable > lost:
            raise ValueError(
                f"records_unrecoverable: {unrecoverable} is more than records_lost ({lost})"
            )
        if (
            lost is not None
            and recovered is not None
            and unrecoverable is not None
            and recovered + unrecoverable != lost
        ):
            raise ValueError(
                f"records_unrecoverable: recovered ({recovered}) + unrecoverable "
                f"({unrecoverable}) must equal records_lost ({lost}); correct one of them"
            )
        if self.last_good_backup_at is not None:
            object.__setattr__(
                self,
                "last_good_backup_at",
                require_aware(self.last_good_backup_at, "last_good_backup_at"),
            )


@dataclass(config=DOMAIN_CONFIG)
class CostLine:
    """One business cost: what it was (refunds, SLA credits, lost sales) and how much."""

    label: str
    amount: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", clean_line(self.label, "label", required=True))
        _check_non_negative(self, ("amount",))


@dataclass(config=DOMAIN_CONFIG)
class Cost:
    """What the incident cost: responder time and business cost in one currency."""

    responder_hours: float | None = None
    business_cost: float | None = None
    currency: str | None = None
    # What an hour of a responder's time costs; responder cost = responder_hours x hourly_cost.
    hourly_cost: float | None = None
    # The business cost broken down; when both are given, business_cost is their sum.
    lines: tuple[CostLine, ...] = ()

    def __post_init__(self) -> None:
        _check_non_negative(self, ("responder_hours", "business_cost", "hourly_cost"))
        if self.currency is not None and not _CURRENCY.match(self.currency):
            raise ValueError(f"currency: {self.currency!r} must be an ISO 4217 code such as USD")
        for name in ("business_cost", "hourly_cost", "lines"):
            if getattr(self, name) not in (None, ()) and self.currency is None:
                raise ValueError(f"currency: is required when {name} is given (e.g. USD)")
        if self.lines and self.business_cost is not None:
            total = sum(line.amount for line in self.lines)
            if abs(total - self.business_cost) > 0.005:
                raise ValueError(
                    f"business_cost: {self.business_cost:g} differs from the sum of the cost "
                    f"lines ({total:g}); leave business_cost empty or make them agree"
                )


class SloObjective(StrEnum):
    """What the SLO counts as good: requests that succeed, or requests under a latency."""

    AVAILABILITY = "availability"
    LATENCY = "latency"


@dataclass(config=DOMAIN_CONFIG)
class Slo:
    """The affected service's objective; its target is `Impact.slo_target_percent`.

    Availability: good / total requests. Latency: the share of time the latency series stays at
    or under `latency_threshold_ms`. The budget is (100 - target)% of `window_days`.
    """

    service: str = ""
    objective: SloObjective | None = None
    window_days: float | None = None
    latency_threshold_ms: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "service", clean_line(self.service, "service"))
        _check_non_negative(self, ("window_days", "latency_threshold_ms"))
        if self.window_days is not None and not 0 < self.window_days <= 366:
            raise ValueError(f"window_days: {self.window_days:g} must be above 0 and at most 366")
        if self.objective is SloObjective.LATENCY and self.latency_threshold_ms is None:
            raise ValueError(
                "latency_threshold_ms: a latency SLO needs its threshold (e.g. 300 for 300 ms)"
            )


@dataclass(config=DOMAIN_CONFIG)
class NumberSource:
    """Where an impact number came from when it was computed: the value accepted, and the
    series and time range it was computed from. A later edit by hand leaves it here, and the
    value then differs, which is how reports tell a computed number from an overridden one."""

    field: str
    value: float
    origin: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "field", clean_line(self.field, "field", required=True))
        object.__setattr__(self, "origin", clean_line(self.origin, "origin", max_length=1000))


@dataclass(config=DOMAIN_CONFIG)
class Impact:
    """Who and what was affected. The impact window is derived from the key moments."""

    users_affected: int | None = None
    failed_requests: int | None = None
    downtime_minutes: float | None = None
    slo_target_percent: float | None = None
    error_budget_burned_percent: float | None = None
    # How fast the budget burned during the impact: 1 spends it exactly over the SLO window.
    burn_rate: float | None = None
    support_tickets: int | None = None
    data_loss: DataLoss = field(default_factory=DataLoss)
    cost: Cost = field(default_factory=Cost)
    narrative: str = ""
    slo: Slo = field(default_factory=Slo)
    sources: tuple[NumberSource, ...] = ()

    def __post_init__(self) -> None:
        numbers = (
            "users_affected",
            "failed_requests",
            "downtime_minutes",
            "slo_target_percent",
            "error_budget_burned_percent",
            "burn_rate",
            "support_tickets",
        )
        _check_non_negative(self, numbers)
        if self.slo_target_percent is not None and not 0 < self.slo_target_percent <= 100:
            raise ValueError(
                f"slo_target_percent: {self.slo_target_percent} must be above 0 and at most 100"
            )
        object.__setattr__(self, "narrative", clean_prose(self.narrative, "narrative"))
        if self.slo.objective is not None and self.slo_target_percent is None:
            raise ValueError("slo_target_percent: an SLO needs its target (e.g. 99.9 for 99.9%)")

    def source_of(self, name: str) -> NumberSource | None:
        """How the number `name` ('downtime_minutes', 'cost.responder_hours') was computed,
        if it was and still holds the computed value; None for a number entered by hand."""
        for source in self.sources:
            if source.field == name:
                value = self.value_of(name)
                if value is not None and abs(float(value) - source.value) <= 1e-6 * max(
                    1.0, abs(source.value)
                ):
                    return source
        return None

    def value_of(self, name: str) -> float | int | None:
        """The number at the dotted path `name` in this part."""
        value: object = self
        for part in name.split("."):
            value = getattr(value, part, None)
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None
