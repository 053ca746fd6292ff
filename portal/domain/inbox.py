"""The staff inbox: the reports a staff member may see, filtered, counted per status and paged.

Every query starts from ``permissions.visible_reports_clause``: nothing outside the user's nodes
is ever counted or listed. Text search is a plain case-insensitive LIKE on title and body for
now; PostgreSQL full-text search replaces it later behind the same ``InboxFilters.text``.
"""
import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal, or_, select, union_all
from sqlalchemy.orm import joinedload

from portal.domain.paging import Cursor, after_clause, order_by
from portal.domain.permissions import subtree_ids, visible_reports_clause
from portal.extensions import db
from portal.models import (
    Institution,
    InstitutionKind,
    Report,
    ReportKind,
    ReportStatus,
    User,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
PAGE_SIZE = 25
MAX_TEXT = 200


class Sort(enum.Enum):
    NEWEST = "newest"
    OLDEST = "oldest"
    UPDATED = "updated"


@dataclass(frozen=True)
class InboxFilters:
    status: ReportStatus | None = None
    kind: ReportKind | None = None
    category_id: int | None = None
    unit_id: int | None = None
    created_from: date | None = None  # calendar days in Asia/Jakarta, both inclusive
    created_to: date | None = None
    text: str | None = None
    sort: Sort = Sort.NEWEST


@dataclass
class InboxPage:
    reports: list[Report]
    next_cursor: Cursor | None


# Finished reports are history: above this many per status the inbox says "1000+" instead of
# counting them all (an exact count reads every finished report of a big institution: 160,000
# at 1,000,000 reports). Unfinished ones, the work to do, are always counted exactly.
FINISHED_COUNT_CAP = 1_000
FINISHED = (ReportStatus.COMPLETED, ReportStatus.ARCHIVED)
# Listed rather than "NOT IN FINISHED": an index range per status, not a scan of them all.
UNFINISHED = tuple(status for status in ReportStatus if status not in FINISHED)


@dataclass
class StatusCounts:
    counts: dict[ReportStatus, int]
    capped: set[ReportStatus]  # statuses with more than FINISHED_COUNT_CAP reports

    def get(self, status: ReportStatus, default: int = 0) -> int:
        return self.counts.get(status, default)

    def label(self, status: ReportStatus | None = None) -> str:
        """The count as the inbox shows it: "1000+" for a capped status; of all statuses
        (None), the sum, with a "+" when one of them was capped."""
        if status is None:
            return f"{sum(self.counts.values())}{'+' if self.capped else ''}"
        return f"{self.get(status)}{'+' if status in self.capped else ''}"


@dataclass
class Inbox:
    page: InboxPage
    counts: StatusCounts
    units: list[Institution]


def jakarta_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), JAKARTA).astimezone(timezone.utc)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(user: User, filters: InboxFilters, *, with_status: bool = True,
                visible=None) -> list:
    conditions = [visible if visible is not None else visible_reports_clause(user)]
    if with_status and filters.status is not None:
        conditions.append(Report.status == filters.status)
    if filters.kind is not None:
        conditions.append(Report.kind == filters.kind)
    if filters.category_id is not None:
        conditions.append(Report.category_id == filters.category_id)
    if filters.unit_id is not None:
        conditions.append(Report.current_unit_id == filters.unit_id)
    if filters.created_from is not None:
        conditions.append(Report.created_at >= jakarta_midnight(filters.created_from))
    if filters.created_to is not None:
        conditions.append(
            Report.created_at < jakarta_midnight(filters.created_to + timedelta(days=1)))
    text = (filters.text or "").strip()[:MAX_TEXT]
    if text:
        pattern = _like_pattern(text)
        conditions.append(or_(Report.title.ilike(pattern, escape="\\"),
                              Report.body.ilike(pattern, escape="\\")))
    return conditions


def _sort_key(sort: Sort):
    column = Report.updated_at if sort is Sort.UPDATED else Report.created_at
    return column, sort is not Sort.OLDEST


def status_counts(user: User, filters: InboxFilters, *, visible=None) -> StatusCounts:
    """How many visible reports match the other filters, per status: exact for the unfinished
    statuses (one GROUP BY), at most FINISHED_COUNT_CAP + 1 for each finished one (one
    statement; the inbox says "1000+" beyond the cap)."""
    conditions = _conditions(user, filters, with_status=False, visible=visible)
    counts = {status: count for status, count in db.session.execute(
        select(Report.status, func.count())
        .where(*conditions, Report.status.in_(UNFINISHED))
        .group_by(Report.status))}
    limited = [select(literal(status.value).label("status"), func.count().label("n"))
               .select_from(select(Report.id).where(*conditions, Report.status == status)
                            .limit(FINISHED_COUNT_CAP + 1).subquery())
               for status in FINISHED]
    capped = set()
    for value, count in db.session.execute(union_all(*limited)):
        status = ReportStatus(value)
        if count:
            counts[status] = min(count, FINISHED_COUNT_CAP)
        if count > FINISHED_COUNT_CAP:
            capped.add(status)
    return StatusCounts(counts=counts, capped=capped)


def inbox_page(user: User, filters: InboxFilters, after: Cursor | None = None,
               limit: int = PAGE_SIZE, *, visible=None) -> InboxPage:
    column, descending = _sort_key(filters.sort)
    query = (select(Report)
             .where(*_conditions(user, filters, visible=visible))
             .options(joinedload(Report.category), joinedload(Report.current_unit),
                      joinedload(Report.current_institution))
             .order_by(*order_by(column, Report.id, descending=descending))
             .limit(limit + 1))
    if after is not None:
        query = query.where(after_clause(column, Report.id, after, descending=descending))
    reports = list(db.session.scalars(query))
    next_cursor = None
    if len(reports) > limit:
        reports = reports[:limit]
        last = reports[-1]
        key = last.updated_at if filters.sort is Sort.UPDATED else last.created_at
        next_cursor = Cursor(key=key, id=last.id)
    return InboxPage(reports=reports, next_cursor=next_cursor)


def units_for(user: User) -> list[Institution]:
    """The units at or below the user's nodes, for the inbox's unit filter."""
    nodes = subtree_ids({m.institution_id for m in user.memberships})
    if not nodes:
        return []
    return list(db.session.scalars(
        select(Institution).where(Institution.kind == InstitutionKind.UNIT,
                                  Institution.id.in_(nodes)).order_by(Institution.name)))


def load_inbox(user: User, filters: InboxFilters, after: Cursor | None = None,
               limit: int = PAGE_SIZE) -> Inbox:
    """Everything the inbox page shows: one page of reports, the counts per status, the units
    to filter by. The user's scope is worked out once for all three."""
    visible = visible_reports_clause(user)
    return Inbox(page=inbox_page(user, filters, after, limit, visible=visible),
                 counts=status_counts(user, filters, visible=visible),
                 units=units_for(user))
