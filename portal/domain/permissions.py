"""Where staff stand: which reports a staff member may see, and in which roles they act on one.

A staff member sees and acts only on reports at their node or below it. Roles apply to a report
through the node that matters for the role: the report's institution for admins and
supervisors, the report's unit for liaisons and operators; the national admin acts everywhere.
"""
from sqlalchemy import event, false, or_, select
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import Institution, Report, Role, User

# The subtrees walked in this session's transaction (a page asks for the same ones several
# times: the permission checks, the inbox clause, the labels). Forgotten when the transaction
# ends and when the session flushes a change to the tree.
_SUBTREES = "permissions.subtrees"


def subtree_ids(root_ids: set[int]) -> set[int]:
    """The given institution nodes and every node below them."""
    cache = db.session.info.setdefault(_SUBTREES, {})
    key = frozenset(root_ids)
    if key not in cache:
        found = set(key)
        frontier = set(key)
        while frontier:
            children = set(db.session.scalars(
                select(Institution.id).where(Institution.parent_id.in_(frontier))))
            frontier = children - found
            found |= frontier
        cache[key] = frozenset(found)
    return set(cache[key])


@event.listens_for(Session, "after_flush")
def _forget_subtrees_when_the_tree_changes(session, _context) -> None:
    if any(isinstance(o, Institution) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_SUBTREES, None)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_subtrees_after_the_transaction(session) -> None:
    session.info.pop(_SUBTREES, None)


def nodes_for(user: User, role: Role) -> set[int]:
    return subtree_ids({m.institution_id for m in user.memberships if m.role is role})


def acting_roles(user: User | None, report: Report) -> set[Role]:
    """The roles in which ``user`` may act on ``report`` now."""
    if user is None or not user.is_staff or not user.is_active:
        return set()
    roles: set[Role] = set()
    held = {m.role for m in user.memberships}
    if Role.NATIONAL_ADMIN in held:
        roles.add(Role.NATIONAL_ADMIN)
    if Role.INSTITUTION_ADMIN in held and report.current_institution_id in nodes_for(
        user, Role.INSTITUTION_ADMIN
    ):
        roles.add(Role.INSTITUTION_ADMIN)
    for role in (Role.LIAISON, Role.OPERATOR):
        if role in held and report.current_unit_id in nodes_for(user, role):
            roles.add(role)
    if Role.SUPERVISOR in held and {report.current_institution_id, report.current_unit_id} & (
        nodes_for(user, Role.SUPERVISOR)
    ):
        roles.add(Role.SUPERVISOR)
    return roles


def can_view(user: User | None, report: Report) -> bool:
    return bool(acting_roles(user, report))


def visible_reports_clause(user: User):
    """A WHERE clause selecting exactly the reports ``user`` may see (for inbox queries)."""
    held = {m.role for m in user.memberships}
    if not user.is_staff:
        return false()
    if Role.NATIONAL_ADMIN in held:
        return Report.id.isnot(None)
    clauses = []
    admin_nodes = nodes_for(user, Role.INSTITUTION_ADMIN)
    if admin_nodes:
        clauses.append(Report.current_institution_id.in_(admin_nodes))
    unit_nodes = nodes_for(user, Role.LIAISON) | nodes_for(user, Role.OPERATOR)
    if unit_nodes:
        clauses.append(Report.current_unit_id.in_(unit_nodes))
    supervised = nodes_for(user, Role.SUPERVISOR)
    if supervised:
        clauses.append(Report.current_institution_id.in_(supervised))
        clauses.append(Report.current_unit_id.in_(supervised))
    return or_(*clauses) if clauses else false()


def reports_visible_to(user: User):
    return select(Report).where(visible_reports_clause(user))
