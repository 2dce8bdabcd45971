"""The review workflow: draft → in review → approved → published, and back by reopening."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from hindsight.domain.incidents import ReviewStatus


class ReviewDecision(StrEnum):
    """A requested reviewer's answer."""

    REQUESTED = "requested"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"


class ReviewAction(StrEnum):
    """What a person can do to a postmortem's review status."""

    REQUEST_REVIEW = "request_review"
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    PUBLISH = "publish"
    REOPEN = "reopen"


class ReviewError(ValueError):
    """A transition that is not allowed from the current state."""


def status_after(
    action: ReviewAction, current: ReviewStatus, decisions: Mapping[str, ReviewDecision]
) -> ReviewStatus:
    """The review status after `action`, given each requested reviewer's decision so far
    (including this action's); raises ReviewError when the action is not allowed now."""
    if action is ReviewAction.REQUEST_REVIEW:
        if current not in (ReviewStatus.DRAFT, ReviewStatus.IN_REVIEW, ReviewStatus.APPROVED):
            raise ReviewError("a published postmortem must be reopened before a new review")
        if not decisions:
            raise ReviewError("name at least one reviewer")
        return ReviewStatus.IN_REVIEW
    if action in (ReviewAction.APPROVE, ReviewAction.REQUEST_CHANGES):
        if current not in (ReviewStatus.IN_REVIEW, ReviewStatus.APPROVED):
            raise ReviewError("only a postmortem in review can be approved or sent back")
        if all(d is ReviewDecision.APPROVED for d in decisions.values()):
            return ReviewStatus.APPROVED
        return ReviewStatus.IN_REVIEW
    if action is ReviewAction.PUBLISH:
        if current is not ReviewStatus.APPROVED:
            raise ReviewError("only an approved postmortem can be published")
        return ReviewStatus.PUBLISHED
    if current is not ReviewStatus.PUBLISHED:
        raise ReviewError("only a published postmortem can be reopened")
    return ReviewStatus.DRAFT
