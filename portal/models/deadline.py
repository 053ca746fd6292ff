"""Deadline policies and the extra days off that working-day deadlines skip.

Weekends and Indonesia's national public holidays come from the ``holidays`` package; the rows
here are what administrators add on top (cuti bersama, regional days) and the number of working
days each step of the handling may take.
"""
import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.institution import Institution
from portal.models.types import UTCDateTime, enum_column, utcnow
from portal.models.user import User


class DeadlineKind(enum.Enum):
    """Which staff deadline a report's clock is counting."""

    VERIFICATION = "verification"  # the institution admin verifies (or routes) the report
    FOLLOW_UP = "follow_up"  # the unit follows up visibly for the reporter
    INFORMATION_ANSWER = "information_answer"  # an information request is answered (UU 14/2008)


class DeadlinePolicy(db.Model):
    """Working days allowed per step, for one institution (and its units).

    The row without an institution is the national default; without any row the built-in
    defaults of ``portal.domain.deadlines.DEFAULT_POLICY`` apply.
    """

    __tablename__ = "deadline_policy"
    __table_args__ = (
        CheckConstraint(
            "verification_days > 0 AND follow_up_days > 0 AND urgent_follow_up_days > 0"
            " AND information_answer_days > 0 AND information_extension_days >= 0"
            " AND auto_complete_days > 0",
            name="days_positive",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), unique=True
    )
    verification_days: Mapped[int] = mapped_column(SmallInteger, default=3)
    follow_up_days: Mapped[int] = mapped_column(SmallInteger, default=5)
    urgent_follow_up_days: Mapped[int] = mapped_column(SmallInteger, default=2)
    information_answer_days: Mapped[int] = mapped_column(SmallInteger, default=10)
    information_extension_days: Mapped[int] = mapped_column(SmallInteger, default=7)
    # An answered report with no reply from the reporter is completed after this many days.
    auto_complete_days: Mapped[int] = mapped_column(SmallInteger, default=10)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    institution: Mapped[Institution | None] = relationship()
    updated_by: Mapped[User | None] = relationship()


class Holiday(db.Model):
    """A day off added by an administrator: everywhere (no institution), or for one node of
    the tree and every node below it (an institution and its units)."""

    __tablename__ = "holiday"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    name: Mapped[str] = mapped_column(String(120))
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    institution: Mapped[Institution | None] = relationship()
    created_by: Mapped[User | None] = relationship()


class CalendarChange(db.Model):
    """A day that became a day off (``added``) or a working day again, everywhere (no
    institution) or at one node and below it: the open deadlines that count it wait here for
    the worker to move them (``portal.domain.deadlines.apply_calendar_changes``), so that the
    admin's request only records the change. ``moved`` is how many deadlines the worker moved
    when it applied the change (``applied_at``)."""

    __tablename__ = "calendar_change"
    __table_args__ = (
        CheckConstraint("(applied_at IS NULL) = (moved IS NULL)", name="applied_iff_moved"),
        CheckConstraint("moved >= 0", name="moved_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), index=True
    )
    added: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moved: Mapped[int | None] = mapped_column(Integer)

    institution: Mapped[Institution | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def pending(self) -> bool:
        return self.applied_at is None


class NoticeKind(enum.Enum):
    """What the deadline sweep told the staff about a report's deadline."""

    BEFORE = "before"  # due on the next working day
    DAY = "day"  # due at the end of today
    OVERDUE = "overdue"  # the deadline passed


class DeadlineNotice(db.Model):
    """One notice per report, kind and deadline: the sweep's memory, so that running it
    again sends nothing twice (a moved deadline is a new deadline and is noticed again)."""

    __tablename__ = "deadline_notice"
    __table_args__ = (
        db.UniqueConstraint("report_id", "kind", "due_at", name="uq_deadline_notice_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    kind: Mapped[NoticeKind] = mapped_column(enum_column(NoticeKind, "notice_kind"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The sweep run that recorded it: its messages are queued from exactly these rows.
    sweep: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
