"""The deadline sweep: reminders before and on the day, escalation of red reports, and the
automatic completion of answered reports the reporter left without a reply.

Run by ``flask deadlines sweep`` (cron) and by the development worker every minute.

Set-based: a fixed number of SQL statements whatever the number of reports (the statements
only grow with the number of distinct auto-completion policies):

1. one INSERT ... SELECT records the notices due now in ``deadline_notice``; its unique key
   (report, kind, deadline) with ON CONFLICT DO NOTHING makes the sweep idempotent: a notice
   already recorded is not recorded (nor sent) again, and the rows of this run carry its token;
2. one INSERT ... SELECT writes the internal "overdue" event of each report that just turned red;
3. one SELECT counts the new notices per kind; one windowed SELECT lists them per recipient
   and kind, one per institution and kind (the first DIGEST_LIMIT of each, with the total),
   and one bulk INSERT queues one digest mail per (recipient, kind) and one digest webhook
   per (institution, kind): the outbox rows grow with the recipients, not the reports;
4. per auto-completion policy, one INSERT ... SELECT of COMPLETED events and one UPDATE.

Regional days off are not looked at here (yellow and the completion cutoff use the national
calendar): a regional holiday may bring a reminder a day early. Staff mails carry no reporter
identity: number, title, unit and deadline only. Nothing here commits.
"""
import json
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import (
    and_,
    case,
    false,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from portal.domain.calendar import (
    ONE_DAY,
    end_of_day,
    is_working_day,
    jakarta_date,
    last_day_before,
    next_working_day,
    start_of_day,
)
from portal.domain.deadlines import DEFAULT_POLICY, national_days_off
from portal.domain.notifications import MAIL_LOCALE
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    DeadlineNotice,
    DeadlinePolicy,
    EventKind,
    Institution,
    Membership,
    NoticeKind,
    OutboxChannel,
    OutboxMessage,
    OutboxState,
    Report,
    ReportEvent,
    ReportStatus,
    Role,
    User,
)
from portal.models.types import UTCDateTime

S = ReportStatus
N = NoticeKind
CLOSED = (S.COMPLETED.value, S.ARCHIVED.value)

SUBJECTS = {
    N.BEFORE: _l("Reminder: %(count)s report(s) due at the end of the next working day"),
    N.DAY: _l("Reminder: %(count)s report(s) due today"),
    N.OVERDUE: _l("Overdue: %(count)s report(s) passed their deadline"),
}
DIGEST_LIMIT = 50  # reports listed in one digest; the rest are counted


@dataclass
class SweepResult:
    notices: Counter = field(default_factory=Counter)  # NoticeKind -> new notices
    mails: int = 0
    webhooks: int = 0
    overdue_events: int = 0
    completed: int = 0

    def summary(self) -> str:
        return (f"reminders before {self.notices[N.BEFORE]}, on the day {self.notices[N.DAY]}, "
                f"overdue {self.notices[N.OVERDUE]}; queued {self.mails} mail(s) and "
                f"{self.webhooks} webhook(s); {self.completed} answered report(s) completed")


def _dialect_insert(table):
    name = db.session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"the sweep needs ON CONFLICT DO NOTHING; {name} is not supported")


def _at(instant: datetime):
    return literal(instant, UTCDateTime())


def run_sweep(now: datetime) -> SweepResult:
    """One sweep at ``now``: what it recorded and queued. Flushes, never commits."""
    result = SweepResult()
    token = uuid.uuid4().hex
    _record_notices(now, token)
    result.overdue_events = _overdue_events(now, token)
    _queue_messages(now, token, result)
    result.completed = _auto_complete(now)
    db.session.expire_all()  # the UPDATEs went around the identity map
    return result


