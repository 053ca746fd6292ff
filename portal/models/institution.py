"""The institution tree: national -> institution (regency, ministry) -> unit (OPD, kecamatan)."""
import enum

from sqlalchemy import CheckConstraint, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.types import enum_column


class InstitutionKind(enum.Enum):
    NATIONAL = "national"
    INSTITUTION = "institution"
    UNIT = "unit"


class Institution(db.Model):
    __tablename__ = "institution"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'national') = (parent_id IS NULL)", name="only_national_is_root"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[InstitutionKind] = mapped_column(enum_column(InstitutionKind, "institution_kind"))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)
    # Deadline notices for the institution's staff are also POSTed here (a chat gateway),
    # signed with HMAC-SHA256 under the secret (portal/domain/webhooks.py).
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(128))

    parent: Mapped["Institution | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Institution"]] = relationship(
        back_populates="parent", order_by="Institution.name"
    )
    districts: Mapped[list["District"]] = relationship(
        back_populates="institution", order_by="District.name"
    )

    def __repr__(self) -> str:
        return f"<Institution {self.code}>"


class District(db.Model):
    """A kecamatan of a regional institution; reports name the one they happened in."""

    __tablename__ = "district"

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))

    institution: Mapped[Institution] = relationship(back_populates="districts")

    __table_args__ = (
        db.UniqueConstraint("institution_id", "name", name="uq_district_institution_name"),
        # A kecamatan typed as text is looked up by its name (portal/domain/places.py).
        db.Index("ix_district_name_lower", func.lower(name)),
    )
