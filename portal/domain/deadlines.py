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
from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, true, update

from portal.domain import DomainError
from portal.domain.calendar import (
    NO_DAYS_OFF,
    ONE_DAY,
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
    the number of days they started with; the new values apply to clocks started from now."""
    if institution is not None and institution.kind is not InstitutionKind.INSTITUTION:
        raise DomainError(_l("Deadlines are set per institution; its units follow it."),
                          field="institution")
    for name in POLICY_FIELDS:
        value = getattr(policy, name)
        lowest = 0 if name == "information_extension_days" else 1
        if not isinstance(value, int) or not lowest <= value <= MAX_POLICY_DAYS:
            raise DomainError(_l("Give a number of working days from %(low)s to %(high)s.",
                                 low=lowest, high=MAX_POLICY_DAYS), field=name)
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
    db.session.flush()
    return row


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
    holiday: Holiday | None
    recomputed: int  # open deadlines moved


def add_holiday(day: date, name: str, *, institution: Institution | None = None,
                actor: User | None, now: datetime) -> HolidayChange:
    """Add a day off (everywhere, or at an institution and its units) and move the open
    deadlines whose counted days contain it."""
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
    db.session.flush()
    moved = recompute_for_changed_day(day, institution.id if institution else None, added=True)
    return HolidayChange(day=day, holiday=holiday, recomputed=moved)


def remove_holiday(day: date, *, institution: Institution | None = None,
                   actor: User | None, now: datetime) -> HolidayChange:
    """Remove an added day off; the open deadlines that skipped it move back."""
    holiday = _find_holiday(day, institution)
    if holiday is None:
        raise DomainError(_l("There is no such holiday."), field="day")
    db.session.delete(holiday)
    db.session.flush()
    moved = recompute_for_changed_day(day, institution.id if institution else None, added=False)
    return HolidayChange(day=day, holiday=None, recomputed=moved)


def _find_holiday(day: date, institution: Institution | None) -> Holiday | None:
    where = (Holiday.institution_id == institution.id if institution is not None
             else Holiday.institution_id.is_(None))
    return db.session.scalar(select(Holiday).where(Holiday.day == day, where).limit(1))


def _previous_working_day(day: date, days_off: Collection[date]) -> date:
    day -= ONE_DAY
    while not is_working_day(day, days_off):
        day -= ONE_DAY
    return day


def recompute_for_changed_day(day: date, institution_id: int | None, *, added: bool) -> int:
    """Move the open deadlines whose counted days (after the clock's start day, up to the
    last allowed day) contain ``day``, which just became a day off (``added``) or a working
    day again, for everyone (``institution_id`` None) or for one node's subtree.

    Set-based: one UPDATE per distinct deadline (and per node with regional days off of its
    own), not a loop over reports. A deadline of n working days whose counted days gain a day
    off ends one working day later; losing one, one working day earlier. Paused clocks have
    no deadline now: their resumption recomputes them from the basis.
    """
    begins = start_of_day(day)
    node = func.coalesce(Report.current_unit_id, Report.current_institution_id)
    touched = [Report.clock_started_at < begins, Report.due_at > begins]
    if institution_id is not None:
        touched.append(node.in_(subtree_ids({institution_id})))

    # Nodes whose calendar has regional days off are counted one by one; all others share
    # the national calendar.
    regional_roots = set(db.session.scalars(
        select(Holiday.institution_id).where(Holiday.institution_id.is_not(None)).distinct()))
    if institution_id is not None:
        regional_roots.add(institution_id)
    regional = subtree_ids(regional_roots) if regional_roots else set()

    groups: list[tuple[datetime, int | None]] = []
    plain = select(Report.due_at).where(*touched)
    if regional:
        plain = plain.where(node.not_in(regional))
    groups += [(due, None) for due in db.session.scalars(plain.distinct())]
    if regional:
        groups += [tuple(row) for row in db.session.execute(
            select(Report.due_at, node).where(*touched, node.in_(regional)).distinct())]

    calendars: dict[int | None, frozenset[date]] = {}
    moves = []
    for due, node_id in groups:
        if node_id not in calendars:
            where = db.session.get(Institution, node_id) if node_id is not None else None
            calendars[node_id] = days_off_for(where)
        after = calendars[node_id]
        before = after - {day} if added else after | {day}
        if is_working_day(day, before) == is_working_day(day, after):
            continue  # a weekend, a national holiday or another added day anyway
        last = last_day_before(due)
        new_last = (next_working_day(last, after) if added
                    else _previous_working_day(last, after))
        moves.append((due, node_id, end_of_day(new_last)))

    # Later deadlines move first when they grow (earlier ones first when they shrink), so
    # that no row moved onto another group's old value is moved twice.
    moves.sort(key=lambda move: move[0], reverse=added)
    moved = 0
    options = {"synchronize_session": "fetch"}
    for due, node_id, new_due in moves:
        group = and_(*touched, Report.due_at == due,
                     node == node_id if node_id is not None
                     else (node.not_in(regional) if regional else true()))
        # The disposition that gave the unit this deadline follows it.
        db.session.execute(
            update(ReportEvent).where(
                ReportEvent.kind == EventKind.DISPOSITIONED, ReportEvent.due_at == due,
                ReportEvent.report_id.in_(select(Report.id).where(group)))
            .values(due_at=new_due), execution_options=options)
        result = db.session.execute(update(Report).where(group).values(due_at=new_due),
                                    execution_options=options)
        moved += result.rowcount
    db.session.flush()
    return moved

