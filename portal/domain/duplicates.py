"""Duplicates: possible duplicates found when a report arrives, what staff decide about them,
and a report archived as a copy of another, which it then follows.

Finding (``find_candidates``, run for every new report by ``filing.file_report``, whatever the
channel): the same external id from another system, or the same text once normalised, is
*certain*; a similar text from the same reporter, or in the same category and kecamatan,
within 30 days, is *likely*. Every lookup is one index range scan of at most
``MAX_FETCHED`` rows (``ix_report_text_hash``, ``ix_report_external_id``,
``ix_reporter_identity_contact_hash``, ``ix_report_category_district_created``), scored in
Python; the same path on SQLite and PostgreSQL. At most ``MAX_CANDIDATES`` are kept, best
first; a pair that staff dismissed is never suggested again.

The reporter is recognised by a keyed hash of their account, e-mail or phone
(``ReporterIdentity.contact_hash``), never by reading identities; and staff are told "same
reporter" only when neither report is anonymous (linking two anonymous reports to one person
would itself say who sent them).

A report archived with the reason "duplicate" names its original (a CHECK constraint ties the
two together). The original is the first report of the chain: marking a copy of a copy links
to the first one, so that a reporter's tracking page follows the report that is handled. The
copy keeps its own attachments and history (nothing is moved or deleted); the original's
history records the merge, and its page lists the copies with their attachments. Functions
here flush at most; never commit.
"""
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from rapidfuzz import fuzz
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from portal.domain import DomainError, notifications
from portal.domain.masking import mask_personal_data
from portal.domain.paging import Cursor
from portal.domain.permissions import (
    acting_roles,
    can_view,
    nodes_for,
    visible_reports_clause,
)
from portal.extensions import db
from portal.i18n import gettext
from portal.i18n import lazy_gettext as _l
from portal.models import (
    Attachment,
    CandidateState,
    Certainty,
    DuplicateCandidate,
    DuplicateReason,
    EventKind,
    Institution,
    Report,
    ReporterIdentity,
    ReportEvent,
    ReportStatus,
    Role,
    User,
)

MAX_CHAIN = 20
WINDOW = timedelta(days=30)  # "likely" looks this far before (and after) the report's filing
MAX_FETCHED = 200  # rows read per lookup: the newest of the block
MAX_CANDIDATES = 5  # kept per report, best first
COMPARED_BODY = 1000  # characters of each text compared
# Thresholds of ``overlap`` (0..1), chosen on the hand-made set in tests/duplicate_samples.py
# (10 true pairs and 7 near misses in one category and kecamatan, 3 true pairs and 2 other
# problems by one reporter): in one kecamatan the true pairs score 0.59 to 0.92 and the near
# misses (the same street with another problem, the same puskesmas with another complaint)
# 0.18 to 0.50; by one reporter the true pairs score 0.58 to 0.89, the other problems 0.26
# and 0.28. A reporter writing again is a strong sign on its own, so their threshold is
# lower. The shared rapidfuzz ``similarity`` (token_set_ratio) cannot tell these apart: it
# gives the street light on the pothole's street 0.78 and the trucks reported twice 0.75.
# Heavy rewording with other words ("PJU mati" and "penerangan jalan padam") stays below
# 0.55: staff still find those in the inbox; a false "likely" on every report of a busy
# street would make the list useless.
PLACE_THRESHOLD = 0.55
REPORTER_THRESHOLD = 0.40
REVIEWING_ROLES = {Role.NATIONAL_ADMIN, Role.INSTITUTION_ADMIN}
QUEUE_PAGE_SIZE = 50


