"""What every importer shares: the interface, its options, its errors, and safe reading.

An importer reads a `Source` (one file, a folder, a .zip, or a request body) and yields
`Evidence`. It never writes anything: the import service collects everything first and
stores it in one transaction, so a bad record anywhere means nothing is stored.

Reading is bounded. Text is streamed line by line; a JSON document is parsed whole only up
to `MAX_JSON_BYTES` and when its estimated size in memory fits `MAX_JSON_MEMORY` (larger
arrays and JSON Lines are streamed by `json_documents`); a zip member may not claim more
than `MAX_UNZIPPED_BYTES` or expand more than `MAX_ZIP_RATIO` times (zip bombs), and the
bytes actually read are counted too.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import json
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from hindsight.domain.evidence import Evidence
from hindsight.domain.timeline import resolve_zone
from hindsight.errors import InvalidInputError, Located

MAX_JSON_BYTES = 64 * 1024 * 1024
MAX_JSON_MEMORY = 256_000_000
# Bytes of Python objects per ',', ':', '{' or '[' of JSON text: up to 66 measured (a small dict
# per '{"a":1}'), 32-36 for lists of numbers or empty objects; text itself costs about its size.
BYTES_PER_JSON_VALUE = 72
MAX_LINE_BYTES = 16 * 1024 * 1024
MAX_UNZIPPED_BYTES = 4 * 1024 * 1024 * 1024
MAX_ZIP_RATIO = 200
MAX_EVIDENCE = 5000


class EvidenceError(InvalidInputError):
    """Input an importer cannot read: the file, the line or record, and why."""

    def __init__(self, source: str, reason: str, *, line: int = 0, record: str = "") -> None:
        self.problem = Located(source, line, record, reason)
        super().__init__(str(self.problem))


FAR_FROM_WINDOW = dt.timedelta(days=1)


@dataclass
class FarOutside:
    """Records more than FAR_FROM_WINDOW outside the time window: the sign of a wrong file or
    a wrong window (a 2015 export for a 2017 incident), worth a warning of its own."""

    events: int = 0
    days: int = 0
    earliest: dt.datetime | None = None
    latest: dt.datetime | None = None

    def note(self, at: dt.datetime, *, day: bool = False) -> None:
        """Count one record (or, with `day`, one day of records left unread) at `at`."""
        if day:
            self.days += 1
        else:
            self.events += 1
        self.earliest = at if self.earliest is None else min(self.earliest, at)
        self.latest = at if self.latest is None else max(self.latest, at)

    def warning(self) -> str:
        """'1,031 events lie more than a day outside the time window (2015-03-02 to …)'."""
        if self.earliest is None or self.latest is None:
            return ""
        parts = [f"{self.events:,} event{'s' if self.events != 1 else ''}"] if self.events else []
        if self.days:
            parts.append(f"{self.days:,} day{'s' if self.days != 1 else ''} of messages")
        verb = "lies" if not self.days and self.events == 1 else "lie"
        return (
            f"{' and '.join(parts)} {verb} more than a day outside the time window "
            f"({self.earliest:%Y-%m-%d} to {self.latest:%Y-%m-%d} UTC): is this the right file, "
            "or should the window be wider?"
        )


@dataclass(frozen=True)
class ImportOptions:
    """What the person importing can say about the evidence.

    `since`/`until` bound the time window (aware datetimes, inclusive); `zone` is the zone of
    times written without one; the rest apply to one kind each and are ignored by the others.
    """

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    zone: str = "UTC"
    channels: tuple[str, ...] = ()
    branch: str = ""
    config_patterns: tuple[str, ...] = ("*.yaml", "*.yml", "*.json", "*.toml", "*.ini", "*.conf")
    timestamp_format: str = ""
    timestamp_field: str = ""
    baseline_minutes: int = 30
    year: int | None = None
    skipped: Counter[str] = field(default_factory=Counter, compare=False)
    far: FarOutside = field(default_factory=FarOutside, compare=False)

    def __post_init__(self) -> None:
        resolve_zone(self.zone)
        if self.since and self.until and self.since > self.until:
            raise InvalidInputError(
                f"--since {self.since.isoformat()} is after --until {self.until.isoformat()}"
            )
        if self.baseline_minutes < 0:
            raise InvalidInputError("the baseline window cannot be negative")

    @property
    def tzinfo(self) -> dt.tzinfo:
        """The zone for times written without one."""
        return resolve_zone(self.zone)

    def in_window(self, at: dt.datetime) -> bool:
        """Whether `at` falls inside the requested window; what falls outside is counted."""
        inside = (self.since is None or at >= self.since) and (
            self.until is None or at <= self.until
        )
        if not inside:
            self.skipped["outside the time window"] += 1
            if self.far_outside(at):
                self.far.note(at)
        return inside

    def far_outside(self, at: dt.datetime) -> bool:
        """Whether `at` is more than FAR_FROM_WINDOW before --since or after --until."""
        return bool(
            (self.since and at < self.since - FAR_FROM_WINDOW)
            or (self.until and at > self.until + FAR_FROM_WINDOW)
        )

    def skip(self, reason: str, count: int = 1) -> None:
        """Count records an importer leaves out on purpose, for the summary."""
        self.skipped[reason] += count


class Progress(Protocol):
    """Told how many bytes an importer has read; the CLI draws a bar from it."""

    def advance(self, amount: int) -> None: ...


class NoProgress:
    """A progress sink that ignores everything (services, tests, webhooks)."""

    def advance(self, amount: int) -> None:
        """Ignore the progress report."""


class _Counted(io.RawIOBase):
    """A reader that refuses to give more than `limit` bytes and reports what it read."""

    def __init__(self, raw: IO[bytes], name: str, limit: int, progress: Progress) -> None:
        self._raw, self._name, self._left, self._progress = raw, name, limit, progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._raw.read(min(len(buffer), self._left + 1))
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            # A zip member with a corrupt stream or a bad CRC fails while it is read.
            raise EvidenceError(
                self._name, f"the archive is damaged ({error}); export it again"
            ) from None
        if len(data) > self._left:
            raise EvidenceError(self._name, "the file is larger than it claims (a zip bomb?)")
        self._left -= len(data)
        self._progress.advance(len(data))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


@dataclass(frozen=True)
class SourceFile:
    """One file of a source: its name for messages, its size, and a way to open it."""

    name: str
    path: str
    size: int
    opener: Callable[[], IO[bytes]]

    def open(self, progress: Progress | None = None) -> IO[bytes]:
        """Open for binary reading, bounded by the size the file declared."""
        try:
            opened = self.opener()
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as error:
            # A damaged header, an unsupported compression method, an encrypted member.
            raise EvidenceError(self.name, f"cannot be read from the archive ({error})") from None
        raw = _Counted(opened, self.name, self.size, progress or NoProgress())
        return io.BufferedReader(raw, buffer_size=1 << 20)

    def read_json(self, progress: Progress | None = None) -> Any:
        """Parse the whole file as JSON (bounded by MAX_JSON_BYTES); errors name the line."""
        if self.size > MAX_JSON_BYTES:
            raise EvidenceError(
                self.name,
                f"{size_text(self.size)} is too large for a JSON document (the limit is "
                f"{size_text(MAX_JSON_BYTES)}); split it or narrow the export",
            )
        with self.open(progress) as handle:
            data = handle.read()
        if (estimate := json_memory(data)) > MAX_JSON_MEMORY:
            raise too_dense(self.name, estimate)
        return parse_json(self.name, data)

    def lines(self, progress: Progress | None = None) -> Iterator[tuple[int, str]]:
        """Yield (1-based line number, text) without reading the whole file; a line longer
        than MAX_LINE_BYTES (a 10 GB file without line breaks) is refused, not read."""
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        with self.open(progress) as handle:
            for number, raw in enumerate(
                iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), start=1
            ):
                if len(raw) > MAX_LINE_BYTES:
                    raise EvidenceError(
                        self.name,
                        f"a line longer than {size_text(MAX_LINE_BYTES)}; is this the right "
                        "file and kind?",
                        line=number,
                    )
                try:
                    text = decoder.decode(raw)
                except UnicodeDecodeError as error:
                    raise EvidenceError(
                        self.name, f"not UTF-8 text ({error.reason})", line=number
                    ) from None
                yield number, text.rstrip("\r\n")


def size_text(size: int) -> str:
    """A byte count for people: '812 bytes', '3.4 MB', '10.7 GB'."""
    if size < 1000:
        return f"{size} bytes"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def json_memory(data: bytes | str, start: int = 0) -> int:
    """About how many bytes of Python objects JSON text (from `start`) parses into: close for
    dense structure, generous for text with many commas. Counting is fast (no parsing)."""
    if isinstance(data, bytes):
        marks = (b",", b":", b"{", b"[")
        values = sum(data.count(mark, start) for mark in marks)
    else:
        values = sum(data.count(mark, start) for mark in (",", ":", "{", "["))
    return len(data) - start + values * BYTES_PER_JSON_VALUE


def too_dense(name: str, estimate: int, *, line: int = 0, element: bool = False) -> EvidenceError:
    """The refusal of JSON that would take more than MAX_JSON_MEMORY once parsed."""
    what = "an element of the array" if element else "this JSON document"
    return EvidenceError(
        name,
        f"{what} would take about {size_text(estimate)} in memory once read (the limit is "
        f"{size_text(MAX_JSON_MEMORY)}); give the records as a JSON array or one per line "
        "(JSON Lines), which are read one at a time, or split the file",
        line=line,
    )


def parse_json(name: str, data: bytes | str) -> Any:
    """Parse JSON text; a syntax error becomes an EvidenceError with line and column."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    except UnicodeDecodeError as error:
        raise EvidenceError(name, f"not UTF-8 text (byte {error.start + 1})") from None
    if not text.strip():
        raise EvidenceError(name, "the file is empty; expected a JSON document")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise EvidenceError(
            name, f"not valid JSON: {error.msg} at column {error.colno}", line=error.lineno
        ) from None
    except RecursionError:
        raise EvidenceError(name, "the JSON is nested too deeply") from None


