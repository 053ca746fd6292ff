"""A citizen account and the reports it filed.

A named report links its account on ``ReporterIdentity.user_id``; an anonymous one keeps no
link in the database (a dump must not name its reporter) and is found by the keyed contact hash
of the account (``duplicates.contact_hash(user_id=...)``, set on every report filed with an
account). It is read with explicit queries on the identity table, never through
``Report.identity``, and nothing about the identity leaves here but "yes, this account filed it".
"""
from sqlalchemy import Select, exists, or_, select

from portal.domain.duplicates import contact_hash
from portal.extensions import db
from portal.models import Report, ReporterIdentity, User


def is_citizen(user: User | None) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and not user.is_staff and user.is_active)


def _filed_with(user: User):
    """The identity rows of the reports filed with this account, named or anonymous."""
    return or_(ReporterIdentity.user_id == user.id,
               ReporterIdentity.contact_hash == contact_hash(user_id=user.id))


def owns_report(user: User | None, report: Report) -> bool:
    """The signed-in citizen filed this report with their account."""
    if not is_citizen(user):
        return False
    return bool(db.session.scalar(select(exists().where(
        ReporterIdentity.report_id == report.id, _filed_with(user)))))


def reports_of(user: User) -> Select:
    """The citizen's own reports, newest first (a query, for paging)."""
    return (select(Report)
            .join(ReporterIdentity, ReporterIdentity.report_id == Report.id)
            .where(_filed_with(user))
            .order_by(Report.created_at.desc(), Report.id.desc()))
