"""Working-day deadlines: which staff clock runs on a report, until when, and how it stands.

A report carries at most one staff clock (``Report.deadline_kind``):

* verification: from filing (and from each arrival at a new institution, by routing or by a
  "not in our authority"), the institution admin verifies within 3 working days;
* follow-up: from verification (and again from each disposition, and from a reopening), a
  follow-up visible to the reporter within 5 working days, 2 for urgent categories; the first
  such follow-up (or the answer) meets it;
* information answer: an information request is answered within 10 working days from
  verification, extendable once by 7 with a written reason (UU 14/2008); a disposition keeps it.

The clock counts working days from the Jakarta date it started (that day itself does not count)
and ends at the midnight after the last allowed working day: ``due_at``, stored in UTC so that
lists and sweeps read it instead of recomputing. Its basis (start, number of days, days added by
pauses and the extension) is stored too, so that a pause, an extension or a new holiday can
recompute it. While the report waits for the reporter's clarification the clock is paused and
``due_at`` is NULL; the reporter's reply resumes it, adding the working days the pause lasted.

Functions here change the report and flush at most; they never commit.
"""
import enum
import functools
from collections.abc import Callable, Collection
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Date,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)

from portal.domain import DomainError
from portal.domain.calendar import (
    JAKARTA,
    NO_DAYS_OFF,
    add_working_days,
    end_of_day,
    is_working_day,
    jakarta_date,
    last_day_before,
    next_working_day,
    start_of_day,
    working_days_between,
)
from portal.domain.permissions import subtree_ids
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    AuditAction,
    AuditEntry,
    CalendarChange,
    DeadlineKind,
    DeadlinePolicy,
    EventKind,
    Holiday,
    Institution,
    InstitutionKind,
    Report,
    ReportEvent,
    ReportKind,
    User,
)
from portal.models.types import UTCDateTime

K = DeadlineKind


# ----------------------------------------------------------------------------- policies
@dataclass(frozen=True)
class Policy:
    """Working days allowed per step (the values of a ``DeadlinePolicy`` row)."""

    verification_days: int = 3
    follow_up_days: int = 5
    urgent_follow_up_days: int = 2
    information_answer_days: int = 10
    information_extension_days: int = 7
    auto_complete_days: int = 10


DEFAULT_POLICY = Policy()
POLICY_FIELDS = tuple(f.name for f in fields(Policy))
MAX_POLICY_DAYS = 60


def institution_of(node: Institution | None) -> Institution | None:
    """The institution a node belongs to (a unit's institution); None at the national level."""
    while node is not None and node.kind is InstitutionKind.UNIT:
        node = node.parent
    return node if node is not None and node.kind is InstitutionKind.INSTITUTION else None


def policy_for(node: Institution | None) -> Policy:
    """The policy of the node's institution, else the national default row, else the
    built-in defaults."""
    institution = institution_of(node)
    row = None
    if institution is not None:
        row = db.session.scalar(
            select(DeadlinePolicy).where(DeadlinePolicy.institution_id == institution.id))
    if row is None:
        row = db.session.scalar(select(DeadlinePolicy).where(
            DeadlinePolicy.institution_id.is_(None)).order_by(DeadlinePolicy.id).limit(1))
    if row is None:
        return DEFAULT_POLICY
    return Policy(**{name: getattr(row, name) for name in POLICY_FIELDS})


def save_policy(institution: Institution | None, policy: Policy, *, actor: User | None,
                now: datetime) -> DeadlinePolicy:
    """Set an institution's policy (None: the national default). Clocks already running keep
    the number of days they started with; the new values apply to clocks started from now.
    The audit log records the numbers before and after."""
    if institution is not None and institution.kind is not InstitutionKind.INSTITUTION:
        raise DomainError(_l("Deadlines are set per institution; its units follow it."),
                          field="institution")
    for name in POLICY_FIELDS:
        value = getattr(policy, name)
        lowest = 0 if name == "information_extension_days" else 1
        if not isinstance(value, int) or not lowest <= value <= MAX_POLICY_DAYS:
            raise DomainError(_l("Give a number of working days from %(low)s to %(high)s.",
                                 low=lowest, high=MAX_POLICY_DAYS), field=name)
    before = policy_for(institution)
    condition = (DeadlinePolicy.institution_id == institution.id if institution is not None
                 else DeadlinePolicy.institution_id.is_(None))
    row = db.session.scalar(select(DeadlinePolicy).where(condition).limit(1))
    if row is None:
        row = DeadlinePolicy(institution=institution)
        db.session.add(row)
    for name in POLICY_FIELDS:
        setattr(row, name, getattr(policy, name))
    row.updated_at = now
    row.updated_by = actor
    changed = [f"{name} {getattr(before, name)} → {getattr(policy, name)}"
               for name in POLICY_FIELDS if getattr(before, name) != getattr(policy, name)]
    _audit(AuditAction.DEADLINE_POLICY_SAVED, institution, actor=actor, now=now,
           detail="; ".join(changed) or "unchanged")
    db.session.flush()
    return row


