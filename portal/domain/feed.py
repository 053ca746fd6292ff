"""The national feed: reports that another system (the national LAPOR!, a ministry's intake, an
SMS gateway) sends in bulk, each with its id in that system.

Each sending system is a ``FeedSource`` with an API key. Only the key's SHA-256 is stored; the
key itself is shown once, when it is made (``add_source``, ``rotate_key``). Only the national
administrator (or the operator at the server's console: ``actor=None``) manages sources, and
every change is in the audit log.

``import_rows`` files each row through the web form's own rules (``filing.file_report``: the
receiving institution, the deadlines, the duplicate check), with the channel "national feed",
the source and the external id. A row is known by (source, external id): sending it again
changes nothing and answers "exists", also when two imports of the same row race (the unique
constraint decides; a SAVEPOINT per row keeps the other rows). A bad row is refused with its
line and reasons, and the good rows are kept. The reasons never repeat a value of the row: in a
shifted CSV column, a "category" may well be a reporter's name.

The tracking code such a report gets is thrown away unseen: the reporter holds the national
system's code, and no receipt is mailed from here.

Like every domain module: ``now`` is explicit, it flushes and never commits.
"""
import enum
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.domain import DomainError, api_keys
from portal.domain.administration import NotAllowed, NotFound
from portal.domain.filing import JAKARTA, ReportDraft, draft_problems, file_report
from portal.domain.privacy import is_national_admin
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    AuditAction,
    AuditEntry,
    Category,
    Channel,
    District,
    FeedSource,
    Institution,
    InstitutionKind,
    Report,
    ReportKind,
    User,
)
from portal.storage import AttachmentStore

log = logging.getLogger(__name__)

MAX_ROWS_PER_REQUEST = 500  # rows in one API request
MAX_EXTERNAL_ID = 64
KEY_PREFIX = "lpf_"  # tells a feed key apart from other secrets in a config file
MAX_KEY_LENGTH = api_keys.MAX_KEY_LENGTH
hash_key = api_keys.hash_key  # keys are made and fingerprinted in portal/domain/api_keys.py
# A national system's clock may run a little ahead of ours.
CLOCK_SKEW = timedelta(minutes=10)
EARLIEST_FILING = datetime(2000, 1, 1, tzinfo=timezone.utc)

FIELDS = ("external_id", "kind", "title", "body", "category", "district", "village", "address",
          "event_date", "is_anonymous", "is_confidential", "reporter_name", "reporter_email",
          "reporter_phone", "created_at", "institution")
ALIASES = {"kecamatan": "district", "name": "reporter_name", "email": "reporter_email",
           "phone": "reporter_phone"}
KINDS = {
    "aspiration": ReportKind.ASPIRATION, "aspirasi": ReportKind.ASPIRATION,
    "complaint": ReportKind.COMPLAINT, "pengaduan": ReportKind.COMPLAINT,
    "information_request": ReportKind.INFORMATION_REQUEST,
    "permintaan_informasi": ReportKind.INFORMATION_REQUEST,
}
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "ya", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "tidak", "f", ""})
# Control characters but tab and line breaks (as the web form's clean_text drops them).
_CONTROL_CHARACTERS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_SOURCE_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{1,39}")
_DISTRICT_PREFIX = re.compile(r"^(kecamatan|kec\.?)\s+", re.IGNORECASE)
# Draft fields as draft_problems names them -> the feed's field names.
_DRAFT_FIELDS = {"name": "reporter_name", "email": "reporter_email", "phone": "reporter_phone"}


# ----------------------------------------------------------------------------- sources and keys
@dataclass
class IssuedKey:
    source: FeedSource
    key: str  # shown once; only its hash is kept


def _new_key(source: FeedSource) -> str:
    made = api_keys.new_key(KEY_PREFIX)
    source.api_key_hash = made.hash
    source.key_hint = made.hint
    return made.key


def may_manage_sources(actor: User | None) -> bool:
    """The national administrator, or the console (``None``)."""
    return actor is None or (actor.is_active and is_national_admin(actor))


def _require_manager(actor: User | None) -> None:
    if not may_manage_sources(actor):
        raise NotAllowed(_l("Only the national administrator manages the feed sources."))


def _audit(source: FeedSource, detail: str, *, actor: User | None, now: datetime) -> None:
    # No institution: only the national administrator reads these entries.
    db.session.add(AuditEntry(action=AuditAction.FEED_SOURCE_CHANGED, actor=actor,
                              created_at=now, detail=f"{source.code}: {detail}"[:500]))
    db.session.flush()


