"""Report statistics for the public page (/statistik) and the staff page (/staf/statistik).

A *scope* is the whole portal (national) or one institution with its units; a *period* is a
range of whole months of filing (Asia/Jakarta), by default the last 12 months including the
current one. Every figure is about the reports **filed in the period** in the scope, counted
where they are now (``Report.current_institution_id`` / ``current_unit_id``):

* received: every report filed, whatever its status -- also reports still waiting for
  verification, archived ones and confidential ones. Counting a confidential report reveals
  nothing of it (the public page shows counts only: no title, text, name, place or number), and
  leaving it out would make the public figures disagree with the staff's;
* handled: past verification and not archived (status neither ``submitted`` nor ``archived``);
* follow-up rate (%): of the handled reports, the share with a first response
  (``first_response_at``: a follow-up visible to the reporter, or the answer). Reports still
  waiting for verification and reports archived (spam, duplicates, not actionable) are in
  neither number: LAPOR!'s "tindak lanjut" rate over the reports accepted for handling;
* completed: reports with ``completed_at``;
* median time to first response / to completion (hours): over the reports with
  ``first_response_at`` / ``completed_at``, of ``that - created_at``, with a resolution of
  one hour under two days and of one day from two days on (each time is first rounded down to
  its bucket: 5 h 40 min counts as 5 h, 3 days 20 h as 72 h); the median of those bucketed
  times as percentile_cont(0.5) computes it (the mean of the two middle values for an even
  count), so that the summary's histograms give exactly the live figure;
* average rating: the mean score (1-5) of the reporters' ratings of the reports;
* red now: open reports in the scope whose deadline has passed (``due_at <= now``), whenever
  they were filed -- always read live (index on ``due_at``).

Kecamatan: an institution with kecamatan of its own (a regency or city) sees them one by one,
and one line for the reports it holds in the kecamatan of other regions; the whole portal and
the institutions without kecamatan (ministries, provinces) see a line per region, the regency
or city the kecamatan lies in (3,545 kecamatan in one table is not a figure anyone reads).
Reports without a kecamatan have their own line.

Figures are aggregated in SQL (GROUP BY), never by looping over reports. They are read either
live from the report table or from the monthly summary tables (``stat_month_summary``,
``stat_month_duration``), which the worker keeps with :func:`refresh_summary`; both give the same
numbers (tested). The summary is kept per month rather than per day because the pages ask for
whole months only, and at three grains (models/statistics.py ``Grain``): per unit (the
per-unit table and its medians only), per institution and for the whole portal. A page reads
the coarsest grain that answers it: the national page reads a row per month and value (a few
hundred rows for a year at a million reports) where a single unit-level grain made it read
one per unit and kecamatan as well (129,569 rows at 100,000 reports).

Each refresh also keeps, on the summary's state row, the whole portal's figures of the default
period as the summary gives them (_keep_national_figures): what the public page and the
national admin's page open with. A median does not add up across months, so reading them from
the summary merges every institution's twelve monthly histograms (72,000 rows a measure at
1,000,000 reports, 200 ms); the kept figures are one row. Any other period, and every
institution's page, is read from the summary as above.
"""
import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import (
    Date,
    Integer,
    String,
    and_,
    cast,
    delete,
    distinct,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
)

from portal.domain import DomainError
from portal.domain.calendar import jakarta_date, start_of_day
from portal.domain.deadlines import red_clause
from portal.domain.permissions import subtree_ids
from portal.domain.weekly_report import _inert
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.labels import CHANNEL, KIND
from portal.models import (
    AuditAction,
    AuditEntry,
    Category,
    Channel,
    Dimension,
    District,
    Grain,
    GRAIN_DIMENSIONS,
    Institution,
    InstitutionKind,
    Measure,
    MonthDuration,
    MonthSummary,
    Report,
    ReportKind,
    ReportRating,
    StatisticsState,
    User,
)

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
DEFAULT_MONTHS = 12
MAX_MONTHS = 60
TOP_CATEGORIES = 5
STATE_ID = 1
# Reports updated shortly before the last refresh's start may commit after it read them.
REFRESH_MARGIN = timedelta(minutes=2)
LIVE, SUMMARY = "live", "summary"
# The dimensions of every scope's tables; an institution with kecamatan of its own also reads
# Dimension.DISTRICT.
SCOPE_DIMENSIONS = (Dimension.KIND, Dimension.CATEGORY, Dimension.CHANNEL, Dimension.REGION)
# The grouped counts a scope's page reads besides its dimensions (compute_statistics).
# The kept figures' layout (_keep_national_figures); change it with what they hold.
KEPT_FORMAT = 1
GROUPED_COUNTS = ((Dimension.ALL, "unit"), (Dimension.ALL, "month"),
                  (Dimension.CATEGORY, "month"))
DISTRICTS, REGIONS = "districts", "regions"  # what the kecamatan table lists


# ----------------------------------------------------------------------------- periods
def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    first: date  # the first day of the first month
    last: date  # the first day of the last month (included)

    @property
    def months(self) -> list[date]:
        out, month = [], self.first
        while month <= self.last:
            out.append(month)
            month = add_months(month, 1)
        return out

    @property
    def start(self) -> datetime:
        return start_of_day(self.first)

    @property
    def end(self) -> datetime:
        return start_of_day(add_months(self.last, 1))

    @property
    def start_code(self) -> str:
        return self.first.strftime("%Y-%m")

    @property
    def end_code(self) -> str:
        return self.last.strftime("%Y-%m")


