"""The weekly report: one institution, one ISO week (Monday 00:00 to Sunday 24:00, Asia/Jakarta),
one row per unit of the institution, one for the reports not yet at a unit, and a total.

Figures (a report counts for the unit it is at now, ``Report.current_unit_id``):

* received: reports created in the week;
* verified, dispositioned, answered, completed: reports with such a history event in the week
  (a report dispositioned twice in the week counts once);
* open at the end of the week: created before the week's end, not completed before it and not
  archived before it;
* red at the end of the week: open at the end of the week with ``due_at`` before the week's end
  (the deadline as stored now: a clock that moved since, by a disposition or a pause, counts
  with its new deadline);
* median time to first response (hours): over the reports first responded to in the week,
  ``first_response_at - created_at``;
* follow-up rate (%): of the reports received in the week, the share that had a first response
  (a follow-up visible to the reporter, or the answer) before the week ended -- LAPOR!'s
  headline "tindak lanjut" rate; none when nothing was received;
* top categories: the three categories most received in the week;
* offline hours: see ``portal.domain.offline.offline_hours``.

Counts are aggregated in SQL (GROUP BY unit); medians and the top three are taken in Python
over the small per-unit lists. No reporter identity is read.
"""
import csv
import io
import json
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, distinct, exists, func, select, text, union_all

from portal.domain import DomainError
from portal.domain.calendar import jakarta_date, start_of_day
from portal.domain.offline import OfflineUnit, offline_hours, offline_units
from portal.domain.permissions import nodes_for, subtree_ids
from portal.extensions import db
from portal.models.report import UNFINISHED_PREDICATE
from portal.i18n import lazy_gettext as _l
from portal.models import (
    AuditAction,
    AuditEntry,
    Category,
    EventKind,
    Institution,
    InstitutionKind,
    KeptWeeklyReport,
    Membership,
    Report,
    ReportEvent,
    ReportStatus,
    Role,
    User,
)

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")
EVENT_COLUMNS = {EventKind.VERIFIED: "verified", EventKind.DISPOSITIONED: "dispositioned",
                 EventKind.ANSWERED: "answered", EventKind.COMPLETED: "completed"}
TOP_CATEGORIES = 3


