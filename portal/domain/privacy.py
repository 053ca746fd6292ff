"""Who may see a reporter's identity.

The seeds' promise: an anonymous reporter's identity is seen by the national admin and nobody
else; a named reporter's identity is seen only by staff who handle the report (code of ethics:
protect the reporter from conflicts of interest), never by the public.
"""
from sqlalchemy import select

from portal.extensions import db
from portal.models import Institution, Report, Role, User

HANDLING_ROLES = {Role.INSTITUTION_ADMIN, Role.LIAISON, Role.OPERATOR}


def subtree_ids(root_ids: set[int]) -> set[int]:
    """The given institution nodes and every node below them."""
    found = set(root_ids)
    frontier = set(root_ids)
    while frontier:
        children = set(db.session.scalars(
            select(Institution.id).where(Institution.parent_id.in_(frontier))))
        frontier = children - found
        found |= frontier
    return found


def is_national_admin(user: User | None) -> bool:
    return bool(user and user.is_staff and any(
        m.role is Role.NATIONAL_ADMIN for m in user.memberships))


def nodes_with_role(user: User, roles: set[Role]) -> set[int]:
    return subtree_ids({m.institution_id for m in user.memberships if m.role in roles})


def handles(user: User | None, report: Report) -> bool:
    """The user holds a handling role at the report's institution or unit, or above them."""
    if user is None or not user.is_staff:
        return False
    scope = nodes_with_role(user, HANDLING_ROLES)
    return bool({report.current_institution_id, report.current_unit_id} & scope)


def may_see_identity(user: User | None, report: Report) -> bool:
    if is_national_admin(user):
        return True
    if report.is_anonymous:
        return False
    return handles(user, report)