def default_period(now: datetime) -> Period:
    this_month = first_of_month(jakarta_date(now))
    return Period(add_months(this_month, 1 - DEFAULT_MONTHS), this_month)


def _parse_month(text: str, name: str) -> date:
    match = MONTH_PATTERN.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise DomainError(_l("Give the month as year-month, for example 2026-03."), field=name)
    return date(int(match.group(1)), int(match.group(2)), 1)


def parse_period(start_text: str | None, end_text: str | None, *, now: datetime) -> Period:
    """``YYYY-MM`` to ``YYYY-MM``; a missing end is the current month, a missing start the
    12 months up to the end. A DomainError for a bad month, a reversed or too long range, or a
    range in the future."""
    this_month = first_of_month(jakarta_date(now))
    last = _parse_month(end_text, "end") if (end_text or "").strip() else this_month
    first = _parse_month(start_text, "start") if (start_text or "").strip() \
        else add_months(last, 1 - DEFAULT_MONTHS)
    if first > last:
        raise DomainError(_l("The first month comes after the last month."), field="start")
    if first > this_month:
        raise DomainError(_l("That period has not begun yet."), field="start")
    if len(Period(first, min(last, this_month)).months) > MAX_MONTHS:
        raise DomainError(_l("Choose at most %(months)d months.", months=MAX_MONTHS),
                          field="start")
    return Period(first, min(last, this_month))


# ----------------------------------------------------------------------------- SQL pieces
def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _month_expression():
    """The first day of the Jakarta month of filing (Jakarta is UTC+7 all year)."""
    if _dialect() == "postgresql":
        return literal_column(
            "CAST(date_trunc('month', report.created_at + interval '7 hours') AS date)", Date)
    return literal_column("date(report.created_at, '+7 hours', 'start of month')", Date)


def _bucket_expression(later: str):
    """Whole hours from filing to ``report.<later>``, rounded down to the hour under 48 hours,
    to the day (in hours) from then on."""
    if _dialect() == "postgresql":
        hours = (f"CAST(floor(extract(epoch FROM (report.{later} - report.created_at)) / 3600)"
                 " AS integer)")
    else:
        hours = (f"((CAST(strftime('%s', report.{later}) AS INTEGER)"
                 " - CAST(strftime('%s', report.created_at) AS INTEGER)) / 3600)")
    return literal_column(f"(CASE WHEN {hours} < 48 THEN {hours} ELSE ({hours} / 24) * 24 END)")


MEASURE_COLUMN = {Measure.RESPONSE: "first_response_at", Measure.COMPLETION: "completed_at"}
HANDLED_SQL = "report.status NOT IN ('submitted', 'archived')"


def _live_sums():
    handled = literal_column(f"CASE WHEN {HANDLED_SQL} THEN 1 ELSE 0 END")
    followed = literal_column(
        f"CASE WHEN {HANDLED_SQL} AND report.first_response_at IS NOT NULL THEN 1 ELSE 0 END")
    completed = literal_column("CASE WHEN report.completed_at IS NOT NULL THEN 1 ELSE 0 END")
    return [func.count(Report.id), func.coalesce(func.sum(handled), 0),
            func.coalesce(func.sum(followed), 0), func.coalesce(func.sum(completed), 0),
            func.count(ReportRating.id), func.coalesce(func.sum(ReportRating.score), 0)]


def _summary_sums():
    return [func.coalesce(func.sum(c), 0) for c in (
        MonthSummary.received, MonthSummary.handled, MonthSummary.followed_up,
        MonthSummary.completed, MonthSummary.rating_count, MonthSummary.rating_sum)]


LIVE_DIMENSION = {
    Dimension.ALL: None,
    Dimension.KIND: Report.kind,
    Dimension.CATEGORY: Report.category_id,
    Dimension.REGION: District.institution_id,
    Dimension.DISTRICT: Report.district_id,
    Dimension.CHANNEL: Report.channel,
}
# DISTRICT counts the institution's own kecamatan only (see models/statistics.py).
OWN_DISTRICT = District.institution_id == Report.current_institution_id


def _live_from(query):
    """The report table with its rating and its kecamatan (neither multiplies a report)."""
    return (query.select_from(Report)
            .outerjoin(ReportRating, ReportRating.report_id == Report.id)
            .outerjoin(District, District.id == Report.district_id))


def _value(raw) -> str | None:
    """A dimension value as the summary stores it (text), from a live or a summary row."""
    if raw is None:
        return None
    if hasattr(raw, "value"):
        return raw.value
    return str(raw)


def _month_value(raw) -> date:
    return raw if isinstance(raw, date) else date.fromisoformat(str(raw)[:10])


# ----------------------------------------------------------------------------- figures
@dataclass
class Counts:
    received: int = 0
    handled: int = 0
    followed_up: int = 0
    completed: int = 0
    rating_count: int = 0
    rating_sum: int = 0

    def add(self, values) -> None:
        self.received += int(values[0])
        self.handled += int(values[1])
        self.followed_up += int(values[2])
        self.completed += int(values[3])
        self.rating_count += int(values[4])
        self.rating_sum += int(values[5])

    @property
    def follow_up_rate(self) -> float | None:
        return round(100 * self.followed_up / self.handled, 1) if self.handled else None

    @property
    def average_rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None


