"""Errors every layer may raise and every interface reports; this module imports nothing."""

from __future__ import annotations

from dataclasses import dataclass


class HindsightError(Exception):
    """Base of Hindsight's own errors: the message is written for the person who must act."""


class InvalidInputError(HindsightError):
    """Input that can never be valid here (say, a NUL character in text)."""


class NotFoundError(HindsightError):
    """The thing asked for does not exist (or is not visible to the asker)."""


class PermissionDeniedError(HindsightError):
    """The account may see this but not do this."""


class ConflictError(HindsightError):
    """A write was based on a stale version; `current_version` is what the caller must reload.

    `conflicts` lists, when known, each field both sides changed: (field path, item label,
    your value, their value)."""

    def __init__(
        self,
        message: str,
        current_version: int,
        conflicts: tuple[tuple[str, str, object, object], ...] = (),
    ) -> None:
        super().__init__(message)
        self.current_version = current_version
        self.conflicts = conflicts


@dataclass(frozen=True)
class Located:
    """One problem in a document: the file, the 1-based line (0 if unknown), the field, why."""

    source: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class DocumentError(HindsightError):
    """A file could not be read as a postmortem; `problems` says where and why, every one."""

    def __init__(self, problems: list[Located]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class BadUsageError(HindsightError):
    """The request cannot be carried out as asked: a bad option value, or a file that is missing,
    unreadable or not of the expected kind (the CLI exits 2 for these, 1 for refused input)."""


class UnreadableDocumentError(DocumentError, BadUsageError):
    """A file could not be read at all (missing, not text, not a postmortem), as opposed to a
    postmortem whose content is refused; `problems` lists every file and why."""