# ----------------------------------------------------------------------------- comparing texts
_PUNCTUATION = re.compile(r"[^\w\s]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


def normalize_text(text: str | None) -> str:
    """Lower case, accents and punctuation gone, runs of spaces as one: what two copies of a
    report keep in common when a system re-sends it or a citizen pastes it again."""
    text = text or ""
    if not text.isascii():  # (ASCII text has no accents to take off: the common case, fast)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", text.casefold())).strip()


def text_hash(title: str | None, body: str | None) -> bytes:
    """SHA-256 of the normalised title and body (stored on the report, indexed)."""
    joined = normalize_text(title) + "\n" + normalize_text(body)
    return hashlib.sha256(joined.encode("utf-8")).digest()


def similarity(title_a: str, body_a: str, title_b: str, body_b: str) -> float:
    """0..1: how alike two reports read. Titles weigh as much as bodies; word order and
    repeated words do not count (``token_set_ratio``), so "jalan rusak di Cikupa" and "Cikupa:
    jalan rusak parah" are close. Bodies are compared on their first 1,000 characters.

    Used for the suggestions while filing (portal/domain/support.py). Duplicate candidates use
    ``overlap`` instead, which tells the same street with another problem apart."""
    titles = fuzz.token_set_ratio(normalize_text(title_a), normalize_text(title_b))
    bodies = fuzz.token_set_ratio(normalize_text(body_a)[:1000],
                                  normalize_text(body_b)[:1000])
    return round((titles + bodies) / 200, 3)


# Words that say nothing about the problem: how people write to a government office.
STOPWORDS = frozenset({
    "ada", "adalah", "agar", "akan", "aku", "anda", "antara", "apa", "atau", "bahwa",
    "banyak", "bapak", "baru", "belum", "bisa", "buat", "bukan", "dalam", "dan", "dapat",
    "dari", "demikian", "dengan", "di", "dia", "ibu", "ini", "itu", "jadi", "juga", "kalau",
    "kami", "karena", "ke", "kepada", "kita", "lagi", "lah", "laporan", "lebih", "mas",
    "masih", "mereka", "mohon", "namun", "nya", "oleh", "pada", "para", "pak", "per", "saat",
    "saja", "sampai", "sangat", "saya", "se", "sebagai", "sebelumnya", "sedang", "segera",
    "sejak", "sekali", "selama", "semua", "sendiri", "sering", "setelah", "setiap", "sudah",
    "supaya", "tapi", "telah", "terima", "terhadap", "terjadi", "tersebut", "tetapi", "tidak",
    "tolong", "untuk", "warga", "yang", "yg"
})
_SUFFIXES = ("nya", "kan", "an", "i")
_PREFIXES = ("meng", "mem", "men", "ber", "ter", "me", "di", "ke", "se")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """A rough cut of the commonest Indonesian affixes ("berlubang" and "lubang",
    "diperbaiki" and "perbaiki"), never below four letters. Not a stemmer: enough to let two
    wordings of one complaint share their words."""
    if len(word) <= 5:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    for prefix in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 4:
            return word[len(prefix):]
    return word


# ASCII punctuation as a space: what normalize_text does, without its regular expressions.
_ASCII_PUNCTUATION = str.maketrans({chr(c): " " for c in range(128)
                                    if not (chr(c).isalnum() or chr(c) == "_"
                                            or chr(c).isspace())})


def _words(text: str) -> list[str]:
    """The words of ``normalize_text(text)`` (faster for ASCII text, the common case)."""
    if text.isascii():
        return text.casefold().translate(_ASCII_PUNCTUATION).split()
    return normalize_text(text).split()


def content_words(title: str | None, body: str | None) -> list[str]:
    """The distinct words of a report that carry its content, roughly stemmed, sorted."""
    words = _words(title or "") + _words((body or "")[:COMPARED_BODY])
    return sorted({_stem(word) for word in words if word not in STOPWORDS})


def overlap(words_a: list[str], words_b: list[str]) -> float:
    """0..1: the share of content words two reports have in common (Dice's coefficient of
    the two sets, computed by rapidfuzz's ``ratio`` over the sorted word lists). The place
    and the problem count word by word, so the same street with another problem stays
    apart; rewording costs little because the words of a complaint stay."""
    if not words_a or not words_b:
        return 0.0
    return round(fuzz.ratio(words_a, words_b) / 100, 3)


# ----------------------------------------------------------------------------- fingerprints
def _contact_key() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(secret, b"lapor:duplicates:contact", hashlib.sha256).digest()


def phone_digits(phone: str | None) -> str:
    """A phone number as its digits, the country code written as a leading 0 (0812...)."""
    digits = re.sub(r"[^0-9]", "", phone or "")
    if digits.startswith("62"):
        digits = "0" + digits[2:]
    return digits


def contact_hash(*, user_id: int | None = None, email: str | None = None,
                 phone: str | None = None) -> bytes | None:
    """HMAC-SHA256 (key derived from SECRET_KEY) of the reporter's account id, else their
    e-mail address, else the digits of their phone; None when there is none of them."""
    if user_id is not None:
        value = f"account:{user_id}"
    elif (email or "").strip():
        value = "email:" + email.strip().casefold()
    elif len(phone_digits(phone)) >= 6:
        value = "phone:" + phone_digits(phone)
    else:
        return None
    return hmac.new(_contact_key(), value.encode("utf-8"), hashlib.sha256).digest()


def fingerprint(report: Report, identity: ReporterIdentity | None, *,
                account: User | None = None) -> None:
    """Set the hashes a new report is found by: its text's, its reporter's."""
    report.text_hash = text_hash(report.title, report.body)
    if identity is not None:
        identity.contact_hash = contact_hash(
            user_id=account.id if account is not None else identity.user_id,
            email=identity.email, phone=identity.phone)


# ----------------------------------------------------------------------------- finding
@dataclass(frozen=True)
class Found:
    """A report that ``find_candidates`` takes for the original of the new one."""

    original_id: int
    certainty: Certainty
    reason: DuplicateReason
    score: float

    def rank(self) -> tuple:
        return (self.certainty is not Certainty.CERTAIN, -self.score, -self.original_id)


_HIT_COLUMNS = (Report.id, Report.title, func.substr(Report.body, 1, COMPARED_BODY),
                Report.duplicate_of_id, Report.is_anonymous)
# An archived report is no original, unless it was archived as a duplicate: then its
# original is (the first of its chain).
_MAY_LEAD_TO_AN_ORIGINAL = or_(Report.status != ReportStatus.ARCHIVED,
                               Report.duplicate_of_id.is_not(None))


def _window(report: Report):
    return and_(Report.created_at >= report.created_at - WINDOW,
                Report.created_at <= report.created_at + WINDOW)


def _roots(ids: set[int]) -> dict[int, int | None]:
    """For reports archived as duplicates: the first report of their chain, or None when
    that one is archived for another reason (no original to link to)."""
    roots: dict[int, int | None] = {}
    pending = {i: i for i in ids}  # start -> current
    for _ in range(MAX_CHAIN):
        if not pending:
            break
        rows = {rid: (dup_of, status) for rid, dup_of, status in db.session.execute(
            select(Report.id, Report.duplicate_of_id, Report.status)
            .where(Report.id.in_(set(pending.values()))))}
        following = {}
        for start, current in pending.items():
            dup_of, status = rows.get(current, (None, ReportStatus.ARCHIVED))
            if dup_of is not None:
                following[start] = dup_of
            else:
                roots[start] = None if status is ReportStatus.ARCHIVED else current
        pending = following
    for start in pending:  # a chain longer than MAX_CHAIN: leave it to staff
        roots[start] = None
    return roots


def find_candidates(report: Report, now: datetime) -> list[Found]:
    """The reports that ``report`` (just filed, flushed) may repeat, best first, at most
    ``MAX_CANDIDATES``. Reads only: ``record_candidates`` stores them.

    The 30-day window is counted from the report's own filing time, not from ``now``: a feed
    may deliver a report filed elsewhere days ago."""
    hits: dict[int, tuple] = {}  # report id -> (certainty, reason, score, duplicate_of_id)
    words = content_words(report.title, report.body)

    def consider(row, certainty: Certainty, reason: DuplicateReason, score: float) -> None:
        rid, dup_of = row[0], row[3]
        known = hits.get(rid)
        found = (certainty, reason, score, dup_of)
        if known is None or (certainty is Certainty.CERTAIN, score) > (
                known[0] is Certainty.CERTAIN, known[2]):
            hits[rid] = found

    def newest(query):
        return db.session.execute(
            query.where(Report.id != report.id, _MAY_LEAD_TO_AN_ORIGINAL)
            .order_by(Report.created_at.desc()).limit(MAX_FETCHED)).all()

    # Certain: the same text, at any time.
    hashed = report.text_hash or text_hash(report.title, report.body)
    for row in newest(select(*_HIT_COLUMNS).where(Report.text_hash == hashed)):
        consider(row, Certainty.CERTAIN, DuplicateReason.SAME_TEXT, 1.0)
    # Certain: another system's id that a different system (or the web) sent before.
    if report.external_id:
        for row in newest(select(*_HIT_COLUMNS).where(
                Report.external_id == report.external_id,
                or_(Report.source_id != report.source_id, Report.source_id.is_(None)))):
            consider(row, Certainty.CERTAIN, DuplicateReason.EXTERNAL_ID,
                     overlap(words, content_words(row[1], row[2])))
    # Likely: the same reporter, a similar text, within the window.
    contact = db.session.scalar(select(ReporterIdentity.contact_hash)
                                .where(ReporterIdentity.report_id == report.id))
    if contact is not None:
        for row in newest(select(*_HIT_COLUMNS)
                          .join(ReporterIdentity, ReporterIdentity.report_id == Report.id)
                          .where(ReporterIdentity.contact_hash == contact, _window(report))):
            score = overlap(words, content_words(row[1], row[2]))
            # With an anonymous report on either side staff are told "similar text" only,
            # so it must be as similar as the place rule asks: a looser match would give
            # away that one person sent both.
            anonymous = report.is_anonymous or row[4]
            if score >= (PLACE_THRESHOLD if anonymous else REPORTER_THRESHOLD):
                consider(row, Certainty.LIKELY, DuplicateReason.SAME_REPORTER, score)
    # Likely: the same category and kecamatan, a similar text, within the window.
    if report.category_id is not None and report.district_id is not None:
        for row in newest(select(*_HIT_COLUMNS).where(
                Report.category_id == report.category_id,
                Report.district_id == report.district_id, _window(report))):
            score = overlap(words, content_words(row[1], row[2]))
            if score >= PLACE_THRESHOLD:
                consider(row, Certainty.LIKELY, DuplicateReason.SAME_PLACE, score)

    if not hits:
        return []
    copies = {rid for rid, hit in hits.items() if hit[3] is not None}
    roots = _roots(copies) if copies else {}
    best: dict[int, Found] = {}
    for rid, (certainty, reason, score, _) in hits.items():
        original_id = roots[rid] if rid in copies else rid
        if original_id is None or original_id == report.id:
            continue
        found = Found(original_id, certainty, reason, score)
        if original_id not in best or found.rank() < best[original_id].rank():
            best[original_id] = found
    return sorted(best.values(), key=Found.rank)[:MAX_CANDIDATES]


def record_candidates(report: Report, *, now: datetime) -> list[DuplicateCandidate]:
    """Store what ``find_candidates`` found as open candidates; a pair already recorded (in
    either direction: a dismissal is remembered) is not suggested again. Flushes."""
    found = find_candidates(report, now)
    if not found:
        return []
    ids = [f.original_id for f in found]
    known = set(db.session.execute(
        select(DuplicateCandidate.report_id, DuplicateCandidate.original_id).where(or_(
            and_(DuplicateCandidate.report_id == report.id,
                 DuplicateCandidate.original_id.in_(ids)),
            and_(DuplicateCandidate.report_id.in_(ids),
                 DuplicateCandidate.original_id == report.id)))).all())
    rows = [DuplicateCandidate(report_id=report.id, original_id=f.original_id,
                               certainty=f.certainty, reason=f.reason, score=f.score,
                               state=CandidateState.OPEN, created_at=now)
            for f in found
            if (report.id, f.original_id) not in known and (f.original_id, report.id) not in known]
    db.session.add_all(rows)
    db.session.flush()
    return rows


# ----------------------------------------------------------------------------- staff decide
class ShownReason:
    """Why staff are told two reports may be one: a ``DuplicateReason`` value, or
    ``SIMILAR_TEXT`` for "same reporter" when either report is anonymous."""

    SIMILAR_TEXT = "similar_text"


def shown_reason(candidate: DuplicateCandidate, report: Report, other: Report) -> str:
    if candidate.reason is DuplicateReason.SAME_REPORTER and (
            report.is_anonymous or other.is_anonymous):
        return ShownReason.SIMILAR_TEXT
    return candidate.reason.value


def may_review(user: User | None, report: Report) -> bool:
    """Staff who may archive a report (its institution's admin, the national admin) decide
    whether it is a duplicate."""
    return bool(acting_roles(user, report) & REVIEWING_ROLES)


def may_review_any(user: User | None) -> bool:
    return bool(user is not None and user.is_staff and user.is_active
                and any(m.role in REVIEWING_ROLES for m in user.memberships))


@dataclass
class CandidateRow:
    """One open candidate as a reviewer sees it from ``report``'s side: the other report
    (None when the reviewer may not open it: only its number is shown)."""

    candidate: DuplicateCandidate
    number: str
    other: Report | None
    reason: str
    later: bool  # the other report came after this one


def _row(candidate: DuplicateCandidate, report: Report, viewer: User) -> CandidateRow:
    later = candidate.original_id == report.id
    other = candidate.report if later else candidate.original
    return CandidateRow(candidate=candidate, number=other.public_number,
                        other=other if can_view(viewer, other) else None,
                        reason=shown_reason(candidate, report, other), later=later)


def _live():
    """Candidates still worth a decision: open, their later report not archived, and their
    original not archived either (unless as a duplicate: its chain leads on)."""
    return and_(DuplicateCandidate.state == CandidateState.OPEN,
                DuplicateCandidate.report.has(Report.status != ReportStatus.ARCHIVED),
                DuplicateCandidate.original.has(_MAY_LEAD_TO_AN_ORIGINAL))


def open_candidates_of(report: Report, viewer: User) -> list[CandidateRow]:
    """The open candidates involving ``report`` (either side), certain first, best first;
    empty for staff who may not decide them, and once the report is archived."""
    if report.status is ReportStatus.ARCHIVED or not may_review(viewer, report):
        return []
    candidates = db.session.scalars(
        select(DuplicateCandidate)
        .where(or_(DuplicateCandidate.report_id == report.id,
                   DuplicateCandidate.original_id == report.id), _live())
        .options(*(joinedload(rel).options(joinedload(Report.current_institution),
                                           joinedload(Report.current_unit))
                   for rel in (DuplicateCandidate.report, DuplicateCandidate.original)))
        .order_by(DuplicateCandidate.certainty, DuplicateCandidate.score.desc(),
                  DuplicateCandidate.id)).unique().all()
    return [_row(c, report, viewer) for c in candidates]


def dismiss_candidate(candidate_id: int | None, report: Report, *, actor: User,
                      now: datetime) -> DuplicateCandidate:
    """"Not a duplicate": the pair is closed and never suggested again."""
    if not may_review(actor, report):
        raise DomainError(_l("Only the administrators of the report's institution decide "
                             "about duplicates."))
    candidate = db.session.get(DuplicateCandidate, candidate_id) if candidate_id else None
    if candidate is None or report.id not in (candidate.report_id, candidate.original_id):
        raise DomainError(_l("This suggestion does not belong to this report."),
                          field="candidate")
    if candidate.state is not CandidateState.OPEN:
        raise DomainError(_l("This suggestion has already been decided."), field="candidate")
    candidate.state = CandidateState.DISMISSED
    candidate.decided_at = now
    candidate.decided_by = actor
    db.session.flush()
    return candidate


@dataclass
class QueueRow:
    candidate: DuplicateCandidate
    report: Report  # the later report: the one to archive if it is a copy
    original_number: str
    original: Report | None  # None when the reviewer may not open it
    reason: str


@dataclass
class QueuePage:
    rows: list[QueueRow]
    next_cursor: "QueueCursor | None"


@dataclass(frozen=True)
class QueueCursor:
    """Keyset position in the queue: certain ones first, then newest first."""

    certain: bool
    position: Cursor

    def encode(self) -> str:
        return ("c" if self.certain else "l") + self.position.encode()

    @classmethod
    def decode(cls, text: str | None) -> "QueueCursor | None":
        text = text or ""
        if text[:1] not in ("c", "l"):
            return None
        position = Cursor.decode(text[1:])
        return cls(certain=text[0] == "c", position=position) if position else None


def queue_page(user: User, after: QueueCursor | None = None,
               limit: int = QUEUE_PAGE_SIZE) -> QueuePage:
    """Open candidates whose later report ``user`` may decide about (at their institutions,
    everywhere for the national admin), certain first, newest first."""
    if not may_review_any(user):
        return QueuePage(rows=[], next_cursor=None)
    scope = visible_reports_clause(user)
    if not any(m.role is Role.NATIONAL_ADMIN for m in user.memberships):
        scope = and_(scope, Report.current_institution_id.in_(
            nodes_for(user, Role.INSTITUTION_ADMIN)))
    created, cid = DuplicateCandidate.created_at, DuplicateCandidate.id
    query = (select(DuplicateCandidate)
             .join(Report, Report.id == DuplicateCandidate.report_id)
             .where(_live(), scope)
             .options(joinedload(DuplicateCandidate.report).options(
                          joinedload(Report.current_institution),
                          joinedload(Report.current_unit)),
                      joinedload(DuplicateCandidate.original))
             # 'certain' sorts before 'likely'
             .order_by(DuplicateCandidate.certainty, created.desc(), cid.desc())
             .limit(limit + 1))
    if after is not None:
        at = after.position
        same_group = (DuplicateCandidate.certainty == Certainty.CERTAIN if after.certain
                      else DuplicateCandidate.certainty == Certainty.LIKELY)
        within = and_(same_group, or_(created < at.key, and_(created == at.key, cid < at.id)))
        query = query.where(or_(within, DuplicateCandidate.certainty == Certainty.LIKELY)
                            if after.certain else within)
    candidates = db.session.scalars(query).unique().all()
    next_cursor = None
    if len(candidates) > limit:
        candidates = candidates[:limit]
        last = candidates[-1]
        next_cursor = QueueCursor(certain=last.certainty is Certainty.CERTAIN,
                                  position=Cursor(key=last.created_at, id=last.id))
    rows = []
    for c in candidates:
        original = c.original
        rows.append(QueueRow(candidate=c, report=c.report, original_number=original.public_number,
                             original=original if can_view(user, original) else None,
                             reason=shown_reason(c, c.report, original)))
    return QueuePage(rows=rows, next_cursor=next_cursor)


@dataclass
class CopyRow:
    """A report archived as a duplicate of the one on the page; its attachments are listed
    (and downloadable) only for staff who may see the copy itself."""

    number: str
    report: Report | None
    attachments: list[Attachment]


def copies_of(original: Report, viewer: User) -> list[CopyRow]:
    copies = db.session.scalars(
        select(Report).where(Report.duplicate_of_id == original.id)
        .order_by(Report.created_at, Report.id)).all()
    rows = []
    for copy in copies:
        visible = can_view(viewer, copy)
        rows.append(CopyRow(number=copy.public_number, report=copy if visible else None,
                            attachments=list(copy.attachments) if visible else []))
    return rows


def copy_attachment(original: Report, attachment_id: int, viewer: User) -> Attachment | None:
    """An attachment of a copy archived into ``original``, if ``viewer`` may see the copy."""
    item = db.session.get(Attachment, attachment_id)
    if item is None:
        return None
    copy = item.report
    if copy.duplicate_of_id != original.id or not can_view(viewer, copy):
        return None
    return item


# ----------------------------------------------------------------------------- linking
def original_of(report: Report) -> Report:
    """The first report of a chain of duplicates (the report itself when it is none)."""
    seen = 0
    while report.duplicate_of is not None and seen < MAX_CHAIN:
        report = report.duplicate_of
        seen += 1
    return report


def find_original(number: str | None, copy: Report) -> Report:
    """The report a copy is to be linked to, from the number an officer typed."""
    number = (number or "").strip().upper()
    if not number:
        raise DomainError(_l("Give the number of the report this one repeats."),
                          field="duplicate_of")
    found = db.session.scalar(select(Report).where(Report.public_number == number))
    if found is None:
        raise DomainError(_l("There is no report %(number)s.", number=number),
                          field="duplicate_of")
    original = original_of(found)
    if original.id == copy.id:
        raise DomainError(_l("A report cannot be a duplicate of itself."), field="duplicate_of")
    if original.status is ReportStatus.ARCHIVED:
        raise DomainError(_l("Report %(number)s is archived; link the copy to a report that "
                             "is handled.", number=original.public_number),
                          field="duplicate_of")
    return original


def link_duplicate(copy: Report, original: Report, event: ReportEvent, *, actor: User | None,
                   now: datetime) -> None:
    """Record on both reports that ``copy`` is archived as a duplicate of ``original``: the
    suggestion of the pair (either direction) is confirmed, and the copy's reporter is told
    which report theirs is handled with. Nothing is moved: the copy keeps its attachments
    and history."""
    copy.duplicate_of = original
    event.related_report = original
    db.session.add(ReportEvent(report=original, kind=EventKind.DUPLICATE_MERGED, actor=actor,
                               visible_to_reporter=False, related_report=copy,
                               status_after=original.status, created_at=now))
    with db.session.no_autoflush:
        pairs = db.session.scalars(select(DuplicateCandidate).where(
            DuplicateCandidate.state == CandidateState.OPEN,
            or_(and_(DuplicateCandidate.report_id == copy.id,
                     DuplicateCandidate.original_id == original.id),
                and_(DuplicateCandidate.report_id == original.id,
                     DuplicateCandidate.original_id == copy.id)))).all()
        email = db.session.scalar(select(ReporterIdentity.email)
                                  .where(ReporterIdentity.report_id == copy.id))
    for candidate in pairs:
        candidate.state = CandidateState.CONFIRMED
        candidate.decided_at = now
        candidate.decided_by = actor
    # A report from another system: that system keeps in touch with its reporter.
    if email and copy.source_id is None:
        notifications.queue_mail(
            recipient=email, template="duplicate_archived", now=now, report=copy,
            original_number=original.public_number,
            subject=_l("Your report %(number)s is handled together with %(original)s",
                       number=copy.public_number, original=original.public_number))


# ----------------------------------------------------------------------------- the reporter
# What a copy's reporter sees of the original's history: the steps, never the other
# reporter's own entries (their replies, their rating).
_NOT_FOLLOWED = {EventKind.REPORTER_REPLY, EventKind.RATED}


@dataclass(frozen=True)
class FollowedEvent:
    kind: EventKind
    created_at: datetime
    message: str | None
    target: str | None  # where it was routed or forwarded


@dataclass(frozen=True)
class FollowedReport:
    """What the reporter of a copy sees of the report it was archived into: its number,
    status, handler and the steps of its handling; nothing about who sent it, and none of
    its content when its reporter asked for confidentiality."""

    number: str
    status: ReportStatus
    handled_by: str | None
    events: list[FollowedEvent]
    messages_hidden: bool


def _without_name(text: str, name: str | None) -> str:
    """``text`` with the original's reporter's name (and each part of it) taken out."""
    if not name:
        return text
    parts = sorted({name.strip(), *(p for p in name.split() if len(p) >= 3)}, key=len,
                   reverse=True)
    for part in parts:
        if part:
            text = re.sub(r"(?<!\w)" + re.escape(part) + r"(?!\w)", gettext("[name hidden]"),
                          text, flags=re.IGNORECASE)
    return text


def followed_progress(copy: Report) -> FollowedReport | None:
    """For a report archived as a duplicate: the original's progress, as its reporter may
    see it (staff messages with personal data masked and the other reporter's name taken
    out; no messages at all when the original is confidential). None for other reports."""
    if copy.duplicate_of_id is None:
        return None
    original = original_of(copy)
    events = db.session.scalars(
        select(ReportEvent)
        .where(ReportEvent.report_id == original.id,
               ReportEvent.visible_to_reporter.is_(True),
               ReportEvent.kind.not_in(_NOT_FOLLOWED))
        .options(joinedload(ReportEvent.target_institution))
        .order_by(ReportEvent.created_at, ReportEvent.id)).all()
    hide = original.is_confidential
    name = None if hide else db.session.scalar(
        select(ReporterIdentity.name).where(ReporterIdentity.report_id == original.id))
    handler: Institution | None = original.current_unit or original.current_institution
    return FollowedReport(
        number=original.public_number, status=original.status,
        handled_by=handler.name if handler else None, messages_hidden=hide,
        events=[FollowedEvent(
            kind=e.kind, created_at=e.created_at,
            message=None if hide or not e.message else _without_name(
                mask_personal_data(e.message), name),
            target=(e.target_institution.name if e.target_institution is not None
                    and e.kind in (EventKind.ROUTED, EventKind.DISPOSITIONED) else None))
            for e in events])

