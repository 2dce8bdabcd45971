"""What a review says: one finding, and how much it matters."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """How much a finding matters: errors block publication unless overridden."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One thing a reviewer would say, with where and what to do instead."""

    rule: str
    level: Level
    part: str
    field: str
    message: str
    suggestion: str = ""
    excerpt: str = ""
    start: int = -1
    end: int = -1

    @property
    def fingerprint(self) -> str:
        """What the finding says about which text: its rule, field, words and message (a
        language finding's message quotes its sentence). A dismissal remembers it, so a
        dismissed finding counts again once the text it was about changes."""
        said = "\x1f".join((self.rule, self.field, self.excerpt, self.message))
        return hashlib.sha256(said.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Dismissal:
    """A finding (rule and field) the author dismissed, with the reason: it stops counting
    while the finding's fingerprint is the one dismissed (empty: a dismissal made before
    fingerprints, which matches by rule and field alone)."""

    rule: str
    field: str
    reason: str
    author: str = ""
    at: dt.datetime | None = None
    fingerprint: str = ""

    def covers(self, finding: Finding) -> bool:
        """Whether this dismissal applies to `finding` as it reads now."""
        return (
            finding.rule == self.rule
            and finding.field == self.field
            and (not self.fingerprint or self.fingerprint == finding.fingerprint)
        )
