"""Systems that send reports in bulk: the national LAPOR! feed, a ministry's intake, an SMS
gateway. Each has an API key (only its SHA-256 is stored) and its own external ids."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import UTCDateTime, utcnow
from portal.models.user import User


class FeedSource(db.Model):
    __tablename__ = "feed_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the API key (a 256-bit random secret: a slow hash would add nothing).
    api_key_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    # The key's first characters, to tell keys apart on the admin page.
    key_hint: Mapped[str | None] = mapped_column(String(12))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()
