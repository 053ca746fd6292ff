"""The transactional outbox: messages written with the change that caused them, sent later."""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.crypto import EncryptedText
from portal.extensions import db
from portal.models.types import UTCDateTime, enum_column, utcnow


class OutboxState(enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxChannel(enum.Enum):
    MAIL = "mail"  # to ``recipient``; subject and bodies rendered
    WEBHOOK = "webhook"  # a signed JSON POST (body_text) to the institution's webhook URL


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"
    __table_args__ = (
        db.Index("ix_outbox_message_due", "state", "next_attempt_at"),
        db.CheckConstraint(
            "(state = 'sent') = (sent_at IS NOT NULL)", name="sent_iff_sent_at"
        ),
        db.CheckConstraint(
            "channel <> 'webhook' OR institution_id IS NOT NULL", name="webhook_has_institution"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[OutboxState] = mapped_column(
        enum_column(OutboxState, "outbox_state"), default=OutboxState.PENDING
    )
    channel: Mapped[OutboxChannel] = mapped_column(
        enum_column(OutboxChannel, "outbox_channel"), default=OutboxChannel.MAIL
    )
    # A webhook goes to this institution's URL, signed with its secret (read when sending).
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE")
    )
    # Encrypted at rest like reporter identities (portal/crypto.py): the address of a mail to
    # an anonymous reporter, next to a subject naming their report, would name them in a dump.
    recipient: Mapped[str | None] = mapped_column(EncryptedText)
    subject: Mapped[str] = mapped_column(String(255))
    # Bodies may hold a tracking code or a name: encrypted, and wiped once the mail has left.
    body_text: Mapped[str | None] = mapped_column(EncryptedText)
    body_html: Mapped[str | None] = mapped_column(EncryptedText)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