def _audit(action: AuditAction, institution: Institution | None, *, actor: User | None,
           now: datetime, detail: str) -> None:
    """An audit entry the supervisors of ``institution`` read (None: the national admin only)."""
    db.session.add(AuditEntry(action=action, actor=actor, institution=institution,
                              created_at=now, detail=detail[:500]))


# ----------------------------------------------------------------------------- calendars
def calendar_node(report: Report) -> Institution | None:
    """Whose days off count for the report: its unit's, else its institution's.
    (Relationships, not ids: a disposition sets the unit before the flush.)"""
    return report.current_unit or report.current_institution


def ancestor_ids(node: Institution | None) -> list[int]:
    ids = []
    while node is not None:
        ids.append(node.id)
        node = node.parent
    return ids


def days_off_for(node: Institution | None, since: date | None = None) -> frozenset[date]:
    """The added holidays that apply at ``node``: everywhere, or at the node or above it."""
    applies = Holiday.institution_id.is_(None)
    ids = ancestor_ids(node)
    if ids:
        applies = or_(applies, Holiday.institution_id.in_(ids))
    query = select(Holiday.day).where(applies)
    if since is not None:
        query = query.where(Holiday.day >= since)
    return frozenset(db.session.scalars(query))


# ----------------------------------------------------------------------------- the clock
def _without_autoflush(function):
    """The clock moves as part of a bigger change of the report (an action, a reply) that
    its caller flushes once: the lookups here (policy, days off) must not flush it half-way
    (a half-set clock breaks the CHECK constraints, and every flush bumps the version)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with db.session.no_autoflush:
            return function(*args, **kwargs)
    return wrapper


def clock_running(report: Report) -> bool:
    return report.deadline_kind is not None and report.clock_paused_at is None


def may_extend(report: Report) -> bool:
    return (report.kind is ReportKind.INFORMATION_REQUEST
            and report.deadline_kind is K.INFORMATION_ANSWER and not report.deadline_extended)


def _current_disposition(report: Report) -> ReportEvent | None:
    """The disposition that set (or shares) the running clock: the latest one, if it came at
    or after the clock's start (a reopening starts a clock of its own)."""
    for event in reversed(report.events):
        if event.kind is EventKind.DISPOSITIONED:
            started = report.clock_started_at
            return event if started is not None and event.created_at >= started else None
    return None


@_without_autoflush
def recompute(report: Report, days_off: Collection[date] | None = None, *,
              sync_disposition: bool = True) -> bool:
    """Set ``due_at`` from the clock's basis; True if it changed. The disposition that set
    the running clock follows it (when a clock that runs on is moved)."""
    before = report.due_at
    if report.deadline_kind is None or report.clock_paused_at is not None:
        report.due_at = None
    else:
        start = jakarta_date(report.clock_started_at)
        if days_off is None:
            days_off = days_off_for(calendar_node(report), start)
        last = add_working_days(start, report.clock_days + (report.clock_added_days or 0),
                                days_off)
        report.due_at = end_of_day(last)
        disposition = _current_disposition(report) if sync_disposition else None
        if disposition is not None:
            disposition.due_at = report.due_at
    return report.due_at != before


@_without_autoflush
def start_clock(report: Report, kind: DeadlineKind, days: int, *, now: datetime) -> None:
    """Start a new clock of ``days`` working days from ``now``. A report that waits for the
    reporter keeps waiting: the new clock starts paused."""
    days_off = days_off_for(calendar_node(report), jakarta_date(now))
    report.deadline_kind = kind
    report.clock_started_at = now
    report.clock_days = days
    report.clock_added_days = 0
    recompute(report, days_off, sync_disposition=False)


def stop_clock(report: Report) -> None:
    """No staff clock any more (answered, completed, archived, or the follow-up was given)."""
    report.deadline_kind = None
    report.clock_started_at = None
    report.clock_days = None
    report.clock_added_days = 0
    report.clock_paused_at = None
    report.due_at = None


