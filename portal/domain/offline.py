"""Offline units: a unit with reports waiting for it while nobody of it is at work.

A unit is *offline* when it has waiting reports (dispositioned to it, in progress there or
reopened there) and none of its liaisons or operators (operators whose membership covers it,
as in ``workflow.operators_of_unit``) has been active for ``idle`` of *working* time (default
one working day: 24 hours counted on Jakarta working days only, so that a weekend or a national
holiday does not make a unit offline). Activity is ``User.last_seen_at``, written by the staff
workspace at most once a minute.

The institution admins get one alert per offline *episode*: the alert mail (its subject names
the unit) is the memory. Another alert is queued only when no alert for the unit was queued
after the unit's last activity, i.e. once somebody of the unit has been back and the unit went
offline again. No column or table is needed for that.

Detection is set-based: one statement reads the added days off of every calendar in play (the
cutoff of each distinct calendar is computed here, in Python), one statement finds the offline
units of all institutions at once (waiting counts, the staff's last activity through the tree,
each institution's cutoff applied as a CASE), one reads the admins of the institutions
concerned and one the latest alert of every offline unit. The sweep worker runs the check
every minute: four statements (plus the INSERT of new alerts) whatever the number of
institutions and units. (The latest-alert read scans the outbox by subject, which has no
index: 0.1 to 0.15 s a million mails on benchmarks/offline.py; an index on the subject, or a
small table of alerts per unit, would make it constant once the outbox grows that large.)

Functions here flush at most; they never commit.
"""
import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import (
    Integer,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import aliased

from portal.domain.calendar import is_working_day, jakarta_date, start_of_day
from portal.domain.deadlines import ancestor_ids, days_off_for
from portal.domain.notifications import MAIL_LOCALE, queue_mail
from portal.domain.permissions import subtree_ids
from portal.extensions import db
from portal.i18n import gettext
from portal.models import (
    EventKind,
    Holiday,
    Institution,
    InstitutionKind,
    Membership,
    OutboxMessage,
    Report,
    ReportEvent,
    ReportStatus,
    Role,
    User,
)
from portal.models.report import LEAVING_KINDS, LEAVING_PREDICATE, UNFINISHED_PREDICATE
from portal.models.types import UTCDateTime

WAITING = (ReportStatus.DISPOSITIONED, ReportStatus.IN_PROGRESS, ReportStatus.REOPENED)
DEFAULT_IDLE = timedelta(hours=24)
# Events that take a report away from the unit it waited at (for the week's offline time).
LEAVING = LEAVING_KINDS
SAMPLE = timedelta(minutes=15)


def configured_idle() -> timedelta:
    """``OFFLINE_AFTER_WORKING_HOURS`` from the app's config (default 24: one working day)."""
    return timedelta(hours=float(current_app.config.get("OFFLINE_AFTER_WORKING_HOURS", 24)))


def working_cutoff(now: datetime, idle: timedelta,
                   days_off: Collection[date] = frozenset()) -> datetime:
    """The instant before ``now`` such that exactly ``idle`` of working-day time lies between
    them (days are Jakarta days; weekends, national holidays and ``days_off`` do not count)."""
    remaining, moment, day = idle, now, jakarta_date(now)
    for _ in range(3700):  # ten years of days off would be a data error, not a calendar
        begins = start_of_day(day)
        if is_working_day(day, days_off):
            span = moment - begins
            if span >= remaining:
                return moment - remaining
            remaining -= span
        moment, day = begins, day - timedelta(days=1)
    return moment


@dataclass(frozen=True)
class OfflineUnit:
    unit: Institution
    waiting: int
    last_active_at: datetime | None  # None: nobody of the unit was ever active


def _units_of(institution: Institution) -> dict[int, Institution]:
    ids = subtree_ids({institution.id})
    return {unit.id: unit for unit in db.session.scalars(
        select(Institution).where(Institution.id.in_(ids),
                                  Institution.kind == InstitutionKind.UNIT))}


def _unit_staff(units: Collection[Institution]) -> tuple[dict[int, set[int]],
                                                          dict[int, datetime | None]]:
    """Unit id -> ids of its active liaisons (at the unit) and operators (at it or above), and
    each of those users' last activity; one query."""
    ancestors = {unit.id: ancestor_ids(unit) for unit in units}
    nodes = set().union(*ancestors.values()) if ancestors else set()
    rows = db.session.execute(
        select(Membership.institution_id, Membership.role, User.id, User.last_seen_at)
        .join(User, User.id == Membership.user_id)
        .where(Membership.institution_id.in_(nodes),
               Membership.role.in_((Role.LIAISON, Role.OPERATOR)),
               User.is_active_account.is_(True))).all()
    staff: dict[int, set[int]] = {unit.id: set() for unit in units}
    seen: dict[int, datetime | None] = {}
    for node_id, role, user_id, last_seen in rows:
        seen[user_id] = last_seen
        for unit_id, above in ancestors.items():
            if node_id == unit_id or (role is Role.OPERATOR and node_id in above):
                staff[unit_id].add(user_id)
    return staff, seen


def _calendar_rows(since: date, until: date, only: Institution | None):
    """The added days off in [since, until]: (day, node the day is bound to or None, an
    institution it applies to). A day bound to a node applies to the institutions at or below
    the node (``only``, when given, instead of every institution) -- as ``days_off_for``."""
    in_window = Holiday.day.between(since, until)
    below = (select(Institution.id.label("root_id"), Institution.id.label("node_id"),
                    Institution.kind.label("kind"))
             .where(Institution.id.in_(select(Holiday.institution_id).where(
                 in_window, Holiday.institution_id.is_not(None))))
             .cte("below", recursive=True))
    child = aliased(Institution)
    below = below.union_all(select(below.c.root_id, child.id, child.kind)
                            .where(child.parent_id == below.c.node_id))
    target = (below.c.kind == InstitutionKind.INSTITUTION if only is None
              else below.c.node_id == only.id)
    covered = select(below.c.root_id, below.c.node_id).where(target).subquery()
    return (select(Holiday.day, Holiday.institution_id, covered.c.node_id)
            .outerjoin(covered, covered.c.root_id == Holiday.institution_id)
            .where(in_window))


def _cutoffs(now: datetime, idle: timedelta,
             only: Institution | None) -> tuple[datetime, dict[int, datetime]]:
    """The working-time cutoff on the calendar of the days off that apply everywhere, and that
    of each institution whose added days off make its cutoff another one. One statement reads
    the days off of a window back from today; the rare idle time that reaches back past the
    window (weeks of days off) widens it and reads again."""
    today = jakarta_date(now)
    span = timedelta(days=14) + 3 * timedelta(days=math.ceil(idle / timedelta(days=1)))
    known: dict[frozenset[date], datetime] = {}

    def cutoff(days_off: frozenset[date]) -> datetime:
        if days_off not in known:
            known[days_off] = working_cutoff(now, idle, days_off)
        return known[days_off]

    while True:
        since = today - span
        everywhere: set[date] = set()
        regional: dict[int, set[date]] = defaultdict(set)
        for day, bound_to, institution_id in db.session.execute(
                _calendar_rows(since, today, only)).all():
            if bound_to is None:
                everywhere.add(day)
            elif institution_id is not None:
                regional[institution_id].add(day)
        default = cutoff(frozenset(everywhere))
        special = {institution_id: cutoff(frozenset(everywhere | days))
                   for institution_id, days in regional.items()}
        special = {key: value for key, value in special.items() if value != default}
        if (jakarta_date(min([default, *special.values()])) >= since
                or span > timedelta(days=3700)):
            return default, special
        span *= 2


def _cutoff_case(institution_id, default: datetime, special: dict[int, datetime]):
    """``institution_id``'s cutoff in SQL: one WHEN per distinct cutoff that is not the
    default one."""
    by_cutoff: dict[datetime, list[int]] = defaultdict(list)
    for key, value in special.items():
        by_cutoff[value].append(key)
    if not by_cutoff:
        return literal(default, UTCDateTime())
    return case(*[(institution_id.in_(sorted(ids)), literal(value, UTCDateTime()))
                  for value, ids in sorted(by_cutoff.items())],
                else_=literal(default, UTCDateTime()))


def _find_offline(now: datetime, idle: timedelta | None,
                  only: Institution | None) -> list[tuple[Institution, OfflineUnit]]:
    """(institution, offline unit) of every institution (of ``only``) at ``now``, by
    institution id, then unit name. Two statements: the days off, then one query with

    * ``waiting``: the waiting reports per institution and unit (a report at a unit has the
      unit's institution as its ``current_institution_id``);
    * ``above``: each of those units with every node from it up to the root;
    * ``activity``: per unit, the latest ``last_seen_at`` of the active liaisons at the unit
      and the active operators at it or above it (as ``workflow.operators_of_unit``);
    * and the unit's institution's cutoff, to keep only the units idle since before it.

    (Reading the waiting reports of the idle units only does not pay: the reports of a unit
    lie all over the table, PostgreSQL scans it anyway; see benchmarks/offline.py.)"""
    idle = configured_idle() if idle is None else idle
    default, special = _cutoffs(now, idle, only)
    waiting_where = [Report.current_unit_id.is_not(None), Report.status.in_(WAITING)]
    if only is not None:
        waiting_where.append(Report.current_institution_id == only.id)
    waiting = (select(Report.current_institution_id.label("institution_id"),
                      Report.current_unit_id.label("unit_id"),
                      func.count().label("waiting"))  # count(*): from the index alone
               .where(*waiting_where)
               .group_by(Report.current_institution_id, Report.current_unit_id)).cte("waiting")
    above = (select(Institution.id.label("unit_id"), Institution.id.label("node_id"))
             .where(Institution.id.in_(select(waiting.c.unit_id)),
                    Institution.kind == InstitutionKind.UNIT)
             .cte("above", recursive=True))
    step = aliased(Institution)
    above = above.union_all(select(above.c.unit_id, step.parent_id)
                            .where(step.id == above.c.node_id, step.parent_id.is_not(None)))
    activity = (select(above.c.unit_id, func.max(User.last_seen_at).label("last_active_at"))
                .select_from(above)
                .join(Membership, Membership.institution_id == above.c.node_id)
                .join(User, User.id == Membership.user_id)
                .where(User.is_active_account.is_(True),
                       or_(Membership.role == Role.OPERATOR,
                           and_(Membership.role == Role.LIAISON,
                                above.c.node_id == above.c.unit_id)))
                .group_by(above.c.unit_id)).subquery("activity")
    unit, institution = aliased(Institution), aliased(Institution)
    cutoff = _cutoff_case(waiting.c.institution_id, default, special)
    query = (select(institution, unit, waiting.c.waiting, activity.c.last_active_at)
             .select_from(waiting)
             .join(unit, unit.id == waiting.c.unit_id)
             .join(institution, institution.id == waiting.c.institution_id)
             .outerjoin(activity, activity.c.unit_id == waiting.c.unit_id)
             .where(unit.kind == InstitutionKind.UNIT,
                    or_(activity.c.last_active_at.is_(None),
                        activity.c.last_active_at < cutoff)))
    if only is None:  # every institution: the institution-level nodes, as the loop did
        query = query.where(institution.kind == InstitutionKind.INSTITUTION)
    found = [(inst, OfflineUnit(unit=node, waiting=count, last_active_at=last))
             for inst, node, count, last in db.session.execute(query).all()]
    return sorted(found, key=lambda pair: (pair[0].id, pair[1].unit.name, pair[1].unit.id))


def offline_units(institution: Institution, *, now: datetime,
                  idle: timedelta | None = None) -> list[OfflineUnit]:
    """The institution's units that are offline at ``now``, by name (two statements)."""
    return [item for _, item in _find_offline(now, idle, institution)]


# ----------------------------------------------------------------------------- alerts
def alert_subject(unit: Institution) -> str:
    """The alert mail's subject, in the mail language: also the episode's memory."""
    with force_locale(MAIL_LOCALE):
        subject = gettext("[LAPOR!] Unit offline: %(unit)s (%(code)s)", unit=unit.name,
                          code=unit.code)
    return subject[:255]  # the column's length: the stored subject is compared as it is


def institution_admins(institution: Institution) -> list[User]:
    return _admins_of([institution.id]).get(institution.id, [])


def _admins_of(institution_ids) -> dict[int, list[User]]:
    """Institution id -> its active institution admins, by name; one statement."""
    admins: dict[int, list[User]] = defaultdict(list)
    for institution_id, admin in db.session.execute(
            select(Membership.institution_id, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.role == Role.INSTITUTION_ADMIN,
                   Membership.institution_id.in_(sorted(institution_ids)),
                   User.is_active_account.is_(True))
            .order_by(User.name, User.id)).all():
        if admin not in admins[institution_id]:
            admins[institution_id].append(admin)
    return admins


def _last_alerts(subjects) -> dict[str, datetime]:
    """Subject -> when the latest mail with that subject was queued; one statement."""
    if not subjects:
        return {}
    return dict(db.session.execute(
        select(OutboxMessage.subject, func.max(OutboxMessage.created_at))
        .where(OutboxMessage.subject.in_(sorted(subjects)))
        .group_by(OutboxMessage.subject)).all())


def alert_offline_units(now: datetime, *, institution: Institution | None = None,
                        idle: timedelta | None = None) -> list[OfflineUnit]:
    """Queue one alert mail to each institution admin for every unit that went offline and was
    not alerted since its last activity. Returns the units alerted now. Idempotent.

    Four statements for all institutions at once (the days off, the offline units, their
    institutions' admins, the latest alert of each), then the new alerts' INSERT."""
    found = _find_offline(now, idle, institution)
    admins = _admins_of({inst.id for inst, _ in found}) if found else {}
    found = [(inst, item) for inst, item in found if admins.get(inst.id)]
    subjects = {item.unit.id: alert_subject(item.unit) for _, item in found}
    last_alert = _last_alerts(set(subjects.values()))
    alerted = []
    for inst, item in found:
        subject = subjects[item.unit.id]
        previous = last_alert.get(subject)
        if previous is not None and (item.last_active_at is None
                                     or previous > item.last_active_at):
            continue
        for admin in admins[inst.id]:
            queue_mail(recipient=admin.email, subject=subject, template="unit_offline",
                       now=now, recipient_user=admin, institution=inst, offline=item)
        last_alert[subject] = now  # a unit under two institutions is alerted once
        alerted.append(item)
    db.session.flush()
    return alerted


# ----------------------------------------------------------------------------- offline time
def _merged(spans: list[tuple[datetime, datetime | None]]) -> tuple[list, list]:
    """The union of [since, until) spans (until None: open-ended) as sorted, disjoint spans:
    (their starts, their ends), for a bisect per moment (a big unit waits on thousands)."""
    starts: list[datetime] = []
    ends: list = []
    for since, until in sorted(spans, key=lambda span: span[0]):
        end = until if until is not None else datetime.max.replace(tzinfo=since.tzinfo)
        if ends and since <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(since)
            ends.append(end)
    return starts, ends


def _waits(institution: Institution, units: dict[int, Institution], start: datetime,
           end: datetime) -> dict[int, list[tuple[datetime, datetime | None]]]:
    """Per unit, spans (since, until; None: still waiting) whose union is the time in
    [start, end) during which a report waited at the unit (see offline_hours): the waits that
    ended after ``start`` one by one, and of those still going on the earliest only."""
    # Only the reports whose wait can reach into [start, end): those that left a unit after
    # the start (a leaving event since then), and those that never left (a report with no
    # leaving event after its arrival is not finished, and still at this institution, since
    # completing, archiving, answering and routing all leave). Without this every disposition
    # to the units ever made was read (136,280 at 1,000,000 reports for the busiest).
    left_since_start = select(ReportEvent.report_id).where(ReportEvent.kind.in_(LEAVING),
                                                           ReportEvent.created_at > start)
    may_overlap = union_all(  # duplicates do not matter to IN; no sort or hash to drop them
        left_since_start,
        select(Report.id).where(text(UNFINISHED_PREDICATE),
                                Report.current_institution_id.in_(
                                    subtree_ids({institution.id}))))
    arrival = (select(ReportEvent.report_id, ReportEvent.target_institution_id.label("unit_id"),
                      func.min(ReportEvent.created_at).label("since"))
               .where(ReportEvent.kind == EventKind.DISPOSITIONED,
                      ReportEvent.target_institution_id.in_(list(units)),
                      ReportEvent.created_at < end,
                      ReportEvent.report_id.in_(may_overlap))
               .group_by(ReportEvent.report_id, ReportEvent.target_institution_id)
               ).cte("arrival")

    # The waits still going on count from the earliest per unit (their union): per unit, the
    # arrivals in order until the first that no event took away. Sorted before the check
    # (OFFSET 0 keeps the sort below it), so that a unit costs a few probes, not one per
    # report waiting there (8,201 at the busiest institution at 1,000,000).
    unit_list = union_all(*[select(literal(unit_id, Integer).label("unit_id"))
                            for unit_id in units]).subquery("units")
    in_order = (select(arrival.c.since, arrival.c.report_id)
                .where(arrival.c.unit_id == unit_list.c.unit_id)
                .order_by(arrival.c.since).offset(0).correlate(unit_list).subquery("in_order"))
    still_waiting = (select(in_order.c.since)
                     .where(~exists(select(ReportEvent.id).where(
                         ReportEvent.report_id == in_order.c.report_id,
                         # literal: the partial index in every plan
                         text(LEAVING_PREDICATE), ReportEvent.created_at > in_order.c.since)))
                     .limit(1).scalar_subquery())
    ongoing = select(unit_list.c.unit_id, still_waiting.label("since"),
                     literal(None, UTCDateTime).label("until"))
    # The waits that ended after the start, one by one: only the reports that left a unit
    # since the start can have one, and only theirs are probed for the end of the wait (OFFSET
    # 0: PostgreSQL would otherwise check "until > start" on every arrival first).
    departed = (select(arrival.c.report_id, arrival.c.unit_id, arrival.c.since)
                .where(arrival.c.report_id.in_(left_since_start)).offset(0)
                .subquery("departed"))
    until = (select(func.min(ReportEvent.created_at))
             .where(ReportEvent.report_id == departed.c.report_id, text(LEAVING_PREDICATE),
                    ReportEvent.created_at > departed.c.since)
             .correlate(departed).scalar_subquery())
    ended = select(departed.c.unit_id, departed.c.since, until.label("until")).subquery("ended")
    intervals = [row for row in db.session.execute(union_all(
        ongoing, select(ended).where(ended.c.until > start))).all() if row[1] is not None]
    waiting: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for unit_id, since, until in intervals:
        waiting[unit_id].append((since, until))
    return waiting


def offline_hours(institution: Institution, start: datetime, end: datetime, *,
                  idle: timedelta | None = None) -> dict[int, float]:
    """Per unit, the hours of [start, end) during which the unit had a waiting report and no
    activity of its liaisons or operators within ``idle`` of working time. An approximation,
    sampled every 15 minutes:

    * a report waits at a unit from its first disposition to that unit until the next event
      that takes it away (answer, send-back, routing, archive, ...) or, if none, until now
      (a reopening is not counted again);
    * activity is every history event the unit's staff wrote, plus each one's ``last_seen_at``
      (the workspace keeps no log of mere page views, so browsing without acting is only known
      for the last visit)."""
    idle = configured_idle() if idle is None else idle
    units = _units_of(institution)
    if not units:
        return {}
    waiting = _waits(institution, units, start, end)
    if not waiting:
        return {unit_id: 0.0 for unit_id in units}
    staff, last_seen = _unit_staff([units[unit_id] for unit_id in waiting])
    everyone = set().union(*staff.values())
    days_off = days_off_for(institution)
    earliest = working_cutoff(start, idle, days_off)
    acted = defaultdict(list)
    for actor_id, at in db.session.execute(
            select(ReportEvent.actor_id, ReportEvent.created_at)
            .where(ReportEvent.actor_id.in_(everyone), ReportEvent.created_at >= earliest,
                   ReportEvent.created_at < end)).all():
        acted[actor_id].append(at)
    for user_id, seen in last_seen.items():
        if seen is not None:
            acted[user_id].append(seen)
    samples = []
    moment = start
    while moment < end:
        samples.append((moment, working_cutoff(moment, idle, days_off)))
        moment += SAMPLE
    result = {unit_id: 0.0 for unit_id in units}
    for unit_id, spans in waiting.items():
        activity = sorted(at for user_id in staff[unit_id] for at in acted.get(user_id, ()))
        starts, ends = _merged(spans)
        count = 0
        for moment, cutoff in samples:
            index = bisect_right(starts, moment) - 1
            if index < 0 or not moment < ends[index]:
                continue  # no report waiting at the unit at this moment
            position = bisect_right(activity, moment)
            if position == 0 or activity[position - 1] < cutoff:
                count += 1
        result[unit_id] = count * SAMPLE.total_seconds() / 3600
    return result
