"""The statistics summary (portal/domain/statistics.py): report figures per month of filing,
kept by the worker so that the statistics pages read a few thousand rows instead of a million
reports. Derived data only: ``flask statistics rebuild`` recreates all of it from the reports.
"""
import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.report import Report
from portal.models.types import UTCDateTime, enum_column

# Red reports now, per institution or unit (portal/domain/statistics.py): read from the index
# alone (an index-only scan). Not partial: PostgreSQL 15 did not use it with WHERE due_at IS
# NOT NULL for "due_at <= now".
RED_INDEX = db.Index("ix_report_due_scope", Report.due_at, Report.current_institution_id,
                     Report.current_unit_id)


class Dimension(enum.Enum):
    ALL = "all"  # one row per (month, institution, unit): value is NULL
    KIND = "kind"
    CATEGORY = "category"  # value: the category id as text, NULL for none
    DISTRICT = "district"  # value: the district (kecamatan) id as text, NULL for none
    CHANNEL = "channel"


class Measure(enum.Enum):
    RESPONSE = "response"  # first_response_at - created_at
    COMPLETION = "completion"  # completed_at - created_at


class MonthSummary(db.Model):
    """Reports filed in one month (Asia/Jakarta) at one institution and unit (as they are now),
    broken down by one dimension: one row per value of the dimension."""

    __tablename__ = "stat_month_summary"
    __table_args__ = (
        db.Index("ix_stat_month_summary_dimension_month", "dimension", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
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
    month at one institution and unit: how many took ``bucket_hours`` (whole hours under two
    days, whole days from then on, given in hours)."""

    __tablename__ = "stat_month_duration"
    __table_args__ = (db.Index("ix_stat_month_duration_measure_month", "measure", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    measure: Mapped[Measure] = mapped_column(enum_column(Measure, "stat_measure"))
    bucket_hours: Mapped[int] = mapped_column(Integer)
    reports: Mapped[int] = mapped_column(Integer)


class StatisticsState(db.Model):
    """One row (id 1): when the summary was last refreshed (the refresh's ``now``)."""

    __tablename__ = "stat_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rebuilt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
