"""A live Prometheus range query (`GET /api/v1/query_range`), with a bearer token or basic auth.

The step is chosen so that no series has more than MAX_POINTS samples, Prometheus' own limit
(11,000 points per series): a step given by hand that would exceed it is refused with the
smallest step that fits. Every failure is one clear message: the server cannot be reached,
refuses the credentials, rejects the query, or returns no series.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from hindsight.importers.base import MAX_JSON_BYTES, EvidenceError, ImportOptions, size_text
from hindsight.importers.metrics import SeriesData, prometheus_series

MAX_POINTS = 11_000
DEFAULT_POINTS = 1_000
NICE_STEPS = (1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class RangeQuery:
    """What to ask a Prometheus server, and how to sign in to it."""

    url: str
    query: str
    start: dt.datetime
    end: dt.datetime
    step_seconds: float | None = None
    bearer_token: str = ""
    username: str = ""
    password: str = ""

    @property
    def origin(self) -> str:
        """'http://host:9090 query_range' without credentials, for provenance."""
        parts = urllib.parse.urlsplit(self.url)
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return f"{parts.scheme}://{host}{parts.path.rstrip('/')} query_range"


def points_for(start: dt.datetime, end: dt.datetime, step: float) -> int:
    """How many samples a series of the range has at this step."""
    return math.floor((end - start).total_seconds() / step) + 1


def choose_step(start: dt.datetime, end: dt.datetime, given: float | None = None) -> float:
    """The step to query with: `given` if it keeps every series within MAX_POINTS (refused
    otherwise), or the smallest round step giving at most DEFAULT_POINTS samples."""
    span = (end - start).total_seconds()
    if span <= 0:
        raise EvidenceError("query_range", "the end of the range must be after its start")
    smallest = span / (MAX_POINTS - 1)
    if given is not None:
        if given <= 0:
            raise EvidenceError("query_range", "the step must be a positive number of seconds")
        if points_for(start, end, given) > MAX_POINTS:
            fits = next((s for s in NICE_STEPS if s >= smallest), math.ceil(smallest))
            raise EvidenceError(
                "query_range",
                f"a {given:g} s step gives {points_for(start, end, given):,} points per series; "
                f"Prometheus allows {MAX_POINTS:,}: use a step of {fits} s or more",
            )
        return given
    wanted = span / (DEFAULT_POINTS - 1)
    return float(next((s for s in NICE_STEPS if s >= wanted), math.ceil(wanted)))


def _request(query: RangeQuery, step: float) -> urllib.request.Request:
    if not query.url.startswith(("http://", "https://")):
        raise EvidenceError(query.url, "the Prometheus URL must start with http:// or https://")
    params = urllib.parse.urlencode(
        {
            "query": query.query,
            "start": f"{query.start.timestamp():.3f}",
            "end": f"{query.end.timestamp():.3f}",
            "step": f"{step:g}",
        }
    )
    request = urllib.request.Request(
        f"{query.url.rstrip('/')}/api/v1/query_range?{params}",
        headers={"Accept": "application/json", "User-Agent": "hindsight"},
    )
    if query.bearer_token:
        request.add_header("Authorization", f"Bearer {query.bearer_token}")
    elif query.username:
        pair = f"{query.username}:{query.password}".encode()
        request.add_header("Authorization", f"Basic {base64.b64encode(pair).decode()}")
    return request


def _body(origin: str, handle: object) -> bytes:
    data: bytes = handle.read(MAX_JSON_BYTES + 1)  # type: ignore[attr-defined]
    if len(data) > MAX_JSON_BYTES:
        raise EvidenceError(
            origin,
            f"the answer is larger than {size_text(MAX_JSON_BYTES)}; use a coarser step or "
            "aggregate the query",
        )
    return data


def _http_error(origin: str, error: urllib.error.HTTPError) -> EvidenceError:
    if error.code in (401, 403):
        return EvidenceError(
            origin,
            f"the server refused the credentials (HTTP {error.code}); check the bearer token "
            "or the user name and password",
        )
    try:
        answer = json.loads(_body(origin, error))
        reason = f"{answer.get('errorType', 'error')}: {answer.get('error', '')}"
    except (ValueError, AttributeError, OSError):
        reason = error.reason if isinstance(error.reason, str) else "no details"
    return EvidenceError(origin, f"Prometheus refused the query (HTTP {error.code}, {reason})")


def query_range(query: RangeQuery, options: ImportOptions) -> tuple[list[SeriesData], float]:
    """The series the query returns over its range, and the step used."""
    step = choose_step(query.start, query.end, query.step_seconds)
    origin = query.origin
    try:
        with urllib.request.urlopen(_request(query, step), timeout=TIMEOUT_SECONDS) as handle:
            data = _body(origin, handle)
    except urllib.error.HTTPError as error:
        raise _http_error(origin, error) from None
    except (TimeoutError, urllib.error.URLError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise EvidenceError(
            origin, f"cannot reach the Prometheus server ({reason}); check the URL"
        ) from None
    try:
        document = json.loads(data)
    except ValueError:
        raise EvidenceError(
            origin, "the answer is not JSON; is this the Prometheus server's base URL?"
        ) from None
    name = query.query
    series = prometheus_series(origin, document, options, name)
    return [_named(item, query.query) for item in series], step


def _named(series: SeriesData, query: str) -> SeriesData:
    """A series is known by the query that made it (its labels tell the series apart)."""
    return SeriesData(query, series.labels, series.points, series.origin, series.raw_count)
