"""The figures of a finished week's report, kept (portal/domain/weekly_report.py): computed once
by the Monday job (``flask reports weekly``) for every institution, read by the weekly report
page instead of computing them again over a week's activity at national scale. Counts only:
no report, no person."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime


class KeptWeeklyReport(db.Model):
    __tablename__ = "kept_weekly_report"
    __table_args__ = (
        db.UniqueConstraint("institution_id", "week", name="uq_kept_weekly_report_week"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    week: Mapped[str] = mapped_column(String(8))  # ISO week, "2026-W47"
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    figures: Mapped[str] = mapped_column(Text)  # JSON: the rows and the total (weekly_report.py)
