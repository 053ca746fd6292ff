"""Models, one module per aggregate. Importing this package registers every table."""
from portal.models.api_client import ApiClient
from portal.models.audit import AuditAction, AuditEntry
from portal.models.category import Category
from portal.models.deadline import (
    CalendarChange,
    DeadlineKind,
    DeadlineNotice,
    DeadlinePolicy,
    Holiday,
    NoticeKind,
)
from portal.models.duplicate import (
    CandidateState,
    Certainty,
    DuplicateCandidate,
    DuplicateReason,
    ReportSupport,
)
from portal.models.feed import FeedSource
from portal.models.institution import District, Institution, InstitutionKind
from portal.models.outbox import OutboxChannel, OutboxMessage, OutboxState
from portal.models.report import (
    ArchiveReason,
    Attachment,
    Channel,
    EventKind,
    Report,
    ReporterIdentity,
    ReportEvent,
    ReportKind,
    ReportRating,
    ReportStatus,
)
from portal.models.response_template import ResponseTemplate
from portal.models.statistics import (
    Dimension,
    Grain,
    GRAIN_DIMENSIONS,
    Measure,
    MonthDuration,
    MonthSummary,
    StatisticsState,
)
from portal.models.user import Membership, Role, User
from portal.models.weekly_report import KeptWeeklyReport

__all__ = [
    "ArchiveReason", "AuditAction", "AuditEntry", "ReportRating", "ResponseTemplate",
    "Attachment", "CalendarChange", "Category", "Channel", "DeadlineKind", "DeadlineNotice",
    "DeadlinePolicy",
    "District",
    "EventKind", "Holiday", "Institution",
    "InstitutionKind", "Membership", "NoticeKind", "OutboxChannel", "OutboxMessage",
    "OutboxState", "Report", "ReportEvent",
    "ReporterIdentity", "ReportKind", "ReportStatus", "Role", "User",
    "CandidateState", "Certainty", "DuplicateCandidate", "DuplicateReason", "FeedSource",
    "ReportSupport", "ApiClient",
    "Dimension", "Grain", "GRAIN_DIMENSIONS", "Measure", "MonthDuration", "MonthSummary",
    "StatisticsState", "KeptWeeklyReport",
]
