"""The report aggregate: the report, its reporter's identity, its attachments and its history.

The reporter's identity lives in its own table so that no query of reports drags it along.
"""
import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.crypto import EncryptedText
from portal.extensions import db
from portal.models.category import Category
from portal.models.deadline import DeadlineKind
from portal.models.institution import District, Institution
from portal.models.types import UTCDateTime, enum_column, utcnow
from portal.models.user import User


class ReportKind(enum.Enum):
    ASPIRATION = "aspiration"
    COMPLAINT = "complaint"
    INFORMATION_REQUEST = "information_request"


class Channel(enum.Enum):
    WEB = "web"
    NATIONAL_FEED = "national_feed"
    SMS = "sms"
    SOCIAL_MEDIA = "social_media"
    PHONE = "phone"
    WALK_IN = "walk_in"
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    MOBILE_APP = "mobile_app"


class ReportStatus(enum.Enum):
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    DISPOSITIONED = "dispositioned"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    COMPLETED = "completed"
    POSTPONED = "postponed"
    NOT_IN_AUTHORITY = "not_in_authority"
    ARCHIVED = "archived"
    REOPENED = "reopened"


class ArchiveReason(enum.Enum):
    DUPLICATE = "duplicate"
    NOT_ACTIONABLE = "not_actionable"
    TOO_GENERAL = "too_general"
    IRRELEVANT = "irrelevant"


# Which reports anyone may read: verified (not waiting for verification), not archived, not
# confidential. Also the WHERE of the public feed's partial indexes (migration 0009).
PUBLIC_PREDICATE = "NOT is_confidential AND status NOT IN ('submitted', 'archived')"
# Reports not finished: neither completed nor archived (a report that never completes keeps
# completed_at NULL). The WHERE of ix_report_unfinished_created (migration 0018): the weekly
# report's "open at the end of the week" reads the few of them, not every report.
UNFINISHED_PREDICATE = "completed_at IS NULL AND status <> 'archived'"


