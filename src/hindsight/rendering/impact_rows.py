"""The impact part as rows for reports: each number with how it was found (its formula and
the series and time it was computed from, or "entered by hand"), and the cost total with its
formula."""

from __future__ import annotations

from dataclasses import dataclass

from hindsight.analysis.costs import compute_cost, compute_data_loss
from hindsight.domain.incidents import Postmortem

NUMBERS = (
    ("users_affected", "Users affected", ""),
    ("failed_requests", "Failed requests", ""),
    ("downtime_minutes", "Downtime", " minutes"),
    ("slo_target_percent", "SLO target", "%"),
    ("error_budget_burned_percent", "Error budget consumed", "%"),
    ("burn_rate", "Burn rate", "x"),
    ("support_tickets", "Support tickets", ""),
    ("data_loss.records_lost", "Records lost", ""),
    ("data_loss.records_recovered", "Records recovered", ""),
    ("data_loss.records_unrecoverable", "Records unrecoverable", ""),
    ("data_loss.rpo_target_minutes", "RPO target", " minutes"),
    ("data_loss.rpo_achieved_minutes", "RPO achieved", " minutes"),
    ("data_loss.rto_target_minutes", "RTO target", " minutes"),
    ("data_loss.rto_achieved_minutes", "RTO achieved", " minutes"),
    ("cost.responder_hours", "Responder hours", " h"),
    ("cost.hourly_cost", "Hourly cost", ""),
    ("cost.business_cost", "Business cost", ""),
)


@dataclass(frozen=True)
class ImpactRow:
    """One line of the impact table: what, how much, and how it was found."""

    label: str
    value: str
    basis: str


def _shown(value: float | int) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def impact_rows(pm: Postmortem) -> list[ImpactRow]:
    """Every impact number that is set, the computed ones not yet accepted, and the cost."""
    impact = pm.impact
    rows = []
    slo = impact.slo
    if slo.objective is not None:
        what = (
            f"latency at most {slo.latency_threshold_ms:g} ms"
            if slo.latency_threshold_ms is not None and slo.objective.value == "latency"
            else "good / total requests"
        )
        window = f" over {slo.window_days:g} days" if slo.window_days else ""
        service = f"{slo.service}: " if slo.service else ""
        rows.append(ImpactRow("SLO", f"{service}{impact.slo_target_percent:g}%{window}", what))
    for path, label, unit in NUMBERS:
        value = impact.value_of(path)
        if value is None:
            continue
        source = impact.source_of(path)
        basis = f"computed: {source.origin}" if source is not None else "entered by hand"
        rows.append(ImpactRow(label, _shown(value) + unit, basis))
    for number in compute_data_loss(pm):
        if impact.value_of(number.field) is None:
            rows.append(
                ImpactRow(
                    number.label.removesuffix(" (minutes)"),
                    _shown(number.value) + (" minutes" if "minutes" in number.label else ""),
                    f"computed, not yet accepted: {number.formula}",
                )
            )
    cost = compute_cost(pm)
    if cost.total is not None:
        rows.append(ImpactRow("Total cost", f"{_shown(cost.total)} {cost.currency}", cost.formula))
    return rows
