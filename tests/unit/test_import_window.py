"""The default time window of an evidence import, from the incident's timeline alone."""

from __future__ import annotations

import datetime as dt

from hindsight.analysis.evidence import default_import_window
from hindsight.domain.timeline import KeyMoment, TimelineEvent
from hindsight.importers.base import FarOutside, ImportOptions

T0 = dt.datetime(2017, 2, 28, 17, 37, tzinfo=dt.UTC)


def _event(minutes: int, moment: KeyMoment | None = None) -> TimelineEvent:
    return TimelineEvent(at=T0 + dt.timedelta(minutes=minutes), text="x", key_moment=moment)


def test_the_import_window_defaults_to_the_impact_window_or_the_day_around_the_first_event() -> (
    None
):
    marked = [
        _event(-30),
        _event(0, KeyMoment.IMPACT_STARTED),
        _event(12, KeyMoment.DETECTED),
        _event(250, KeyMoment.RESOLVED),
    ]
    window = default_import_window(marked)
    assert window is not None
    assert (window.since, window.until) == (
        T0 - dt.timedelta(hours=1),
        T0 + dt.timedelta(minutes=310),
    )
    assert window.basis == "the incident's key moments, an hour either side"

    unmarked = default_import_window([_event(90), _event(5), _event(200, KeyMoment.DETECTED)])
    assert unmarked is not None and unmarked.basis == "the day around its first event"
    first = T0 + dt.timedelta(minutes=5)
    assert (unmarked.since, unmarked.until) == (
        first - dt.timedelta(hours=12),
        first + dt.timedelta(hours=12),
    )

    assert default_import_window([]) is None


def test_events_far_outside_the_window_are_counted_with_their_dates() -> None:
    options = ImportOptions(since=T0, until=T0 + dt.timedelta(hours=4))
    for at in (T0 - dt.timedelta(hours=3), T0 - dt.timedelta(days=700), T0 + dt.timedelta(days=9)):
        assert not options.in_window(at)
    assert options.skipped == {"outside the time window": 3}
    assert options.far == FarOutside(2, 0, T0 - dt.timedelta(days=700), T0 + dt.timedelta(days=9))
    assert options.far.warning() == (
        "2 events lie more than a day outside the time window (2015-03-31 to 2017-03-09 UTC): "
        "is this the right file, or should the window be wider?"
    )
    assert ImportOptions().far.warning() == ""