class Report(db.Model):
    __tablename__ = "report"
    __table_args__ = (
        CheckConstraint(
            "(status = 'archived') = (archive_reason IS NOT NULL)", name="archived_has_reason"
        ),
        CheckConstraint(
            "current_unit_id IS NULL OR current_institution_id IS NOT NULL",
            name="unit_within_institution",
        ),
        # Keyset paging of inboxes: newest first, by institution or by unit, ties broken by id.
        db.Index("ix_report_created_at_id", "created_at", "id"),
        db.Index("ix_report_updated_at_id", "updated_at", "id"),
        db.Index("ix_report_institution_created", "current_institution_id", "created_at", "id"),
        db.Index("ix_report_unit_created", "current_unit_id", "created_at", "id"),
        # The inbox's counts per status and the offline units' waiting reports: counted from
        # the index alone (migrations 0013 and 0018: with the unit, for the waiting reports
        # per unit of a big institution).
        db.Index("ix_report_institution_status", "current_institution_id", "status",
                 "current_unit_id"),
        db.Index("ix_report_unit_status", "current_unit_id", "status"),
        # The staff clock (portal/domain/deadlines.py). A clock has its basis; due_at is set
        # exactly while a clock runs: none when no clock, none while waiting for the reporter.
        CheckConstraint(
            "(deadline_kind IS NULL) = (clock_started_at IS NULL)"
            " AND (deadline_kind IS NULL) = (clock_days IS NULL)",
            name="clock_has_basis",
        ),
        CheckConstraint(
            "(due_at IS NOT NULL) = (deadline_kind IS NOT NULL AND clock_paused_at IS NULL)",
            name="due_iff_clock_runs",
        ),
        CheckConstraint(
            "clock_paused_at IS NULL OR deadline_kind IS NOT NULL", name="paused_clock_exists"
        ),
        CheckConstraint("clock_added_days >= 0", name="clock_added_days_not_negative"),
        # Duplicates (portal/domain/duplicates.py): a report archived as a duplicate names
        # its original, and only such a report does.
        CheckConstraint(
            "(COALESCE(archive_reason, '') = 'duplicate') = (duplicate_of_id IS NOT NULL)",
            name="duplicate_has_original",
        ),
        CheckConstraint("duplicate_of_id <> id", name="not_duplicate_of_itself"),
        # A report from another system keeps that system's id, once per system.
        db.UniqueConstraint("source_id", "external_id", name="uq_report_source_external"),
        CheckConstraint("(source_id IS NULL) = (external_id IS NULL)",
                        name="external_id_has_source"),
        # Duplicate candidates and similar reports: one category in one kecamatan, recent.
        db.Index("ix_report_category_district_created", "category_id", "district_id",
                 "created_at"),
        # The public feed (portal/domain/public_feed.py): verified, not confidential, not
        # archived; newest first or most supported first, keyset paged.
        CheckConstraint("support_count >= 0", name="support_count_not_negative"),
        db.Index("ix_report_public_created", "created_at", "id",
                 postgresql_where=db.text(PUBLIC_PREDICATE), sqlite_where=db.text(PUBLIC_PREDICATE)),
        db.Index("ix_report_public_support", "support_count", "id",
                 postgresql_where=db.text(PUBLIC_PREDICATE), sqlite_where=db.text(PUBLIC_PREDICATE)),
        # The feed filtered by status, newest first (statuses cluster in time: without it
        # PostgreSQL misjudged "in progress this month" and sorted thousands of rows).
        db.Index("ix_report_public_status_created", "status", "created_at", "id",
                 postgresql_where=db.text(PUBLIC_PREDICATE), sqlite_where=db.text(PUBLIC_PREDICATE)),
        # The weekly report (portal/domain/weekly_report.py) of a big institution: its
        # unfinished reports, those completed and those first answered in a given week.
        db.Index("ix_report_unfinished_created", "current_institution_id", "created_at",
                 "current_unit_id", "due_at", postgresql_include=["id"],
                 postgresql_where=db.text(UNFINISHED_PREDICATE),
                 sqlite_where=db.text(UNFINISHED_PREDICATE)),
        db.Index("ix_report_institution_completed", "current_institution_id", "completed_at"),
        db.Index("ix_report_institution_first_response", "current_institution_id",
                 "first_response_at"),
        # Full-text search over the masked public text (PostgreSQL; SQLite searches with LIKE).
        # (SQLite makes it a plain index, unused by LIKE: the price of one schema for both.)
        db.Index("ix_report_search_document", "search_document", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public reference shown everywhere; never a secret. Set right after the first flush.
    public_number: Mapped[str | None] = mapped_column(String(24), unique=True)
    # SHA-256 of the normalised tracking code; the code itself is never stored.
    tracking_code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    kind: Mapped[ReportKind] = mapped_column(enum_column(ReportKind, "report_kind"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("district.id"), index=True)
    village: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(500))
    event_date: Mapped[date | None] = mapped_column(Date)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"), default=Channel.WEB)
    is_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    is_confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[ReportStatus] = mapped_column(
        enum_column(ReportStatus, "report_status"), default=ReportStatus.SUBMITTED, index=True
    )
    current_institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    current_unit_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    assigned_operator_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id"), index=True
    )
    archive_reason: Mapped[ArchiveReason | None] = mapped_column(
        enum_column(ArchiveReason, "archive_reason")
    )
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The current staff deadline (the instant the last allowed working day ends, Jakarta time),
    # NULL when no staff clock runs. Lists and sweeps read it; only the domain computes it.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    deadline_kind: Mapped[DeadlineKind | None] = mapped_column(
        enum_column(DeadlineKind, "deadline_kind")
    )
    # The basis to recompute due_at: working days counted from the Jakarta date of the start,
    # plus the working days given back for pauses and an extension.
    clock_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clock_days: Mapped[int | None] = mapped_column(SmallInteger)
    clock_added_days: Mapped[int] = mapped_column(SmallInteger, default=0)
    # Set while the report waits for the reporter's clarification.
    clock_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An information request's answer time was extended (allowed once, UU 14/2008).
    deadline_extended: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Where a report from another system came from, and its id there.
    source_id: Mapped[int | None] = mapped_column(ForeignKey("feed_source.id"))
    external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # SHA-256 of the normalised title and body: the same text filed twice is found by index.
    text_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    # Set when archived as a duplicate: the report it repeats (whose progress it follows).
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"), index=True)
    # Optimistic locking: a stale writer gets StaleDataError instead of a lost update.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # Public feed: the number of supporters (rows of report_support), kept here for sorting;
    # the search document built from the masked public text (tsvector on PostgreSQL, the
    # masked lower-case text on SQLite), NULL while the report is not public.
    support_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    search_document: Mapped[str | None] = mapped_column(
        TSVECTOR().with_variant(Text(), "sqlite"))
    # Intake on behalf of a citizen (portal/domain/intake.py): the staff member who logged it
    # and, for social media, the post's link.
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    channel_link: Mapped[str | None] = mapped_column(String(500))

    __mapper_args__ = {"version_id_col": version}

    category: Mapped[Category | None] = relationship()
    district: Mapped[District | None] = relationship()
    current_institution: Mapped[Institution | None] = relationship(
        foreign_keys=[current_institution_id]
    )
    current_unit: Mapped[Institution | None] = relationship(foreign_keys=[current_unit_id])
    assigned_operator: Mapped[User | None] = relationship(foreign_keys=[assigned_operator_id])
    logged_by: Mapped[User | None] = relationship(foreign_keys=[logged_by_id])
    rating: Mapped["ReportRating | None"] = relationship(
        back_populates="report", uselist=False, cascade="all, delete-orphan"
    )
    identity: Mapped["ReporterIdentity | None"] = relationship(
        back_populates="report", uselist=False, lazy="raise", cascade="all, delete-orphan"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="report", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    events: Mapped[list["ReportEvent"]] = relationship(
        back_populates="report", order_by="ReportEvent.id", cascade="all, delete-orphan",
        foreign_keys="ReportEvent.report_id"
    )
    duplicate_of: Mapped["Report | None"] = relationship(remote_side=[id],
                                                         foreign_keys=[duplicate_of_id])


class ReporterIdentity(db.Model):
    """Who filed a report. Loaded only on purpose (``lazy='raise'`` on the report side)."""

    __tablename__ = "reporter_identity"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("report.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    # Encrypted at rest (Fernet tokens, portal/crypto.py), for every reporter: a dump names
    # nobody. The lengths (200, 254, 32, 16 characters) are checked before filing.
    name: Mapped[str | None] = mapped_column(EncryptedText)
    email: Mapped[str | None] = mapped_column(EncryptedText)
    phone: Mapped[str | None] = mapped_column(EncryptedText)
    nik: Mapped[str | None] = mapped_column(EncryptedText)
    # An anonymous report's account, encrypted (its id as text): ``user_id`` stays empty so
    # that a dump does not join it to the plain account table; the national admin's identity
    # view reads it (``account``).
    account_ref: Mapped[str | None] = mapped_column(EncryptedText)
    # A keyed hash of the reporter's account, e-mail or phone (portal/domain/duplicates.py),
    # to find a reporter's other reports without reading identities.
    contact_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)

    report: Mapped[Report] = relationship(back_populates="identity")
    user: Mapped[User | None] = relationship()

    @property
    def account(self) -> User | None:
        """The citizen account the report was filed with, named or anonymous."""
        if self.user_id is not None:
            return self.user
        if self.account_ref and self.account_ref.isdigit():
            return db.session.get(User, int(self.account_ref))
        return None


class Attachment(db.Model):
    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    # Random file name under the upload folder; never derived from user input.
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    # What the reporter called it: metadata only, identifying, hidden on anonymous reports.
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="attachments")


