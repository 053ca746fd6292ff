"""Intake API keys: an institution admin issues one to a channel that files reports for its
citizens through the Open311 GeoReport v2 API (an SMS gateway, a mobile app, a social-media
desk). Only the key's SHA-256 is stored, as for the feed sources."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.institution import Institution
from portal.models.report import Channel
from portal.models.types import UTCDateTime, enum_column, utcnow
from portal.models.user import User


class ApiClient(db.Model):
    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The institution whose admin issued the key; reports posted with it go to that institution.
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The channel the reports posted with this key are counted under.
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"))
    api_key_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    key_hint: Mapped[str] = mapped_column(String(12))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    institution: Mapped[Institution] = relationship()
    created_by: Mapped[User | None] = relationship()
