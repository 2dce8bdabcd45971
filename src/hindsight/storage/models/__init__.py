"""Tables, one module per domain. Every foreign key and every filter or sort column is indexed.

Importing this package defines every table on `Base.metadata` (Alembic's env.py and the
backup read it), so a new module of rows is imported here.
"""

from __future__ import annotations

from hindsight.storage.models.accounts import (
    ApiTokenRow,
    IncidentMemberRow,
    LoginFailureRow,
    SecretRow,
    UserRow,
    UserSessionRow,
)
from hindsight.storage.models.base import Base
from hindsight.storage.models.evidence import (
    EvidenceImportRow,
    EvidenceRow,
    HookTokenRow,
    MetricSeriesRow,
)
from hindsight.storage.models.incidents import (
    ActionItemRow,
    FactorCategoryRow,
    IncidentRow,
    ParticipantRow,
    RevisionRow,
    ServiceRow,
    TagRow,
    TimelineEventRow,
)
from hindsight.storage.models.jobs import (
    JobRow,
    JobRunRow,
    QueueScheduleRow,
    QueueTaskRow,
    QueueValueRow,
)
from hindsight.storage.models.knowledge import (
    ArchiveSourceRow,
    IncidentLinkRow,
    IncidentProfileRow,
    LintDismissalRow,
    RecurrenceDismissalRow,
)
from hindsight.storage.models.notifications import (
    CalendarFeedRow,
    ChannelRow,
    DeliveryAttemptRow,
    DeliveryRow,
    NotificationRow,
)
from hindsight.storage.models.reviews import CommentRow, ReviewRow

__all__ = [
    "ActionItemRow",
    "ApiTokenRow",
    "ArchiveSourceRow",
    "Base",
    "CalendarFeedRow",
    "ChannelRow",
    "CommentRow",
    "DeliveryAttemptRow",
    "DeliveryRow",
    "EvidenceImportRow",
    "EvidenceRow",
    "FactorCategoryRow",
    "HookTokenRow",
    "IncidentLinkRow",
    "IncidentMemberRow",
    "IncidentProfileRow",
    "IncidentRow",
    "JobRow",
    "JobRunRow",
    "LintDismissalRow",
    "LoginFailureRow",
    "MetricSeriesRow",
    "NotificationRow",
    "ParticipantRow",
    "QueueScheduleRow",
    "QueueTaskRow",
    "QueueValueRow",
    "RecurrenceDismissalRow",
    "ReviewRow",
    "RevisionRow",
    "SecretRow",
    "ServiceRow",
    "TagRow",
    "TimelineEventRow",
    "UserRow",
    "UserSessionRow",
]
