"""Times as archived reports write them: ISO or written dates, 12/24-hour clocks, '14.43',
'1600', zone names ('PST', 'all times UK', 'Pacific', 'UTC+2'), ranges and 'ca.' prefixes.
Pure: dates are read, never guessed from a clock."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# Zone names reports use -> an IANA name (daylight saving then comes from zoneinfo) or offset.
ZONE_NAMES: dict[str, str] = {
    "utc": "UTC",
    "gmt": "UTC",
    "z": "UTC",
    "zulu": "UTC",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "pacific time": "America/Los_Angeles",
    "us pacific": "America/Los_Angeles",
    "uc pacific": "America/Los_Angeles",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "mountain": "America/Denver",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "central": "America/Chicago",
    "est": "America/New_York",
    "edt": "America/New_York",
    "eastern": "America/New_York",
    "us eastern": "America/New_York",
    "bst": "Europe/London",
    "uk": "Europe/London",
    "london": "Europe/London",
    "uk time": "Europe/London",
    "british": "Europe/London",
    "cet": "Europe/Berlin",
    "cest": "Europe/Berlin",
    "central european": "Europe/Berlin",
    "central european time": "Europe/Berlin",
    "zurich": "Europe/Zurich",
    "eet": "Europe/Helsinki",
    "eest": "Europe/Helsinki",
    "ist": "Asia/Kolkata",
    "india": "Asia/Kolkata",
    "jst": "Asia/Tokyo",
    "aest": "Australia/Sydney",
    "aedt": "Australia/Sydney",
}
# Abbreviations that name one half of a daylight-saving pair, to flag 'PST' written in summer.
_ABBREVIATIONS = {
    "pst",
    "pdt",
    "mst",
    "mdt",
    "cst",
    "cdt",
    "est",
    "edt",
    "cet",
    "cest",
    "eet",
    "eest",
    "bst",
    "aest",
    "aedt",
}

_OFFSET = re.compile(r"\b(?:utc|gmt)\s*([+-\u2212])\s*(\d{1,2})(?::?(\d{2}))?\b", re.I)
_ZONE_STATEMENT = re.compile(
    r"(?:\ball\s+times?\s+(?:(?:are\s+)?(?:in|are|shown in|given in)\s+)?|\btimes?\s+(?:are\s+)?"
    r"(?:in|shown in|given in)\s+)(?P<zone>[^.;,\n]{1,60})",
    re.I,
)

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?,?\s+)?"
_DATES = (
    re.compile(r"(?P<year>\d{4,5})-(?P<mon>\d{1,2})-(?P<day>\d{1,2})(?=$|[^\d])"),
    re.compile(
        _WEEKDAY + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4,5})\b", re.I
    ),
    re.compile(
        _WEEKDAY
        + r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?"
        + _MONTH
        + r",?\s+(?P<year>\d{4,5})\b",
        re.I,
    ),
    re.compile(r"(?P<day>\d{1,2})/(?P<mon>\d{1,2})/(?P<year>\d{4})\b"),
)
_CLOCK = re.compile(
    r"(?P<hour>\d{1,2})(?:(?P<sep>[:.])(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
    r"\s*(?P<ampm>[ap]\.?m\.?)?(?![\d:])",
    re.I,
)
_COMPACT = re.compile(r"(?P<hour>[01]\d|2[0-3])(?P<minute>[0-5]\d)(?:\s*(?:hrs?|h)\b)?(?!\d)")
_LEAD = re.compile(r"^(?:~|ca\.?\s*|approx\.?\s*|around\s+|at\s+|about\s+)", re.I)
_TRAIL_ZONE = re.compile(r"^\s*\(?(?P<zone>utc|gmt|z|[a-z]{2,4}t)\)?(?![a-z])", re.I)


@dataclass(frozen=True)
class ZoneStatement:
    """A zone named in the document, as written, and what it means."""

    written: str
    zone: str  # an IANA name or an offset such as +02:00


def zone_from_text(text: str) -> str | None:
    """The zone a piece of text names: 'PST (UTC-7)' -> '-07:00', 'UC/Pacific' -> Pacific."""
    offset = _OFFSET.search(text)
    if offset:
        sign = "-" if offset.group(1) in "-\u2212" else "+"
        return f"{sign}{int(offset.group(2)):02d}:{int(offset.group(3) or 0):02d}"
    words = re.findall(r"[a-z]+", text.lower())
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            found = ZONE_NAMES.get(" ".join(words[start : start + size]))
            if found:
                return found
    return None


def find_zone_statement(line: str) -> ZoneStatement | None:
    """'All times in PST', '(times in BST)', '*(All times US/Pacific, 24-hour clock.)*'."""
    match = _ZONE_STATEMENT.search(line)
    if not match:
        return None
    zone = zone_from_text(match.group("zone"))
    return ZoneStatement(match.group("zone").strip(" *_)("), zone) if zone else None


def tzinfo_for(zone: str) -> dt.tzinfo:
    """A tzinfo for an IANA name, 'UTC' or '+HH:MM'."""
    if zone == "UTC":
        return dt.UTC
    match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", zone)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        delta = dt.timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        return dt.timezone(sign * delta)
    return ZoneInfo(zone)


@dataclass(frozen=True)
class ReadTime:
    """What the start of a line says about time. `date` alone is a date line; `year` keeps a
    written year that is out of range (a typo such as 22025) so it can be flagged."""

    date: dt.date | None
    time: dt.time | None
    zone: str | None
    rest: str
    written: str
    bad_year: str = ""
    abbreviation: str = ""
    month_day: tuple[int, int] | None = None


_PARTIAL_DATES = (
    re.compile(_WEEKDAY + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b(?![:.]\d)", re.I),
    re.compile(_WEEKDAY + r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"\b", re.I),
)


def _partial_date_at_start(text: str) -> tuple[tuple[int, int], int] | None:
    """'May 12', 'July 22nd', '12 May': a month and day whose year the reader supplies."""
    for pattern in _PARTIAL_DATES:
        match = pattern.match(text)
        if match and 1 <= int(match.group("day")) <= 31:
            month = MONTHS[match.group("month").lower().rstrip(".")]
            return (month, int(match.group("day"))), match.end()
    return None


def _date_at_start(text: str) -> tuple[dt.date | None, str, str, int] | None:
    for pattern in _DATES:
        match = pattern.match(text)
        if not match:
            continue
        parts = match.groupdict()
        month = (
            int(parts["mon"]) if parts.get("mon") else MONTHS[parts["month"].lower().rstrip(".")]
        )
        year_text = parts["year"]
        try:
            date = dt.date(int(year_text), month, int(parts["day"]))
        except ValueError:
            return None, year_text, match.group(0), match.end()
        if not 1970 <= date.year < 2200:
            return None, year_text, match.group(0), match.end()
        return date, "", match.group(0), match.end()
    return None


def _clock_at_start(text: str, *, compact: bool) -> tuple[dt.time, int] | None:
    match = _CLOCK.match(text)
    if match and (match.group("minute") or match.group("ampm")):
        hour, minute = int(match.group("hour")), int(match.group("minute") or 0)
        ampm = (match.group("ampm") or "").lower().replace(".", "")
        if ampm:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if ampm == "pm" else 0)
        if hour > 23 or minute > 59:
            return None
        return dt.time(hour, minute, int(match.group("second") or 0)), match.end()
    if compact:
        match = _COMPACT.match(text)
        if match:
            return dt.time(int(match.group("hour")), int(match.group("minute"))), match.end()
    return None


def read_time(text: str, *, compact: bool = False) -> ReadTime | None:
    """Read a date and/or time at the start of `text` ('2018-01-18 4:19', 'Sep 29 2017 08:59',
    'July 11, 2025, 12:42 PM', '11:39AM', '14.43', '1600' when `compact`); None if it starts
    with neither. The rest of the text (after a ' - ' or ':' separator) is returned."""
    original = text
    text = _LEAD.sub("", text.strip())
    date: dt.date | None = None
    bad_year = ""
    found = _date_at_start(text)
    if found:
        date, bad_year, _, end = found
        text = text[end:]
        text = re.sub(r"^(?:,|\s+at\s+|T|\s)+", "", text)
    month_day = None
    if not found:
        partial = _partial_date_at_start(text)
        if partial:
            month_day, end = partial
            text = re.sub(r"^(?:,|\s+at\s+|\s)+", "", text[end:])
    clock = _clock_at_start(_LEAD.sub("", text), compact=compact and not found)
    time: dt.time | None = None
    if clock:
        text = _LEAD.sub("", text)
        time, end = clock
        text = text[end:]
        # A range '17:00-18:00' or '8:20 - 8:24': the start is the time; the rest stays.
        text = re.sub(r"^\s*[-\u2013]\s*\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?)?", "", text, flags=re.I)
    elif not found and not month_day:
        return None
    zone: str | None = None
    abbreviation = ""
    trail = _TRAIL_ZONE.match(text)
    if trail and trail.group("zone").lower() in ZONE_NAMES:
        abbreviation = trail.group("zone").lower()
        zone = ZONE_NAMES[abbreviation]
        text = text[trail.end() :]
    rest = re.sub(r"^[\s,:\-\u2013\u2014|)]+", "", text).strip()
    written = original[: len(original) - len(text.lstrip())].strip() if text else original.strip()
    return ReadTime(
        date,
        time,
        zone,
        rest,
        written,
        bad_year,
        abbreviation if abbreviation in _ABBREVIATIONS else "",
        month_day,
    )


def combine(date: dt.date, time: dt.time, zone: str) -> dt.datetime:
    """An aware time; in a zone with daylight saving, the offset in force on that date."""
    return dt.datetime.combine(date, time).replace(tzinfo=tzinfo_for(zone))


def abbreviation_mismatch(value: dt.datetime, abbreviation: str) -> str | None:
    """'PST' written for a summer date: name the abbreviation in force then ('PDT')."""
    if not abbreviation:
        return None
    actual = value.tzname() or ""
    if actual and actual.lower() != abbreviation and actual.isalpha():
        return actual
    return None


_DURATION = re.compile(
    r"(?:(?P<days>\d+)\s*d(?:ays?)?\s*)?(?:(?P<hours>\d+)\s*h(?:ours?|rs?)?\s*)?"
    r"(?:(?P<minutes>\d+)\s*m(?:in(?:ute)?s?)?)?",
    re.I,
)


def read_duration(text: str) -> dt.timedelta | None:
    """'0h 16m', '27m', '1h 39m', '2 hours', '3 days 4h' -> a timedelta; None if none."""
    for match in _DURATION.finditer(text):
        if match.group(0).strip() and any(match.group(g) for g in ("days", "hours", "minutes")):
            return dt.timedelta(
                days=int(match.group("days") or 0),
                hours=int(match.group("hours") or 0),
                minutes=int(match.group("minutes") or 0),
            )
    return None