def _follow_up_days(report: Report, policy: Policy) -> int:
    urgent = report.category is not None and report.category.is_urgent
    return policy.urgent_follow_up_days if urgent else policy.follow_up_days


@_without_autoflush
def start_verification(report: Report, *, now: datetime) -> None:
    """On filing, and on each arrival at an institution (routing, forwarding, return to the
    national administrator): that institution's verification time starts."""
    policy = policy_for(calendar_node(report))
    start_clock(report, K.VERIFICATION, policy.verification_days, now=now)


@_without_autoflush
def start_follow_up(report: Report, *, now: datetime) -> None:
    policy = policy_for(calendar_node(report))
    start_clock(report, K.FOLLOW_UP, _follow_up_days(report, policy), now=now)


@_without_autoflush
def on_verified(report: Report, *, now: datetime) -> None:
    """Verification done: an information request's answer time (10 days) or the follow-up
    time (5, urgent 2) starts, unless it already runs (verifying again after a postponement
    buys no time)."""
    if report.kind is ReportKind.INFORMATION_REQUEST:
        if report.deadline_kind is not K.INFORMATION_ANSWER:
            policy = policy_for(calendar_node(report))
            start_clock(report, K.INFORMATION_ANSWER, policy.information_answer_days, now=now)
    elif report.deadline_kind is not K.FOLLOW_UP:
        start_follow_up(report, now=now)


@_without_autoflush
def on_dispositioned(report: Report, event: ReportEvent, *, now: datetime) -> None:
    """The unit gets its follow-up time from the disposition; an information request keeps
    its answer time (counted on the unit's calendar). The event records the unit's deadline."""
    if report.deadline_kind is K.INFORMATION_ANSWER:
        recompute(report, sync_disposition=False)
    else:
        start_follow_up(report, now=now)
    event.due_at = report.due_at


def on_response(report: Report) -> None:
    """A follow-up the reporter can read meets the follow-up time; an information request's
    answer time runs on until the answer."""
    if report.deadline_kind is K.FOLLOW_UP:
        stop_clock(report)


@_without_autoflush
def on_reopened(report: Report, *, now: datetime) -> None:
    """The reporter objected to the answer: the unit has a new follow-up time."""
    report.clock_paused_at = None
    start_follow_up(report, now=now)


def pause(report: Report, *, now: datetime) -> None:
    """The report waits for the reporter's clarification: the clock stops."""
    if not clock_running(report):
        raise DomainError(_l("No deadline is running on this report, so there is no clock "
                             "to stop for a clarification."))
    report.clock_paused_at = now
    report.due_at = None


@_without_autoflush
def resume(report: Report, *, now: datetime) -> None:
    """The reporter replied: the clock runs again, later by the working days it waited."""
    if report.clock_paused_at is None or report.deadline_kind is None:
        return
    start = jakarta_date(report.clock_started_at)
    days_off = days_off_for(calendar_node(report), start)
    # A clock started while waiting (a disposition meanwhile) waited only from its own start.
    paused_from = max(jakarta_date(report.clock_paused_at), start)
    report.clock_added_days = (report.clock_added_days or 0) + working_days_between(
        paused_from, jakarta_date(now), days_off)
    report.clock_paused_at = None
    recompute(report, days_off)


@_without_autoflush
def extend(report: Report, *, now: datetime) -> None:
    """An information request's answer time, extended once (UU 14/2008, art. 22(7))."""
    if report.kind is not ReportKind.INFORMATION_REQUEST or (
            report.deadline_kind is not K.INFORMATION_ANSWER):
        raise DomainError(_l("Only the answer time of an information request can be "
                             "extended."))
    if report.deadline_extended:
        raise DomainError(_l("The answer time of this request has already been extended "
                             "once; it cannot be extended again."))
    policy = policy_for(calendar_node(report))
    report.clock_added_days = (report.clock_added_days or 0) + policy.information_extension_days
    report.deadline_extended = True
    recompute(report)


# ----------------------------------------------------------------------------- red, yellow, green
class ClockState(enum.Enum):
    GREEN = "green"  # on time
    YELLOW = "yellow"  # the last allowed working day is today or the next working day
    RED = "red"  # overdue
    PAUSED = "paused"  # waiting for the reporter


