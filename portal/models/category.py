"""Report categories, each with a default unit to route to."""
from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.institution import Institution


class Category(db.Model):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_id: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    is_urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    default_unit_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"))

    default_unit: Mapped[Institution | None] = relationship()

    def name_for(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_id
