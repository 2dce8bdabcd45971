"""Where an archive import's reports come from: files, folders (recursively) and .zip files,
each read with the same guards (size, symbolic links, paths that leave the archive)."""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hindsight.analysis.archive import MAX_REPORT_BYTES
from hindsight.errors import BadUsageError

REPORT_SUFFIXES = (".md", ".markdown", ".pdf")
MAX_ZIP_ENTRIES = 20_000


class ArchiveInputError(BadUsageError):
    """An archive that cannot be imported at all (a zip with '../' paths or links, a missing
    path); nothing of it is read or written."""


@dataclass(frozen=True)
class ReportInput:
    """One report to import: its name in the archive and its bytes (None when refused before
    reading, with `refusal` saying why)."""

    name: str
    data: bytes | None
    refusal: str = ""


def source_name(path: str, *, container: str = "") -> str:
    """A report's name in the archive, which identifies it across imports: its folder and file
    name ('univaf-incidents/2021-06-03--database-full.md'), however the folder was given (as
    a folder, inside a larger folder, as a zip, or uploaded in the browser)."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if len(parts) >= 2:
        return "/".join(parts[-2:])
    return f"{container}/{parts[-1]}" if container else parts[-1]


def _too_big(size: int) -> str:
    return (
        f"is {size:,} bytes; a report may be at most {MAX_REPORT_BYTES:,} bytes "
        "(is it really a postmortem? import the report file alone)"
    )


def _file(path: Path, name: str) -> ReportInput:
    if path.is_symlink():
        return ReportInput(name, None, "is a symbolic link; import the file it points to")
    size = path.stat().st_size
    if size > MAX_REPORT_BYTES:
        return ReportInput(name, None, _too_big(size))
    return ReportInput(name, path.read_bytes())


def _check_entry(info: zipfile.ZipInfo, zip_name: str) -> None:
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
        raise ArchiveInputError(
            f"{zip_name}: the entry '{name}' points outside the archive ('..' or an absolute "
            "path); nothing was imported. Re-create the zip from inside the folder."
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise ArchiveInputError(
            f"{zip_name}: the entry '{name}' is a symbolic link; nothing was imported. "
            "Re-create the zip without links (zip without --symlinks)."
        )


def read_zip(data_path: Path | None, *, name: str, data: bytes | None = None) -> list[ReportInput]:
    """Every report in a zip, after checking every entry: one unsafe entry refuses the whole
    zip before anything is read."""
    try:
        archive = zipfile.ZipFile(data_path if data_path is not None else _bytes_io(data))
    except (zipfile.BadZipFile, OSError) as error:
        raise ArchiveInputError(f"{name}: is not a readable zip file ({error})") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise ArchiveInputError(
                f"{name}: has {len(entries):,} entries; at most {MAX_ZIP_ENTRIES:,} per zip"
            )
        for info in entries:
            _check_entry(info, name)
        reports = []
        for info in entries:
            if info.is_dir() or not info.filename.lower().endswith(REPORT_SUFFIXES):
                continue
            entry = source_name(info.filename, container=PurePosixPath(name).stem)
            if info.file_size > MAX_REPORT_BYTES:
                reports.append(ReportInput(entry, None, _too_big(info.file_size)))
                continue
            try:
                # Read no more than the limit whatever the entry's header claims (zip bombs).
                with archive.open(info) as member:
                    data = member.read(MAX_REPORT_BYTES + 1)
                refusal = (
                    f"is more than {MAX_REPORT_BYTES:,} bytes once unpacked; a report may be "
                    "at most that"
                    if len(data) > MAX_REPORT_BYTES
                    else ""
                )
                reports.append(ReportInput(entry, None if refusal else data, refusal))
            except (zipfile.BadZipFile, OSError, ValueError) as error:
                reports.append(ReportInput(entry, None, f"cannot be read from the zip ({error})"))
        return reports


def _bytes_io(data: bytes | None) -> io.BytesIO:
    return io.BytesIO(data or b"")


def iter_reports(paths: Sequence[Path]) -> Iterator[ReportInput]:
    """Reports under the given paths (folders recursively, zips opened), named by
    `source_name`."""
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise ArchiveInputError(f"{path}: no such file or folder")
        if path.is_dir() and not path.is_symlink():
            for found in sorted(path.rglob("*")):
                if found.suffix.lower() in REPORT_SUFFIXES and (
                    found.is_file() or found.is_symlink()
                ):
                    yield _file(found, source_name(found.absolute().as_posix()))
                elif found.suffix.lower() == ".zip" and found.is_file():
                    yield from read_zip(found, name=str(found))
        elif path.suffix.lower() == ".zip" and not path.is_symlink():
            yield from read_zip(path, name=str(path))
        else:
            yield _file(path, source_name(path.absolute().as_posix()))
