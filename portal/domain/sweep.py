"""The deadline sweep: reminders before and on the day, escalation of red reports, and the
automatic completion of answered reports the reporter left without a reply.

Run by ``flask deadlines sweep`` (cron) and by the development worker every minute.

Set-based: a fixed number of SQL statements whatever the number of reports (the statements
only grow with the number of distinct auto-completion policies):

1. one INSERT ... SELECT records the notices due now in ``deadline_notice``; its unique key
   (report, kind, deadline) with ON CONFLICT DO NOTHING makes the sweep idempotent: a notice
   already recorded is not recorded (nor sent) again, and the rows of this run carry its token;
2. one INSERT ... SELECT writes the internal "overdue" event of each report that just turned red;
3. one SELECT counts the new notices per kind; one windowed SELECT ranks them per audience
   (a unit's liaisons and operators, an institution's admins, its supervisors, the national
   admins, an institution's webhook) and kind, and returns the first DIGEST_LIMIT of each
   with its total; one SELECT finds the staff of those audiences; Python merges the digests
   of a person's audiences, and one bulk INSERT queues one digest mail per (recipient, kind)
   and one digest webhook per (institution, kind): the outbox rows grow with the recipients,
   not the reports;
4. per auto-completion policy, one INSERT ... SELECT of COMPLETED events and one UPDATE.

The end of the next working day and the completion cutoff are counted on each report's own
calendar (``portal.domain.calendars``: one SQL CASE over the few calendars with regional days
off). Staff mails carry no reporter identity: number, title, unit and deadline only. Nothing
here commits.
"""
import heapq
import json
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import (
    and_,
    case,
    exists,
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
    start_of_day,
)
from portal.domain.calendars import calendars_from, per_calendar, yellow_limit
from portal.domain.deadlines import DEFAULT_POLICY, MAX_POLICY_DAYS
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
# Regional days off as far back as the longest completion time can reach.
COMPLETION_LOOKBACK = timedelta(days=MAX_POLICY_DAYS * 7 // 5 + 30)


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
    """Every open report due by the end of its next working day (on its own calendar: a
    regional day off tomorrow brings the reminder forward to today) gets the notice its
    deadline calls for now, unless it has had that notice for that deadline."""
    today = jakarta_date(now)
    end_today = end_of_day(today)
    end_next, latest = yellow_limit(now)
    kind = case(
        (Report.due_at <= _at(now), N.OVERDUE.value),
        (Report.due_at <= _at(end_today), N.DAY.value),
        else_=N.BEFORE.value,
    )
    due = select(Report.id, kind, Report.due_at, literal(token), _at(now)).where(
        Report.due_at.is_not(None), Report.due_at <= _at(latest), Report.due_at <= end_next,
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
# The groups of staff a notice is for. A reminder goes to the unit's liaisons and operators
# (to the institution admins while no unit has the report: the verification clock); a red
# escalation to the institution admins and supervisors, and to the unit's own supervisors;
# anything at the national level (no institution yet) to the national admins.
UNIT, INSTITUTION, NATIONAL, WEBHOOK = 1, 2, 3, 4  # levels; numbers, as the database sorts them
KIND_CODES = {N.BEFORE: 1, N.DAY: 2, N.OVERDUE: 3}
REMINDED = {UNIT: (Role.LIAISON, Role.OPERATOR), INSTITUTION: (Role.INSTITUTION_ADMIN,)}
ESCALATED = {UNIT: (Role.SUPERVISOR,), INSTITUTION: (Role.INSTITUTION_ADMIN, Role.SUPERVISOR)}


def _audiences(token: str):
    """The new notices as (notice, audience) rows: an audience is a level, a node and a kind
    of notice (a red notice is both its institution's and its unit's). Only nodes with someone
    to tell (or a webhook) take part. The notices are read with their reports once (a CTE),
    then split by a UNION ALL; narrow on purpose: the ranking sorts these rows, and the
    report's text is fetched for the first few of each audience only."""
    kind_code = case(*((DeadlineNotice.kind == kind.value, code)
                       for kind, code in KIND_CODES.items()))
    new = (select(DeadlineNotice.id.label("notice_id"), DeadlineNotice.kind.label("kind"),
                  kind_code.label("kind_code"), DeadlineNotice.due_at.label("due_at"),
                  DeadlineNotice.report_id.label("report_id"),
                  Report.current_unit_id.label("unit_id"),
                  Report.current_institution_id.label("institution_id"))
           .join(Report, Report.id == DeadlineNotice.report_id)
           .where(_new_notices(token))).cte("new_notice")
    reminder = new.c.kind != N.OVERDUE.value

    def rows(level: int, node, *where):
        return select(new.c.notice_id, new.c.kind_code, literal(level).label("level"),
                      node.label("node"), new.c.institution_id, new.c.due_at,
                      new.c.report_id).where(*where)

    def staffed(node, roles):
        return exists().where(Membership.institution_id == node, Membership.role.in_(roles))

    unit, institution = new.c.unit_id, new.c.institution_id
    hooked = exists().where(Institution.id == institution, Institution.webhook_url.is_not(None))
    return union_all(
        rows(UNIT, unit, reminder, staffed(unit, REMINDED[UNIT])),
        rows(INSTITUTION, institution, reminder, unit.is_(None),
             staffed(institution, REMINDED[INSTITUTION])),
        rows(UNIT, unit, ~reminder, staffed(unit, ESCALATED[UNIT])),
        rows(INSTITUTION, institution, ~reminder, staffed(institution, ESCALATED[INSTITUTION])),
        rows(NATIONAL, null(), institution.is_(None)),
        rows(WEBHOOK, institution, hooked),
    ).subquery()


@dataclass
class _Digest:
    """The first DIGEST_LIMIT notices of one audience, by deadline and number, and how many
    it has in all."""
    institution_id: int | None
    total: int = 0
    items: list = field(default_factory=list)


def _digests(token: str) -> dict[tuple, _Digest]:
    """(level, node, kind) -> its digest: one windowed SELECT ranks and counts each audience's
    notices in the database; the text of the reports is read for the first DIGEST_LIMIT."""
    audience = _audiences(token)
    partition = [audience.c.level, audience.c.node, audience.c.kind_code]
    ranked = select(
        audience,
        func.row_number().over(partition_by=partition,
                               order_by=[audience.c.due_at, audience.c.report_id])
        .label("position"),
        func.count().over(partition_by=partition).label("total"),
    ).subquery()
    unit, institution = aliased(Institution), aliased(Institution)
    rows = db.session.execute(
        select(ranked.c.level, ranked.c.node, DeadlineNotice.kind, ranked.c.institution_id,
               ranked.c.due_at, ranked.c.report_id, ranked.c.total, Report.public_number,
               Report.title,
               Report.deadline_kind, unit.name.label("unit_name"),
               institution.name.label("institution_name"))
        .join(DeadlineNotice, DeadlineNotice.id == ranked.c.notice_id)
        .join(Report, Report.id == DeadlineNotice.report_id)
        .outerjoin(unit, unit.id == Report.current_unit_id)
        .outerjoin(institution, institution.id == Report.current_institution_id)
        .where(ranked.c.position <= DIGEST_LIMIT)
        .order_by(ranked.c.level, ranked.c.node, ranked.c.kind_code, ranked.c.position))
    digests: dict[tuple, _Digest] = {}
    for row in rows:
        key = (row.level, row.node, row.kind)
        if key not in digests:
            digests[key] = _Digest(row.institution_id, row.total)
        digests[key].items.append(row)
    return digests


def _staff_of(digests) -> dict[tuple, set[str]]:
    """(level, node, kind) -> the e-mail addresses of the active staff it is for."""
    nodes = {node for level, node, _ in digests if level in (UNIT, INSTITUTION)}
    wanted = [and_(Membership.institution_id.in_(nodes),
                   Membership.role.in_({*REMINDED[UNIT], *REMINDED[INSTITUTION],
                                        *ESCALATED[UNIT], *ESCALATED[INSTITUTION]}))]
    if any(level == NATIONAL for level, _, _ in digests):
        wanted.append(Membership.role == Role.NATIONAL_ADMIN)
    held = defaultdict(set)  # (node or None, role) -> e-mails
    for email, node, role in db.session.execute(
            select(User.email, Membership.institution_id, Membership.role)
            .join(User, User.id == Membership.user_id)
            .where(or_(*wanted), User.is_staff == true(), User.is_active_account == true())):
        held[(None if role is Role.NATIONAL_ADMIN else node, role)].add(email)
    staff = {}
    for level, node, kind in digests:
        if level == NATIONAL:
            roles = (Role.NATIONAL_ADMIN,)
        elif level == WEBHOOK:
            continue
        else:
            roles = (ESCALATED if kind is N.OVERDUE else REMINDED)[level]
        staff[(level, node, kind)] = set().union(*(held[(node, role)] for role in roles))
    return staff


def _mail_digests(digests) -> dict[tuple, _Digest]:
    """(e-mail, kind) -> the digest that person gets: their audiences' digests merged. The
    audiences of one person and kind are disjoint (a report has one unit, one institution),
    except that an institution's red reports contain those of its units: a person told about
    both keeps the institution's only."""
    staff = _staff_of(digests)
    audiences = defaultdict(list)
    for key, emails in staff.items():
        for email in emails:
            audiences[(email, key[2])].append(key)
    merged = {}
    for (email, kind), keys in audiences.items():
        whole = {node for level, node, _ in keys if level == INSTITUTION}
        keys = [key for key in keys
                if not (key[0] == UNIT and digests[key].institution_id in whole
                        and kind is N.OVERDUE)]
        parts = [digests[key] for key in sorted(keys, key=str)]
        items = list(heapq.merge(*(part.items for part in parts),
                                 key=lambda item: (item.due_at, item.report_id)))
        merged[(email, kind)] = _Digest(None, sum(part.total for part in parts),
                                        items[:DIGEST_LIMIT])
    return merged


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
    digests = _digests(token)

    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    message = {"state": OutboxState.PENDING, "attempts": 0, "created_at": now,
               "next_attempt_at": now, "sent_at": None, "last_error": None}
    rows = []
    mails = _DigestRenderer(base)
    for (email, kind), digest in sorted(_mail_digests(digests).items(),
                                        key=lambda pair: (pair[0][0], KIND_CODES[pair[0][1]])):
        subject, text, html = mails.render(kind, digest)
        rows.append(dict(message, channel=OutboxChannel.MAIL, institution_id=None,
                         recipient=email, subject=subject[:255], body_text=text,
                         body_html=html))
        result.mails += 1
    for (level, institution_id, kind), digest in sorted(
            ((key, digest) for key, digest in digests.items() if key[0] == WEBHOOK),
            key=lambda pair: (pair[0][1], KIND_CODES[pair[0][2]])):
        rows.append(dict(message, channel=OutboxChannel.WEBHOOK,
                         institution_id=institution_id, recipient=None,
                         subject=f"deadline.{kind.value}",
                         body_text=webhook_payload(kind, digest, base), body_html=None))
        result.webhooks += 1
    if rows:
        db.session.execute(insert(OutboxMessage.__table__), rows)


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

    def render(self, kind: NoticeKind, digest: _Digest) -> tuple[str, str, str]:
        items, total = digest.items, digest.total
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


def webhook_payload(kind: NoticeKind, digest: _Digest, base: str) -> str:
    """The JSON a chat gateway receives: what and where, never who filed it."""
    items, total = digest.items, digest.total
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
    """Complete the answered reports whose reporter has not replied for the policy's working
    days (counted on each report's calendar): one INSERT of events and one UPDATE per distinct
    number of days in the policies."""
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

    calendars = calendars_from(today - COMPLETION_LOOKBACK)
    completed = 0
    for days, where in groups.items():
        cutoff, _, latest = per_calendar(
            calendars, lambda days_off, days=days: completion_cutoff(today, days, days_off))
        due = and_(Report.status == S.ANSWERED, Report.answered_at.is_not(None),
                   Report.answered_at < _at(latest), Report.answered_at < cutoff,
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