@dataclass
class Line:
    key: object  # the dimension's value (str), a month (date) or an institution id
    label: str
    counts: Counts = field(default_factory=Counts)
    median_response_hours: float | None = None
    median_completion_hours: float | None = None
    red_now: int = 0


@dataclass
class Statistics:
    institution: Institution | None  # None: national
    period: Period
    source: str  # LIVE or SUMMARY
    refreshed_at: datetime | None  # the summary's last refresh (None when read live)
    now: datetime
    total: Line
    by_kind: list[Line]
    by_category: list[Line]
    by_unit: list[Line]  # units of the institution, or institutions (national)
    by_place: list[Line]  # kecamatan (DISTRICTS) or regions (REGIONS), see compute_statistics
    places: str
    by_channel: list[Line]
    by_month: list[Line]
    top_categories: list[Line]  # the top categories of the period, most reports first
    top_by_month: dict[date, dict[object, int]]  # month -> category key -> reports


def median_of_histogram(histogram: list[tuple[int, int]]) -> float | None:
    """percentile_cont(0.5) of the values given as (value, how many) pairs."""
    pairs = sorted((int(v), int(n)) for v, n in histogram if n)
    total = sum(n for _, n in pairs)
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]  # 0-based positions of the middle value(s)
    found, seen = [], 0
    for value, count in pairs:
        while len(found) < 2 and wanted[len(found)] < seen + count:
            found.append(value)
        seen += count
    return (found[0] + found[1]) / 2


class _Reader:
    """Reads the grouped counts and the histograms from the live report table or the summary.
    From the summary it reads the coarsest grain that answers: per unit (institution scope)
    or per institution (national scope) for the per-unit table and its medians; per
    institution or for the whole portal for everything else."""

    def __init__(self, source: str, nodes: set[int] | None, period: Period):
        self.source = source
        self.nodes = nodes
        self.period = period
        self.national = nodes is None

    def _live_where(self, query):
        query = query.where(Report.created_at >= self.period.start,
                            Report.created_at < self.period.end)
        if self.nodes is not None:
            query = query.where(Report.current_institution_id.in_(self.nodes))
        return query

    def _grain(self, per_unit: bool) -> Grain:
        if self.national:
            return Grain.INSTITUTION if per_unit else Grain.NATIONAL
        return Grain.UNIT if per_unit else Grain.INSTITUTION

    def _summary_where(self, query, model, *, per_unit: bool = False):
        query = query.where(model.grain == self._grain(per_unit),
                            model.month >= self.period.first, model.month <= self.period.last)
        if self.nodes is not None:
            query = query.where(model.institution_id.in_(self.nodes))
        return query

    def unit_column(self, model=None):
        if model is None:
            return Report.current_institution_id if self.national else Report.current_unit_id
        return model.institution_id if self.national else model.unit_id

    def counts(self, dimension: Dimension, *, by: str | None = None) -> list[tuple]:
        """Rows (key, sums...) grouped by the dimension's value, or by ``by``: 'unit' or
        'month' (of the ALL dimension), or ('month' with a dimension) by (value, month)."""
        keys = []
        if self.source == LIVE:
            if dimension is not Dimension.ALL:
                keys.append(LIVE_DIMENSION[dimension])
            if by == "unit":
                keys.append(self.unit_column())
            if by == "month":
                keys.append(_month_expression())
            query = self._live_where(_live_from(select(*keys, *_live_sums())))
            if dimension is Dimension.DISTRICT:
                query = query.where(OWN_DISTRICT)
        else:
            if dimension is not Dimension.ALL:
                keys.append(MonthSummary.value)
            if by == "unit":
                keys.append(self.unit_column(MonthSummary))
            if by == "month":
                keys.append(MonthSummary.month)
            query = self._summary_where(select(*keys, *_summary_sums()), MonthSummary,
                                        per_unit=by == "unit").where(
                MonthSummary.dimension == dimension)
        if keys:
            query = query.group_by(*keys)
        rows = []
        for row in db.session.execute(query):
            key_values, sums = row[:len(keys)], row[len(keys):]
            normal = []
            for index, raw in enumerate(key_values):
                if dimension is not Dimension.ALL and index == 0:
                    normal.append(_value(raw))
                elif by == "month" and index == len(key_values) - 1:
                    normal.append(_month_value(raw))
                else:
                    normal.append(raw)
            rows.append((tuple(normal), sums))
        return rows

    def dimension_counts(self, wanted: tuple[Dimension, ...]) -> dict:
        """{dimension: rows as counts() gives them} for the wanted dimensions: from the
        summary in one query."""
        if self.source == LIVE:
            return {dimension: self.counts(dimension) for dimension in wanted}
        query = self._summary_where(
            select(MonthSummary.dimension, MonthSummary.value, *_summary_sums()), MonthSummary
        ).where(MonthSummary.dimension.in_(wanted)).group_by(MonthSummary.dimension,
                                                               MonthSummary.value)
        out: dict = {dimension: [] for dimension in wanted}
        for row in db.session.execute(query):
            out[row[0]].append(((row[1],), row[2:]))
        return out

    def medians(self, measure: Measure, *, per_unit: bool) -> tuple[dict, float | None]:
        """({unit key: median hours} (empty unless ``per_unit``), the median over the whole
        scope)."""
        unit = self.unit_column(None if self.source == LIVE else MonthDuration)
        keys = [unit] if per_unit else []
        if self.source == LIVE and _dialect() == "postgresql":
            bucket = _bucket_expression(MEASURE_COLUMN[measure])
            present = literal_column(f"report.{MEASURE_COLUMN[measure]}").isnot(None)

            def median(*keys):
                query = self._live_where(select(
                    *keys, func.percentile_cont(0.5).within_group(bucket)).where(present))
                return db.session.execute(query.group_by(*keys) if keys else query).all()

            per_key = {row[0]: float(row[1]) for row in median(unit)} if per_unit else {}
            overall = median()[0][0]
            return per_key, None if overall is None else float(overall)
        if self.source == LIVE:  # SQLite: the histogram, as from the summary
            bucket = _bucket_expression(MEASURE_COLUMN[measure])
            present = literal_column(f"report.{MEASURE_COLUMN[measure]}").isnot(None)
            query = self._live_where(select(*keys, bucket, func.count()).where(present))
            query = query.group_by(*keys, bucket)
        else:
            query = self._summary_where(
                select(*keys, MonthDuration.bucket_hours, func.sum(MonthDuration.reports)),
                MonthDuration, per_unit=per_unit).where(
                MonthDuration.measure == measure).group_by(*keys, MonthDuration.bucket_hours)
        histograms: dict = {}
        merged: dict = {}
        for row in db.session.execute(query):
            bucket_hours, count = row[-2], row[-1]
            if per_unit:
                histograms.setdefault(row[0], []).append((bucket_hours, count))
            merged[bucket_hours] = merged.get(bucket_hours, 0) + int(count)
        return ({key: median_of_histogram(pairs) for key, pairs in histograms.items()},
                median_of_histogram(list(merged.items())))

    def red_now(self, now: datetime) -> dict:
        unit = self.unit_column()
        # count(*): the covering index ix_report_due_scope answers alone (index-only scan)
        query = (select(unit, func.count()).select_from(Report).where(red_clause(now))
                 .group_by(unit))
        if self.nodes is not None:
            query = query.where(Report.current_institution_id.in_(self.nodes))
        return {key: count for key, count in db.session.execute(query)}


