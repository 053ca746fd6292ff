"""Archiving a report as a duplicate: the original is named, the chain leads to the first
report, both histories record it, and the CHECK constraint ties the reason to the link."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.domain import DomainError
from portal.domain.filing import ReportDraft, file_report
from portal.domain.workflow import Action, ActionInput, perform
from portal.extensions import db
from portal.models import (
    ArchiveReason,
    Category,
    EventKind,
    Report,
    ReportKind,
    ReportStatus,
)
from portal.storage import AttachmentStore
from tests.helpers import user

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)
ADMIN = "admin@tangerangkab.example.id"


@pytest.fixture
def filed(demo, tmp_path):
    store = AttachmentStore(tmp_path / "uploads")
    category = db.session.scalar(select(Category).where(Category.code == "ADMINDUK"))

    def file(title="KTP elektronik belum jadi") -> Report:
        draft = ReportDraft(kind=ReportKind.COMPLAINT, title=title,
                            body="Sudah tiga bulan menunggu di kecamatan.",
                            category_id=category.id, name="Warga Cikupa",
                            email="warga@example.id")
        return file_report(draft, [], store=store, now=NOW).report
    return file


def archive(report: Report, number: str | None):
    return perform(report, Action.ARCHIVE, actor=user(ADMIN), now=NOW,
                   expected_version=report.version,
                   data=ActionInput(archive_reason=ArchiveReason.DUPLICATE, duplicate_of=number))


def test_a_duplicate_names_its_original_and_both_histories_say_so(filed):
    original, copy = filed(), filed()
    archive(copy, original.public_number.lower())
    db.session.commit()
    assert copy.status is ReportStatus.ARCHIVED and copy.duplicate_of_id == original.id
    archived = [e for e in copy.events if e.kind is EventKind.ARCHIVED]
    assert archived[-1].related_report_id == original.id
    merged = [e for e in original.events if e.kind is EventKind.DUPLICATE_MERGED]
    assert len(merged) == 1 and merged[0].related_report_id == copy.id
    assert not merged[0].visible_to_reporter


def test_a_copy_of_a_copy_links_to_the_first_report(filed):
    first, second, third = filed(), filed(), filed()
    archive(second, first.public_number)
    db.session.commit()
    archive(third, second.public_number)
    db.session.commit()
    assert third.duplicate_of_id == first.id


@pytest.mark.parametrize("number", [None, "", "LPR-0000-000000"])
def test_a_duplicate_without_a_known_original_is_refused(filed, number):
    copy = filed()
    db.session.commit()
    with pytest.raises(DomainError) as error:
        archive(copy, number)
    assert error.value.field == "duplicate_of"
    db.session.rollback()
    assert db.session.get(Report, copy.id).status is ReportStatus.SUBMITTED


def test_a_report_is_no_duplicate_of_itself(filed):
    report = filed()
    with pytest.raises(DomainError):
        archive(report, report.public_number)


def test_the_database_ties_the_duplicate_reason_to_the_link(filed):
    report = filed()
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(update(Report).where(Report.id == report.id).values(
            status=ReportStatus.ARCHIVED, archive_reason=ArchiveReason.DUPLICATE,
            deadline_kind=None, clock_started_at=None, clock_days=None, due_at=None))
        db.session.flush()
    db.session.rollback()