# ----------------------------------------------------------------------------- 1. notices
def _record_notices(now: datetime, token: str) -> None:
    today = jakarta_date(now)
    days_off = national_days_off(today)
    end_today = end_of_day(today)
    end_next = end_of_day(next_working_day(today, days_off))
    kind = case(
        (Report.due_at <= _at(now), N.OVERDUE.value),
        (Report.due_at <= _at(end_today), N.DAY.value),
        else_=N.BEFORE.value,
    )
    due = select(Report.id, kind, Report.due_at, literal(token), _at(now)).where(
        Report.due_at.is_not(None), Report.due_at <= _at(end_next),
        Report.status.not_in([S.COMPLETED, S.ARCHIVED]))
    statement = _dialect_insert(DeadlineNotice.__table__).from_select(
        ["report_id", "kind", "due_at", "sweep", "created_at"], due).on_conflict_do_nothing()
    db.session.execute(statement)


def _new_notices(token: str):
    return DeadlineNotice.sweep == token


# ----------------------------------------------------------------------------- 2. red events
def _overdue_events(now: datetime, token: str) -> int:
    """The report's history says when it turned red (internal: staff and supervisors)."""
    source = (
        select(DeadlineNotice.report_id, literal(EventKind.OVERDUE.value), null(), false(),
               Report.status, DeadlineNotice.due_at, _at(now))
        .join(Report, Report.id == DeadlineNotice.report_id)
        .where(_new_notices(token), DeadlineNotice.kind == N.OVERDUE)
    )
    result = db.session.execute(insert(ReportEvent.__table__).from_select(
        ["report_id", "kind", "actor_id", "visible_to_reporter", "status_after", "due_at",
         "created_at"], source))
    return max(result.rowcount or 0, 0)


# ----------------------------------------------------------------------------- 3. messages
def _recipients(token: str):
    """Who hears of the new notices, as (notice id, user id) rows: reminders go to the unit's
    liaisons and operators (to the institution admins while no unit has it: the verification
    clock; to the national admins while no institution has it); red escalations to the
    institution admins and supervisors (the national admins for a report at the national
    level). A UNION ALL of plain equi-joins, so that the database can hash them."""
    reminder = DeadlineNotice.kind != N.OVERDUE

    def notices_to(node, roles, *where):
        return (select(DeadlineNotice.id.label("notice_id"),
                       Membership.user_id.label("user_id"))
                .join(Report, Report.id == DeadlineNotice.report_id)
                .join(Membership, and_(Membership.institution_id == node,
                                       Membership.role.in_(roles)))
                .where(_new_notices(token), *where))

    national = (select(DeadlineNotice.id.label("notice_id"),
                       Membership.user_id.label("user_id"))
                .join(Report, Report.id == DeadlineNotice.report_id)
                .join(Membership, Membership.role == Role.NATIONAL_ADMIN)
                .where(_new_notices(token), Report.current_institution_id.is_(None)))
    return union_all(
        notices_to(Report.current_unit_id, [Role.LIAISON, Role.OPERATOR], reminder),
        notices_to(Report.current_institution_id, [Role.INSTITUTION_ADMIN], reminder,
                   Report.current_unit_id.is_(None)),
        notices_to(Report.current_institution_id, [Role.INSTITUTION_ADMIN, Role.SUPERVISOR],
                   ~reminder),
        notices_to(Report.current_unit_id, [Role.SUPERVISOR], ~reminder),
        national,
    ).subquery()


def _digest_rows(keys):
    """The columns of a digest query: each notice's report facts, its position in its digest
    (``keys`` and kind; by deadline, then number) and the digest's size, as window functions,
    so that the database groups and caps the digests; and the unit alias to outer-join."""
    unit = aliased(Institution)
    partition = list(keys)
    return (
        [DeadlineNotice.kind.label("kind"), DeadlineNotice.due_at.label("due_at"),
         Report.public_number.label("public_number"), Report.title.label("title"),
         Report.deadline_kind.label("deadline_kind"), unit.name.label("unit_name"),
         func.row_number().over(partition_by=[*partition, DeadlineNotice.kind],
                                order_by=[DeadlineNotice.due_at, Report.public_number])
         .label("position"),
         func.count().over(partition_by=[*partition, DeadlineNotice.kind]).label("total")],
        unit,
    )