class _KeptReader:
    """The whole portal's answers of the default period, as the summary gave them at its last
    refresh (kept on the state row by _keep_national_figures): what _Reader(SUMMARY, None,
    period) would read again, without merging 273 institutions' histograms for the medians.
    Red now is still read live."""

    def __init__(self, reader: _Reader, kept: dict):
        self.reader = reader
        self.kept = kept

    def dimension_counts(self, wanted: tuple[Dimension, ...]) -> dict:
        return {dimension: _rows_from_json(self.kept["dimensions"][dimension.value])
                for dimension in wanted}

    def counts(self, dimension: Dimension, *, by: str | None = None) -> list[tuple]:
        return _rows_from_json(self.kept["counts"][f"{dimension.value}:{by}"],
                               month_last=by == "month")

    def medians(self, measure: Measure, *, per_unit: bool) -> tuple[dict, float | None]:
        per_key, overall = self.kept["medians"][measure.value]
        return ({key: median for key, median in per_key} if per_unit else {}), overall

    def red_now(self, now: datetime) -> dict:
        return self.reader.red_now(now)


def _rows_to_json(rows: list[tuple]) -> list:
    return [[[key.isoformat() if isinstance(key, date) else key for key in keys],
             [int(value) for value in sums]] for keys, sums in rows]


def _rows_from_json(rows: list, *, month_last: bool = False) -> list[tuple]:
    if month_last:
        return [(tuple(keys[:-1]) + (date.fromisoformat(keys[-1]),), sums)
                for keys, sums in rows]
    return [(tuple(keys), sums) for keys, sums in rows]


def _keep_national_figures(state: StatisticsState, now: datetime) -> None:
    """Keep on the state row what the whole portal's pages read from the summary for the
    default period of ``now``: the counts by dimension, by institution and by month, and the
    medians per institution and overall (every question compute_statistics asks but red now).
    Called by each refresh after its summary rows, in the same transaction."""
    period = default_period(now)
    reader = _Reader(SUMMARY, None, period)
    medians = {}
    for measure in Measure:
        per_key, overall = reader.medians(measure, per_unit=True)
        medians[measure.value] = [sorted(per_key.items(), key=lambda item: (
            item[0] is None, item[0] or 0)), overall]
    kept = {
        "dimensions": {dimension.value: _rows_to_json(rows) for dimension, rows
                       in reader.dimension_counts(SCOPE_DIMENSIONS).items()},
        "counts": {f"{dimension.value}:{by}": _rows_to_json(reader.counts(dimension, by=by))
                   for dimension, by in GROUPED_COUNTS},
        "medians": medians,
        "format": KEPT_FORMAT,
    }
    state.kept_first, state.kept_last = period.first, period.last
    state.kept_figures = json.dumps(kept, separators=(",", ":"))


def _names(ids: set[int]) -> dict[int, str]:
    """Institutions' names by id (plain columns: a page may name all 273 institutions)."""
    return dict(db.session.execute(select(Institution.id, Institution.name).where(
        Institution.id.in_(ids))).all()) if ids else {}


