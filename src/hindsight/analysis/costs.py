"""Data loss and cost computed from the postmortem, each number with its formula.

- RPO achieved = impact started - last good backup (the data written since the backup is what
  a restore loses);
- RTO achieved = mitigated (or resolved) - impact started (how long the service was down);
- unrecoverable records = lost - recovered;
- a responder's time = their first to their last timeline event (events whose actor is the
  participant's name); responder hours = the sum over participants, unless given by hand;
- responder cost = responder hours x hourly cost; business cost = the sum of the cost lines (or
  the business cost given); total = responder cost + business cost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hindsight.analysis.impact import ComputedNumber
from hindsight.domain.incidents import Postmortem
from hindsight.domain.timeline import KeyMoment


def _minutes(delta: dt.timedelta) -> float:
    return round(delta.total_seconds() / 60, 2)


def compute_data_loss(pm: Postmortem) -> list[ComputedNumber]:
    """RPO and RTO achieved and unrecoverable records, where their inputs are there."""
    loss, moments = pm.impact.data_loss, pm.key_moments()
    start = moments.get(KeyMoment.IMPACT_STARTED)
    end = moments.get(KeyMoment.MITIGATED) or moments.get(KeyMoment.RESOLVED)
    numbers = []
    if start is not None and loss.last_good_backup_at is not None:
        numbers.append(
            ComputedNumber(
                "data_loss.rpo_achieved_minutes",
                "RPO achieved (minutes)",
                _minutes(start.at - loss.last_good_backup_at),
                f"impact started {start.at:%Y-%m-%d %H:%M} - last good backup "
                f"{loss.last_good_backup_at:%Y-%m-%d %H:%M} UTC",
                "the key moments and the last good backup time",
            )
        )
    if start is not None and end is not None:
        moment = "mitigated" if end.key_moment is KeyMoment.MITIGATED else "resolved"
        numbers.append(
            ComputedNumber(
                "data_loss.rto_achieved_minutes",
                "RTO achieved (minutes)",
                _minutes(end.at - start.at),
                f"{moment} {end.at:%H:%M} - impact started {start.at:%H:%M} UTC",
                "the key moments",
            )
        )
    if loss.records_lost is not None and loss.records_recovered is not None:
        numbers.append(
            ComputedNumber(
                "data_loss.records_unrecoverable",
                "Records unrecoverable",
                loss.records_lost - loss.records_recovered,
                f"lost {loss.records_lost:,} - recovered {loss.records_recovered:,}",
                "the data-loss figures",
            )
        )
    return numbers


@dataclass(frozen=True)
class ResponderTime:
    """One participant's time in the incident, from the timeline."""

    name: str
    first: dt.datetime | None
    last: dt.datetime | None

    @property
    def hours(self) -> float:
        """First to last event, in hours (0 with fewer than two events)."""
        if self.first is None or self.last is None:
            return 0.0
        return (self.last - self.first).total_seconds() / 3600


@dataclass(frozen=True)
class CostBreakdown:
    """The cost, its parts and the formula of the total."""

    responders: tuple[ResponderTime, ...]
    responder_hours: float | None
    hours_basis: str
    responder_cost: float | None
    business_cost: float | None
    total: float | None
    formula: str
    currency: str


def responder_times(pm: Postmortem) -> list[ResponderTime]:
    """Each participant's first and last timeline event (by actor name, case-insensitive)."""
    times = []
    for person in pm.participants:
        seen = [e.at for e in pm.timeline if e.actor.casefold() == person.name.casefold()]
        times.append(ResponderTime(person.name, min(seen, default=None), max(seen, default=None)))
    return times


def compute_cost(pm: Postmortem) -> CostBreakdown:
    """Responder hours (given, or from the timeline), their cost, business cost, and total."""
    cost = pm.impact.cost
    times = responder_times(pm)
    if cost.responder_hours is not None:
        hours: float | None = cost.responder_hours
        basis = "given by hand"
    elif any(t.hours > 0 for t in times):
        hours = round(sum(t.hours for t in times), 2)
        basis = "sum of each participant's first to last timeline event"
    else:
        hours, basis = None, "no participant has two timeline events; give the hours"
    responder = (
        round(hours * cost.hourly_cost, 2)
        if hours is not None and cost.hourly_cost is not None
        else None
    )
    business = (
        round(sum(line.amount for line in cost.lines), 2) if cost.lines else cost.business_cost
    )
    parts, terms = [], []
    if responder is not None and hours is not None and cost.hourly_cost is not None:
        parts.append(responder)
        terms.append(f"{hours:g} h x {cost.hourly_cost:g} = {responder:,.2f}")
    if business is not None:
        parts.append(business)
        lines = " + ".join(f"{line.label} {line.amount:,.2f}" for line in cost.lines)
        terms.append(f"business {lines or f'{business:,.2f}'}")
    total = round(sum(parts), 2) if parts else None
    formula = " + ".join(terms) + (f" = {total:,.2f}" if total is not None else "")
    return CostBreakdown(
        tuple(times),
        hours,
        basis,
        responder,
        business,
        total,
        formula,
        cost.currency or "",
    )


def cost_numbers(pm: Postmortem) -> list[ComputedNumber]:
    """The responder hours computed from the timeline, as a number that can be accepted."""
    breakdown = compute_cost(pm)
    if pm.impact.cost.responder_hours is not None or breakdown.responder_hours is None:
        return []
    spans = [t for t in breakdown.responders if t.hours > 0]
    return [
        ComputedNumber(
            "cost.responder_hours",
            "Responder hours",
            breakdown.responder_hours,
            " + ".join(f"{t.name} {t.hours:.2f} h" for t in spans),
            "each participant's first to last timeline event",
        )
    ]
