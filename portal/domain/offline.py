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

Functions here flush at most; they never commit.
"""
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.domain.calendar import is_working_day, jakarta_date, start_of_day
from portal.domain.deadlines import ancestor_ids, days_off_for
from portal.domain.notifications import MAIL_LOCALE, queue_mail
from portal.domain.permissions import subtree_ids
from portal.extensions import db
from portal.i18n import gettext
from portal.models import (
    EventKind,
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

WAITING = (ReportStatus.DISPOSITIONED, ReportStatus.IN_PROGRESS, ReportStatus.REOPENED)
DEFAULT_IDLE = timedelta(hours=24)
# Events that take a report away from the unit it waited at (for the week's offline time).
LEAVING = (EventKind.ANSWERED, EventKind.SENT_BACK, EventKind.ROUTED, EventKind.NOT_IN_AUTHORITY,
           EventKind.ARCHIVED, EventKind.COMPLETED, EventKind.POSTPONED)
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


def offline_units(institution: Institution, *, now: datetime,
                  idle: timedelta | None = None) -> list[OfflineUnit]:
    """The institution's units that are offline at ``now``, by name. (A report at a unit has
    the unit's institution as its ``current_institution_id``: one grouped query finds the
    units with waiting reports; nothing more is read when there are none.)"""
    idle = configured_idle() if idle is None else idle
    waiting = dict(db.session.execute(
        select(Report.current_unit_id, func.count(Report.id))
        .where(Report.current_institution_id == institution.id,
               Report.current_unit_id.isnot(None), Report.status.in_(WAITING))
        .group_by(Report.current_unit_id)).all())
    if not waiting:
        return []
    candidates = list(db.session.scalars(select(Institution).where(
        Institution.id.in_(list(waiting)), Institution.kind == InstitutionKind.UNIT)))
    staff, seen = _unit_staff(candidates)
    cutoff = working_cutoff(now, idle, days_off_for(institution))
    found = []
    for unit in candidates:
        times = [seen[user_id] for user_id in staff[unit.id] if seen.get(user_id) is not None]
        last = max(times) if times else None
        if last is None or last < cutoff:
            found.append(OfflineUnit(unit=unit, waiting=waiting[unit.id], last_active_at=last))
    return sorted(found, key=lambda o: (o.unit.name, o.unit.id))


# ----------------------------------------------------------------------------- alerts
def alert_subject(unit: Institution) -> str:
    """The alert mail's subject, in the mail language: also the episode's memory."""
    with force_locale(MAIL_LOCALE):
        subject = gettext("[LAPOR!] Unit offline: %(unit)s (%(code)s)", unit=unit.name,
                          code=unit.code)
    return subject[:255]  # the column's length: the stored subject is compared as it is


def institution_admins(institution: Institution) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.role == Role.INSTITUTION_ADMIN,
            Membership.institution_id == institution.id,
            User.is_active_account.is_(True)).order_by(User.name, User.id).distinct()))


def _already_alerted(unit: Institution, since: datetime | None) -> bool:
    query = select(OutboxMessage.id).where(OutboxMessage.subject == alert_subject(unit))
    if since is not None:
        query = query.where(OutboxMessage.created_at > since)
    return db.session.scalar(query.limit(1)) is not None


def alert_offline_units(now: datetime, *, institution: Institution | None = None,
                        idle: timedelta | None = None) -> list[OfflineUnit]:
    """Queue one alert mail to each institution admin for every unit that went offline and was
    not alerted since its last activity. Returns the units alerted now. Idempotent."""
    if institution is None:
        institutions = list(db.session.scalars(select(Institution).where(
            Institution.kind == InstitutionKind.INSTITUTION).order_by(Institution.id)))
    else:
        institutions = [institution]
    alerted = []
    for inst in institutions:
        offline = offline_units(inst, now=now, idle=idle)
        if not offline:
            continue
        admins = institution_admins(inst)
        for item in offline:
            if not admins or _already_alerted(item.unit, item.last_active_at):
                continue
            for admin in admins:
                queue_mail(recipient=admin.email, subject=alert_subject(item.unit),
                           template="unit_offline", now=now, recipient_user=admin,
                           institution=inst, offline=item)
            alerted.append(item)
    db.session.flush()
    return alerted


# ----------------------------------------------------------------------------- offline time
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
    arrival = (select(ReportEvent.report_id, ReportEvent.target_institution_id.label("unit_id"),
                      func.min(ReportEvent.created_at).label("since"))
               .where(ReportEvent.kind == EventKind.DISPOSITIONED,
                      ReportEvent.target_institution_id.in_(list(units)),
                      ReportEvent.created_at < end)
               .group_by(ReportEvent.report_id, ReportEvent.target_institution_id)).subquery()
    leaving = (select(func.min(ReportEvent.created_at))
               .where(ReportEvent.report_id == arrival.c.report_id,
                      ReportEvent.kind.in_(LEAVING),
                      ReportEvent.created_at > arrival.c.since)
               .correlate(arrival).scalar_subquery())
    intervals = db.session.execute(
        select(arrival.c.unit_id, arrival.c.since, leaving.label("until"))).all()
    waiting: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for unit_id, since, until in intervals:
        if until is None or until > start:
            waiting[unit_id].append((since, until))
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
        count = 0
        for moment, cutoff in samples:
            if not any(since <= moment and (until is None or moment < until)
                       for since, until in spans):
                continue
            position = bisect_right(activity, moment)
            if position == 0 or activity[position - 1] < cutoff:
                count += 1
        result[unit_id] = count * SAMPLE.total_seconds() / 3600
    return result
