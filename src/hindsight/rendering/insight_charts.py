"""The insights as charts: each one a small table of numbers (`Chart`) drawn as an accessible
bar chart in SVG (the timeline chart's style: a title, a description in words, plain text
labels), shown beside the same numbers as a table and downloadable as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from html import escape

from hindsight.analysis.insights import (
    METRIC_LABELS,
    METRICS,
    SEVERITIES,
    Insights,
    Spread,
)

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 36, 64
PALETTE = ("#b42318", "#b54708", "#6941c6", "#027a48", "#175cd3", "#475467")
SEVERITY_COLOURS = ("#b42318", "#dc6803", "#eaaa08", "#12b76a", "#039855")


@dataclass(frozen=True)
class Chart:
    """A chart's numbers: one row per label (a month, a team…), one column per series."""

    slug: str
    title: str
    unit: str
    label: str
    series: tuple[str, ...]
    rows: tuple[tuple[str, tuple[float | None, ...]], ...]
    stacked: bool = False
    colours: tuple[str, ...] = PALETTE

    @property
    def empty(self) -> bool:
        """No value to draw."""
        return not any(v for _, values in self.rows for v in values if v)


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _spread_values(value: Spread) -> tuple[float | None, float | None]:
    return value.median, value.p90


def build_charts(insights: Insights) -> list[Chart]:
    """Every chart of the dashboard, in page order."""
    months = insights.months
    charts = [
        Chart(
            "incidents-by-month",
            "Incidents per month by severity",
            "incidents",
            "Month",
            SEVERITIES,
            tuple(
                (m, tuple(float(insights.incidents_by_month[m][s]) for s in SEVERITIES))
                for m in months
            ),
            stacked=True,
            colours=SEVERITY_COLOURS,
        )
    ]
    for name in METRICS:
        charts.append(
            Chart(
                f"{name.replace('_', '-')}-by-month",
                f"{METRIC_LABELS[name]} per month (median and p90)",
                "minutes",
                "Month",
                ("median", "p90"),
                tuple((m, _spread_values(insights.response_by_month[m][name])) for m in months),
            )
        )
    buckets = [label for label, _ in next(iter(insights.distributions.values()), [])]
    charts.append(
        Chart(
            "response-distribution",
            "Distribution of response times",
            "incidents",
            "Duration",
            tuple(METRIC_LABELS[name] for name in METRICS),
            tuple(
                (
                    bucket,
                    tuple(float(dict(insights.distributions[n])[bucket]) for n in METRICS),
                )
                for bucket in buckets
            ),
        )
    )
    charts.append(
        Chart(
            "top-factors",
            "Top contributing-factor categories",
            "incidents",
            "Category",
            ("incidents",),
            tuple((name, (float(count),)) for name, count in insights.top_factors),
        )
    )
    charts.append(
        Chart(
            "action-items-by-month",
            "Action items opened, closed and overdue per month",
            "items",
            "Month",
            ("opened", "closed", "overdue"),
            tuple(
                (m, tuple(float(v) for v in (i.opened, i.closed, i.overdue)))
                for m, i in insights.items_by_month.items()
            ),
        )
    )
    charts.append(
        Chart(
            "action-items-by-team",
            "Action items by team (open, closed, overdue now)",
            "items",
            "Team",
            ("open", "closed", "overdue"),
            tuple(
                (team, tuple(float(v) for v in (t.open, t.closed, t.overdue)))
                for team, t in insights.items_by_team.items()
            ),
        )
    )
    publication = insights.publication
    charts.append(
        Chart(
            "publication",
            "SEV1-SEV2 incidents and those with a published postmortem",
            "incidents",
            "Incidents",
            ("incidents",),
            (
                ("SEV1-SEV2", (float(publication.serious),)),
                ("published", (float(publication.published),)),
            ),
        )
    )
    charts.append(
        Chart(
            "recurrence-by-month",
            "Recurrence rate per month (incidents linked as a recurrence of an earlier one)",
            "% of incidents",
            "Month",
            ("recurrences",),
            tuple(
                (m, (None if r.share is None else round(r.share * 100, 1),))
                for m, r in insights.recurrence_by_month.items()
            ),
        )
    )
    for slug, title, groups, label in (
        ("close-by-kind", "Time to close by kind (median and p90)", insights.close_by_kind, "Kind"),
        (
            "close-by-priority",
            "Time to close by priority (median and p90)",
            insights.close_by_priority,
            "Priority",
        ),
    ):
        rows = tuple((name, _spread_values(value)) for name, value in groups.items())
        charts.append(Chart(slug, title, "days", label, ("median", "p90"), rows))
    return charts