def clock_state(report: Report, now: datetime,
                days_off: Collection[date] | None = None) -> ClockState | None:
    """How the report's staff clock stands at ``now``; None when no clock runs."""
    if report.deadline_kind is None:
        return None
    if report.clock_paused_at is not None or report.due_at is None:
        return ClockState.PAUSED
    if now >= report.due_at:
        return ClockState.RED
    today = jakarta_date(now)
    if days_off is None:
        days_off = days_off_for(calendar_node(report), today)
    if last_day_before(report.due_at) <= next_working_day(today, days_off):
        return ClockState.YELLOW
    return ClockState.GREEN


def yellow_limit(now: datetime, days_off: Collection[date] = NO_DAYS_OFF) -> datetime:
    """Reports due at or before this instant (and not yet due) are yellow at ``now``."""
    return end_of_day(next_working_day(jakarta_date(now), days_off))


# Set-based forms of the same rule, for inbox filters, counts and sweeps over the whole table.
# Yellow depends on the calendar: pass the days off of the institution counted (for a query
# over many institutions, the national ones: a regional day off shifts yellow by a day).
def red_clause(now: datetime):
    return Report.due_at <= now


def yellow_clause(now: datetime, days_off: Collection[date] = NO_DAYS_OFF):
    return and_(Report.due_at > now, Report.due_at <= yellow_limit(now, days_off))


def green_clause(now: datetime, days_off: Collection[date] = NO_DAYS_OFF):
    return Report.due_at > yellow_limit(now, days_off)


def clock_state_expression(now: datetime, days_off: Collection[date] = NO_DAYS_OFF):
    """The state as a SQL expression: 'red', 'yellow', 'green', 'paused' or NULL."""
    return case(
        (Report.due_at <= now, ClockState.RED.value),
        (Report.due_at <= yellow_limit(now, days_off), ClockState.YELLOW.value),
        (Report.due_at.is_not(None), ClockState.GREEN.value),
        (Report.clock_paused_at.is_not(None), ClockState.PAUSED.value),
        else_=None,
    )


def national_days_off(since: date | None = None) -> frozenset[date]:
    return days_off_for(None, since)


@dataclass(frozen=True)
class Clock:
    """What a page shows of a report's clock."""

    state: ClockState
    kind: DeadlineKind
    due_at: datetime | None
    last_day: date | None  # the last allowed working day (Jakarta)


class ClockReader:
    """Reads the clocks of many reports (a page of the inbox) at one instant, with one query
    for the days off around it."""

    WINDOW = timedelta(days=40)  # the next working day is always within it

    def __init__(self, now: datetime):
        self.now = now
        today = jakarta_date(now)
        rows = db.session.execute(select(Holiday.day, Holiday.institution_id).where(
            Holiday.day >= today, Holiday.day <= today + self.WINDOW)).all()
        self._everywhere = frozenset(day for day, node in rows if node is None)
        self._by_node: dict[int, set[date]] = {}
        for day, node in rows:
            if node is not None:
                self._by_node.setdefault(node, set()).add(day)

    def days_off(self, node: Institution | None) -> frozenset[date]:
        if not self._by_node:
            return self._everywhere
        extra = {day for node_id in ancestor_ids(node) for day in self._by_node.get(node_id, ())}
        return self._everywhere | extra

    def read(self, report: Report) -> Clock | None:
        if report.deadline_kind is None:
            return None
        days_off = self.days_off(calendar_node(report)) if report.due_at is not None else ()
        state = clock_state(report, self.now, days_off)
        last_day = last_day_before(report.due_at) if report.due_at is not None else None
        return Clock(state=state, kind=report.deadline_kind, due_at=report.due_at,
                     last_day=last_day)


# ----------------------------------------------------------------------------- holidays
MAX_HOLIDAY_NAME = 120


@dataclass
class HolidayChange:
    day: date
    holiday: Holiday | None  # the new holiday (None when one was removed)
    change: CalendarChange  # waits for the worker to move the open deadlines
    will_move: int  # open deadlines that count the day, which the worker will move


