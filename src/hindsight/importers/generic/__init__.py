"""Generic events: CSV with a header, or JSON (an array or JSON Lines) of objects.

Columns/fields: `time` (also `timestamp`, `at`, `date`), `text` (also `message`, `event`,
`description`), and optionally `actor`, `kind`, `source`. Times without a zone use --tz.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from typing import Any

from hindsight.domain.evidence import Evidence, provenance, signal_for_kind
from hindsight.domain.text import tidy
from hindsight.domain.timeline import EventKind, TimelineEvent
from hindsight.importers.base import (
    EvidenceError,
    ImportOptions,
    Progress,
    Record,
    Source,
    SourceFile,
    parse_time,
)
from hindsight.importers.json_documents import iter_documents

TIME_NAMES = ("time", "timestamp", "at", "date", "datetime", "created_at")
TEXT_NAMES = ("text", "message", "event", "description", "summary")


def _pick(fields: dict[str, Any], names: tuple[str, ...]) -> tuple[str, Any]:
    for name in names:
        for key, value in fields.items():
            if key.strip().lower() == name and value not in (None, ""):
                return key, value
    return "", None


def _event(
    fields: dict[str, Any], where: Record, options: ImportOptions, origin: str, locator: str
) -> Evidence | None:
    time_key, raw_time = _pick(fields, TIME_NAMES)
    if raw_time is None:
        raise where.fail(f"no time: give a column or field named one of {', '.join(TIME_NAMES)}")
    if isinstance(raw_time, int | float) and not isinstance(raw_time, bool):
        raw_time = (
            dt.datetime.fromtimestamp(float(raw_time), dt.UTC).isoformat()
            if (86_400 <= raw_time <= 7_000_000_000)
            else str(raw_time)
        )
    if not isinstance(raw_time, str):
        raise where.fail(f"field '{time_key}' should be a time, found {type(raw_time).__name__}")
    at = parse_time(raw_time, options.tzinfo, where.fail, time_key)
    if not options.in_window(at):
        return None
    _text_key, raw_text = _pick(fields, TEXT_NAMES)
    text = tidy(str(raw_text or ""), limit=2000)
    if not text:
        raise where.fail(f"no text: give a column or field named one of {', '.join(TEXT_NAMES)}")
    kind_name = str(_pick(fields, ("kind", "type"))[1] or "note").strip().lower()
    try:
        kind = EventKind(kind_name)
    except ValueError:
        known = ", ".join(kind.value for kind in EventKind)
        raise where.fail(f"kind '{kind_name[:40]}' is not one of {known}") from None
    actor = tidy(
        str(_pick(fields, ("actor", "user", "author", "who"))[1] or ""), limit=200, one_line=True
    )
    source = tidy(str(_pick(fields, ("source",))[1] or "generic"), limit=100, one_line=True)
    digest = hashlib.sha1(f"{at.isoformat()}|{text}".encode()).hexdigest()[:16]
    return Evidence(
        event=TimelineEvent(
            at=at,
            text=text,
            source=source or "generic",
            kind=kind,
            actor=actor,
            provenance=(provenance(origin, locator),),
        ),
        key=digest,
        subject=text[:80],
        signal=signal_for_kind(kind),
    )


def _csv_rows(item: SourceFile, progress: Progress) -> Iterator[tuple[int, dict[str, Any]]]:
    with item.open(progress) as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
        reader = csv.DictReader(text)
        try:
            if not reader.fieldnames:
                raise EvidenceError(item.name, "the file is empty; expected a CSV header line")
            for row in reader:
                if None in row:
                    raise EvidenceError(
                        item.name, "more cells than header columns", line=reader.line_num
                    )
                yield reader.line_num, row
        except UnicodeDecodeError as error:
            raise EvidenceError(
                item.name, f"not UTF-8 text ({error.reason})", line=reader.line_num + 1
            ) from None
        except csv.Error as error:
            raise EvidenceError(
                item.name, f"not valid CSV ({error})", line=reader.line_num
            ) from None


class GenericImporter:
    """Events from a CSV or JSON file with a time and a text per row."""

    kind = "generic"
    title = "CSV or JSON events"
    icon = "📄"
    accepts = "a .csv file with a header (time, text, actor…) or a JSON array / JSON Lines file"

    def read(
        self, source: Source, options: ImportOptions, progress: Progress
    ) -> Iterator[Evidence]:
        """Yield one evidence per row or object."""
        for item in source.files:
            if item.path.lower().endswith(".csv"):
                for line, row in _csv_rows(item, progress):
                    where = Record(item.name, f"line {line}", row)
                    found = _event(row, where, options, item.name, f"line {line}")
                    if found:
                        yield found
                continue
            for _line, locator, document in iter_documents(item, progress):
                where = Record(item.name, locator, document)
                if not isinstance(document, dict):
                    raise where.fail(f"expected an object, found {type(document).__name__}")
                found = _event(document, where, options, item.name, locator or "document")
                if found:
                    yield found


IMPORTER = GenericImporter()