@dataclass(frozen=True)
class Source:
    """What the person pointed the importer at: a file, a folder, a .zip, or a request body."""

    name: str
    files: tuple[SourceFile, ...]
    root: Path | None = None

    @property
    def size(self) -> int:
        """Total bytes to read, for progress bars."""
        return sum(item.size for item in self.files)

    def find(self, relative: str) -> SourceFile | None:
        """The file at this path inside the source, if it is there."""
        return next((item for item in self.files if item.path == relative), None)

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> Source:
        """A source holding one in-memory document (a webhook body, an upload)."""
        item = SourceFile(name, name, len(data), lambda: io.BytesIO(data))
        return cls(name, (item,))

    @classmethod
    def open(cls, path: Path, label: str = "") -> Source:
        """Open a file, a folder (every file under it) or a .zip archive. `label` names it in
        messages and provenance instead of its path (an upload's original file name)."""
        name = label or str(path)
        if not path.exists():
            raise EvidenceError(name, "no such file or folder")
        if path.is_dir():
            files = tuple(
                SourceFile(
                    f"{name}/{item.relative_to(path).as_posix()}" if label else str(item),
                    item.relative_to(path).as_posix(),
                    item.stat().st_size,
                    _file_opener(item),
                )
                for item in sorted(path.rglob("*"))
                if item.is_file()
                and not any(p.startswith(".") for p in item.relative_to(path).parts)
            )
            return cls(name, files, root=path)
        if zipfile.is_zipfile(path):
            return cls(name, _zip_members(path, name))
        return cls(name, (SourceFile(name, path.name, path.stat().st_size, _file_opener(path)),))