def add_holiday(day: date, name: str, *, institution: Institution | None = None,
                actor: User | None, now: datetime) -> HolidayChange:
    """Add a day off (everywhere, or at an institution and its units). The open deadlines
    whose counted days contain it are not moved here but by the worker
    (``apply_calendar_changes``): this records the change and counts them."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_l("Name the holiday."), field="name")
    if len(name) > MAX_HOLIDAY_NAME:
        raise DomainError(_l("The name is too long (at most 120 characters)."), field="name")
    if _find_holiday(day, institution) is not None:
        raise DomainError(_l("This day is already a holiday there."), field="day")
    holiday = Holiday(day=day, name=name, institution=institution, created_by=actor,
                      created_at=now)
    db.session.add(holiday)
    change = _record_change(day, institution, added=True, actor=actor, now=now)
    _audit(AuditAction.HOLIDAY_ADDED, institution, actor=actor, now=now,
           detail=f"{day.isoformat()} {name}")
    db.session.flush()
    return HolidayChange(day=day, holiday=holiday, change=change,
                         will_move=_count_touched(day, institution, added=True))


def remove_holiday(day: date, *, institution: Institution | None = None,
                   actor: User | None, now: datetime) -> HolidayChange:
    """Remove an added day off; the worker moves back the open deadlines that skipped it."""
    holiday = _find_holiday(day, institution)
    if holiday is None:
        raise DomainError(_l("There is no such holiday."), field="day")
    db.session.delete(holiday)
    change = _record_change(day, institution, added=False, actor=actor, now=now)
    _audit(AuditAction.HOLIDAY_REMOVED, institution, actor=actor, now=now,
           detail=f"{day.isoformat()} {holiday.name}")
    db.session.flush()
    return HolidayChange(day=day, holiday=None, change=change,
                         will_move=_count_touched(day, institution, added=False))


def _find_holiday(day: date, institution: Institution | None) -> Holiday | None:
    where = (Holiday.institution_id == institution.id if institution is not None
             else Holiday.institution_id.is_(None))
    return db.session.scalar(select(Holiday).where(Holiday.day == day, where).limit(1))


def _record_change(day: date, institution: Institution | None, *, added: bool,
                   actor: User | None, now: datetime) -> CalendarChange:
    change = CalendarChange(day=day, institution=institution, added=added, created_by=actor,
                            created_at=now)
    db.session.add(change)
    return change


def _node_expression():
    """Whose calendar a report follows, in SQL (``calendar_node``): its unit, else its
    institution."""
    return func.coalesce(Report.current_unit_id, Report.current_institution_id)


def _touched(day: date, institution_id: int | None) -> list:
    """The running clocks whose counted days (after the Jakarta day the clock started, up to
    its last allowed day) contain ``day``, everywhere or in one node's subtree. Paused clocks
    have no deadline now: their resumption recomputes them from the basis."""
    begins = start_of_day(day)
    touched = [Report.clock_started_at < begins, Report.due_at > begins]
    if institution_id is not None:
        touched.append(_node_expression().in_(subtree_ids({institution_id})))
    return touched


def _count_touched(day: date, institution: Institution | None, *, added: bool) -> int:
    """How many open deadlines the change of ``day`` will move (after the flush of the
    change): none if the day is off anyway there (a weekend, a national public holiday, a day
    added above); else the running clocks that count it (a few of which may follow a regional
    calendar on which the day is off anyway)."""
    after = days_off_for(institution)
    before = after - {day} if added else after | {day}
    if is_working_day(day, before) == is_working_day(day, after):
        return 0
    return db.session.scalar(select(func.count()).select_from(Report).where(
        *_touched(day, institution.id if institution is not None else None)))


# ----------------------------------------------------------------------------- the worker's part
# How many groups go into one UPDATE (SQLite allows 500 terms in a compound SELECT).
APPLY_CHUNK = 400


def apply_calendar_changes(now: datetime, *,
                           on_applied: Callable[[CalendarChange], None] | None = None) -> int:
    """Move the open deadlines that the pending calendar changes touch (oldest change first);
    the number of deadlines moved. Each touched running clock gets the ``due_at`` that
    ``recompute()`` gives it from its basis on today's calendar, so applying a change twice,
    or after a clock was started with the new calendar already, moves nothing. ``updated_at``
    and ``version`` stay: a deadline that follows the calendar is not an edit of the report.
    ``on_applied(change)`` is called after each change (the command prints it). Flushes, never
    commits. Two workers at once: the second skips the changes the first holds (PostgreSQL)."""
    db.session.flush()
    pending = db.session.scalars(
        select(CalendarChange).where(CalendarChange.applied_at.is_(None))
        .order_by(CalendarChange.created_at, CalendarChange.id)
        .with_for_update(skip_locked=True)).all()
    total = 0
    for change in pending:
        change.moved = _move_touched_deadlines(change.day, change.institution_id)
        change.applied_at = now
        total += change.moved
        db.session.flush()
        if on_applied is not None:
            on_applied(change)
    if total:
        _expire_deadlines()
    return total


def _jakarta_day(instant):
    """The Jakarta date of a stored UTC instant, in SQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        local = func.timezone(JAKARTA.key, func.timezone("UTC", instant))
        return cast(local, Date)
    # SQLite has no time zones; Asia/Jakarta has kept UTC+7, without daylight saving, since 1964.
    return type_coerce(func.date(instant, "+7 hours"), Date)


