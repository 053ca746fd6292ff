"""Ready-made answers per institution: text with placeholders, for one-click formal answers."""
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.institution import Institution


class ResponseTemplate(db.Model):
    __tablename__ = "response_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # Placeholders: {nomor} (public number), {judul} (title), {unit}, {instansi}, {tanggal}.
    body: Mapped[str] = mapped_column(Text)

    institution: Mapped[Institution] = relationship()
