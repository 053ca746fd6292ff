"""A citizen account and the reports it filed.

The link lives on ``ReporterIdentity.user_id`` (also for anonymous reports: the identity row is
private, and the account holder is the reporter). It is read with explicit queries on the
identity table, never through ``Report.identity``, and nothing about the identity leaves here
but "yes, this account filed it".
"""
from sqlalchemy import Select, exists, select

from portal.extensions import db
from portal.models import Report, ReporterIdentity, User


def is_citizen(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and not user.is_staff and user.is_active)


def owns_report(user: User | None, report: Report) -> bool:
    """The signed-in citizen filed this report with their account."""
    if not is_citizen(user):
        return False
    return bool(db.session.scalar(select(exists().where(
        ReporterIdentity.report_id == report.id, ReporterIdentity.user_id == user.id))))


def reports_of(user: User) -> Select:
    """The citizen's own reports, newest first (a query, for paging)."""
    return (select(Report)
            .join(ReporterIdentity, ReporterIdentity.report_id == Report.id)
            .where(ReporterIdentity.user_id == user.id)
            .order_by(Report.created_at.desc(), Report.id.desc()))