def list_sources(actor: User | None) -> list[FeedSource]:
    _require_manager(actor)
    return list(db.session.scalars(select(FeedSource).order_by(FeedSource.code)))


def get_source(actor: User | None, source_id: int) -> FeedSource:
    _require_manager(actor)
    source = db.session.get(FeedSource, source_id)
    if source is None:
        raise NotFound(_l("This feed source does not exist."))
    return source


def source_by_code(code: str | None) -> FeedSource | None:
    code = (code or "").strip().upper()
    if not code:
        return None
    return db.session.scalar(select(FeedSource).where(FeedSource.code == code))


def add_source(actor: User | None, *, code: str, name: str, now: datetime) -> IssuedKey:
    """A new sending system with its first API key (returned once)."""
    _require_manager(actor)
    code = _clean(code).upper()
    name = _clean(name)
    if not _SOURCE_CODE.fullmatch(code):
        raise DomainError(_l("A code has 2 to 40 letters, digits, hyphens or underscores, e.g. "
                             "LAPOR-NASIONAL."), field="code")
    if not name or len(name) > 200:
        raise DomainError(_l("Give the name of the sending system (at most 200 characters)."),
                          field="name")
    if source_by_code(code) is not None:
        raise DomainError(_l("A feed source with this code exists already."), field="code")
    source = FeedSource(code=code, name=name, is_active=True, created_at=now, created_by=actor)
    key = _new_key(source)
    db.session.add(source)
    db.session.flush()
    _audit(source, f"added ({name}), key {source.key_hint}…", actor=actor, now=now)
    return IssuedKey(source=source, key=key)


def rotate_key(actor: User | None, source_id: int, *, now: datetime) -> IssuedKey:
    """A new API key for the source; the old one stops working at once."""
    source = get_source(actor, source_id)
    before = source.key_hint
    key = _new_key(source)
    db.session.flush()
    _audit(source, f"new key {source.key_hint}… (was {before}…)", actor=actor, now=now)
    return IssuedKey(source=source, key=key)


def set_active(actor: User | None, source_id: int, *, active: bool,
               now: datetime) -> FeedSource:
    """Disable a source (its key is refused, its reports stay) or enable it again."""
    source = get_source(actor, source_id)
    if source.is_active != active:
        source.is_active = active
        db.session.flush()
        _audit(source, "enabled" if active else "disabled", actor=actor, now=now)
    return source


def authenticate(key: str | None) -> FeedSource | None:
    """The active source this API key belongs to, or None."""
    if not api_keys.plausible(key):
        return None
    source = db.session.scalar(select(FeedSource).where(FeedSource.api_key_hash == hash_key(key)))
    if source is None or not source.is_active:
        return None
    return source


# ----------------------------------------------------------------------------- rows
class RowStatus(enum.Enum):
    CREATED = "created"
    EXISTS = "exists"  # imported before from this source: nothing changed
    INVALID = "invalid"


@dataclass
class RowProblem:
    field: str | None  # a feed field name, None for the row as a whole
    message: object  # a lazy translatable text

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else str(self.message)


@dataclass
class ParsedRow:
    """A row as read from a file or a request: its line (or index) and its fields, or why it
    could not be read at all."""
    line: int
    data: object = None
    problem: object = None  # a lazy text: the line is not a row (broken JSON, bad encoding)


@dataclass
class RowOutcome:
    line: int
    status: RowStatus
    external_id: str | None = None
    number: str | None = None  # the report's public number (created or exists)
    problems: list[RowProblem] = field(default_factory=list)

    def reason(self) -> str:
        """Every problem on one line: "title: The title must ...; body: ..."."""
        return "; ".join(str(problem).rstrip(".") for problem in self.problems)


@dataclass
class ImportSummary:
    outcomes: list[RowOutcome] = field(default_factory=list)

    def count(self, status: RowStatus) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status is status)

    @property
    def created(self) -> int:
        return self.count(RowStatus.CREATED)

    @property
    def existing(self) -> int:
        return self.count(RowStatus.EXISTS)

    @property
    def invalid(self) -> int:
        return self.count(RowStatus.INVALID)

    @property
    def bad_rows(self) -> list[RowOutcome]:
        return [o for o in self.outcomes if o.status is RowStatus.INVALID]


