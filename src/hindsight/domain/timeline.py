"""Timeline events: what happened when, who or what said so, and where it came from."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic.dataclasses import dataclass

from hindsight.domain.base import DOMAIN_CONFIG
from hindsight.domain.identity import check_item_id
from hindsight.domain.text import clean_line, clean_text

EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


class KeyMoment(StrEnum):
    """The moments response metrics are computed from, in the order they normally happen."""

    IMPACT_STARTED = "impact_started"
    DETECTED = "detected"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"


class EventKind(StrEnum):
    """What sort of thing an event records."""

    NOTE = "note"
    OBSERVATION = "observation"
    ALERT = "alert"
    PAGE = "page"
    ACKNOWLEDGEMENT = "acknowledgement"
    ESCALATION = "escalation"
    DECISION = "decision"
    ACTION = "action"
    DEPLOY = "deploy"
    CHANGE = "change"
    COMMUNICATION = "communication"
    LOG = "log"
    RESOLUTION = "resolution"


def resolve_zone(name: str) -> dt.tzinfo:
    """Turn 'UTC', an IANA name ('America/Los_Angeles') or an offset ('+05:30') into a tzinfo."""
    if name == "UTC":
        return dt.UTC
    if len(name) > 64:
        raise ValueError(
            f"zone: {name[:40]!r}… is not a known time zone: it is {len(name)} characters long "
            "and zone names are at most 64 (use an IANA name such as 'Europe/London' or an "
            "offset such as '-08:00')"
        )
    match = _OFFSET.match(name)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        hours, minutes = int(match.group(2)), int(match.group(3))
        if hours > 23 or minutes > 59:
            raise ValueError(f"zone: offset {name!r} is out of range")
        return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise ValueError(
            f"zone: {name!r} is not a known time zone; use an IANA name such as "
            "'Europe/London', 'UTC', or an offset such as '-08:00'"
        ) from None


def zone_name_for(value: dt.datetime) -> str:
    """Name the zone an aware datetime was written in: its IANA key, 'UTC' or '+HH:MM'."""
    key = getattr(value.tzinfo, "key", None)
    if isinstance(key, str):
        return key
    offset = value.utcoffset() or dt.timedelta(0)
    if offset == dt.timedelta(0):
        return "UTC"
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def require_aware(value: dt.datetime, field: str) -> dt.datetime:
    """Refuse times without a zone and times outside 1970-2199; return the time in UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{field}: {value.isoformat()} has no time zone; write it with an offset, "
            "for example 2018-01-18T04:19:00-08:00, or give a zone"
        )
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"{field}: {value.isoformat()} is outside 1970-2199")
    return value.astimezone(dt.UTC)


@dataclass(config=DOMAIN_CONFIG)
class Provenance:
    """Where an event came from: a file, URL or system, and the line, record or message in it."""

    origin: str
    locator: str = ""

    def __post_init__(self) -> None:
        origin = clean_line(self.origin, "provenance.origin", required=True)
        locator = clean_line(self.locator, "provenance.locator")
        for name, value in (("origin", origin), ("locator", locator)):
            if ";" in value:
                raise ValueError(f"provenance.{name}: ';' separates provenances; remove it")
        if "#" in locator:
            raise ValueError("provenance.locator: '#' separates origin and locator; remove it")
        object.__setattr__(self, "origin", origin)
        object.__setattr__(self, "locator", locator)

    def __str__(self) -> str:
        return f"{self.origin}#{self.locator}" if self.locator else self.origin


@dataclass(config=DOMAIN_CONFIG)
class TimelineEvent:
    """One timestamped event; `at` is held in UTC and `zone` keeps the zone it was written in."""

    at: dt.datetime
    text: str
    zone: str = ""
    source: str = "manual"
    kind: EventKind = EventKind.NOTE
    actor: str = ""
    key_moment: KeyMoment | None = None
    provenance: tuple[Provenance, ...] = ()
    id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_item_id(self.id, "id"))
        zone = self.zone.strip() or zone_name_for(self.at)
        resolve_zone(zone)
        object.__setattr__(self, "at", require_aware(self.at, "at"))
        object.__setattr__(self, "zone", zone)
        object.__setattr__(self, "text", clean_text(self.text, "text", required=True))
        source = clean_line(self.source, "source", required=True, max_length=100)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "actor", clean_line(self.actor, "actor", max_length=200))

    @property
    def local_time(self) -> dt.datetime:
        """The event's time in the zone it was written in."""
        return self.at.astimezone(resolve_zone(self.zone))


def localize(value: dt.datetime, zone: str | None) -> dt.datetime:
    """Attach `zone` to a time written without an offset; a time with an offset is kept."""
    if value.tzinfo is not None or not zone:
        return value
    return value.replace(tzinfo=resolve_zone(zone))
