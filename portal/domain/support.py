"""Similar public reports offered while a citizen files, and supporting one ("dukung").

What the public may see of a report here: only a report that staff have verified, that is
still open and that its reporter did not mark confidential; of it only its number, title, the
beginning of its text with personal data masked (portal/domain/masking.py), its category,
kecamatan, status, date and the number of supporters. Never anything about who sent it: the
queries below do not touch the reporter's identity, so an anonymous report looks exactly like
any other.

Supporting counts once per citizen account or once per browser (a keyed hash of a random
token that the browser keeps in a signed cookie; nothing else about a guest is stored).
Functions here flush at most; never commit.
"""
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value

from portal.domain import DomainError
from portal.domain.duplicates import normalize_text, similarity
from portal.domain.masking import mask_personal_data, public_excerpt
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import Category, District, Report, ReportStatus, ReportSupport, User

S = ReportStatus
# Open and verified: states a report reaches only after an administrator verified it. Not
# SUBMITTED (nobody has read it yet), and neither POSTPONED nor NOT_IN_AUTHORITY, which a
# report can also reach straight from SUBMITTED. COMPLETED and ARCHIVED are closed.
PUBLIC_OPEN_STATES = frozenset({S.VERIFIED, S.DISPOSITIONED, S.IN_PROGRESS, S.ANSWERED,
                                S.REOPENED})
SIMILAR_WINDOW = timedelta(days=90)
MAX_FETCHED = 200
# Chosen on a hand-made set of 15 reports in one category and kecamatan (infrastructure in
# Cikupa: potholes, street lights, drainage, a bridge, ...; tests/unit/test_support.py):
# at 0.55, 93% of the pairs about the same problem score above it and 14% of the pairs about
# different problems do; at 0.60 only 71% of the true pairs are left. A suggestion too many
# costs the citizen a glance; one too few costs a duplicate report, so the lower one.
THRESHOLD = 0.55
MIN_TITLE = 5  # normalised characters; the filing form asks for at least five
MIN_BODY = 20  # below this the body is not compared (see _score)
FETCHED_BODY = 2000  # characters of each candidate's text read: similarity uses 1,000


@dataclass(frozen=True)
class Supporter:
    """Who is supporting: a citizen account, or a browser (the keyed hash of its token)."""

    user_id: int | None = None
    browser_hash: bytes | None = None


@dataclass(frozen=True)
class SimilarReport:
    """What the public sees of a similar report: nothing about who sent it."""

    number: str
    title: str
    excerpt: str
    category: Category
    district: str
    status: ReportStatus
    filed_at: datetime
    supporters: int
    score: float
    supported: bool = False  # by the supporter that asked


@dataclass(frozen=True)
class SupportResult:
    counted: bool  # False: this account or browser had already supported the report
    supporters: int


def public_open_clause():
    """SQL: the reports whose content the public may see and support."""
    return (Report.status.in_(PUBLIC_OPEN_STATES) & Report.is_confidential.is_(False)
            & Report.duplicate_of_id.is_(None))


def is_public_open(report: Report) -> bool:
    return (report.status in PUBLIC_OPEN_STATES and not report.is_confidential
            and report.duplicate_of_id is None)


def browser_hash(token: str) -> bytes:
    """HMAC-SHA256 of a browser's support token, under a key derived from SECRET_KEY."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode("utf-8") if isinstance(secret, str) else secret
    key = hmac.new(secret, b"lapor:report-support:browser", hashlib.sha256).digest()
    return hmac.new(key, token.encode("utf-8"), hashlib.sha256).digest()


def supporter_for(user: User | None = None, browser_token: str | None = None) -> Supporter | None:
    if user is not None:
        return Supporter(user_id=user.id,
                         browser_hash=browser_hash(browser_token) if browser_token else None)
    if browser_token:
        return Supporter(browser_hash=browser_hash(browser_token))
    return None


def _score(title: str, body: str, other_title: str, other_body: str) -> float:
    """How alike the typed draft and a candidate read. While only the title is typed, the
    title is held against the candidate's title and text (else the empty body halves it)."""
    if len(normalize_text(body)) < MIN_BODY:
        return similarity(title, title, other_title, other_body)
    return similarity(title, body, other_title, other_body)


def _supporter_match(supporter: Supporter):
    clauses = []
    if supporter.user_id is not None:
        clauses.append(ReportSupport.user_id == supporter.user_id)
    if supporter.browser_hash is not None:
        clauses.append(ReportSupport.browser_hash == supporter.browser_hash)
    return or_(*clauses)


def _supporter_counts(report_ids: list[int]) -> dict[int, int]:
    if not report_ids:
        return {}
    rows = db.session.execute(
        select(ReportSupport.report_id, func.count())
        .where(ReportSupport.report_id.in_(report_ids))
        .group_by(ReportSupport.report_id))
    return {report_id: count for report_id, count in rows}


