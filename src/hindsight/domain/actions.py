"""Action items: what we will change, who owns it, and how it ends."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum

from pydantic.dataclasses import dataclass

from hindsight.domain.base import DOMAIN_CONFIG
from hindsight.domain.identity import check_item_id
from hindsight.domain.text import check_length, clean_line

_URL = re.compile(r"^https?://[^\s]+$")


class ActionKind(StrEnum):
    """What an action item does about the incident."""

    PREVENT = "prevent"
    DETECT = "detect"
    MITIGATE = "mitigate"
    PROCESS = "process"


class Priority(StrEnum):
    """P1 is the most urgent."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class ActionStatus(StrEnum):
    """Where an action item stands; "won't do" needs a reason."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    WONT_DO = "wont_do"


@dataclass(config=DOMAIN_CONFIG)
class ActionItem:
    """One change the team commits to, followed until it is closed."""

    title: str
    kind: ActionKind = ActionKind.PREVENT
    owner: str = ""
    priority: Priority = Priority.P3
    due: dt.date | None = None
    status: ActionStatus = ActionStatus.OPEN
    reason: str = ""
    tracker_url: str = ""
    id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", check_item_id(self.id, "id"))
        object.__setattr__(self, "title", clean_line(self.title, "title", required=True))
        object.__setattr__(self, "owner", clean_line(self.owner, "owner", max_length=200))
        reason = clean_line(self.reason, "reason")
        if self.status is ActionStatus.WONT_DO and not reason:
            raise ValueError("reason: an action item marked won't do needs a reason")
        object.__setattr__(self, "reason", reason)
        url = self.tracker_url.strip()
        check_length(url, "tracker_url", 2000)
        if url and not _URL.match(url):
            raise ValueError(f"tracker_url: {url!r} must be an http:// or https:// link")
        object.__setattr__(self, "tracker_url", url)

    @property
    def is_closed(self) -> bool:
        """Done or won't do."""
        return self.status in (ActionStatus.DONE, ActionStatus.WONT_DO)