class EventKind(enum.Enum):
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    ROUTED = "routed"
    DISPOSITIONED = "dispositioned"
    ACCEPTED = "accepted"
    ASSIGNED = "assigned"
    SENT_BACK = "sent_back"
    FOLLOW_UP = "follow_up"
    ANSWERED = "answered"
    POSTPONED = "postponed"
    NOT_IN_AUTHORITY = "not_in_authority"
    ARCHIVED = "archived"
    REOPENED = "reopened"
    COMPLETED = "completed"
    REPORTER_REPLY = "reporter_reply"
    RATED = "rated"
    NOTE = "note"
    CLARIFICATION_REQUESTED = "clarification_requested"
    DEADLINE_EXTENDED = "deadline_extended"
    OVERDUE = "overdue"  # the staff deadline passed: the report is under supervision
    # Another report was archived as a duplicate of this one (the copy's own history says
    # "archived", with this report as its related report).
    DUPLICATE_MERGED = "duplicate_merged"


# The events that take a report away from the unit it waits at (portal/domain/offline.py):
# also the WHERE of ix_report_event_leaving (migration 0018).
LEAVING_KINDS = (EventKind.ANSWERED, EventKind.SENT_BACK, EventKind.ROUTED,
                 EventKind.NOT_IN_AUTHORITY, EventKind.ARCHIVED, EventKind.COMPLETED,
                 EventKind.POSTPONED)
