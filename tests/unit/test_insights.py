"""The insights' numbers on sets built so the right answers are known (no database)."""

from __future__ import annotations

import datetime as dt

from hindsight.analysis.insights import (
    IncidentFacts,
    ItemFacts,
    bucket_of,
    compute_insights,
    months_between,
    percentile,
)
from hindsight.rendering.insight_charts import build_charts, chart_csv, chart_svg

TODAY = dt.date(2024, 4, 10)


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


def minutes(n: float | None) -> dt.timedelta | None:
    return None if n is None else dt.timedelta(minutes=n)


def incident(day: str, severity: str, detect: float | None, **more: object) -> IncidentFacts:
    return IncidentFacts(
        created_at=at(day),
        severity=severity,
        durations={"time_to_detect": minutes(detect), "time_to_resolve": minutes(60)},
        **more,  # type: ignore[arg-type]
    )


def test_nearest_rank_percentiles_and_buckets() -> None:
    values = list(range(1, 11))  # 1..10
    assert percentile(values, 0.9) == 9
    assert percentile(values, 0.5) == 5
    assert percentile([7], 0.9) == 7
    assert percentile([], 0.9) is None
    assert bucket_of(4.99) == "< 5 min" and bucket_of(5) == "5-15 min"
    assert bucket_of(60 * 24) == "≥ 1 day"
    assert months_between("2023-11", "2024-02") == ["2023-11", "2023-12", "2024-01", "2024-02"]


def test_incidents_and_response_times_per_month() -> None:
    incidents = [
        incident("2024-01-03", "SEV1", 10, factor_categories=("change", "capacity")),
        incident("2024-01-09", "SEV1", 20, factor_categories=("change",)),
        incident("2024-01-20", "SEV3", 30, factor_categories=("change", "change")),
        incident("2024-03-01", "SEV2", 5),
        # Moments kept out of order with a reason: left out, as the postmortem shows it.
        incident("2024-03-02", "SEV4", -3),
        incident("2024-03-03", "SEV4", None),
    ]
    result = compute_insights(incidents, [], today=TODAY)
    assert result.months == ["2024-01", "2024-02", "2024-03"]
    assert result.incidents_by_month["2024-01"] == {
        "SEV1": 2,
        "SEV2": 0,
        "SEV3": 1,
        "SEV4": 0,
        "SEV5": 0,
    }
    assert sum(result.incidents_by_month["2024-02"].values()) == 0  # an empty month is listed
    january = result.response_by_month["2024-01"]["time_to_detect"]
    assert (january.count, january.median, january.p90) == (3, 20.0, 30)
    march = result.response_by_month["2024-03"]["time_to_detect"]
    assert (march.count, march.median, march.p90) == (1, 5.0, 5)
    overall = result.response_overall["time_to_detect"]
    assert (overall.count, overall.median, overall.p90) == (4, 15.0, 30)
    assert dict(result.distributions["time_to_detect"])["5-15 min"] == 2  # 10 and 5
    # Each incident counts a category once: 'change' is in three incidents.
    assert result.top_factors == [("change", 3), ("capacity", 1)]


def test_action_items_per_month_by_team_and_time_to_close() -> None:
    items = [
        # Opened in January, closed in February after 10 days, on time.
        ItemFacts(at("2024-01-25"), at("2024-02-04"), "prevent", "P1", dt.date(2024, 2, 5), "web"),
        # Closed late: overdue in the month of its due date (January).
        ItemFacts(at("2024-01-02"), at("2024-02-01"), "prevent", "P2", dt.date(2024, 1, 20), "web"),
        # Still open past its due date: overdue in March, and overdue now.
        ItemFacts(at("2024-02-01"), None, "detect", "P1", dt.date(2024, 3, 15), "db"),
        # Open and due after today: not overdue anywhere.
        ItemFacts(at("2024-02-02"), None, "detect", "P1", dt.date(2024, 5, 1), ""),
    ]
    result = compute_insights([], items, today=TODAY)
    months = result.items_by_month
    assert (months["2024-01"].opened, months["2024-01"].closed, months["2024-01"].overdue) == (
        2,
        0,
        1,
    )
    assert (months["2024-02"].opened, months["2024-02"].closed) == (2, 2)
    assert months["2024-03"].overdue == 1
    teams = result.items_by_team
    assert (teams["web"].open, teams["web"].closed, teams["web"].overdue) == (0, 2, 0)
    assert (teams["db"].open, teams["db"].overdue) == (1, 1)
    assert teams["(no team)"].open == 1
    prevent = result.close_by_kind["prevent"]
    assert (prevent.count, prevent.median) == (2, 20.0)  # 10 and 30 days
    assert "detect" not in result.close_by_kind  # nothing closed
    assert result.close_by_priority["P1"].median == 10.0


def test_publication_share_and_median_days_to_publish() -> None:
    incidents = [
        incident("2024-01-01", "SEV1", 1, published_at=at("2024-01-03")),
        incident("2024-01-01", "SEV2", 1, published_at=at("2024-01-05")),
        incident("2024-01-01", "SEV2", 1),
        incident("2024-01-01", "SEV1", 1),
        incident("2024-01-01", "SEV3", 1, published_at=at("2024-01-02")),  # not serious
    ]
    publication = compute_insights(incidents, [], today=TODAY).publication
    assert (publication.serious, publication.published, publication.share) == (4, 2, 0.5)
    assert publication.median_days_to_publish == 3.0  # 2 and 4 days


def test_every_chart_has_an_accessible_svg_and_the_same_numbers_as_csv() -> None:
    incidents = [incident("2024-01-03", "SEV1", 10), incident("2024-02-03", "SEV2", 40)]
    charts = build_charts(compute_insights(incidents, [], today=TODAY))
    by_slug = {chart.slug: chart for chart in charts}
    monthly = by_slug["incidents-by-month"]
    assert chart_csv(monthly).splitlines() == [
        "Month,SEV1 (incidents),SEV2 (incidents),SEV3 (incidents),SEV4 (incidents),"
        "SEV5 (incidents)",
        "2024-01,1,0,0,0,0",
        "2024-02,0,1,0,0,0",
    ]
    svg = chart_svg(monthly)
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert '<title id="chart-incidents-by-month-title">Incidents per month by severity' in svg
    assert "2024-02, SEV2: 1 incidents" in svg  # each bar says its value
    assert "No data" in chart_svg(by_slug["top-factors"])
    assert chart_csv(by_slug["time-to-detect-by-month"]).splitlines()[1] == "2024-01,10,10"


def test_the_publication_chart_counts_serious_and_published_incidents() -> None:
    incidents = [
        incident("2024-01-01", "SEV1", 1, published_at=at("2024-01-03")),
        incident("2024-01-01", "SEV2", 1),
        incident("2024-01-01", "SEV4", 1, published_at=at("2024-01-03")),
    ]
    chart = next(
        c
        for c in build_charts(compute_insights(incidents, [], today=TODAY))
        if c.slug == "publication"
    )
    assert chart_csv(chart).splitlines()[1:] == ["SEV1-SEV2,2", "published,1"]
