"""Which calendar counts where, for queries over many reports at once.

Deadlines count working days on the calendar of the report's node (its unit, else its
institution): weekends, national holidays, the days off added for everyone, and the regional
days off added at the node or above it. A query over the whole table (the sweep, the
supervision counts, the auto-completion) cannot look the calendar up row by row; instead it
asks here for the few calendars that differ from the national one in the period it looks at,
and for the nodes that follow each, and turns a per-calendar value (the end of the next working
day, a cutoff) into one SQL ``CASE`` over the report's node. With no regional day off in the
period the ``CASE`` is the national value itself.

Functions here read, never write.
"""
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, func, literal, select

from portal.domain.calendar import end_of_day, jakarta_date, next_working_day
from portal.extensions import db
from portal.models import Holiday, Institution, Report
from portal.models.types import UTCDateTime


@dataclass(frozen=True)
class Calendars:
    """The national days off (added for everyone) and, per differing calendar, its days off
    and the nodes that follow it."""

    national: frozenset[date]
    regional: dict[frozenset[date], frozenset[int]]

    def each(self):
        """(days off, nodes) of every regional calendar, in a stable order."""
        return sorted(self.regional.items(), key=lambda pair: min(pair[1]))


def report_node():
    """The node whose calendar counts for a report, as SQL."""
    return func.coalesce(Report.current_unit_id, Report.current_institution_id)


def calendars_from(since: date) -> Calendars:
    """The calendars in force from ``since`` on: two queries (the added days off, the tree)."""
    national: set[date] = set()
    own: dict[int, set[date]] = defaultdict(set)
    for day, node in db.session.execute(
            select(Holiday.day, Holiday.institution_id).where(Holiday.day >= since)):
        (own[node] if node is not None else national).add(day)
    if not own:
        return Calendars(frozenset(national), {})
    parents = dict(db.session.execute(select(Institution.id, Institution.parent_id)).all())

    inherited: dict[int, frozenset[date]] = {}

    def inherited_days(node: int) -> frozenset[date]:
        if node not in inherited:
            parent = parents.get(node)
            above = inherited_days(parent) if parent is not None else frozenset()
            inherited[node] = above | own.get(node, set())
        return inherited[node]

    grouped: dict[frozenset[date], set[int]] = defaultdict(set)
    for node in parents:
        days = inherited_days(node) - national
        if days:
            grouped[frozenset(national) | days].add(node)
    return Calendars(frozenset(national),
                     {days: frozenset(nodes) for days, nodes in grouped.items()})


def per_calendar(calendars: Calendars, value: Callable[[frozenset[date]], datetime]
                 ) -> tuple[ColumnElement, datetime, datetime]:
    """``value(days off)`` for each report's calendar, as a SQL expression over the report's
    node, with the lowest and the highest of the values (for index-friendly bounds)."""
    national = value(calendars.national)
    values = [national]
    whens = []
    for days, nodes in calendars.each():
        regional = value(days)
        if regional != national:
            whens.append((report_node().in_(sorted(nodes)), literal(regional, UTCDateTime())))
            values.append(regional)
    expression = (case(*whens, else_=literal(national, UTCDateTime())) if whens
                  else literal(national, UTCDateTime()))
    return expression, min(values), max(values)


def yellow_limit(now: datetime) -> tuple[ColumnElement, datetime]:
    """The end of each report's next working day after today, as SQL, and the latest of
    them: a report due by then is yellow (or gets its reminder) today."""
    today = jakarta_date(now)
    limit, _, latest = per_calendar(
        calendars_from(today), lambda days_off: end_of_day(next_working_day(today, days_off)))
    return limit, latest


def yellow_clause(now: datetime) -> ColumnElement:
    """Due after ``now`` and by the end of the next working day on the report's calendar."""
    limit, latest = yellow_limit(now)
    return and_(Report.due_at > now, Report.due_at <= latest, Report.due_at <= limit)
