"""Possible duplicates of a report, as found on its arrival, and what staff decided."""
import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.report import Report
from portal.models.types import UTCDateTime, enum_column, utcnow
from portal.models.user import User


class Certainty(enum.Enum):
    CERTAIN = "certain"  # the same external id, or the same text
    LIKELY = "likely"  # a similar text from the same reporter, or the same category and place


class DuplicateReason(enum.Enum):
    EXTERNAL_ID = "external_id"  # another system's id seen before
    SAME_TEXT = "same_text"  # the same title and body once normalised
    SAME_REPORTER = "same_reporter"  # a similar text by the same reporter
    SAME_PLACE = "same_place"  # a similar text in the same category and kecamatan


class CandidateState(enum.Enum):
    OPEN = "open"  # waiting for a decision
    DISMISSED = "dismissed"  # not a duplicate: never suggested again
    CONFIRMED = "confirmed"  # the report was archived as a duplicate of the original


class DuplicateCandidate(db.Model):
    """``report`` (the later one) may be a duplicate of ``original`` (filed before it)."""

    __tablename__ = "duplicate_candidate"
    __table_args__ = (
        db.UniqueConstraint("report_id", "original_id", name="uq_duplicate_candidate_pair"),
        CheckConstraint("report_id <> original_id", name="not_itself"),
        CheckConstraint("score >= 0 AND score <= 1", name="score_0_to_1"),
        CheckConstraint("(state = 'open') = (decided_at IS NULL)", name="decided_iff_closed"),
        db.Index("ix_duplicate_candidate_state_created", "state", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    original_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"),
                                             index=True)
    certainty: Mapped[Certainty] = mapped_column(enum_column(Certainty, "certainty"))
    reason: Mapped[DuplicateReason] = mapped_column(
        enum_column(DuplicateReason, "duplicate_reason"))
    score: Mapped[float] = mapped_column(Float)
    state: Mapped[CandidateState] = mapped_column(
        enum_column(CandidateState, "candidate_state"), default=CandidateState.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    report: Mapped[Report] = relationship(foreign_keys=[report_id])
    original: Mapped[Report] = relationship(foreign_keys=[original_id])
    decided_by: Mapped[User | None] = relationship()


class ReportSupport(db.Model):
    """Someone supports ("dukung") a public report: once per account, or once per browser
    for guests (a keyed hash of a random cookie; nothing else about the guest is kept)."""

    __tablename__ = "report_support"
    __table_args__ = (
        db.UniqueConstraint("report_id", "user_id", name="uq_report_support_user"),
        db.UniqueConstraint("report_id", "browser_hash", name="uq_report_support_browser"),
        CheckConstraint("(user_id IS NULL) <> (browser_hash IS NULL)", name="one_supporter"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id",
                                                           ondelete="CASCADE"))
    browser_hash: Mapped[bytes | None] = mapped_column(db.LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