def _places(per_dimension: dict, institution: Institution | None) -> list[Line]:
    """The kecamatan table: the institution's own kecamatan, then one line for the reports in
    other regions (when ``institution`` is given); else a line per region (the regency or
    city, by name); and a line for the reports without a kecamatan."""
    region_rows = per_dimension[Dimension.REGION]
    no_district = str(_l("No kecamatan given"))
    found: dict = {}

    def add(key, label, sums):
        line = found.get(key)
        if line is None:
            line = found[key] = Line(key=key, label=label)
        line.counts.add(sums)

    if institution is not None:
        district_rows = per_dimension[Dimension.DISTRICT]
        ids = {int(keys[0]) for keys, _ in district_rows if keys[0] is not None}
        names = {str(key): name for key, name in db.session.execute(
            select(District.id, District.name).where(District.id.in_(ids)))} if ids else {}
        for (value,), sums in district_rows:
            add(value, names.get(value, no_district), sums)
        elsewhere = str(_l("Kecamatan of other regions"))
        for (value,), sums in region_rows:
            if value is None:
                add(None, no_district, sums)
            elif value != str(institution.id):
                add("elsewhere", elsewhere, sums)
    else:
        ids = {int(keys[0]) for keys, _ in region_rows if keys[0] is not None}
        names = {str(key): name for key, name in _names(ids).items()}
        for (value,), sums in region_rows:
            add(value, names.get(value, no_district), sums)
    special = {None, "elsewhere"}
    return sorted(found.values(), key=lambda line: (line.key in special, line.key is None,
                                                    -line.counts.received, line.label))


def summary_state() -> StatisticsState | None:
    return db.session.get(StatisticsState, STATE_ID)


def compute_statistics(institution: Institution | None, period: Period, *, now: datetime,
                       locale: str = "id", source: str | None = None,
                       unit_medians: bool = True) -> Statistics:
    """The figures of the scope and period (see the module's docstring). ``source``: LIVE, or
    SUMMARY; by default the summary once it has been built, live before. ``unit_medians``:
    also the medians per unit (per institution nationally), which only the staff page
    shows."""
    state = summary_state()
    if source is None:
        source = SUMMARY if state is not None else LIVE
    if institution is not None and institution.kind is not InstitutionKind.INSTITUTION:
        raise DomainError(_l("Statistics are made for the whole portal or per institution."),
                          field="institution")
    nodes = subtree_ids({institution.id}) if institution is not None else None
    reader = _Reader(source, nodes, period)
    if (institution is None and source == SUMMARY and state is not None
            and (state.kept_first, state.kept_last) == (period.first, period.last)
            and state.kept_figures):
        kept = json.loads(state.kept_figures)
        # Kept by another version of this code (before the refresh after an upgrade): the
        # summary answers instead.
        if kept.get("format") == KEPT_FORMAT:
            reader = _KeptReader(reader, kept)
    # Kecamatan: an institution that has its own (a regency or city) sees them one by one;
    # the portal and the other institutions see the regions (regency or city) they lie in:
    # 3,545 kecamatan in one table is not a figure anyone reads, and reading them would cost
    # a row per kecamatan and month.
    own_districts = institution is not None and db.session.scalar(
        select(District.id).where(District.institution_id == institution.id).limit(1)) \
        is not None

    def lines(rows, label_of) -> dict:
        out: dict = {}
        for keys, sums in rows:
            key = keys[0] if len(keys) == 1 else keys
            line = out.get(key)
            if line is None:
                line = out[key] = Line(key=key, label=label_of(key))
            line.counts.add(sums)
        return out

    def ordered(found: dict) -> list[Line]:
        return sorted(found.values(), key=lambda line: (-line.counts.received, line.label))

    total = Line(key=None, label=str(_l("All reports")))

    kind_labels = {k.value: str(KIND[k]) for k in ReportKind}
    per_dimension = reader.dimension_counts(
        SCOPE_DIMENSIONS + ((Dimension.DISTRICT,) if own_districts else ()))
    by_kind = lines(per_dimension[Dimension.KIND], lambda key: kind_labels.get(key, key))
    channel_labels = {c.value: str(CHANNEL[c]) for c in Channel}
    by_channel = lines(per_dimension[Dimension.CHANNEL],
                       lambda key: channel_labels.get(key, key))

    category_rows = per_dimension[Dimension.CATEGORY]
    category_ids = {int(keys[0]) for keys, _ in category_rows if keys[0] is not None}
    categories = {str(c.id): c.name_for(locale) for c in db.session.scalars(
        select(Category).where(Category.id.in_(category_ids)))} if category_ids else {}
    no_category = str(_l("No category"))
    by_category = lines(category_rows, lambda key: categories.get(key, no_category))

    by_place = _places(per_dimension, institution if own_districts else None)

    unit_rows = reader.counts(Dimension.ALL, by="unit")
    for _, sums in unit_rows:  # the total is the sum of the units' rows
        total.counts.add(sums)
    red = reader.red_now(now)
    unit_ids = {keys[0] for keys, _ in unit_rows if keys[0] is not None} | {
        key for key in red if key is not None}
    names = _names(unit_ids)
    nowhere = str(_l("Not yet at an institution") if institution is None
                  else _l("Not yet at a unit"))
    by_unit = lines(unit_rows, lambda key: names.get(key, nowhere))
    for key, count in red.items():
        if key not in by_unit:
            by_unit[key] = Line(key=key, label=names.get(key, nowhere))
        by_unit[key].red_now = count
    total.red_now = sum(red.values())
    for measure, attribute in ((Measure.RESPONSE, "median_response_hours"),
                               (Measure.COMPLETION, "median_completion_hours")):
        per_unit, overall = reader.medians(measure, per_unit=unit_medians)
        setattr(total, attribute, overall)
        for key, median in per_unit.items():
            if key not in by_unit:
                by_unit[key] = Line(key=key, label=names.get(key, nowhere))
            setattr(by_unit[key], attribute, median)

    month_lines = lines(reader.counts(Dimension.ALL, by="month"), lambda key: "")
    by_month = []
    for month in period.months:
        line = month_lines.get(month) or Line(key=month, label="")
        line.label = month.strftime("%Y-%m")
        by_month.append(line)

    top = [line for line in ordered(by_category) if line.key is not None][:TOP_CATEGORIES]
    top_keys = {line.key for line in top}
    top_by_month: dict[date, dict[object, int]] = {m: {k: 0 for k in top_keys}
                                                   for m in period.months}
    if top_keys:
        for (value, month), sums in reader.counts(Dimension.CATEGORY, by="month"):
            if value in top_keys and month in top_by_month:
                top_by_month[month][value] += int(sums[0])

    return Statistics(
        institution=institution, period=period, source=source,
        refreshed_at=state.refreshed_at if (state is not None and source == SUMMARY) else None,
        now=now, total=total, by_kind=ordered(by_kind), by_category=ordered(by_category),
        by_unit=sorted(by_unit.values(), key=lambda line: (line.key is None, line.label)),
        by_place=by_place, places=DISTRICTS if own_districts else REGIONS,
        by_channel=ordered(by_channel), by_month=by_month,
        top_categories=top, top_by_month=top_by_month)


