"""The supervisor's (inspektorat) dashboard: the red reports of an institution subtree and,
per unit, how many reports are open, yellow and red.

Two queries whatever the number of reports: the red reports (with their unit), and one
GROUP BY over the open reports using the clock's SQL clauses (portal/domain/deadlines.py).
Yellow uses the national calendar (a regional day off may show a report yellow a day early).
No reporter identity is read here.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select, true
from sqlalchemy.orm import aliased

from portal.domain.calendar import jakarta_date, last_day_before, working_days_between
from portal.domain.calendars import yellow_clause
from portal.domain.deadlines import national_days_off, red_clause
from portal.domain.permissions import subtree_ids
from portal.extensions import db
from portal.models import Institution, Report, ReportStatus, Role, User

SUPERVISING_ROLES = frozenset({Role.NATIONAL_ADMIN, Role.INSTITUTION_ADMIN, Role.SUPERVISOR})
MAX_RED_ROWS = 500


def may_supervise(user: User | None) -> bool:
    return bool(user is not None and user.is_staff and user.is_active
                and {m.role for m in user.memberships} & SUPERVISING_ROLES)


def _scope(user: User):
    """The reports of the subtrees the user supervises or administers (everything for the
    national admin)."""
    held = {m.role for m in user.memberships}
    if Role.NATIONAL_ADMIN in held:
        return true()
    nodes = subtree_ids({m.institution_id for m in user.memberships
                         if m.role in (Role.INSTITUTION_ADMIN, Role.SUPERVISOR)})
    return or_(Report.current_institution_id.in_(nodes), Report.current_unit_id.in_(nodes))


@dataclass(frozen=True)
class RedReport:
    public_number: str
    title: str
    unit: str | None
    institution: str | None
    due_at: datetime
    overdue_working_days: int  # working days after the last allowed day, up to today
    overdue_hours: int


@dataclass(frozen=True)
class UnitCounts:
    unit_id: int | None  # None: at the institution, not yet with a unit
    unit: str | None
    institution: str | None
    open: int
    yellow: int
    red: int


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    red: list[RedReport]
    more_red: bool
    units: list[UnitCounts]

    @property
    def totals(self) -> tuple[int, int, int]:
        return (sum(u.open for u in self.units), sum(u.yellow for u in self.units),
                sum(u.red for u in self.units))


def supervision_dashboard(user: User, *, now: datetime) -> Dashboard:
    today = jakarta_date(now)
    days_off = national_days_off(today)
    scope = _scope(user)
    is_open = Report.status.not_in([ReportStatus.COMPLETED, ReportStatus.ARCHIVED])
    unit = aliased(Institution)
    institution = aliased(Institution)

    rows = db.session.execute(
        select(Report.public_number, Report.title, Report.due_at, unit.name, institution.name)
        .outerjoin(unit, unit.id == Report.current_unit_id)
        .outerjoin(institution, institution.id == Report.current_institution_id)
        .where(scope, is_open, red_clause(now))
        .order_by(Report.due_at, Report.id)
        .limit(MAX_RED_ROWS + 1)
    ).all()
    red = [RedReport(public_number=number, title=title, unit=unit_name,
                     institution=institution_name, due_at=due_at,
                     overdue_working_days=working_days_between(
                         last_day_before(due_at), today, days_off),
                     overdue_hours=int((now - due_at).total_seconds() // 3600))
           for number, title, due_at, unit_name, institution_name in rows[:MAX_RED_ROWS]]

    counted = db.session.execute(
        select(Report.current_unit_id, unit.name, institution.name, func.count(Report.id),
               func.sum(case((yellow_clause(now), 1), else_=0)),
               func.sum(case((red_clause(now), 1), else_=0)))
        .outerjoin(unit, unit.id == Report.current_unit_id)
        .outerjoin(institution, institution.id == Report.current_institution_id)
        .where(scope, is_open)
        .group_by(Report.current_unit_id, unit.name, institution.name)
    ).all()
    units = sorted(
        (UnitCounts(unit_id=unit_id, unit=unit_name, institution=institution_name,
                    open=int(total), yellow=int(yellow or 0), red=int(reds or 0))
         for unit_id, unit_name, institution_name, total, yellow, reds in counted),
        key=lambda u: (-u.red, -u.yellow, u.institution or "", u.unit or ""))
    return Dashboard(now=now, red=red, more_red=len(rows) > MAX_RED_ROWS, units=units)
