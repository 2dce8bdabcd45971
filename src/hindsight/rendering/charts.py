"""The timeline as a chart: one lane per source, key moments as labelled lines, the impact
window shaded, and the detection and mitigation gaps marked. Plain SVG text, the same in the
page and in every export (WeasyPrint draws it in PDFs); accessible with a title and a
description that says in words what the chart shows. The metric series are drawn the same way
under it (`metrics_svg`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from hindsight.analysis.impact import ImpactWindow, Point, Series
from hindsight.analysis.metrics import format_duration
from hindsight.domain.incidents import Postmortem
from hindsight.domain.timeline import KeyMoment, TimelineEvent

LANE_HEIGHT = 28
LEFT = 110
RIGHT = 20
TOP = 72
MOMENT_COLOURS = {
    KeyMoment.IMPACT_STARTED: "#b42318",
    KeyMoment.DETECTED: "#b54708",
    KeyMoment.ACKNOWLEDGED: "#6941c6",
    KeyMoment.MITIGATED: "#027a48",
    KeyMoment.RESOLVED: "#175cd3",
}


def _ticks(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    span = (end - start).total_seconds()
    steps = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400]
    step = next((s for s in steps if span / s <= 8), 86400 * max(1, int(span // (86400 * 8))))
    first = dt.datetime.fromtimestamp((start.timestamp() // step + 1) * step, dt.UTC)
    ticks = []
    at = first
    while at < end:
        ticks.append(at)
        at += dt.timedelta(seconds=step)
    return ticks


def _describe(pm: Postmortem) -> str:
    moments = pm.key_moments()
    parts = [f"{len(pm.timeline)} events from {len({e.source for e in pm.timeline})} sources"]
    for moment in KeyMoment:
        if moment in moments:
            parts.append(f"{moment.value.replace('_', ' ')} at {moments[moment].at:%H:%M} UTC")
    return "; ".join(parts) + "."


def timeline_svg(pm: Postmortem, width: int = 900) -> str:
    """The chart as an <svg> element ('' when the timeline is empty)."""
    events = list(pm.timeline)
    if not events:
        return ""
    start, end = events[0].at, events[-1].at
    if end - start < dt.timedelta(minutes=10):
        end = start + dt.timedelta(minutes=10)
    pad = (end - start) * 0.03
    start, end = start - pad, end + pad
    lanes = sorted({e.source for e in events}, key=lambda s: (s != "manual", s))
    height = TOP + LANE_HEIGHT * len(lanes) + 76
    plot = width - LEFT - RIGHT
    span = (end - start).total_seconds()

    def x(at: dt.datetime) -> float:
        return LEFT + plot * (at - start).total_seconds() / span

    def y(lane: str) -> float:
        return TOP + LANE_HEIGHT * lanes.index(lane) + LANE_HEIGHT / 2

    title = f"Timeline of {pm.title}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="chart-title chart-desc" '
        f'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(_describe(pm))}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    axis = TOP + LANE_HEIGHT * len(lanes) + 8
    out += _impact(pm, x, axis, width)
    for lane in lanes:
        out.append(
            f'<text x="{LEFT - 8}" y="{y(lane) + 4:.1f}" text-anchor="end" '
            f'fill="#344054">{escape(lane)}</text>'
        )
        out.append(
            f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y(lane):.1f}" '
            f'y2="{y(lane):.1f}" stroke="#eaecf0"/>'
        )
    for tick in _ticks(start, end):
        out.append(
            f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{TOP - 6}" y2="{axis}" '
            f'stroke="#f2f4f7"/>'
        )
        out.append(
            f'<text x="{x(tick):.1f}" y="{axis + 14}" text-anchor="middle" '
            f'fill="#667085">{tick:%H:%M}</text>'
        )
    out.append(
        f'<text x="{width - RIGHT}" y="{axis + 28}" text-anchor="end" fill="#667085">'
        f"UTC, {start:%Y-%m-%d}</text>"
    )
    out += _moments(pm, x, axis, width)
    # Hover texts for every dot of a very long timeline only weigh the page down (and a PDF).
    detailed = len(events) <= 400
    for event in events:
        out.append(_dot(event, x(event.at), y(event.source), detailed))
    out.append("</svg>")
    return "\n".join(out)


def _label(at: float, y: float, text: str, width: int, style: str) -> str:
    """A label right of `at`, or left of it when it would run off the chart."""
    if at + 7 * len(text) + 6 > width - 4:
        return f'<text x="{at - 4:.1f}" y="{y}" text-anchor="end" {style}>{escape(text)}</text>'
    return f'<text x="{at + 4:.1f}" y="{y}" {style}>{escape(text)}</text>'


def _impact(pm: Postmortem, x: object, axis: int, width: int) -> list[str]:
    moments = pm.key_moments()
    begin = moments.get(KeyMoment.IMPACT_STARTED)
    finish = moments.get(KeyMoment.MITIGATED) or moments.get(KeyMoment.RESOLVED)
    if begin is None or finish is None:
        return []
    left, right = x(begin.at), x(finish.at)  # type: ignore[operator]
    parts = [
        f'<rect x="{left:.1f}" y="{TOP - 10}" width="{max(right - left, 1):.1f}" '
        f'height="{axis - TOP + 10}" fill="#fee4e2" opacity="0.6">'
        f"<title>Impact window: {format_duration(finish.at - begin.at)}</title></rect>"
    ]
    gaps = (
        ("to detect", KeyMoment.IMPACT_STARTED, KeyMoment.DETECTED, axis + 38),
        # The same definitions as the metric cards (analysis/metrics.py): from impact start.
        ("to mitigate", KeyMoment.IMPACT_STARTED, KeyMoment.MITIGATED, axis + 56),
    )
    for label, a, b, row in gaps:
        if a in moments and b in moments:
            x1, x2 = x(moments[a].at), x(moments[b].at)  # type: ignore[operator]
            duration = format_duration(moments[b].at - moments[a].at)
            parts.append(
                f'<path d="M{x1:.1f},{row - 4} v4 H{x2:.1f} v-4" fill="none" '
                f'stroke="#475467" stroke-width="1.2"/>'
            )
            parts.append(_label(x2, row + 3, f"{duration} {label}", width, 'fill="#475467"'))
    return parts


def _moments(pm: Postmortem, x: object, axis: int, width: int) -> list[str]:
    parts = []
    row_ends = [-1e9, -1e9, -1e9, -1e9]  # where the last label on each row ends
    for moment, event in sorted(pm.key_moments().items(), key=lambda item: item[1].at):
        colour = MOMENT_COLOURS[moment]
        at = x(event.at)  # type: ignore[operator]
        label = moment.value.replace("_", " ")
        row = next((r for r, end in enumerate(row_ends) if end < at), len(row_ends) - 1)
        row_ends[row] = at + 7 * len(label) + 8
        top = TOP - 16 - 13 * row
        parts.append(
            f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{top + 2}" y2="{axis}" '
            f'stroke="{colour}" stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
        parts.append(_label(at, top, label, width, f'fill="{colour}" font-weight="bold"'))
    return parts


def _dot(event: TimelineEvent, cx: float, cy: float, detailed: bool = True) -> str:
    colour = MOMENT_COLOURS.get(event.key_moment, "#1d2939") if event.key_moment else "#1d2939"
    radius = 5 if event.key_moment else 3.5
    if not detailed and not event.key_moment:
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius}" fill="{colour}"/>'
    label = f"{event.at:%H:%M:%S} UTC — {event.text[:200]}"
    return (
        f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius}" fill="{colour}">'
        f"<title>{escape(label)}</title></circle>"
    )


PANEL_HEIGHT = 110
PANEL_GAP = 34
MAX_DRAWN_POINTS = 1200
MAX_PANELS = 4
SERIES_COLOUR = "#1d2939"


def _drawn(points: Sequence[Point], limit: int = MAX_DRAWN_POINTS) -> list[Point]:
    """At most `limit` points for drawing: each run of samples as its lowest and highest, so a
    spike narrower than a pixel still shows."""
    if len(points) <= limit:
        return list(points)
    size = -(-len(points) // (limit // 2))
    drawn: list[Point] = []
    for i in range(0, len(points), size):
        run = points[i : i + size]
        low, high = min(run, key=lambda p: p[1]), max(run, key=lambda p: p[1])
        drawn.extend(sorted({low, high}, key=lambda p: p[0]))
    return drawn


def _describe_series(series: Sequence[Series], windows: Sequence[ImpactWindow]) -> str:
    parts = [
        f"{s.name} ({s.role.value}): {len(s.points):,} samples from "
        f"{s.points[0][0]:%Y-%m-%d %H:%M} to {s.points[-1][0]:%Y-%m-%d %H:%M} UTC, "
        f"between {min(v for _t, v in s.points):g} and {max(v for _t, v in s.points):g}"
        for s in series
    ]
    if windows:
        parts.append(
            "impact "
            + ", ".join(
                f"{w.start:%Y-%m-%d %H:%M} to {w.end:%Y-%m-%d %H:%M} ({w.basis})" for w in windows
            )
        )
    else:
        parts.append("no impact window")
    return "; ".join(parts) + "."


def metrics_svg(
    pm: Postmortem,
    series: Sequence[Series],
    windows: Sequence[ImpactWindow] = (),
    width: int = 900,
) -> str:
    """The metric series as an <svg> (one panel each, at most MAX_PANELS), in the timeline
    chart's style: impact windows shaded, key moments inside the range as labelled lines, and
    a latency SLO's threshold dashed. '' when there are no series."""
    shown = [s for s in series if s.points][:MAX_PANELS]
    if not shown:
        return ""
    start = min(s.points[0][0] for s in shown)
    end = max(s.points[-1][0] for s in shown)
    if end - start < dt.timedelta(minutes=10):
        end = start + dt.timedelta(minutes=10)
    plot = width - LEFT - RIGHT
    span = (end - start).total_seconds()
    bottom = TOP + len(shown) * (PANEL_HEIGHT + PANEL_GAP) - PANEL_GAP
    height = bottom + 44

    def x(at: dt.datetime) -> float:
        return LEFT + plot * (at - start).total_seconds() / span

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="metrics-title metrics-desc" '
        f'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11">',
        f'<title id="metrics-title">{escape(f"Metric series of {pm.title}")}</title>',
        f'<desc id="metrics-desc">{escape(_describe_series(shown, windows))}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for window in windows:
        left, right = x(max(window.start, start)), x(min(window.end, end))
        out.append(
            f'<rect x="{left:.1f}" y="{TOP - 10}" width="{max(right - left, 1):.1f}" '
            f'height="{bottom - TOP + 10}" fill="#fee4e2" opacity="0.6">'
            f"<title>Impact: {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC, "
            f"{escape(window.basis)}</title></rect>"
        )
    threshold = pm.impact.slo.latency_threshold_ms
    for index, item in enumerate(shown):
        top = TOP + index * (PANEL_HEIGHT + PANEL_GAP)
        line = threshold if item.role.value == "latency" else None
        out += _panel(item, top, x, width, line)
    for tick in _ticks(start, end):
        label = f"{tick:%H:%M}" if span <= 2 * 86400 else f"{tick:%m-%d}"
        out.append(
            f'<text x="{x(tick):.1f}" y="{bottom + 14}" text-anchor="middle" '
            f'fill="#667085">{label}</text>'
        )
    out.append(
        f'<text x="{width - RIGHT}" y="{bottom + 30}" text-anchor="end" fill="#667085">'
        f"UTC, {start:%Y-%m-%d} to {end:%Y-%m-%d}</text>"
    )
    moments = [(m, e) for m, e in pm.key_moments().items() if start <= e.at <= end]
    for row, (moment, event) in enumerate(sorted(moments, key=lambda item: item[1].at)):
        colour = MOMENT_COLOURS[moment]
        at = x(event.at)
        label_y = TOP - 16 - 13 * (row % 3)
        out.append(
            f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{label_y + 2}" y2="{bottom}" '
            f'stroke="{colour}" stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
        out.append(
            _label(
                at,
                label_y,
                moment.value.replace("_", " "),
                width,
                f'fill="{colour}" font-weight="bold"',
            )
        )
    out.append("</svg>")
    return "\n".join(out)


def _panel(item: Series, top: int, x: object, width: int, threshold: float | None) -> list[str]:
    values = [v for _t, v in item.points]
    low, high = min(values), max(values)
    if threshold is not None:
        low, high = min(low, threshold), max(high, threshold)
    if high - low < 1e-9:
        high = low + 1

    def y(value: float) -> float:
        return top + PANEL_HEIGHT - PANEL_HEIGHT * (value - low) / (high - low)

    path = " ".join(
        f"{x(at):.1f},{y(value):.1f}"  # type: ignore[operator]
        for at, value in _drawn(item.points)
    )
    parts = [
        f'<rect x="{LEFT}" y="{top}" width="{width - LEFT - RIGHT}" height="{PANEL_HEIGHT}" '
        f'fill="none" stroke="#eaecf0"/>',
        f'<text x="{LEFT}" y="{top - 4}" fill="#344054">{escape(item.name[:110])} '
        f'<tspan fill="#667085">({item.role.value})</tspan></text>',
        f'<text x="{LEFT - 8}" y="{top + 10}" text-anchor="end" fill="#667085">{high:.4g}</text>',
        f'<text x="{LEFT - 8}" y="{top + PANEL_HEIGHT}" text-anchor="end" fill="#667085">'
        f"{low:.4g}</text>",
        f'<polyline points="{path}" fill="none" stroke="{SERIES_COLOUR}" stroke-width="1"/>',
    ]
    if threshold is not None:
        parts.append(
            f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y(threshold):.1f}" '
            f'y2="{y(threshold):.1f}" stroke="#b42318" stroke-dasharray="6 3">'
            f"<title>SLO threshold {threshold:g} ms</title></line>"
        )
    return parts
