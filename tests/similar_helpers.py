"""Reports in a given state, category and kecamatan, for the tests of similar reports and
support (tests/unit/test_support.py, tests/functional/test_similar_reports.py, the browser)."""
from datetime import datetime

from sqlalchemy import select

from portal.domain.filing import ReportDraft, file_report
from portal.extensions import db
from portal.models import (
    ArchiveReason,
    Category,
    District,
    Report,
    ReportKind,
    ReportStatus,
)
from portal.storage import AttachmentStore

CATEGORY = "INFRASTRUKTUR"
DISTRICT = "Cikupa"


def category_id(code: str = CATEGORY) -> int:
    return db.session.scalar(select(Category.id).where(Category.code == code))


def district_id(name: str = DISTRICT) -> int:
    return db.session.scalar(select(District.id).where(District.name == name))


def make_report(title: str, body: str, *, created: datetime, store_path,
                status: ReportStatus = ReportStatus.VERIFIED, category: str = CATEGORY,
                district: str = DISTRICT, confidential: bool = False,
                anonymous: bool = False, name: str = "Siti Rahmawati",
                email: str = "siti.rahma@example.id", phone: str | None = "081298765432",
                nik: str | None = "3603124501900003") -> Report:
    """A report filed at ``created`` through the filing rules, then put in ``status`` (the
    staff workflow is not what these tests are about)."""
    draft = ReportDraft(kind=ReportKind.COMPLAINT, title=title, body=body,
                        category_id=category_id(category), district_id=district_id(district),
                        is_anonymous=anonymous, is_confidential=confidential,
                        name=name, email=email, phone=phone, nik=nik)
    report = file_report(draft, [], store=AttachmentStore(store_path), now=created).report
    report.status = status
    if status is ReportStatus.ARCHIVED:
        report.archive_reason = ArchiveReason.NOT_ACTIONABLE
    db.session.flush()
    return report
