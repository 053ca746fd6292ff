"""Who may see a reporter's identity.

The seeds' promise: an anonymous reporter's identity is seen by the national admin and nobody
else; a named reporter's identity is seen only by staff who handle the report (code of ethics:
protect the reporter from conflicts of interest), never by the public.
"""
from datetime import datetime

from sqlalchemy import select

from portal.domain import DomainError
from portal.domain.permissions import acting_roles
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import AuditAction, AuditEntry, Report, ReporterIdentity, Role, User

HANDLING_ROLES = {Role.INSTITUTION_ADMIN, Role.LIAISON, Role.OPERATOR}


class IdentityHidden(DomainError):
    pass


def is_national_admin(user: User | None) -> bool:
    return bool(user and user.is_staff and any(
        m.role is Role.NATIONAL_ADMIN for m in user.memberships))


def handles(user: User | None, report: Report) -> bool:
    """The user acts on the report in a handling role (not as a supervisor)."""
    return bool(acting_roles(user, report) & HANDLING_ROLES)


def may_see_identity(user: User | None, report: Report) -> bool:
    if is_national_admin(user):
        return True
    if report.is_anonymous:
        return False
    return handles(user, report)


def reveal_identity(report: Report, *, actor: User, now: datetime) -> ReporterIdentity | None:
    """The reporter's identity for an officer allowed to see it, with an audit entry.

    Raises ``IdentityHidden`` for everyone else. Flushes, never commits."""
    if not may_see_identity(actor, report):
        raise IdentityHidden(_l("You may not see who sent this report."))
    identity = db.session.scalar(
        select(ReporterIdentity).where(ReporterIdentity.report_id == report.id))
    db.session.add(AuditEntry(
        action=AuditAction.IDENTITY_VIEWED, actor=actor, report_id=report.id,
        institution_id=report.current_institution_id, created_at=now,
        detail=report.public_number))
    db.session.flush()
    return identity


def reporter_label(report: Report, viewer: User | None):
    """How the reporter is named on a page for ``viewer``, without revealing anything."""
    if report.is_anonymous and not is_national_admin(viewer):
        return _l("Anonymous")
    return _l("Identity protected")