def loads_json(text: str) -> object:
    """``json.loads``, but a field named twice in one object is an error (ValueError), not a
    silent "the last one wins": {"is_anonymous": true, "is_anonymous": false} must not file a
    named report."""
    def unique(pairs):
        found = {}
        for key, value in pairs:
            if key in found:
                raise ValueError(f"the field {key[:40]!r} is given twice in one object")
            found[key] = value
        return found

    return json.loads(text, object_pairs_hook=unique)


def _clean(value) -> str:
    return value.translate(_CONTROL_CHARACTERS).strip() if isinstance(value, str) else ""


class _Row:
    """Reads one row's fields, collecting every problem (not only the first)."""

    def __init__(self, data: Mapping):
        self.problems: list[RowProblem] = []
        self.values: dict[str, object] = {}
        for key, value in data.items():
            name = str(key).strip().lower()
            name = ALIASES.get(name, name)
            if name not in FIELDS:
                self.problem(None, _l("Unknown field %(name)s (the fields are listed in the "
                                      "README).", name=repr(str(key)[:40])))
            elif name in self.values:
                self.problem(name, _l("This field is given twice."))
            elif value is not None and value != "":
                self.values[name] = value

    def problem(self, name: str | None, message) -> None:
        self.problems.append(RowProblem(name, message))

    def flagged(self, name: str) -> bool:
        return any(problem.field == name for problem in self.problems)

    def text(self, name: str, *, limit: int, shortest: int = 0, required=None,
             length_message=None, number_ok: bool = False) -> str | None:
        """The field's text, cleaned; a whole number too where ``number_ok`` (ids)."""
        value = self.values.get(name)
        if value is None:
            if required is not None:
                self.problem(name, required)
            return None
        allowed = (str, int) if number_ok else str
        if isinstance(value, bool) or not isinstance(value, allowed):
            self.problem(name, _l("This field must be text."))
            return None
        value = _clean(str(value))
        if not value:
            if required is not None:
                self.problem(name, required)
            return None
        if not shortest <= len(value) <= limit:
            self.problem(name, length_message or _l("Use at most %(max)d characters.",
                                                    max=limit))
            return None
        return value

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if value is None or isinstance(value, bool):
            return bool(value)
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            word = value.strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
        self.problem(name, _l("Write true or false (also 1/0, yes/no, ya/tidak)."))
        return False

    def day(self, name: str) -> date | None:
        value = self.text(name, limit=40)
        if value is None:
            return None
        if len(value) > 10 and value[10] in "T ":  # a time of day after the date: dropped
            value = value[:10]
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.problem(name, _l("Write the date as YYYY-MM-DD."))
            return None

    def moment(self, name: str) -> datetime | None:
        value = self.text(name, limit=40)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)  # a date alone: its midnight
        except ValueError:
            self.problem(name, _l("Write the time as ISO 8601, e.g. 2026-03-01T09:30:00+07:00 "
                                  "(without an offset: Jakarta time)."))
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=JAKARTA)
        return moment.astimezone(timezone.utc)


class _Lookups:
    """Categories, institutions and kecamatan by the codes and names rows give, read once
    per import."""

    def __init__(self):
        self.categories: dict[str, Category | None] = {}
        self.institutions: dict[str, Institution | None] = {}
        self.districts: dict[str, list[District]] = {}

    def category(self, code: str) -> Category | None:
        code = code.upper()
        if code not in self.categories:
            self.categories[code] = db.session.scalar(
                select(Category).where(Category.code == code))
        return self.categories[code]

    def institution(self, code: str) -> Institution | None:
        code = code.upper()
        if code not in self.institutions:
            self.institutions[code] = db.session.scalar(
                select(Institution).where(Institution.code == code))
        return self.institutions[code]

    def districts_named(self, text: str) -> list[District]:
        key = _DISTRICT_PREFIX.sub("", text).strip().lower()
        if key not in self.districts:
            if key.isascii() and key.isdigit() and len(key) < 10:
                found = db.session.get(District, int(key))
                self.districts[key] = [found] if found else []
            else:
                self.districts[key] = list(db.session.scalars(
                    select(District).where(func.lower(District.name) == key)
                    .order_by(District.id)))
        return self.districts[key]


def _institution_of_category(category: Category | None) -> int | None:
    """The institution a category's default unit belongs to (as filing routes it)."""
    node = category.default_unit if category is not None else None
    while node is not None and node.kind is InstitutionKind.UNIT:
        node = node.parent
    return node.id if node is not None else None