# ----------------------------------------------------------------------------- the summary
def _month_range(month: date) -> tuple[datetime, datetime]:
    return start_of_day(month), start_of_day(add_months(month, 1))


def _ranges(months: list[date]) -> list[tuple[datetime, datetime]]:
    """The months as few [start, end) ranges of filing instants (neighbours merged)."""
    ranges: list[list] = []
    for month in sorted(months):
        start, end = _month_range(month)
        if ranges and ranges[-1][1] == start:
            ranges[-1][1] = end
        else:
            ranges.append([start, end])
    return [(a, b) for a, b in ranges]


def _naive_utc(instant: datetime) -> datetime:
    return instant.astimezone(timezone.utc).replace(tzinfo=None)


# The grain of a row of a GROUPING SETS query below: a unit's, an institution's or the portal's.
PG_GRAIN = ("CASE WHEN GROUPING(inst) = 1 THEN 'national' WHEN GROUPING(unit) = 1 THEN "
            "'institution' ELSE 'unit' END")
PG_RECOMPUTE = """
WITH m AS MATERIALIZED (
  SELECT {month} AS month, report.current_institution_id AS inst,
         report.current_unit_id AS unit, report.kind, report.category_id,
         district.institution_id AS region,
         CASE WHEN district.institution_id = report.current_institution_id
              THEN report.district_id END AS own_district,
         report.channel,
         CASE WHEN {handled} THEN 1 ELSE 0 END AS handled,
         CASE WHEN {handled} AND report.first_response_at IS NOT NULL THEN 1 ELSE 0 END
           AS followed,
         CASE WHEN report.completed_at IS NOT NULL THEN 1 ELSE 0 END AS completed,
         report_rating.score AS score,
         {response} AS response_bucket, {completion} AS completion_bucket
  FROM report LEFT OUTER JOIN report_rating ON report_rating.report_id = report.id
       LEFT OUTER JOIN district ON district.id = report.district_id
  WHERE {where}
), s AS (
  INSERT INTO stat_month_summary (month, grain, institution_id, unit_id, dimension, value,
                                  received, handled, followed_up, completed, rating_count,
                                  rating_sum)
  SELECT month, {grain}, inst, unit,
         CASE WHEN GROUPING(kind) = 0 THEN 'kind' WHEN GROUPING(category_id) = 0 THEN 'category'
              WHEN GROUPING(region) = 0 THEN 'region'
              WHEN GROUPING(own_district) = 0 THEN 'district'
              WHEN GROUPING(channel) = 0 THEN 'channel' ELSE 'all' END,
         CASE WHEN GROUPING(kind) = 0 THEN kind
              WHEN GROUPING(category_id) = 0 THEN CAST(category_id AS varchar)
              WHEN GROUPING(region) = 0 THEN CAST(region AS varchar)
              WHEN GROUPING(own_district) = 0 THEN CAST(own_district AS varchar)
              WHEN GROUPING(channel) = 0 THEN channel END,
         count(*), sum(handled), sum(followed), sum(completed), count(score),
         coalesce(sum(score), 0)
  FROM m
  GROUP BY GROUPING SETS ((month, inst, unit),
                          (month, inst), (month, inst, kind), (month, inst, category_id),
                          (month, inst, region), (month, inst, own_district),
                          (month, inst, channel),
                          (month), (month, kind), (month, category_id), (month, region),
                          (month, channel))
  HAVING GROUPING(own_district) = 1 OR own_district IS NOT NULL
), r AS (
  INSERT INTO stat_month_duration (month, grain, institution_id, unit_id, measure,
                                   bucket_hours, reports)
  SELECT month, {grain}, inst, unit, 'response', response_bucket, count(*) FROM m
  WHERE response_bucket IS NOT NULL
  GROUP BY GROUPING SETS ((month, inst, unit, response_bucket), (month, inst, response_bucket),
                          (month, response_bucket))
)
INSERT INTO stat_month_duration (month, grain, institution_id, unit_id, measure, bucket_hours,
                                 reports)
SELECT month, {grain}, inst, unit, 'completion', completion_bucket, count(*) FROM m
WHERE completion_bucket IS NOT NULL
GROUP BY GROUPING SETS ((month, inst, unit, completion_bucket), (month, inst, completion_bucket),
                        (month, completion_bucket))
"""