# ----------------------------------------------------------------------------- weeks
@dataclass(frozen=True)
class Week:
    year: int
    number: int

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def start(self) -> datetime:
        return start_of_day(self.monday)

    @property
    def end(self) -> datetime:
        return start_of_day(self.monday + timedelta(days=7))

    @property
    def code(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @classmethod
    def of(cls, day: date) -> "Week":
        year, number, _ = day.isocalendar()
        return cls(year, number)

    def following(self) -> "Week":
        return Week.of(self.monday + timedelta(days=7))


def last_week(now: datetime) -> Week:
    return Week.of(jakarta_date(now) - timedelta(days=7))


def parse_week(text: str | None, *, now: datetime) -> Week:
    """``YYYY-Www`` (ISO week) into a Week; a DomainError for a bad or a future week."""
    match = WEEK_PATTERN.match((text or "").strip())
    if not match:
        raise DomainError(_l("Give the week as year-W-number, for example 2026-W47."),
                          field="week")
    try:
        week = Week(int(match.group(1)), int(match.group(2)))
        week.monday  # noqa: B018  (validates the week number for that year)
    except ValueError:
        raise DomainError(_l("That year has no such week."), field="week") from None
    if week.start > now:
        raise DomainError(_l("That week has not begun yet."), field="week")
    return week


# ----------------------------------------------------------------------------- access
def may_read_weekly_report(user: User | None, institution: Institution) -> bool:
    """The national admin, and the institution admins and supervisors of the institution."""
    if user is None or not user.is_staff or not user.is_active:
        return False
    held = {m.role for m in user.memberships}
    if Role.NATIONAL_ADMIN in held:
        return True
    return any(institution.id in nodes_for(user, role)
               for role in (Role.INSTITUTION_ADMIN, Role.SUPERVISOR) if role in held)


def readable_institutions(user: User) -> list[Institution]:
    """The institutions whose weekly report the user may read, by name."""
    if user is None or not user.is_staff or not user.is_active:
        return []
    query = select(Institution).where(Institution.kind == InstitutionKind.INSTITUTION)
    if Role.NATIONAL_ADMIN not in {m.role for m in user.memberships}:
        nodes = nodes_for(user, Role.INSTITUTION_ADMIN) | nodes_for(user, Role.SUPERVISOR)
        query = query.where(Institution.id.in_(nodes))
    return list(db.session.scalars(query.order_by(Institution.name, Institution.id)))


# ----------------------------------------------------------------------------- the figures
@dataclass
class Row:
    unit: Institution | None  # None: reports not yet at a unit; also the total row
    label: str = ""
    received: int = 0
    verified: int = 0
    dispositioned: int = 0
    answered: int = 0
    completed: int = 0
    open_at_end: int = 0
    red_at_end: int = 0
    followed_up: int = 0
    response_hours: list[float] = field(default_factory=list)
    categories: list[tuple[Category, int]] = field(default_factory=list)
    offline_hours: float | None = None

    @property
    def median_first_response_hours(self) -> float | None:
        return round(statistics.median(self.response_hours), 1) if self.response_hours else None

    @property
    def follow_up_rate(self) -> float | None:
        return round(100 * self.followed_up / self.received, 1) if self.received else None


@dataclass
class WeeklyReport:
    institution: Institution
    week: Week
    rows: list[Row]  # units by name, then "not yet at a unit"
    total: Row
    offline_now: list[OfflineUnit]
    kept_at: datetime | None = None  # the figures were computed then (keep_weekly_reports)


COUNTS = ("received", "verified", "dispositioned", "answered", "completed", "open_at_end",
          "red_at_end", "followed_up")


def _key(unit_id: int | None, units: dict[int, Institution]) -> int | None:
    return unit_id if unit_id in units else None


def _open_since(ours, start: datetime):
    """(id, unit_id) of the reports matching ``ours`` that were not finished at some moment
    since ``start``: not finished now, completed since, or archived since (by their archive
    event; archiving is final). Three disjoint parts, each from a small index."""
    columns = (Report.id, Report.current_unit_id.label("unit_id"))
    return union_all(
        select(*columns).where(ours, text(UNFINISHED_PREDICATE)),
        select(*columns).where(ours, Report.completed_at >= start),
        # From the archive events (a few thousand a week for the whole portal), not from the
        # institution's archived reports (23,715 for the busiest at 1,000,000).
        select(*columns).select_from(ReportEvent).join(Report, Report.id == ReportEvent.report_id)
        .where(ReportEvent.kind == EventKind.ARCHIVED, ReportEvent.created_at >= start, ours,
               Report.completed_at.is_(None), Report.status == ReportStatus.ARCHIVED),
    ).subquery("open_since")


def _open_at_end(ours, end: datetime) -> list[tuple]:
    """(unit, reports open at ``end``, of which red) of the reports matching ``ours``: created
    before the end, not completed before it and not archived before it. Read as three
    disjoint parts, each from an index that holds few reports whatever the institution's
    history (instead of every report it ever had): the reports not finished now (a partial
    index), those completed since the end, and those archived since the end (found by their
    archive event)."""
    archived_before_end = exists().where(ReportEvent.report_id == Report.id,
                                         ReportEvent.kind == EventKind.ARCHIVED,
                                         ReportEvent.created_at < end)
    archived_since_end = select(ReportEvent.report_id).where(
        ReportEvent.kind == EventKind.ARCHIVED, ReportEvent.created_at >= end)
    parts = (
        # Not finished now, so never archived (archiving is final): literal SQL, so that
        # PostgreSQL matches the partial index in every plan (and answers from it alone).
        text(UNFINISHED_PREDICATE),
        and_(Report.completed_at >= end, ~archived_before_end),
        and_(Report.completed_at.is_(None), Report.status == ReportStatus.ARCHIVED,
             Report.id.in_(archived_since_end), ~archived_before_end),
    )
    found: dict = defaultdict(lambda: [0, 0])
    for part in parts:
        for unit_id, count, red in db.session.execute(
                select(Report.current_unit_id, func.count(),
                       func.sum(case((Report.due_at < end, 1), else_=0)))
                .where(ours, part, Report.created_at < end)
                .group_by(Report.current_unit_id)):
            found[unit_id][0] += count
            found[unit_id][1] += int(red or 0)
    return [(unit_id, count, red) for unit_id, (count, red) in found.items()]


def weekly_report(institution: Institution, week: Week, *, now: datetime) -> WeeklyReport:
    """The week's figures for ``institution`` (see the module's docstring for definitions):
    those kept by the Monday job for a finished week (keep_weekly_reports), else computed now;
    the units offline now, always now."""
    if institution.kind is not InstitutionKind.INSTITUTION:
        raise DomainError(_l("Weekly reports are made per institution."), field="institution")
    kept = db.session.scalar(select(KeptWeeklyReport).where(
        KeptWeeklyReport.institution_id == institution.id,
        KeptWeeklyReport.week == week.code)) if week.end <= now else None
    report = _from_kept(institution, week, kept) if kept is not None \
        else _compute(institution, week)
    report.offline_now = offline_units(institution, now=now)
    return report


def keep_weekly_reports(week: Week, *, now: datetime,
                        institutions: list[Institution] | None = None) -> int:
    """Compute and keep the figures of a finished week for every institution (or the given
    ones), replacing those kept before; returns how many. The Monday job (``flask reports
    weekly``) calls it before mailing: the page then reads a week's figures instead of
    computing them over the week's activity (3,103 ms, then 268 ms, for the busiest
    institution at 1,000,000 reports). Flushes, never commits."""
    if week.end > now:
        raise DomainError(_l("Only a finished week's figures can be kept."), field="week")
    if institutions is None:
        institutions = list(db.session.scalars(select(Institution).where(
            Institution.kind == InstitutionKind.INSTITUTION).order_by(Institution.id)))
    for institution in institutions:
        figures = _figures_json(_compute(institution, week))
        kept = db.session.scalar(select(KeptWeeklyReport).where(
            KeptWeeklyReport.institution_id == institution.id,
            KeptWeeklyReport.week == week.code))
        if kept is None:
            kept = KeptWeeklyReport(institution_id=institution.id, week=week.code)
            db.session.add(kept)
        kept.figures, kept.computed_at = figures, now
    db.session.flush()
    return len(institutions)


def first_week_with_reports() -> Week | None:
    """The week of the oldest report (Asia/Jakarta); None without reports."""
    oldest = db.session.scalar(select(func.min(Report.created_at)))
    return Week.of(jakarta_date(oldest)) if oldest is not None else None


def institutions_without_kept_week(week: Week,
                                   institutions: list[Institution] | None = None
                                   ) -> list[Institution]:
    """The institutions (every one, or of those given) whose figures of ``week`` are not
    kept, by id."""
    kept = select(KeptWeeklyReport.institution_id).where(KeptWeeklyReport.week == week.code)
    query = select(Institution).where(Institution.kind == InstitutionKind.INSTITUTION,
                                      Institution.id.not_in(kept))
    if institutions is not None:
        query = query.where(Institution.id.in_([i.id for i in institutions]))
    return list(db.session.scalars(query.order_by(Institution.id)))


def _row_json(row: Row) -> dict:
    return {"unit_id": row.unit.id if row.unit is not None else None, "label": row.label,
            **{name: getattr(row, name) for name in COUNTS},
            "response_hours": row.response_hours,
            "categories": [[category.id, count] for category, count in row.categories],
            "offline_hours": row.offline_hours}


def _figures_json(report: WeeklyReport) -> str:
    return json.dumps({"rows": [_row_json(row) for row in report.rows],
                       "total": _row_json(report.total)})


def _from_kept(institution: Institution, week: Week, kept: KeptWeeklyReport) -> WeeklyReport:
    figures = json.loads(kept.figures)
    every = figures["rows"] + [figures["total"]]
    unit_ids = {row["unit_id"] for row in every if row["unit_id"] is not None}
    category_ids = {category_id for row in every for category_id, _ in row["categories"]}
    units = {u.id: u for u in db.session.scalars(
        select(Institution).where(Institution.id.in_(unit_ids)))} if unit_ids else {}
    categories = {c.id: c for c in db.session.scalars(
        select(Category).where(Category.id.in_(category_ids)))} if category_ids else {}

    def row(data: dict) -> Row:
        return Row(unit=units.get(data["unit_id"]), label=data["label"],
                   **{name: data[name] for name in COUNTS},
                   response_hours=data["response_hours"],
                   categories=[(categories[category_id], count)
                               for category_id, count in data["categories"]
                               if category_id in categories],
                   offline_hours=data["offline_hours"])

    return WeeklyReport(institution=institution, week=week,
                        rows=[row(data) for data in figures["rows"]],
                        total=row(figures["total"]), offline_now=[],
                        kept_at=kept.computed_at)


def _compute(institution: Institution, week: Week) -> WeeklyReport:
    """The week's figures, computed from the reports and their history now."""
    start, end = week.start, week.end
    nodes = subtree_ids({institution.id})
    units = {u.id: u for u in db.session.scalars(select(Institution).where(
        Institution.id.in_(nodes), Institution.kind == InstitutionKind.UNIT))}
    ours = Report.current_institution_id.in_(nodes)
    rows: dict[int | None, Row] = {uid: Row(unit=u, label=u.name) for uid, u in units.items()}
    rows[None] = Row(unit=None)

    def row(unit_id):
        return rows[_key(unit_id, units)]

    received = and_(Report.created_at >= start, Report.created_at < end)
    for unit_id, count, followed in db.session.execute(
            select(Report.current_unit_id, func.count(Report.id),
                   func.sum(case((Report.first_response_at < end, 1), else_=0)))
            .where(ours, received).group_by(Report.current_unit_id)):
        row(unit_id).received += count
        row(unit_id).followed_up += int(followed or 0)

    # The week's events of the four kinds, of the reports open at some moment since the start
    # (only those can have one; archiving is final): a hash of a few thousand reports probed by
    # the week's events instead of an index probe per event of the whole portal (38,283 a
    # week at 1,000,000 reports, 55-66 ms for the busiest institution).
    open_since = _open_since(ours, start)
    for unit_id, kind, count in db.session.execute(
            select(open_since.c.unit_id, ReportEvent.kind, func.count(distinct(open_since.c.id)))
            .join(ReportEvent, ReportEvent.report_id == open_since.c.id)
            .where(ReportEvent.kind.in_(EVENT_COLUMNS), ReportEvent.created_at >= start,
                   ReportEvent.created_at < end)
            .group_by(open_since.c.unit_id, ReportEvent.kind)):
        target = row(unit_id)
        setattr(target, EVENT_COLUMNS[kind], getattr(target, EVENT_COLUMNS[kind]) + count)

    for unit_id, count, red in _open_at_end(ours, end):
        row(unit_id).open_at_end += count
        row(unit_id).red_at_end += int(red or 0)

    for unit_id, created, responded in db.session.execute(
            select(Report.current_unit_id, Report.created_at, Report.first_response_at)
            .where(ours, Report.first_response_at >= start, Report.first_response_at < end)):
        row(unit_id).response_hours.append((responded - created).total_seconds() / 3600)

    by_category = defaultdict(list)
    category_ids = set()
    for unit_id, category_id, count in db.session.execute(
            select(Report.current_unit_id, Report.category_id, func.count(Report.id))
            .where(ours, received, Report.category_id.isnot(None))
            .group_by(Report.current_unit_id, Report.category_id)):
        by_category[_key(unit_id, units)].append((category_id, count))
        category_ids.add(category_id)
    categories = {c.id: c for c in db.session.scalars(
        select(Category).where(Category.id.in_(category_ids)))} if category_ids else {}

    hours = offline_hours(institution, start, end)
    for unit_id, item in rows.items():
        merged = defaultdict(int)
        for category_id, count in by_category.get(unit_id, ()):
            merged[category_id] += count
        top = sorted(merged.items(), key=lambda kv: (-kv[1], categories[kv[0]].code))
        item.categories = [(categories[cid], count) for cid, count in top[:TOP_CATEGORIES]]
        if unit_id is not None:
            item.offline_hours = hours.get(unit_id, 0.0)

    total = Row(unit=None)
    for item in rows.values():
        for name in COUNTS:
            setattr(total, name, getattr(total, name) + getattr(item, name))
        total.response_hours += item.response_hours
    merged = defaultdict(int)
    for unit_id in rows:
        for category_id, count in by_category.get(unit_id, ()):
            merged[category_id] += count
    top = sorted(merged.items(), key=lambda kv: (-kv[1], categories[kv[0]].code))
    total.categories = [(categories[cid], count) for cid, count in top[:TOP_CATEGORIES]]
    total.offline_hours = sum(hours.values())

    ordered = sorted((r for k, r in rows.items() if k is not None),
                     key=lambda r: (r.unit.name, r.unit.id)) + [rows[None]]
    return WeeklyReport(institution=institution, week=week, rows=ordered, total=total,
                        offline_now=[])


# ----------------------------------------------------------------------------- exports
def columns() -> list:
    return [_l("Unit"), _l("Received"), _l("Verified"), _l("Dispositioned"), _l("Answered"),
            _l("Completed"), _l("Open at the end of the week"), _l("Red at the end of the week"),
            _l("Median hours to first response"), _l("Follow-up rate (percent)"),
            _l("Top categories"), _l("Offline hours")]


def _label(row: Row, *, total: bool = False) -> str:
    if total:
        return str(_l("All units"))
    return row.unit.name if row.unit is not None else str(_l("Not yet at a unit"))


def table(report: WeeklyReport, *, locale: str = "id") -> list[list]:
    """The report as rows of plain values (header first, total last) for CSV, XLSX and mail."""
    lines = [[str(c) for c in columns()]]
    for row, is_total in [(r, False) for r in report.rows] + [(report.total, True)]:
        lines.append([
            _label(row, total=is_total), row.received, row.verified, row.dispositioned,
            row.answered, row.completed, row.open_at_end, row.red_at_end,
            row.median_first_response_hours, row.follow_up_rate,
            "; ".join(f"{c.name_for(locale)} ({n})" for c, n in row.categories),
            row.offline_hours,
        ])
    return lines


def _inert(value):
    """A text a spreadsheet would run as a formula (a unit or category named "=..." by an
    admin) is given a leading apostrophe; numbers and None pass unchanged."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(report: WeeklyReport, *, locale: str = "id") -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for line in table(report, locale=locale):
        writer.writerow(["" if value is None else _inert(value) for value in line])
    return out.getvalue()


def to_xlsx(report: WeeklyReport, *, locale: str = "id") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = report.week.code
    for line in table(report, locale=locale):
        sheet.append([_inert(value) for value in line])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 45
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def record_export(report: WeeklyReport, *, actor: User | None, file_format: str,
                  now: datetime) -> AuditEntry:
    """Every export leaves an audit row with the institution (its supervisors read it)."""
    entry = AuditEntry(action=AuditAction.EXPORT, actor=actor,
                       institution_id=report.institution.id, created_at=now,
                       detail=f"weekly report {report.week.code} ({file_format})")
    db.session.add(entry)
    db.session.flush()
    return entry


# ----------------------------------------------------------------------------- mail
def supervisors_of(institution: Institution) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.role == Role.SUPERVISOR, Membership.institution_id == institution.id,
            User.is_active_account.is_(True)).order_by(User.name, User.id).distinct()))


def mail_weekly_reports(week: Week, *, now: datetime,
                        institution: Institution | None = None) -> int:
    """Queue the week's report to the supervisors of every institution (or of one); returns
    the number of mails queued. Each institution's mail counts as an export (audit row)."""
    from flask_babel import force_locale

    from portal.domain.notifications import MAIL_LOCALE, queue_mail

    if institution is None:
        institutions = list(db.session.scalars(select(Institution).where(
            Institution.kind == InstitutionKind.INSTITUTION).order_by(Institution.id)))
    else:
        institutions = [institution]
    queued = 0
    for inst in institutions:
        recipients = supervisors_of(inst)
        if not recipients:
            continue
        report = weekly_report(inst, week, now=now)
        with force_locale(MAIL_LOCALE):
            lines = table(report, locale=MAIL_LOCALE)
            subject = str(_l("[LAPOR!] Weekly report %(week)s: %(institution)s",
                             week=week.code, institution=inst.name))[:255]
        for user in recipients:
            queue_mail(recipient=user.email, subject=subject, template="weekly_report", now=now,
                       recipient_user=user, report=report, lines=lines)
            queued += 1
        record_export(report, actor=None, file_format="mail", now=now)
    db.session.flush()
    return queued
