"""Reading the audit log: supervisors see the entries of their institution subtree, the national
admin sees every entry. Newest first, keyset paging."""
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.domain.paging import Cursor, after_clause, order_by
from portal.domain.permissions import nodes_for
from portal.domain.privacy import is_national_admin
from portal.extensions import db
from portal.models import AuditEntry, Report, Role, User

PAGE_SIZE = 50


@dataclass
class AuditRow:
    entry: AuditEntry
    report_number: str | None


@dataclass
class AuditPage:
    rows: list[AuditRow]
    next_cursor: Cursor | None


def may_read_audit_log(user: User | None) -> bool:
    if user is None or not user.is_staff or not user.is_active:
        return False
    return is_national_admin(user) or any(m.role is Role.SUPERVISOR for m in user.memberships)


def audit_page(user: User, after: Cursor | None = None, limit: int = PAGE_SIZE) -> AuditPage:
    """A page of the entries ``user`` may read; empty for anyone without the right."""
    if not may_read_audit_log(user):
        return AuditPage(rows=[], next_cursor=None)
    query = (select(AuditEntry, Report.public_number)
             .outerjoin(Report, Report.id == AuditEntry.report_id)
             .options(joinedload(AuditEntry.actor), joinedload(AuditEntry.subject_user),
                      joinedload(AuditEntry.institution))
             .order_by(*order_by(AuditEntry.created_at, AuditEntry.id, descending=True))
             .limit(limit + 1))
    if not is_national_admin(user):
        query = query.where(AuditEntry.institution_id.in_(nodes_for(user, Role.SUPERVISOR)))
    if after is not None:
        query = query.where(after_clause(AuditEntry.created_at, AuditEntry.id, after,
                                         descending=True))
    rows = [AuditRow(entry=entry, report_number=number)
            for entry, number in db.session.execute(query)]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1].entry
        next_cursor = Cursor(key=last.created_at, id=last.id)
    return AuditPage(rows=rows, next_cursor=next_cursor)