def _grain_keys(grain: Grain) -> tuple[list, list]:
    """(the institution and unit columns to write, the ones to group by) of a grain."""
    nothing = literal(None, Integer)
    if grain is Grain.UNIT:
        keys = [Report.current_institution_id, Report.current_unit_id]
        return keys, keys
    if grain is Grain.INSTITUTION:
        return [Report.current_institution_id, nothing], [Report.current_institution_id]
    return [nothing, nothing], []


def _recompute(months: list[date] | None) -> None:
    """Replace the summary rows of the given months of filing (all months: None) by what the
    reports say now, at every grain. On PostgreSQL one statement reads each report once (the
    reports of a month lie all over the table: one pass instead of eighteen); on SQLite a
    statement per grain and dimension or measure."""
    if months is None:
        db.session.execute(delete(MonthSummary))
        db.session.execute(delete(MonthDuration))
    else:
        db.session.execute(delete(MonthSummary).where(MonthSummary.month.in_(months)))
        db.session.execute(delete(MonthDuration).where(MonthDuration.month.in_(months)))
    ranges = _ranges(months) if months is not None else []
    month = _month_expression()
    if _dialect() == "postgresql":
        params, clauses = {}, []
        for index, (start, end) in enumerate(ranges):
            params[f"s{index}"], params[f"e{index}"] = _naive_utc(start), _naive_utc(end)
            clauses.append(f"(report.created_at >= :s{index} AND report.created_at < :e{index})")
        sql = PG_RECOMPUTE.format(
            month=str(month), handled=HANDLED_SQL, grain=PG_GRAIN,
            response=str(_bucket_expression("first_response_at")),
            completion=str(_bucket_expression("completed_at")),
            where=" OR ".join(clauses) if months is not None else "true")
        if months is None or ranges:
            db.session.execute(text(sql), params)
        return
    in_months = or_(*[and_(Report.created_at >= start, Report.created_at < end)
                      for start, end in ranges]) if months is not None else true()
    summary_columns = ["month", "grain", "institution_id", "unit_id", "dimension", "value",
                       "received", "handled", "followed_up", "completed", "rating_count",
                       "rating_sum"]
    for grain, dimensions in GRAIN_DIMENSIONS.items():
        written, grouped = _grain_keys(grain)
        for dimension in dimensions:
            column = LIVE_DIMENSION[dimension]
            value = literal(None, String) if column is None else cast(column, String(32))
            keys = [month, *grouped] + ([column] if column is not None else [])
            query = (_live_from(select(month, literal(grain.value, String), *written,
                                       literal(dimension.value, String), value,
                                       *_live_sums()))
                     .where(in_months).group_by(*keys))
            if dimension is Dimension.DISTRICT:
                query = query.where(OWN_DISTRICT)
            db.session.execute(insert(MonthSummary).from_select(summary_columns, query))
        for measure, later in MEASURE_COLUMN.items():
            bucket = _bucket_expression(later)
            query = (select(month, literal(grain.value, String), *written,
                            literal(measure.value, String), bucket, func.count(Report.id))
                     .where(in_months, literal_column(f"report.{later}").isnot(None))
                     .group_by(month, *grouped, bucket))
            db.session.execute(insert(MonthDuration).from_select(
                ["month", "grain", "institution_id", "unit_id", "measure", "bucket_hours",
                 "reports"], query))


def _locked_state() -> StatisticsState | None:
    return db.session.scalar(select(StatisticsState).where(StatisticsState.id == STATE_ID)
                             .with_for_update())


def rebuild_summary(now: datetime) -> int:
    """Recompute the summary of every month with reports; returns the number of months.
    Flushes, never commits."""
    state = _locked_state()
    if state is None:
        state = StatisticsState(id=STATE_ID, refreshed_at=now)
        db.session.add(state)
        db.session.flush()
        state = _locked_state()  # a concurrent first rebuild fails here on the primary key
    _recompute(None)
    if _dialect() == "postgresql":
        # New tables' worth of rows: without statistics on them the planner guesses one row
        # and reads the pages' queries by the month alone (57 ms instead of 7 at 100,000).
        db.session.execute(text("ANALYZE stat_month_summary"))
        db.session.execute(text("ANALYZE stat_month_duration"))
    months = db.session.scalar(select(func.count(distinct(MonthSummary.month))))
    state.refreshed_at = now
    state.rebuilt_at = now
    _keep_national_figures(state, now)
    db.session.flush()
    return months


