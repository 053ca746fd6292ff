"""Filing a report: from the citizen's draft to a report with its identity, files and history."""
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.domain import DomainError, deadlines, duplicates, notifications, public_feed
from portal.domain.tracking import generate_tracking_code, hash_tracking_code
from portal.domain.uploads import PreparedUpload
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    Attachment,
    Category,
    Channel,
    District,
    EventKind,
    Institution,
    InstitutionKind,
    Report,
    ReporterIdentity,
    ReportEvent,
    ReportKind,
    ReportStatus,
    User,
)
from portal.storage import AttachmentStore

JAKARTA = ZoneInfo("Asia/Jakarta")
MAX_ATTACHMENTS = 5
# ASCII digits only: to Python's \d, Arabic-Indic or Devanagari digits are digits too.
NIK_PATTERN = re.compile(r"[0-9]{16}")
PHONE_PATTERN = re.compile(r"\+?[0-9][0-9 \-]{6,18}[0-9]")


@dataclass
class ReportDraft:
    kind: ReportKind | None
    title: str
    body: str
    category_id: int | None
    district_id: int | None = None
    village: str | None = None
    address: str | None = None
    event_date: date | None = None
    is_anonymous: bool = False
    is_confidential: bool = False
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    nik: str | None = None
    channel: Channel = Channel.WEB
    # A report from another system (portal/domain/feed.py): the system, its id there, the
    # institution it was sent to (None: by category, as on the web) and when it was filed
    # there (None: now). That system keeps in touch with the reporter and gave them its own
    # receipt: no contact is required and no tracking code is mailed.
    source_id: int | None = None
    external_id: str | None = None
    institution_id: int | None = None
    created_at: datetime | None = None
    # Intake on behalf of a citizen (portal/domain/intake.py, the Open311 API): the staff
    # member who logged it, and the link the channel gave (a social-media post, a photo).
    logged_by_id: int | None = None
    channel_link: str | None = None


@dataclass
class FiledReport:
    report: Report
    tracking_code: str
    stored_names: list[str] = field(default_factory=list)
    code_mailed_to_reporter: bool = False


def jakarta_today(now: datetime) -> date:
    return now.astimezone(JAKARTA).date()


def identity_problems(draft: ReportDraft) -> dict[str, object]:
    """The reporter must be reachable unless they chose to be anonymous (or another system,
    which keeps in touch with them, sent the report)."""
    problems: dict[str, object] = {}
    if draft.is_anonymous or draft.source_id is not None:
        return problems
    if not (draft.name or "").strip():
        problems["name"] = _l("Write your name, or choose to report anonymously.")
    if not (draft.email or "").strip() and not (draft.phone or "").strip():
        problems["email"] = _l("Give an e-mail address or a phone number so that we can reach you.")
    return problems


def draft_problems(draft: ReportDraft, now: datetime) -> dict[str, object]:
    """Every rule a draft must meet, as {field: message}; empty when it may be filed."""
    problems = identity_problems(draft)
    if draft.kind is None:
        problems["kind"] = _l("Choose what you want to send.")
    if draft.event_date and draft.event_date > jakarta_today(now):
        problems["event_date"] = _l("The date of the event cannot be in the future.")
    # The identity columns hold ciphertext (no length in the database): the lengths are kept here.
    if len((draft.name or "").strip()) > 200:
        problems["name"] = _l("The name may be at most %(count)s characters long.", count=200)
    if len((draft.email or "").strip()) > 254:
        problems["email"] = _l("The e-mail address may be at most %(count)s characters long.",
                               count=254)
    if draft.nik and not NIK_PATTERN.fullmatch(draft.nik):
        problems["nik"] = _l("A NIK has exactly 16 digits.")
    if draft.phone and not PHONE_PATTERN.fullmatch(draft.phone.strip()):
        problems["phone"] = _l("Write the phone number with digits only, e.g. 0812 3456 7890.")
    if draft.category_id is not None and db.session.get(Category, draft.category_id) is None:
        problems["category"] = _l("Choose a category from the list.")
    if draft.district_id is not None and db.session.get(District, draft.district_id) is None:
        problems["district"] = _l("Choose a kecamatan from the list.")
    return problems


def _receiving_institution(category: Category | None) -> Institution | None:
    """A report goes to the institution that owns its category's default unit; without one it
    waits at the national level for the national admin to route it."""
    if category is not None and category.default_unit is not None:
        node = category.default_unit
        while node.kind is InstitutionKind.UNIT and node.parent is not None:
            node = node.parent
        return node
    return db.session.scalar(
        select(Institution).where(Institution.kind == InstitutionKind.NATIONAL).limit(1)
    )


