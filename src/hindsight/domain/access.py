"""Who may see and change what: pure rules over roles, membership and review status."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hindsight.domain.incidents import ReviewStatus, Visibility


class Role(StrEnum):
    """Account roles, from least to most powerful."""

    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in account or the owner of an API token."""

    id: int
    username: str
    display_name: str
    role: Role
    timezone: str = "UTC"


def can_view(role: Role, *, is_member: bool, visibility: Visibility) -> bool:
    """Restricted incidents are visible to their members and to admins only."""
    return visibility is Visibility.INTERNAL or is_member or role is Role.ADMIN


def can_edit(role: Role, *, is_member: bool, visibility: Visibility) -> bool:
    """Editors and admins may change what they can see."""
    return role is not Role.VIEWER and can_view(role, is_member=is_member, visibility=visibility)


# A published postmortem is read-only except for following up its action items.
PUBLISHED_EDITABLE_SUFFIXES = (".status", ".reason", ".tracker_url")


def is_allowed_after_publication(field_path: str) -> bool:
    """True for the fields that may still change once published (action item status)."""
    return field_path.startswith("action_items.") and field_path.endswith(
        PUBLISHED_EDITABLE_SUFFIXES
    )


def review_is_locked(status: ReviewStatus) -> bool:
    """Published postmortems are locked for everything but action-item follow-up."""
    return status is ReviewStatus.PUBLISHED


def can_archive(role: Role, *, is_member: bool) -> bool:
    """Editors archive (and unarchive) the incidents they are members of; admins any."""
    return role is Role.ADMIN or (role is Role.EDITOR and is_member)


def can_delete(role: Role) -> bool:
    """Deleting an incident for good is for admins only."""
    return role is Role.ADMIN