def refresh_summary(now: datetime) -> int:
    """Recompute the months of filing of the reports changed since the last refresh (updated,
    or rated), always the current month; a full rebuild the first time. Idempotent; returns the
    number of months recomputed. Flushes, never commits."""
    state = _locked_state()
    if state is None:
        return rebuild_summary(now)
    since = min(state.refreshed_at, now) - REFRESH_MARGIN
    months = {first_of_month(jakarta_date(now))}
    month = _month_expression()
    months |= {_month_value(m) for m in db.session.scalars(
        select(month).select_from(Report).where(Report.updated_at >= since).distinct())}
    months |= {_month_value(m) for m in db.session.scalars(
        select(month).select_from(Report).join(ReportRating, ReportRating.report_id == Report.id)
        .where(ReportRating.created_at >= since).distinct())}
    _recompute(sorted(months))
    state.refreshed_at = now
    _keep_national_figures(state, now)
    db.session.flush()
    return len(months)


# ----------------------------------------------------------------------------- tables, CSV
@dataclass
class Table:
    name: str
    title: str
    header: list[str]
    rows: list[list]
    public: bool = True


def _hours(value: float | None):
    return None if value is None else round(value, 1)


def tables(stats: Statistics, *, staff: bool) -> dict[str, Table]:
    """Every table of the page as plain values (header first), in page order; the public
    page's tables hold counts and rates only."""
    received, rate = str(_l("Reports")), str(_l("Follow-up rate (percent)"))
    out: dict[str, Table] = {}
    total = stats.total
    summary_rows = [
        [str(_l("Reports received")), total.counts.received],
        [str(_l("Reports handled (past verification, not archived)")), total.counts.handled],
        [str(_l("Handled reports followed up")), total.counts.followed_up],
        [rate, total.counts.follow_up_rate],
        [str(_l("Reports completed")), total.counts.completed],
        [str(_l("Median hours to first response")), _hours(total.median_response_hours)],
        [str(_l("Median hours to completion")), _hours(total.median_completion_hours)],
        [str(_l("Red reports now (past their deadline)")), total.red_now],
        [str(_l("Average satisfaction rating (1 to 5)")), total.counts.average_rating],
        [str(_l("Ratings given")), total.counts.rating_count],
    ]
    out["summary"] = Table("summary", str(_l("Summary")),
                           [str(_l("Figure")), str(_l("Value"))], summary_rows)

    def simple(name, title, first, items):
        out[name] = Table(name, title, [first, received],
                          [[line.label, line.counts.received] for line in items])

    simple("kind", str(_l("Reports by kind")), str(_l("Kind")), stats.by_kind)
    simple("category", str(_l("Reports by category")), str(_l("Category")), stats.by_category)
    unit_word = str(_l("Institution") if stats.institution is None else _l("Unit"))
    unit_header = [unit_word, received, str(_l("Handled")), str(_l("Followed up")), rate,
                   str(_l("Completed")), str(_l("Red now"))]
    if staff:
        unit_header += [str(_l("Median hours to first response")),
                        str(_l("Median hours to completion")),
                        str(_l("Average rating")), str(_l("Ratings given"))]
    unit_rows = []
    for line in stats.by_unit:
        c = line.counts
        row = [line.label, c.received, c.handled, c.followed_up, c.follow_up_rate, c.completed,
               line.red_now]
        if staff:
            row += [_hours(line.median_response_hours), _hours(line.median_completion_hours),
                    c.average_rating, c.rating_count]
        unit_rows.append(row)
    out["unit"] = Table("unit", str(_l("Reports by institution") if stats.institution is None
                                    else _l("Reports by unit")), unit_header, unit_rows)
    if stats.places == DISTRICTS:
        simple("district", str(_l("Reports by kecamatan")), str(_l("Kecamatan")),
               stats.by_place)
    else:
        simple("district", str(_l("Reports by region of the kecamatan")),
               str(_l("Regency or city")), stats.by_place)
    simple("channel", str(_l("Reports by channel")), str(_l("Channel")), stats.by_channel)
    month_header = [str(_l("Month")), received, str(_l("Completed")), rate]
    out["month"] = Table("month", str(_l("Reports by month of filing")), month_header,
                         [[line.label, line.counts.received, line.counts.completed,
                           line.counts.follow_up_rate] for line in stats.by_month])
    out["top_categories"] = Table(
        "top_categories", str(_l("Top categories over time")),
        [str(_l("Month"))] + [line.label for line in stats.top_categories],
        [[month.strftime("%Y-%m")] + [stats.top_by_month[month][line.key]
                                      for line in stats.top_categories]
         for month in stats.period.months])
    return out


TABLE_NAMES = ("summary", "kind", "category", "unit", "district", "channel", "month",
               "top_categories")


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for line in [table.header] + table.rows:
        writer.writerow(["" if value is None else _inert(value) for value in line])
    return out.getvalue()


def record_export(stats: Statistics, table: Table, *, actor: User, now: datetime) -> AuditEntry:
    """A staff download leaves an audit row, as the weekly report's do."""
    scope = stats.institution.code if stats.institution is not None else "national"
    entry = AuditEntry(action=AuditAction.EXPORT, actor=actor,
                       institution_id=stats.institution.id if stats.institution else None,
                       created_at=now,
                       detail=f"statistics {table.name} {scope} {stats.period.start_code}.."
                              f"{stats.period.end_code} (csv)")
    db.session.add(entry)
    db.session.flush()
    return entry
