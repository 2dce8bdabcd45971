"""What a review says: one finding, and how much it matters."""

from __future__ import annotations

import datetime as dt
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


@dataclass(frozen=True)
class Dismissal:
    """A finding (rule and field) the author dismissed, with the reason: it stops counting."""

    rule: str
    field: str
    reason: str
    author: str = ""
    at: dt.datetime | None = None
