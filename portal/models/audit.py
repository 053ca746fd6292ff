"""The audit log: who looked at an identity, who changed a role, who exported what, who failed
to sign in, who changed the deadlines, the holidays, the webhook or a feed source.
Append-only; supervisors read it for their institution."""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.institution import Institution
from portal.models.types import UTCDateTime, enum_column, utcnow
from portal.models.user import User


class AuditAction(enum.Enum):
    IDENTITY_VIEWED = "identity_viewed"
    ROLE_GRANTED = "role_granted"
    ROLE_REVOKED = "role_revoked"
    EXPORT = "export"
    LOGIN_FAILED = "login_failed"
    LOGIN_LOCKED = "login_locked"
    # Deadline administration (portal/domain/deadlines.py, portal/domain/webhooks.py).
    DEADLINE_POLICY_SAVED = "deadline_policy_saved"
    HOLIDAY_ADDED = "holiday_added"
    HOLIDAY_REMOVED = "holiday_removed"
    WEBHOOK_CHANGED = "webhook_changed"
    # A feed source added, given a new API key, disabled or enabled (portal/domain/feed.py).
    FEED_SOURCE_CHANGED = "feed_source_changed"
    # An intake API key (Open311 POST) issued to a channel, renewed or revoked.
    API_CLIENT_CHANGED = "api_client_changed"


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (db.Index("ix_audit_entry_created_at_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[AuditAction] = mapped_column(enum_column(AuditAction, "audit_action"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    # The institution node whose supervisors may read this entry.
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id", ondelete="SET NULL"),
                                                  index=True)
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    detail: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    subject_user: Mapped[User | None] = relationship(foreign_keys=[subject_user_id])
    institution: Mapped[Institution | None] = relationship()