LEAVING_PREDICATE = "kind IN (" + ", ".join(f"'{kind.value}'" for kind in LEAVING_KINDS) + ")"


class ReportEvent(db.Model):
    """Append-only history of a report."""

    __tablename__ = "report_event"
    __table_args__ = (
        # The weekly report (portal/domain/weekly_report.py, offline.py): the week's events by
        # kind, the dispositions to a unit, a staff member's actions (migration 0015).
        db.Index("ix_report_event_kind_created", "kind", "created_at",
                 postgresql_include=["report_id"]),
        # (with the report, so that the dispositions to the units of a big institution are
        # read from the index alone: 136,280 of them at 1,000,000 reports)
        db.Index("ix_report_event_target_kind_created", "target_institution_id", "kind",
                 "created_at", postgresql_include=["report_id"]),
        # When a report left the unit it waited at (offline.py): one lookup per report.
        db.Index("ix_report_event_leaving", "report_id", "created_at",
                 postgresql_where=db.text(LEAVING_PREDICATE),
                 sqlite_where=db.text(LEAVING_PREDICATE)),
        db.Index("ix_report_event_actor_created", "actor_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind, "event_kind"))
    # Null actor: the reporter (or the system); never a pointer to the reporter's identity.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    visible_to_reporter: Mapped[bool] = mapped_column(Boolean, default=True)
    status_after: Mapped[ReportStatus | None] = mapped_column(
        enum_column(ReportStatus, "event_status_after")
    )
    message: Mapped[str | None] = mapped_column(Text)
    # Where a routing or disposition sent the report, whom an assignment named.
    target_institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The other report of a duplicate pair (the original, or the copy merged into this one).
    related_report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))
    # The deadline this event gave: the unit's on a disposition, the new one on an extension.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="events", foreign_keys=[report_id])
    related_report: Mapped[Report | None] = relationship(foreign_keys=[related_report_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    target_institution: Mapped[Institution | None] = relationship()
    target_user: Mapped[User | None] = relationship(foreign_keys=[target_user_id])


class ReportRating(db.Model):
    """The reporter's verdict on the handling, given once after completion."""

    __tablename__ = "report_rating"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_1_to_5"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("report.id", ondelete="CASCADE"), unique=True
    )
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="rating")
