"""The statistics summary (portal/domain/statistics.py): report figures per month of filing,
kept by the worker so that the statistics pages read a few thousand rows instead of a million
reports. Derived data only: ``flask statistics rebuild`` recreates all of it from the reports.
"""
import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.report import Report
from portal.models.types import UTCDateTime, enum_column

# Red reports now, per institution or unit (portal/domain/statistics.py): read from the index
# alone (an index-only scan). Not partial: PostgreSQL 15 did not use it with WHERE due_at IS
# NOT NULL for "due_at <= now".
RED_INDEX = db.Index("ix_report_due_scope", Report.due_at, Report.current_institution_id,
                     Report.current_unit_id)


class Grain(enum.Enum):
    """What a summary row adds up: the reports of one unit of an institution (``unit_id``
    NULL: not yet at a unit), of one institution with its units (``unit_id`` NULL;
    ``institution_id`` NULL: not yet at an institution), or of the whole portal (both NULL).
    The pages read the coarsest grain that answers them, so that the national page reads a
    row per month and value, not one per unit as well (129,569 rows at 100,000 reports)."""

    UNIT = "unit"
    INSTITUTION = "institution"
    NATIONAL = "national"


class Dimension(enum.Enum):
    ALL = "all"  # one row per month and grain: value is NULL
    KIND = "kind"
    CATEGORY = "category"  # value: the category id as text, NULL for none
    # value: the id (as text) of the regional institution that the report's kecamatan belongs
    # to (its regency or city), NULL for no kecamatan
    REGION = "region"
    # institution grain only: the institution's own kecamatan (id as text); reports in the
    # kecamatan of other regions or with none are not in these rows (see REGION)
    DISTRICT = "district"
    CHANNEL = "channel"


# The dimensions kept at each grain: the unit grain serves the per-unit table only.
GRAIN_DIMENSIONS = {
    Grain.UNIT: (Dimension.ALL,),
    Grain.INSTITUTION: (Dimension.ALL, Dimension.KIND, Dimension.CATEGORY, Dimension.REGION,
                        Dimension.DISTRICT, Dimension.CHANNEL),
    Grain.NATIONAL: (Dimension.ALL, Dimension.KIND, Dimension.CATEGORY, Dimension.REGION,
                     Dimension.CHANNEL),
}


class Measure(enum.Enum):
    RESPONSE = "response"  # first_response_at - created_at
    COMPLETION = "completion"  # completed_at - created_at


class MonthSummary(db.Model):
    """Reports filed in one month (Asia/Jakarta) at one grain (a unit, an institution as they
    are now, or the portal), broken down by one dimension: one row per value of the
    dimension."""

    __tablename__ = "stat_month_summary"
    __table_args__ = (
        # Covering (PostgreSQL): the pages' sums come from the index alone; the rows of one
        # institution lie all over the table (2,277 heap pages for 3,998 rows at 1,000,000).
        db.Index("ix_stat_month_summary_lookup", "grain", "dimension", "institution_id",
                 "month", postgresql_include=["unit_id", "value", "received", "handled",
                                              "followed_up", "completed", "rating_count",
                                              "rating_sum"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    grain: Mapped[Grain] = mapped_column(enum_column(Grain, "stat_grain"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    dimension: Mapped[Dimension] = mapped_column(enum_column(Dimension, "stat_dimension"))
    value: Mapped[str | None] = mapped_column(String(32))
    received: Mapped[int] = mapped_column(Integer)
    handled: Mapped[int] = mapped_column(Integer)  # past verification, not archived
    followed_up: Mapped[int] = mapped_column(Integer)  # of the handled: a first response
    completed: Mapped[int] = mapped_column(Integer)
    rating_count: Mapped[int] = mapped_column(Integer)
    rating_sum: Mapped[int] = mapped_column(Integer)


class MonthDuration(db.Model):
    """A histogram of times to first response and to completion of the reports filed in one
    month at one grain (as MonthSummary): how many took ``bucket_hours`` (whole hours under
    two days, whole days from then on, given in hours)."""

    __tablename__ = "stat_month_duration"
    __table_args__ = (db.Index("ix_stat_month_duration_lookup", "grain", "measure",
                               "institution_id", "month",
                               postgresql_include=["unit_id", "bucket_hours", "reports"]),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    grain: Mapped[Grain] = mapped_column(enum_column(Grain, "stat_grain"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    measure: Mapped[Measure] = mapped_column(enum_column(Measure, "stat_measure"))
    bucket_hours: Mapped[int] = mapped_column(Integer)
    reports: Mapped[int] = mapped_column(Integer)


class StatisticsState(db.Model):
    """One row (id 1): when the summary was last refreshed (the refresh's ``now``), and the
    whole portal's figures of the default period (the last 12 months of that ``now``) as the
    summary gave them then: what the public page and the national admin's page open with,
    read as one row instead of merging 273 institutions' monthly histograms for their
    medians (200 ms at 1,000,000 reports). JSON, counts and medians only; written by every
    refresh in the same transaction as the summary rows, so it never disagrees with them."""

    __tablename__ = "stat_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rebuilt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kept_first: Mapped[date | None] = mapped_column(Date)  # the kept figures' period
    kept_last: Mapped[date | None] = mapped_column(Date)
    kept_figures: Mapped[str | None] = mapped_column(Text, deferred=True)
