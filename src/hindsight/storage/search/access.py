"""Who may see which hit, in the index's terms: the flags (`restricted`, `archived`) that hide
a hit from a reader, always or unless the reader is a member of its incident."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from hindsight.domain.access import Actor
from hindsight.storage.search_index import ARCHIVED_TOKEN, RESTRICTED_TOKEN
from hindsight.storage.visibility import member_of, sees_everything

# The `tokens` word (SQLite) of each flag.
FLAG_TOKENS = {"restricted": RESTRICTED_TOKEN, "archived": ARCHIVED_TOKEN}


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


@dataclass(frozen=True)
class Access:
    """Which index flags hide a hit: `never` from this reader, `unless_member` unless the
    reader is a member of its incident (restricted incidents; archived ones when asked for)."""

    never: tuple[str, ...]
    unless_member: tuple[str, ...]
    actor: Actor | None

    @classmethod
    def of(cls, actor: Actor | None, *, include_archived: bool) -> Access:
        never = () if include_archived else ("archived",)
        if sees_everything(actor):
            return cls(never, (), actor)
        return cls(never, ("restricted", *(("archived",) if include_archived else ())), actor)

    def members(self) -> Select[Any]:
        assert self.actor is not None
        return member_of(self.actor)


def exact_recurring(access: Access, filters: Mapping[str, Sequence[str]]) -> bool:
    """Whether the "recurring" filter needs a check in SQL for this reader (the index says
    only that a link exists, maybe to an incident the reader may not see)."""
    return bool(filters.get("recurring")) and not sees_everything(access.actor)