def _move_touched_deadlines(day: date, institution_id: int | None) -> int:
    """Set the deadline of every running clock that counts ``day`` (see ``_touched``) from
    its basis; the number moved.

    Set-based: the touched clocks fall into a few groups of the same Jakarta start day, the
    same number of working days (``clock_days + clock_added_days``) and the same calendar
    (the node, when it or a node above it has regional days off; else the national calendar
    they share). Each group's deadline is computed here once, and one UPDATE ... FROM a list
    of the groups sets it where it differs. The disposition that set a running clock follows
    it, as in ``recompute()``."""
    touched = _touched(day, institution_id)
    node = _node_expression()
    regional_roots = set(db.session.scalars(
        select(Holiday.institution_id).where(Holiday.institution_id.is_not(None)).distinct()))
    regional = subtree_ids(regional_roots) if regional_roots else set()
    calendar = case((node.in_(regional), node), else_=0) if regional else literal(0)
    start_day = _jakarta_day(Report.clock_started_at)
    days = Report.clock_days + Report.clock_added_days
    groups = db.session.execute(
        select(start_day, days, calendar).where(*touched).distinct()).all()

    calendars: dict[int, frozenset[date]] = {}
    rows = []
    for start, working_days, node_id in groups:
        if node_id not in calendars:
            place = db.session.get(Institution, node_id) if node_id else None
            calendars[node_id] = days_off_for(place)
        rows.append((start, working_days, node_id,
                     end_of_day(add_working_days(start, working_days, calendars[node_id]))))

    moved = 0
    options = {"synchronize_session": False}
    for first in range(0, len(rows), APPLY_CHUNK):
        group = _constant_rows("calendar_group", (
            ("start_day", Date()), ("days", Integer()), ("calendar", Integer()),
            ("due_at", UTCDateTime())), rows[first:first + APPLY_CHUNK])
        match = [*touched, start_day == group.c.start_day, days == group.c.days,
                 calendar == group.c.calendar, Report.due_at.is_distinct_from(group.c.due_at)]
        # The disposition that gave the unit the running clock first (it holds the old value).
        db.session.execute(
            update(ReportEvent).where(
                ReportEvent.report_id == Report.id,
                ReportEvent.kind == EventKind.DISPOSITIONED,
                ReportEvent.due_at == Report.due_at,
                ReportEvent.created_at >= Report.clock_started_at, *match)
            .values(due_at=group.c.due_at), execution_options=options)
        result = db.session.execute(
            update(Report).where(*match)
            # updated_at as it was: the ORM's onupdate would bump it.
            .values(due_at=group.c.due_at, updated_at=Report.updated_at),
            execution_options=options)
        moved += result.rowcount
    return moved


def _constant_rows(name: str, columns, rows):
    """A FROM-able list of constant rows: a UNION ALL of one-row SELECTs, which both
    databases read (SQLite knows no column names on an aliased VALUES list)."""
    selects = [select(*[literal(value, type_).label(column)
                        for value, (column, type_) in zip(row, columns)]) for row in rows]
    return (union_all(*selects) if len(selects) > 1 else selects[0]).subquery(name)


def _expire_deadlines() -> None:
    """The UPDATEs went past the session: reload the deadlines of the reports and events it
    holds when next read."""
    for thing in list(db.session.identity_map.values()):
        if isinstance(thing, (Report, ReportEvent)):
            db.session.expire(thing, ["due_at"])


def calendar_changes(institution: Institution | None, *, limit: int = 10) -> list[CalendarChange]:
    """The latest calendar changes made at ``institution`` (None: everywhere), newest first."""
    where = (CalendarChange.institution_id == institution.id if institution is not None
             else CalendarChange.institution_id.is_(None))
    return list(db.session.scalars(select(CalendarChange).where(where).order_by(
        CalendarChange.created_at.desc(), CalendarChange.id.desc()).limit(limit)))
