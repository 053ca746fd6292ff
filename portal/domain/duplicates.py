"""Duplicates: a report archived as a copy of another, which it then follows.

A report archived with the reason "duplicate" names its original (a CHECK constraint ties the
two together). The original is the first report of the chain: marking a copy of a copy links
to the first one, so that a reporter's tracking page follows the report that is handled. The
copy keeps its own attachments and history; the original's history records the merge, and its
page lists the copies with their attachments. Functions here flush at most; never commit.
"""
import hashlib
import re
import unicodedata
from datetime import datetime

from rapidfuzz import fuzz
from sqlalchemy import select

from portal.domain import DomainError
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import EventKind, Report, ReportEvent, ReportStatus, User

MAX_CHAIN = 20


# ----------------------------------------------------------------------------- comparing texts
_PUNCTUATION = re.compile(r"[^\w\s]+", re.UNICODE)
_SPACES = re.compile(r"\s+")


def normalize_text(text: str | None) -> str:
    """Lower case, accents and punctuation gone, runs of spaces as one: what two copies of a
    report keep in common when a system re-sends it or a citizen pastes it again."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", text)).strip()


def text_hash(title: str | None, body: str | None) -> bytes:
    """SHA-256 of the normalised title and body (stored on the report, indexed)."""
    joined = normalize_text(title) + "\n" + normalize_text(body)
    return hashlib.sha256(joined.encode("utf-8")).digest()


def similarity(title_a: str, body_a: str, title_b: str, body_b: str) -> float:
    """0..1: how alike two reports read. Titles weigh as much as bodies; word order and
    repeated words do not count (``token_set_ratio``), so "jalan rusak di Cikupa" and "Cikupa:
    jalan rusak parah" are close. Bodies are compared on their first 1,000 characters."""
    titles = fuzz.token_set_ratio(normalize_text(title_a), normalize_text(title_b))
    bodies = fuzz.token_set_ratio(normalize_text(body_a)[:1000],
                                  normalize_text(body_b)[:1000])
    return round((titles + bodies) / 200, 3)


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
    """Record on both reports that ``copy`` is archived as a duplicate of ``original``."""
    copy.duplicate_of = original
    event.related_report = original
    db.session.add(ReportEvent(report=original, kind=EventKind.DUPLICATE_MERGED, actor=actor,
                               visible_to_reporter=False, related_report=copy,
                               status_after=original.status, created_at=now))