def format_public_number(report: Report) -> str:
    return f"LPR-{report.created_at.astimezone(JAKARTA):%Y}-{report.id:07d}"


def file_report(
    draft: ReportDraft,
    uploads: list[PreparedUpload],
    *,
    store: AttachmentStore,
    now: datetime,
    account: User | None = None,
) -> FiledReport:
    """Create the report, its identity, its files and its first event; queue the reporter's mail.

    Flushes, never commits. The files are written before the caller commits; if the commit
    fails, the caller deletes ``stored_names`` (a stray file is harmless, a missing one is not).
    If anything fails in here (the database refuses a row, the disk is full), the files written
    so far are deleted before the error goes on: a report that was not saved leaves no file.
    """
    problems = draft_problems(draft, now)
    if problems:
        field_name, message = next(iter(problems.items()))
        raise DomainError(message, field=field_name)
    if len(uploads) > MAX_ATTACHMENTS:
        raise DomainError(
            _l("At most %(count)s files per report.", count=MAX_ATTACHMENTS), field="attachments"
        )

    category = db.session.get(Category, draft.category_id) if draft.category_id else None
    code = generate_tracking_code()
    report = Report(
        tracking_code_hash=hash_tracking_code(code),
        kind=draft.kind,
        title=draft.title.strip(),
        body=draft.body.strip(),
        category=category,
        district_id=draft.district_id,
        village=(draft.village or "").strip() or None,
        address=(draft.address or "").strip() or None,
        event_date=draft.event_date,
        channel=draft.channel,
        is_anonymous=draft.is_anonymous,
        is_confidential=draft.is_confidential,
        status=ReportStatus.SUBMITTED,
        current_institution=(db.session.get(Institution, draft.institution_id)
                             if draft.institution_id else _receiving_institution(category)),
        source_id=draft.source_id,
        external_id=draft.external_id,
        logged_by_id=draft.logged_by_id,
        channel_link=(draft.channel_link or "").strip() or None,
        created_at=draft.created_at or now,
        updated_at=now,
    )
    db.session.add(report)

    email = (draft.email or "").strip().lower() or None
    has_identity = any(
        (v or "").strip() for v in (draft.name, draft.email, draft.phone, draft.nik)
    ) or account is not None
    identity = None
    if has_identity:
        identity = report.identity = ReporterIdentity(
            # An anonymous report keeps no link to the account: the account finds it by the
            # keyed contact hash (portal/domain/reporter.py), so a dump names nobody. The
            # holder's name is kept (encrypted) so that public texts still mask it.
            user=None if draft.is_anonymous else account,
            account_ref=str(account.id) if draft.is_anonymous and account is not None else None,
            name=(draft.name or "").strip() or (
                account.name if draft.is_anonymous and account is not None else None),
            email=email,
            phone=(draft.phone or "").strip() or None,
            nik=(draft.nik or "").strip() or None,
        )
    duplicates.fingerprint(report, identity, account=account)
    # The public feed's search document, from the masked text (portal/domain/public_feed.py).
    public_feed.index_report(report, [identity.name if identity else None,
                                      account.name if account else None])

    filed = FiledReport(report=report, tracking_code=code)
    try:
        for upload in uploads:
            stored_name = store.save(upload.data, upload.extension)
            filed.stored_names.append(stored_name)
            report.attachments.append(
                Attachment(
                    stored_name=stored_name,
                    original_name=upload.original_name,
                    content_type=upload.content_type,
                    size=len(upload.data),
                    created_at=now,
                )
            )
        report.events.append(
            ReportEvent(
                kind=EventKind.SUBMITTED,
                actor_id=None,
                visible_to_reporter=True,
                status_after=ReportStatus.SUBMITTED,
                created_at=now,
            )
        )
        db.session.flush()
        report.public_number = format_public_number(report)
        deadlines.start_verification(report, now=now)
        db.session.flush()
        # Every channel files through here: possible duplicates are found for all of them.
        duplicates.record_candidates(report, now=now)

        if email and draft.source_id is None:
            notifications.queue_mail(
                recipient=email,
                subject=_l("Your report %(number)s has been received", number=report.public_number),
                template="report_received",
                now=now,
                report=report,
                tracking_code=code,
            )
            filed.code_mailed_to_reporter = True
    except BaseException:
        for stored_name in filed.stored_names:
            store.delete(stored_name)
        raise
    return filed
