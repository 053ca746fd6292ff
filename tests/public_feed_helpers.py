"""Reports for the public feed's tests (unit, functional, browser): filed through the filing
rules, then put where the test needs them (the staff workflow is not what they are about)."""
import re
from datetime import datetime, timezone
from html import unescape

from flask import current_app
from sqlalchemy import select, update

from portal.domain.filing import ReportDraft, file_report
from portal.extensions import db
from portal.models import (
    ArchiveReason,
    EventKind,
    Institution,
    Report,
    ReportEvent,
    ReportKind,
    ReportStatus,
    User,
)
from portal.storage import AttachmentStore
from tests.similar_helpers import category_id, district_id

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)
REPORTER = "Siti Rahmawati"
NUMBER = re.compile(r'id="report-(LPR-\d{4}-\d{7})"')


def filed(title: str = "Jalan rusak di depan Pasar Cikupa",
          body: str = "Lubang besar di jalan raya depan pasar sudah dua minggu.", *,
          status: ReportStatus = ReportStatus.VERIFIED, created: datetime = NOW,
          kind: ReportKind = ReportKind.COMPLAINT, category: str = "INFRASTRUKTUR",
          district: str = "Cikupa", confidential: bool = False, anonymous: bool = False,
          name: str | None = REPORTER, email: str | None = "siti.rahma@example.id",
          phone: str | None = None, nik: str | None = None, account: User | None = None,
          unit_code: str | None = None, village: str | None = "Talaga",
          address: str | None = "Jl. Melati No. 7 RT 02/RW 05") -> Report:
    draft = ReportDraft(kind=kind, title=title, body=body, category_id=category_id(category),
                        district_id=district_id(district), village=village, address=address,
                        is_anonymous=anonymous, is_confidential=confidential, name=name,
                        email=email, phone=phone, nik=nik)
    report = file_report(draft, [], store=AttachmentStore(current_app.config["UPLOAD_FOLDER"]),
                         now=created, account=account).report
    report.status = status
    if status is ReportStatus.ARCHIVED:
        report.archive_reason = ArchiveReason.NOT_ACTIONABLE
    if unit_code:
        report.current_unit = db.session.scalar(
            select(Institution).where(Institution.code == unit_code))
    db.session.flush()
    return report


def answer(report: Report, message: str, *, kind: EventKind = EventKind.ANSWERED,
           visible: bool = True, actor: User | None = None, at: datetime = NOW) -> None:
    report.events.append(ReportEvent(kind=kind, message=message, visible_to_reporter=visible,
                                     actor=actor, created_at=at))
    db.session.flush()


def set_support_count(report: Report, count: int) -> None:
    db.session.execute(update(Report).where(Report.id == report.id)
                       .values(support_count=count).execution_options(
                           synchronize_session=False))


def listed(html: str) -> list[str]:
    """The report numbers a feed page lists, in order."""
    return NUMBER.findall(html)


def next_link(html: str) -> str | None:
    match = re.search(r'<a href="([^"]+)"[^>]*id="next-page"', html)
    return unescape(match.group(1)) if match else None


def walk(client, url: str, limit: int = 50) -> list[list[str]]:
    """Follow the feed's "next page" links from ``url``; the numbers of each page."""
    pages = []
    while url and len(pages) < limit:
        response = client.get(url)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        pages.append(listed(html))
        url = next_link(html)
    return pages