def _queue_messages(now: datetime, token: str, result: SweepResult) -> None:
    """One digest mail per (recipient, kind of notice) and one digest webhook per
    (institution, kind) over this sweep's new notices: the outbox rows grow with the
    recipients, not with the reports."""
    for kind, count in db.session.execute(
            select(DeadlineNotice.kind, func.count()).where(_new_notices(token))
            .group_by(DeadlineNotice.kind)):
        result.notices[kind] += count
    if not result.notices:
        return

    who = _recipients(token)
    pairs = (select(User.email.label("email"), who.c.notice_id.label("notice_id")).distinct()
             .join(User, User.id == who.c.user_id)
             .where(User.is_staff == true(), User.is_active_account == true())).subquery()
    columns, unit = _digest_rows([pairs.c.email])
    ranked = (
        select(pairs.c.email.label("key"), *columns)
        .select_from(pairs)
        .join(DeadlineNotice, DeadlineNotice.id == pairs.c.notice_id)
        .join(Report, Report.id == DeadlineNotice.report_id)
        .outerjoin(unit, unit.id == Report.current_unit_id)
    ).subquery()
    mail_rows = db.session.execute(
        select(ranked).where(ranked.c.position <= DIGEST_LIMIT)
        .order_by(ranked.c.key, ranked.c.kind, ranked.c.position)).all()

    institution = aliased(Institution)
    columns, unit = _digest_rows([Report.current_institution_id])
    ranked = (
        select(Report.current_institution_id.label("key"),
               institution.name.label("institution_name"), *columns)
        .select_from(DeadlineNotice)
        .join(Report, Report.id == DeadlineNotice.report_id)
        .join(institution, institution.id == Report.current_institution_id)
        .outerjoin(unit, unit.id == Report.current_unit_id)
        .where(_new_notices(token), institution.webhook_url.is_not(None))
    ).subquery()
    hook_rows = db.session.execute(
        select(ranked).where(ranked.c.position <= DIGEST_LIMIT)
        .order_by(ranked.c.key, ranked.c.kind, ranked.c.position)).all()

    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    message = {"state": OutboxState.PENDING, "attempts": 0, "created_at": now,
               "next_attempt_at": now, "sent_at": None, "last_error": None}
    rows = []
    mails = _DigestRenderer(base)
    for (email, kind), items in _grouped(mail_rows).items():
        subject, text, html = mails.render(kind, items)
        rows.append(dict(message, channel=OutboxChannel.MAIL, institution_id=None,
                         recipient=email, subject=subject[:255], body_text=text,
                         body_html=html))
        result.mails += 1
    for (institution_id, kind), items in _grouped(hook_rows).items():
        rows.append(dict(message, channel=OutboxChannel.WEBHOOK,
                         institution_id=institution_id, recipient=None,
                         subject=f"deadline.{kind.value}",
                         body_text=webhook_payload(kind, items, base), body_html=None))
        result.webhooks += 1
    if rows:
        db.session.execute(insert(OutboxMessage.__table__), rows)


def _grouped(rows) -> dict:
    groups: dict = defaultdict(list)
    for row in rows:
        groups[(row.key, row.kind)].append(row)
    return groups


def _link(base: str, number: str) -> str:
    return f"{base}/staf/laporan/{number}"