def _external_id(row: _Row) -> str | None:
    return row.text("external_id", limit=MAX_EXTERNAL_ID, number_ok=True,
                    required=_l("Every row needs the sending system's id for it."),
                    length_message=_l("The id has at most %(max)d characters.",
                                      max=MAX_EXTERNAL_ID))


def _draft(row: _Row, source: FeedSource, external_id: str | None, lookups: _Lookups,
           now: datetime) -> ReportDraft | None:
    """The draft the row describes, or None with the row's problems recorded."""
    kind_text = row.text("kind", limit=40, required=_l(
        "Give the kind: aspiration, complaint or information_request."))
    kind = None
    if kind_text is not None:
        kind = KINDS.get(re.sub(r"[\s-]+", "_", kind_text.lower()))
        if kind is None:
            row.problem("kind", _l("Unknown kind: use aspiration, complaint or "
                                   "information_request (aspirasi, pengaduan, "
                                   "permintaan_informasi)."))
    title = row.text("title", limit=200, shortest=5, required=_l("Write a short title."),
                     length_message=_l("The title must be 5 to 200 characters long."))
    body = row.text("body", limit=10000, shortest=20, required=_l("Describe your report."),
                    length_message=_l("The description must be 20 to 10,000 characters long."))

    category = None
    code = row.text("category", limit=40, required=_l("Give the code of a category."))
    if code is not None:
        category = lookups.category(code)
        if category is None:
            row.problem("category", _l("No category has this code."))
        elif not category.is_active:
            row.problem("category", _l("This category is no longer in use."))

    institution = None
    code = row.text("institution", limit=40)
    if code is not None:
        institution = lookups.institution(code)
        if institution is None:
            row.problem("institution", _l("No institution has this code."))
        elif institution.kind is InstitutionKind.UNIT:
            row.problem("institution", _l("This is a unit: give the code of its institution "
                                          "(the institution admin dispositions to units)."))
            institution = None

    district_id = None
    district_text = row.text("district", limit=120, number_ok=True)
    if district_text is not None:
        found = lookups.districts_named(district_text)
        receiving = institution.id if institution else _institution_of_category(category)
        if len(found) > 1:
            found = [d for d in found if d.institution_id == receiving] or found
        if not found:
            row.problem("district", _l("No kecamatan has this name or id."))
        elif len(found) > 1:
            row.problem("district", _l("Several kecamatan have this name: give its id, or the "
                                       "institution the report goes to."))
        else:
            district_id = found[0].id

    village = row.text("village", limit=120)
    address = row.text("address", limit=500)
    event_date = row.day("event_date")
    is_anonymous = row.flag("is_anonymous")
    is_confidential = row.flag("is_confidential")
    name = row.text("reporter_name", limit=200)
    email = row.text("reporter_email", limit=254)
    if email is not None:
        try:
            validate_email(email, check_deliverability=False)
            email = email.lower()
        except EmailNotValidError:
            row.problem("reporter_email", _l("This is not a valid e-mail address."))
            email = None
    phone = row.text("reporter_phone", limit=32)

    filed_at = row.moment("created_at")
    if filed_at is not None:
        if filed_at > now + CLOCK_SKEW:
            row.problem("created_at", _l("The time it was filed cannot be in the future."))
        elif filed_at < EARLIEST_FILING:
            row.problem("created_at", _l("The time it was filed is before the year 2000."))
        else:
            filed_at = min(filed_at, now)
            if event_date and event_date > filed_at.astimezone(JAKARTA).date():
                row.problem("event_date", _l("The date of the event cannot be after the day "
                                             "the report was filed."))

    draft = ReportDraft(
        kind=kind, title=title or "", body=body or "",
        category_id=category.id if category else None, district_id=district_id,
        village=village, address=address, event_date=event_date,
        is_anonymous=is_anonymous, is_confidential=is_confidential,
        name=name, email=email, phone=phone, channel=Channel.NATIONAL_FEED,
        source_id=source.id, external_id=external_id,
        institution_id=institution.id if institution else None,
        created_at=filed_at if not row.flagged("created_at") else None)
    # The web form's own rules on what is left (a phone number's digits, a future event).
    for draft_field, message in draft_problems(draft, now).items():
        draft_field = _DRAFT_FIELDS.get(draft_field, draft_field)
        if not row.flagged(draft_field):
            row.problem(draft_field, message)
    return None if row.problems else draft