def _file_opener(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: path.open("rb")


def _zip_members(path: Path, name: str) -> tuple[SourceFile, ...]:
    try:
        archive = zipfile.ZipFile(path)
        infos = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as error:
        raise EvidenceError(name, f"not a readable zip archive ({error})") from None
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > MAX_ZIP_RATIO and info.file_size > 1 << 20:
            raise EvidenceError(
                f"{name}:{info.filename}",
                f"expands {ratio:.0f} times ({info.file_size / 1e6:.0f} MB); refusing a "
                "possible zip bomb",
            )
    if total > MAX_UNZIPPED_BYTES:
        raise EvidenceError(
            name, f"unpacks to {total / 1e9:.1f} GB, more than the 4 GB limit; split it"
        )

    def opener(info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
        return lambda: archive.open(info)

    return tuple(
        SourceFile(f"{name}:{info.filename}", info.filename, info.file_size, opener(info))
        for info in sorted(infos, key=lambda info: info.filename)
        if not any(part.startswith(".") or part == "__MACOSX" for part in info.filename.split("/"))
    )


class Importer(Protocol):
    """One external format. `kind` names it on the command line and in the database;
    `icon` marks its events in the timeline; `accepts` tells people what to give it."""

    kind: str
    title: str
    icon: str
    accepts: str

    def read(
        self, source: Source, options: ImportOptions, progress: Progress
    ) -> Iterable[Evidence]:
        """Yield the evidence in `source`, raising EvidenceError on input it cannot read."""
        ...


@dataclass
class Record:
    """Helpers for reading one JSON record with errors that name the file and the record."""

    source: str
    where: str
    data: Any = field(repr=False)

    def fail(self, reason: str) -> EvidenceError:
        """An error naming this record."""
        return EvidenceError(self.source, reason, record=self.where)

    def get(self, name: str, kind: type | tuple[type, ...], *, required: bool = True) -> Any:
        """The field `name`, checked to be of `kind`; missing optional fields give None."""
        if not isinstance(self.data, dict):
            raise self.fail(f"expected an object, found {type(self.data).__name__}")
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(f"field '{name}' is missing")
            return None
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            expected = (
                kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            )
            raise self.fail(f"field '{name}' should be {expected}, found {type(value).__name__}")
        return value

    def time(self, name: str, zone: dt.tzinfo, *, required: bool = True) -> dt.datetime | None:
        """The field `name` as an aware datetime (ISO 8601; `zone` if it has no offset)."""
        value = self.get(name, str, required=required)
        if value is None:
            return None
        return parse_time(value, zone, self.fail, name)


def parse_time(
    value: str, zone: dt.tzinfo, fail: Callable[[str], Exception], name: str = "time"
) -> dt.datetime:
    """Parse an ISO 8601 time, attaching `zone` when it has none; range-checked."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise fail(f"field '{name}': {value[:40]!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    if (
        not dt.datetime(1970, 1, 2, tzinfo=dt.UTC)
        <= parsed
        <= dt.datetime(2199, 12, 30, tzinfo=dt.UTC)
    ):
        raise fail(f"field '{name}': {value[:40]!r} is outside 1970-2199")
    return parsed


def epoch(value: float, fail: Callable[[str], Exception], name: str) -> dt.datetime:
    """A Unix time in seconds as an aware UTC datetime, range-checked."""
    if not 86_400 <= value <= 7_000_000_000:
        raise fail(f"field '{name}': {value} is not a Unix time in seconds")
    return dt.datetime.fromtimestamp(value, dt.UTC)


def text_of(value: Any) -> str:
    """A JSON value as text for an event ('' for null)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