def chart_csv(chart: Chart) -> str:
    """The chart's numbers as CSV: a header row, then one row per label."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([chart.label, *(f"{s} ({chart.unit})" for s in chart.series)])
    for label, values in chart.rows:
        writer.writerow([label, *(_num(v) for v in values)])
    return out.getvalue()


def _describe(chart: Chart) -> str:
    if chart.empty:
        return f"{chart.title}: no data."
    totals = [(label, sum(v or 0 for v in values)) for label, values in chart.rows]
    peak = max(totals, key=lambda pair: pair[1])
    return (
        f"{chart.title}, {len(chart.rows)} {chart.label.lower()} values, series "
        f"{', '.join(chart.series)}; highest: {peak[0]} ({_num(peak[1])} {chart.unit})."
    )


def _scale(top: float) -> tuple[float, list[float]]:
    """A round maximum and four ticks for the y axis."""
    if top <= 0:
        return 1.0, [0.0, 1.0]
    magnitude = 10 ** (len(str(int(top))) - 1)
    step = next(s * magnitude for s in (0.25, 0.5, 1, 2, 2.5, 5, 10) if s * magnitude * 4 >= top)
    return step * 4, [step * i for i in range(5)]


def chart_svg(chart: Chart) -> str:
    """The chart as an <svg> element with a title and a description in words."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    if chart.stacked:
        top = max((sum(v or 0 for v in values) for _, values in chart.rows), default=0)
    else:
        top = max((v or 0 for _, values in chart.rows for v in values), default=0)
    ceiling, ticks = _scale(top)
    ident = f"chart-{chart.slug}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="{ident}-title {ident}-desc" '
        'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11">',
        f'<title id="{ident}-title">{escape(chart.title)}</title>',
        f'<desc id="{ident}-desc">{escape(_describe(chart))}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    for tick in ticks:
        y = TOP + plot_h - plot_h * tick / ceiling
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eaecf0"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#667085">'
            f"{_num(tick)}</text>"
        )
    out.append(f'<text x="{LEFT}" y="{TOP - 12}" fill="#667085">{escape(chart.unit)}</text>')
    out += _legend(chart)
    count = max(1, len(chart.rows))
    slot = plot_w / count
    every = max(1, count // 12)  # at most about twelve labels on the axis
    for index, (label, values) in enumerate(chart.rows):
        x0 = LEFT + slot * index
        out += _bars(chart, values, x0, slot, plot_h, ceiling, label)
        if index % every == 0:
            out.append(
                f'<text x="{x0 + slot / 2:.1f}" y="{TOP + plot_h + 14}" text-anchor="middle" '
                f'fill="#344054">{escape(label[:14])}</text>'
            )
    if chart.empty:
        out.append(
            f'<text x="{WIDTH / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
            'fill="#667085">No data in this range</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _legend(chart: Chart) -> list[str]:
    parts = []
    x = LEFT + 80
    for index, name in enumerate(chart.series):
        colour = chart.colours[index % len(chart.colours)]
        parts.append(f'<rect x="{x}" y="{TOP - 22}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{TOP - 13}" fill="#344054">{escape(name)}</text>')
        x += 22 + 7 * len(name)
    return parts


def _bars(
    chart: Chart,
    values: tuple[float | None, ...],
    x0: float,
    slot: float,
    plot_h: float,
    ceiling: float,
    label: str,
) -> list[str]:
    parts = []
    base = TOP + plot_h
    gap = slot * 0.15
    width = slot - 2 * gap if chart.stacked else (slot - 2 * gap) / max(1, len(values))
    stacked = 0.0
    for index, value in enumerate(values):
        if not value:
            continue
        colour = chart.colours[index % len(chart.colours)]
        height = plot_h * value / ceiling
        if chart.stacked:
            x, y = x0 + gap, base - plot_h * stacked / ceiling - height
            stacked += value
        else:
            x, y = x0 + gap + width * index, base - height
        text = f"{label}, {chart.series[index]}: {_num(value)} {chart.unit}"
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0.5):.1f}" '
            f'height="{height:.1f}" fill="{colour}"><title>{escape(text)}</title></rect>'
        )
    return parts