def _numbers_of(source: FeedSource, external_ids: Iterable[str]) -> dict[str, str]:
    """external id -> public number of the reports this source sent before."""
    wanted = sorted(set(external_ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), MAX_ROWS_PER_REQUEST):
        chunk = wanted[start:start + MAX_ROWS_PER_REQUEST]
        found.update((external_id, number) for external_id, number in db.session.execute(
            select(Report.external_id, Report.public_number)
            .where(Report.source_id == source.id, Report.external_id.in_(chunk))))
    return found


def _as_parsed(rows: Iterable) -> list[ParsedRow]:
    parsed = []
    for number, row in enumerate(rows, start=1):
        parsed.append(row if isinstance(row, ParsedRow) else ParsedRow(line=number, data=row))
    return parsed


def import_rows(source: FeedSource, rows: Iterable, *, now: datetime,
                store: AttachmentStore) -> ImportSummary:
    """File the rows (dicts, numbered from 1, or ``ParsedRow``) as reports from ``source``.

    A row whose external id this source sent before is "exists" (nothing changes, the number
    of the report is given back); a row the rules refuse is "invalid" with every reason; the
    others are filed. Flushes, never commits: the caller commits (the CLI every batch)."""
    if not source.is_active:
        raise DomainError(_l("This feed source is disabled."))
    # The source was used now. Writing this first also opens the transaction before the first
    # SAVEPOINT: under SQLite's driver an outermost SAVEPOINT would commit on its release.
    source.last_used_at = now
    db.session.flush()

    parsed = _as_parsed(rows)
    lookups = _Lookups()
    checked: list[tuple[ParsedRow, _Row, str | None]] = []
    for item in parsed:
        if item.problem is not None or not isinstance(item.data, Mapping):
            checked.append((item, None, None))
            continue
        row = _Row(item.data)
        checked.append((item, row, _external_id(row)))
    known = _numbers_of(source, [ext for _, _, ext in checked if ext])

    summary = ImportSummary()
    for item, row, external_id in checked:
        if row is None:
            problem = item.problem or _l("A row must be an object with named fields.")
            summary.outcomes.append(RowOutcome(line=item.line, status=RowStatus.INVALID,
                                               problems=[RowProblem(None, problem)]))
            continue
        if external_id is not None and external_id in known:
            summary.outcomes.append(RowOutcome(line=item.line, status=RowStatus.EXISTS,
                                               external_id=external_id,
                                               number=known[external_id]))
            continue
        # Without an external id the rest is checked too: every reason at once.
        draft = _draft(row, source, external_id, lookups, now)
        if draft is None or external_id is None:
            summary.outcomes.append(RowOutcome(line=item.line, status=RowStatus.INVALID,
                                               external_id=external_id, problems=row.problems))
            continue
        summary.outcomes.append(_file(draft, item.line, source, known, now=now, store=store))
    return summary


def _file(draft: ReportDraft, line: int, source: FeedSource, known: dict[str, str], *,
          now: datetime, store: AttachmentStore) -> RowOutcome:
    external_id = draft.external_id
    try:
        with db.session.begin_nested():
            filed = file_report(draft, [], store=store, now=now)
    except IntegrityError as error:
        # Another import filed the same row a moment ago (the unique constraint of source and
        # external id): only this row's SAVEPOINT is rolled back.
        number = _numbers_of(source, [external_id]).get(external_id)
        if number is not None:
            known[external_id] = number
            return RowOutcome(line=line, status=RowStatus.EXISTS, external_id=external_id,
                              number=number)
        # Never the database's message: it may quote the row.
        log.warning("feed %s, line %s: refused by the database (%s)", source.code, line,
                    type(error.orig).__name__)
        return RowOutcome(line=line, status=RowStatus.INVALID, external_id=external_id,
                          problems=[RowProblem(None, _l("The database refused this row."))])
    except DomainError as error:
        return RowOutcome(line=line, status=RowStatus.INVALID, external_id=external_id,
                          problems=[RowProblem(_DRAFT_FIELDS.get(error.field, error.field),
                                               error.message)])
    # filed.tracking_code is dropped here: nobody is to know it.
    known[external_id] = filed.report.public_number
    return RowOutcome(line=line, status=RowStatus.CREATED, external_id=external_id,
                      number=filed.report.public_number)