def similar_public_reports(title: str | None, body: str | None, category_id: int | None,
                           district_id: int | None, *, now: datetime, limit: int = 5,
                           supporter: Supporter | None = None) -> list[SimilarReport]:
    """Up to ``limit`` open, verified, non-confidential reports of the same category in the
    same kecamatan from the last 90 days that read like the draft, best first.

    One index range scan (ix_report_category_district_created), newest first, at most 200
    rows with the first 2,000 characters of their text; scored in Python with rapidfuzz."""
    title, body = (title or "").strip(), (body or "").strip()
    if not category_id or not district_id or len(normalize_text(title)) < MIN_TITLE:
        return []
    rows = db.session.execute(
        select(Report.id, Report.public_number, Report.title,
               func.substr(Report.body, 1, FETCHED_BODY), Report.status, Report.created_at)
        .where(Report.category_id == category_id, Report.district_id == district_id,
               Report.created_at >= now - SIMILAR_WINDOW, Report.created_at <= now,
               public_open_clause())
        .order_by(Report.created_at.desc())
        .limit(MAX_FETCHED)
    ).all()
    scored = []
    for row in rows:
        score = _score(title, body, row[2], row[3] or "")
        if score >= THRESHOLD:
            scored.append((score, row))
    scored.sort(key=lambda pair: (-pair[0], -pair[1][5].timestamp(), pair[1][1]))
    best = scored[:limit]
    if not best:
        return []
    ids = [row[0] for _, row in best]
    counts = _supporter_counts(ids)
    supported: set[int] = set()
    if supporter is not None:
        supported = set(db.session.scalars(
            select(ReportSupport.report_id)
            .where(ReportSupport.report_id.in_(ids), _supporter_match(supporter))))
    category = db.session.get(Category, category_id)
    district = db.session.get(District, district_id)
    return [
        SimilarReport(
            number=number, title=mask_personal_data(row_title), excerpt=public_excerpt(text),
            category=category, district=district.name if district else "", status=status,
            filed_at=created_at, supporters=counts.get(report_id, 0), score=score,
            supported=report_id in supported)
        for score, (report_id, number, row_title, text, status, created_at) in best
    ]


def supporters_of(report: Report) -> int:
    return db.session.scalar(
        select(func.count()).select_from(ReportSupport)
        .where(ReportSupport.report_id == report.id)) or 0


def support_report(report: Report, *, user: User | None = None,
                   browser_token: str | None = None, now: datetime) -> SupportResult:
    """Count one supporter for a public report: the account if given, else the browser.

    Supporting twice is no error: ``counted`` is False. The insert asks the database to skip
    a row that a unique constraint already holds (ON CONFLICT DO NOTHING), so two clicks at
    the same moment count once and leave the transaction usable. A signed-in citizen who had
    already supported from this browser as a guest is not counted again."""
    if not is_public_open(report):
        raise DomainError(_l("This report cannot be supported: only open public reports "
                             "can."))
    supporter = supporter_for(user, browser_token)
    if supporter is None:
        raise DomainError(_l("Your support could not be counted. Allow cookies for this site "
                             "or sign in, and try again."))
    if user is not None and supporter.browser_hash is not None:
        as_guest = db.session.scalar(
            select(ReportSupport.id).where(ReportSupport.report_id == report.id,
                                           ReportSupport.browser_hash == supporter.browser_hash))
        if as_guest is not None:
            return SupportResult(counted=False, supporters=supporters_of(report))
    values = {"report_id": report.id, "created_at": now}
    if user is not None:
        values["user_id"] = user.id
    else:
        values["browser_hash"] = supporter.browser_hash
    insert = (postgresql_insert if db.session.get_bind().dialect.name == "postgresql"
              else sqlite_insert)
    added = db.session.scalar(
        insert(ReportSupport).values(**values).on_conflict_do_nothing()
        .returning(ReportSupport.id))
    if added is None:  # already supported (also: the same supporter a moment earlier)
        return SupportResult(counted=False, supporters=supporters_of(report))
    return SupportResult(counted=True, supporters=_count_one_more(report))


def _count_one_more(report: Report) -> int:
    """Add one to the report's ``support_count`` (the public feed sorts by it), in SQL so that
    two supporters at the same moment both count; returns the new count. Neither the
    report's version (a supporter must not make an officer's form stale) nor its
    ``updated_at`` (staff lists order by it) changes."""
    table = Report.__table__
    count = db.session.execute(
        table.update().where(table.c.id == report.id)
        .values(support_count=table.c.support_count + 1, updated_at=table.c.updated_at)
        .returning(table.c.support_count)).scalar_one()
    set_committed_value(report, "support_count", count)
    return count


def has_supported(report_id: int, supporter: Supporter | None) -> bool:
    """Whether this account or browser already supports the report."""
    if supporter is None:
        return False
    return db.session.scalar(
        select(ReportSupport.id).where(ReportSupport.report_id == report_id,
                                       _supporter_match(supporter)).limit(1)) is not None
