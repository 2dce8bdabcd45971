"""Do the rollups give the numbers the facts give, at scale? On a prepared database
(bench/insights/run.py's `enrich`), each filter's insights are gathered twice in one run —
as the application does (rollups for whole months, facts for the rest) and from the facts
alone — and compared number by number; the best of three timings of each is printed too.
Usage:
    python bench/insights/agree.py DATABASE_URL
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from typing import Any

from hindsight.services import insights
from hindsight.services.database import open_database
from hindsight.services.insight_plan import every_incident_part
from hindsight.services.insights import InsightFilter, gather_insights, insights_as_dict

TODAY = dt.date(2026, 12, 3)


def _largest_difference(a: Any, b: Any) -> float:
    """The largest relative difference between two numbers anywhere in two results."""
    if isinstance(a, dict):
        return max([_largest_difference(a[k], b[k]) for k in a] or [0.0])
    if isinstance(a, list):
        return max([_largest_difference(x, y) for x, y in zip(a, b, strict=True)] or [0.0])
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) / max(abs(b), 1e-12)
    return 0.0 if a == b else float("inf")


def main() -> None:
    database = open_database(sys.argv[1])
    # bench/web/seed.py's incidents are 37 minutes apart from 2020-01-01.
    last = dt.date(2020, 1, 1) + dt.timedelta(minutes=37 * 99_999)
    window = {"start": last - dt.timedelta(days=365), "end": last}
    year = {"start": dt.date(2025, 1, 1), "end": dt.date(2025, 12, 31)}
    cases: dict[str, dict[str, Any]] = {
        "12 months, both ends cutting a month": window,
        "2025 (whole months)": year,
        "every incident": {"start": dt.date(2000, 1, 1)},
        "one service, 12 months": {**window, "service": "checkout"},
        "one team, SEV1-SEV2, 2025": {**year, "team": "team-3", "severities": ["SEV1", "SEV2"]},
    }
    planned = insights.plan

    def gathered(filters: InsightFilter, facts_only: bool) -> tuple[dict[str, Any], float]:
        insights.plan = (  # type: ignore[assignment]
            (lambda f, _: (None, [every_incident_part(f)])) if facts_only else planned
        )
        try:
            best = float("inf")
            for _ in range(3):
                with database.reading() as session:
                    began = time.perf_counter()
                    found = gather_insights(session, filters=filters, today=TODAY)
                    best = min(best, time.perf_counter() - began)
            return insights_as_dict(found), best * 1000
        finally:
            insights.plan = planned  # type: ignore[assignment]

    print("| Filter | incidents | items | largest difference | rollups ms | facts only ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, values in cases.items():
        filters = InsightFilter(**values)
        ours, ours_ms = gathered(filters, facts_only=False)
        theirs, theirs_ms = gathered(filters, facts_only=True)
        difference = _largest_difference(ours, theirs)
        print(
            f"| {name} | {ours['incident_count']:,} | {ours['item_count']:,} | "
            f"{difference:.1e} | {ours_ms:.0f} | {theirs_ms:.0f} |",
            flush=True,
        )
    database.dispose()


if __name__ == "__main__":
    main()
