"""Response metrics derived from key moments; computed on demand, never stored.

Definitions (the same everywhere Hindsight shows them):
- time to detect      = detected - impact started
- time to acknowledge = acknowledged - detected
- time to mitigate    = mitigated - impact started
- time to resolve     = resolved - impact started
- impact duration     = mitigated (or, if not mitigated, resolved) - impact started
A metric is None when either of its moments is not marked. A negative value means the
moments are out of order (kept so with a recorded reason); it is shown as "inconsistent".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hindsight.domain.incidents import Postmortem
from hindsight.domain.timeline import KeyMoment, TimelineEvent

Moments = dict[KeyMoment, TimelineEvent]


def _between(moments: Moments, start: KeyMoment, end: KeyMoment) -> dt.timedelta | None:
    if start in moments and end in moments:
        return moments[end].at - moments[start].at
    return None


# Each metric's moments, (from, to): the one table the functions below and the insights'
# queries (services/insights.py) read.
METRIC_MOMENTS: dict[str, tuple[KeyMoment, KeyMoment]] = {
    "time_to_detect": (KeyMoment.IMPACT_STARTED, KeyMoment.DETECTED),
    "time_to_acknowledge": (KeyMoment.DETECTED, KeyMoment.ACKNOWLEDGED),
    "time_to_mitigate": (KeyMoment.IMPACT_STARTED, KeyMoment.MITIGATED),
    "time_to_resolve": (KeyMoment.IMPACT_STARTED, KeyMoment.RESOLVED),
}


def compute_time_to_detect(moments: Moments) -> dt.timedelta | None:
    """Impact started to detected."""
    return _between(moments, *METRIC_MOMENTS["time_to_detect"])


def compute_time_to_acknowledge(moments: Moments) -> dt.timedelta | None:
    """Detected to acknowledged by a person."""
    return _between(moments, *METRIC_MOMENTS["time_to_acknowledge"])


def compute_time_to_mitigate(moments: Moments) -> dt.timedelta | None:
    """Impact started to mitigated."""
    return _between(moments, *METRIC_MOMENTS["time_to_mitigate"])


def compute_time_to_resolve(moments: Moments) -> dt.timedelta | None:
    """Impact started to resolved."""
    return _between(moments, *METRIC_MOMENTS["time_to_resolve"])


def compute_impact_window(moments: Moments) -> tuple[dt.datetime, dt.datetime] | None:
    """From impact start to mitigation, or to resolution when nothing was marked mitigated."""
    start = moments.get(KeyMoment.IMPACT_STARTED)
    end = moments.get(KeyMoment.MITIGATED) or moments.get(KeyMoment.RESOLVED)
    if start is None or end is None:
        return None
    return start.at, end.at


@dataclass(frozen=True)
class ResponseMetrics:
    """Every derived duration of one postmortem."""

    time_to_detect: dt.timedelta | None
    time_to_acknowledge: dt.timedelta | None
    time_to_mitigate: dt.timedelta | None
    time_to_resolve: dt.timedelta | None
    impact_window: tuple[dt.datetime, dt.datetime] | None

    @property
    def impact_duration(self) -> dt.timedelta | None:
        """Length of the impact window."""
        if self.impact_window is None:
            return None
        return self.impact_window[1] - self.impact_window[0]

    def rows(self) -> list[tuple[str, dt.timedelta | None]]:
        """(label, value) pairs in display order."""
        return [
            ("Time to detect", self.time_to_detect),
            ("Time to acknowledge", self.time_to_acknowledge),
            ("Time to mitigate", self.time_to_mitigate),
            ("Time to resolve", self.time_to_resolve),
            ("Impact duration", self.impact_duration),
        ]


def compute_response_metrics(postmortem: Postmortem) -> ResponseMetrics:
    """All response metrics of a postmortem, from its key moments."""
    return metrics_from_moments(postmortem.key_moments())


def metrics_from_moments(moments: Moments) -> ResponseMetrics:
    """All response metrics from a set of key moments (marked or proposed)."""
    return ResponseMetrics(
        time_to_detect=compute_time_to_detect(moments),
        time_to_acknowledge=compute_time_to_acknowledge(moments),
        time_to_mitigate=compute_time_to_mitigate(moments),
        time_to_resolve=compute_time_to_resolve(moments),
        impact_window=compute_impact_window(moments),
    )


INCONSISTENT = "inconsistent"


def format_duration(value: dt.timedelta | None) -> str:
    """'4h 55m', '2d 3h 0m', '45s'; '—' when unknown; 'inconsistent' when negative (its key
    moments are out of order, kept so with a reason: never show a negative duration)."""
    if value is None:
        return "—"
    if value < dt.timedelta(0):
        return INCONSISTENT
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h {minutes}m"
    if hours:
        return f"{sign}{hours}h {minutes}m"
    if minutes:
        return f"{sign}{minutes}m" + (f" {secs}s" if secs else "")
    return f"{sign}{secs}s"