class _DigestRenderer:
    """Renders each digest mail once per distinct list (the staff of one unit share theirs)."""

    def __init__(self, base: str):
        self.base = base
        self._done: dict[tuple, tuple[str, str, str]] = {}
        self._dates: dict[date, str] = {}

    def _date(self, day: date) -> str:
        if day not in self._dates:
            with force_locale(MAIL_LOCALE):
                self._dates[day] = current_app.jinja_env.filters["local_date"](day)
        return self._dates[day]

    def render(self, kind: NoticeKind, items) -> tuple[str, str, str]:
        total = items[0].total
        key = (kind, total, tuple(item.public_number for item in items))
        if key not in self._done:
            reports = [{"number": item.public_number, "title": item.title,
                        "unit": item.unit_name or "-",
                        "due_date": self._date(last_day_before(item.due_at)),
                        "link": _link(self.base, item.public_number)} for item in items]
            context = {"kind": kind.value, "reports": reports, "total": total,
                       "more": total - len(reports),
                       "more_link": f"{self.base}/staf/pengawasan" if kind is N.OVERDUE
                       else f"{self.base}/staf/"}
            with force_locale(MAIL_LOCALE):
                self._done[key] = (
                    str(SUBJECTS[kind] % {"count": total}),
                    render_template("emails/deadline_digest.txt", **context),
                    render_template("emails/deadline_digest.html", **context))
        return self._done[key]


def webhook_payload(kind: NoticeKind, items, base: str) -> str:
    """The JSON a chat gateway receives: what and where, never who filed it."""
    total = items[0].total
    return json.dumps({
        "event": f"deadline.{kind.value}",
        "kind": kind.value,
        "institution": items[0].institution_name,
        "count": total,
        "more": total - len(items),
        "reports": [{
            "report": item.public_number,
            "title": item.title,
            "unit": item.unit_name,
            "deadline": item.deadline_kind.value if item.deadline_kind else None,
            "due_date": last_day_before(item.due_at).isoformat(),
            "due_at": item.due_at.isoformat(),
            "link": _link(base, item.public_number),
        } for item in items],
    }, ensure_ascii=False, sort_keys=True)


# ----------------------------------------------------------------------------- 4. completion
def completion_cutoff(today: date, days: int, days_off) -> datetime:
    """Reports answered before this instant have had ``days`` full working days (after the
    day of the answer) without a reply from the reporter, by the end of yesterday."""
    day, counted = today, 0
    while counted < days:
        day -= ONE_DAY
        if is_working_day(day, days_off):
            counted += 1
    return start_of_day(day)


def _auto_complete(now: datetime) -> int:
    today = jakarta_date(now)
    policies = db.session.execute(
        select(DeadlinePolicy.institution_id, DeadlinePolicy.auto_complete_days)).all()
    default_days = next((days for node, days in policies if node is None),
                        DEFAULT_POLICY.auto_complete_days)
    explicit: dict[int, list[int]] = defaultdict(list)
    for node, days in policies:
        if node is not None:
            explicit[days].append(node)
    all_explicit = [node for nodes in explicit.values() for node in nodes]
    groups: dict[int, list] = defaultdict(list)
    for days, nodes in explicit.items():
        groups[days].append(Report.current_institution_id.in_(nodes))
    groups[default_days].append(
        or_(Report.current_institution_id.is_(None),
            Report.current_institution_id.not_in(all_explicit)) if all_explicit else true())

    days_off = national_days_off()
    completed = 0
    for days, where in groups.items():
        due = and_(Report.status == S.ANSWERED, Report.answered_at.is_not(None),
                   Report.answered_at < _at(completion_cutoff(today, days, days_off)),
                   or_(*where))
        db.session.execute(insert(ReportEvent.__table__).from_select(
            ["report_id", "kind", "actor_id", "visible_to_reporter", "status_after",
             "created_at"],
            select(Report.id, literal(EventKind.COMPLETED.value), null(), true(),
                   literal(S.COMPLETED.value), _at(now)).where(due)))
        done = db.session.execute(
            update(Report).where(due).values(
                status=S.COMPLETED, completed_at=now, updated_at=now,
                version=Report.version + 1, deadline_kind=None, clock_started_at=None,
                clock_days=None, clock_added_days=0, clock_paused_at=None, due_at=None),
            execution_options={"synchronize_session": False})
        completed += max(done.rowcount or 0, 0)
    return completed
