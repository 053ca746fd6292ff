"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2): our categories as services,
public reports as service requests, and reports filed by an API client.

What a service request shows is what the public feed shows of a report (the same rule and the
same masking, portal/domain/public_feed.py: ``PUBLIC_PREDICATE``, verified, not archived, not
confidential): its public number (``service_request_id``; never the secret tracking code),
status open or closed, the category, the text with personal data and the reporter's own names
masked, the unit or institution that has it, the dates and the current deadline, the latest
public answer (masked), and as address only the village and kecamatan (the public feed shows no
exact address either). Never anything about who sent it: no name, contact, channel or the
channel's link (a social-media post names its author).

Filing (``file_request``) goes through ``filing.file_report`` like every channel: the client's
channel, the client's institution (a national key: by category), the deadlines, the duplicate
check, a tracking code. A request without any identity is filed anonymously; one with an
identity needs a name and an e-mail address or a phone number, as on the web. GeoReport needs a
location (an address or a point) and we keep no coordinates: a point is written into the
address text. ``media_url`` is kept as the channel's link for staff, never fetched and never
shown publicly.

Functions here flush at most; never commit.
"""
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.domain import DomainError
from portal.domain.filing import JAKARTA, FiledReport, ReportDraft, draft_problems, file_report
from portal.domain.masking import shorten
from portal.domain.public_feed import public_clause, public_text, reporter_names
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    ApiClient,
    Category,
    EventKind,
    Institution,
    InstitutionKind,
    Report,
    ReportEvent,
    ReportKind,
    ReportStatus,
)
from portal.storage import AttachmentStore

WINDOW = timedelta(days=90)  # the spec's default and widest date range
MAX_REQUESTS = 1000  # the spec's suggested maximum per answer
MAX_IDS = 100  # service_request_id values in one query
MAX_CODES = 50  # service_code values in one query
TITLE_LENGTH = 100  # the report's title: the beginning of the description
MAX_ADDRESS = 500
CLOSED_STATES = frozenset({ReportStatus.COMPLETED, ReportStatus.ARCHIVED})
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)
TRUE_WORDS = frozenset({"true", "1", "yes"})
FALSE_WORDS = frozenset({"false", "0", "no", ""})
_CONTROL_CHARACTERS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_WORD = re.compile(r"[^\W\d_]{4,}")
# Draft fields as draft_problems names them -> the GeoReport parameter.
_PARAMETERS = {"name": "first_name", "email": "email", "phone": "phone", "body": "description",
               "title": "description", "category": "service_code"}


class NotFound(DomainError):
    """What was asked for does not exist, or is not public."""


def _clean(value) -> str:
    return value.translate(_CONTROL_CHARACTERS).strip() if isinstance(value, str) else ""


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with the offset, in Jakarta time: 2026-11-29T10:15:00+07:00."""
    return moment.astimezone(JAKARTA).isoformat(timespec="seconds") if moment else None


# ----------------------------------------------------------------------------- services
def _receiving_name(category: Category) -> str:
    node = category.default_unit
    while node is not None and node.kind is InstitutionKind.UNIT and node.parent is not None:
        node = node.parent
    if node is None:
        node = db.session.scalar(select(Institution)
                                 .where(Institution.kind == InstitutionKind.NATIONAL).limit(1))
    return node.name if node is not None else ""


def _keywords(category: Category) -> str:
    words: list[str] = []
    for word in _WORD.findall(f"{category.name_id} {category.name_en}".lower()):
        if word not in words:
            words.append(word)
    return ", ".join(words)


def service(category: Category) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name_id,
        "description": category.name_en,
        "metadata": False,
        "type": "realtime",
        "keywords": _keywords(category),
        "group": _receiving_name(category),
    }


def services() -> list[dict]:
    """Every active category, by code."""
    return [service(c) for c in db.session.scalars(
        select(Category).where(Category.is_active.is_(True)).order_by(Category.code))]


def service_category(code: str) -> Category:
    category = db.session.scalar(select(Category).where(
        Category.code == (code or "").strip().upper(), Category.is_active.is_(True)))
    if category is None:
        raise NotFound(_l("No service has this service_code."), field="service_code")
    return category


def service_definition(code: str) -> dict:
    category = service_category(code)
    return {"service_code": category.code, "attributes": []}


# ----------------------------------------------------------------------------- requests
@dataclass
class RequestQuery:
    ids: list[str] = field(default_factory=list)  # when given, the rest is ignored
    service_codes: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    statuses: frozenset[str] = frozenset()


def _list(value: str | None, *, limit: int, name: str) -> list[str]:
    items = [item.strip() for item in _clean(value).split(",") if item.strip()]
    if len(items) > limit:
        raise DomainError(_l("At most %(count)s values of %(name)s at once.", count=limit,
                             name=name), field=name)
    return list(dict.fromkeys(items))


def _moment(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 date or date-time; without an offset it is Jakarta time."""
    text = _clean(value)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DomainError(_l("%(name)s is not an ISO 8601 date-time, such as "
                             "2026-01-31T00:00:00+07:00.", name=name), field=name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=JAKARTA)
    if not EARLIEST <= moment <= LATEST:
        raise DomainError(_l("%(name)s is outside the years 2000 to 9000.", name=name),
                          field=name)
    return moment


def parse_query(args: Mapping, *, now: datetime) -> RequestQuery:
    """The GET requests parameters, checked. The window: the 90 days before now, or 90 days
    from start_date, or 90 days up to end_date; never more than 90 days."""
    query = RequestQuery(
        ids=_list(args.get("service_request_id"), limit=MAX_IDS, name="service_request_id"),
        service_codes=[code.upper() for code in _list(args.get("service_code"), limit=MAX_CODES,
                                                      name="service_code")])
    statuses = frozenset(s.lower() for s in _list(args.get("status"), limit=2, name="status"))
    if not statuses <= {"open", "closed"}:
        raise DomainError(_l("status is open, closed or both (open,closed)."), field="status")
    query.statuses = statuses
    start = _moment(args.get("start_date"), "start_date")
    end = _moment(args.get("end_date"), "end_date")
    if start is None and end is None:
        end = now
    if start is None:
        start = end - WINDOW
    if end is None:
        end = start + WINDOW
    if end < start:
        raise DomainError(_l("end_date is before start_date."), field="end_date")
    if end - start > WINDOW:
        raise DomainError(_l("start_date and end_date may be at most 90 days apart."),
                          field="end_date")
    query.start, query.end = start, end
    return query


def _answers(report_ids: list[int]) -> dict[int, str]:
    """The latest public answer of each report."""
    answers: dict[int, str] = {}
    for start in range(0, len(report_ids), MAX_REQUESTS):
        chunk = report_ids[start:start + MAX_REQUESTS]
        for report_id, message in db.session.execute(
                select(ReportEvent.report_id, ReportEvent.message)
                .where(ReportEvent.report_id.in_(chunk), ReportEvent.kind == EventKind.ANSWERED,
                       ReportEvent.visible_to_reporter.is_(True),
                       ReportEvent.message.is_not(None))
                .order_by(ReportEvent.id)):
            answers[report_id] = message
    return answers


def _status(report: Report) -> str:
    return "closed" if report.status in CLOSED_STATES else "open"


def _agency(report: Report) -> str | None:
    node = report.current_unit or report.current_institution
    return node.name if node is not None else None


def _place(report: Report, names) -> str | None:
    parts = [public_text(report.village, names) if report.village else None,
             report.district.name if report.district else None]
    return ", ".join(part for part in parts if part) or None


def service_request(report: Report, answer: str | None, names=()) -> dict:
    """What the public may know of a report, in GeoReport's fields."""
    category = report.category
    return {
        "service_request_id": report.public_number,
        "status": _status(report),
        "status_notes": public_text(answer, names) if answer else None,
        "service_name": category.name_id if category else None,
        "service_code": category.code if category else None,
        "description": public_text(report.body, names),
        "agency_responsible": _agency(report),
        "service_notice": None,
        "requested_datetime": iso(report.created_at),
        "updated_datetime": iso(report.updated_at),
        "expected_datetime": iso(report.due_at),
        "address": _place(report, names),
        "address_id": None,
        "zipcode": None,
    }


def find_requests(query: RequestQuery) -> list[dict]:
    """Public reports matching the query, newest first, at most 1,000."""
    statement = select(Report).where(public_clause())
    if query.ids:
        statement = statement.where(Report.public_number.in_(query.ids))
    else:
        statement = statement.where(Report.created_at >= query.start,
                                    Report.created_at <= query.end)
        if query.service_codes:
            statement = statement.where(Report.category_id.in_(
                select(Category.id).where(Category.code.in_(query.service_codes))))
        if query.statuses == {"closed"}:
            statement = statement.where(Report.status.in_(CLOSED_STATES))
        elif query.statuses == {"open"}:
            statement = statement.where(Report.status.not_in(CLOSED_STATES))
    reports = list(db.session.scalars(
        statement.order_by(Report.created_at.desc(), Report.id.desc()).limit(MAX_REQUESTS)
        .options(selectinload(Report.category), selectinload(Report.district),
                 selectinload(Report.current_unit), selectinload(Report.current_institution))))
    ids = [r.id for r in reports]
    answers, names = _answers(ids), reporter_names(ids)
    return [service_request(r, answers.get(r.id), names.get(r.id, ())) for r in reports]


def find_request(number: str) -> dict:
    report = db.session.scalar(select(Report).where(
        Report.public_number == _clean(number), public_clause()))
    if report is None:
        raise NotFound(_l("No public service request has this service_request_id."),
                       field="service_request_id")
    return service_request(report, _answers([report.id]).get(report.id),
                           reporter_names([report.id]).get(report.id, ()))


# ----------------------------------------------------------------------------- filing
def _text(form: Mapping, name: str, limit: int) -> str | None:
    value = _clean(form.get(name))
    if len(value) > limit:
        raise DomainError(_l("%(name)s may be at most %(count)s characters long.", name=name,
                             count=limit), field=name)
    return value or None


def _flag(form: Mapping, name: str) -> bool:
    value = _clean(form.get(name)).lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise DomainError(_l("%(name)s is true or false.", name=name), field=name)


def _coordinate(form: Mapping, name: str, bound: float) -> float | None:
    value = _clean(form.get(name))
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not -bound <= number <= bound:  # also NaN and infinity
        raise DomainError(_l("%(name)s is a decimal degree from -%(bound)s to %(bound)s.",
                             name=name, bound=int(bound)), field=name)
    return number


def _location(form: Mapping) -> str:
    address = _text(form, "address_string", MAX_ADDRESS)
    lat = _coordinate(form, "lat", 90)
    long = _coordinate(form, "long", 180)
    if (lat is None) != (long is None):
        raise DomainError(_l("Give both lat and long, or neither."),
                          field="long" if long is None else "lat")
    point = f"{lat:.6f}, {long:.6f}" if lat is not None else None
    if address and point:
        address = f"{address} ({point})"
    address = address or point
    if not address:
        raise DomainError(_l("Give the location: address_string, or lat and long "
                             "(address_id is not used here)."), field="address_string")
    if len(address) > MAX_ADDRESS:
        raise DomainError(_l("address_string may be at most %(count)s characters long with "
                             "the point.", count=MAX_ADDRESS - 26), field="address_string")
    return address


def _media_url(form: Mapping) -> str | None:
    url = _text(form, "media_url", 500)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise DomainError(_l("media_url is an http or https address."), field="media_url")
    return url


def _email(form: Mapping) -> str | None:
    email = _text(form, "email", 254)
    if email is None:
        return None
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise DomainError(_l("email is not a valid e-mail address."), field="email") from None
    return email.lower()


def draft_from(client: ApiClient, form: Mapping, *, now: datetime) -> ReportDraft:
    """The report a POST asks for, checked by the web form's rules; DomainError names the
    GeoReport parameter that is wrong."""
    category = service_category(_clean(form.get("service_code")))
    body = _text(form, "description", 10_000) or ""
    if len(body) < 20:
        raise DomainError(_l("description must be 20 to 10,000 characters long."),
                          field="description")
    address = _location(form)
    first, last = _text(form, "first_name", 100), _text(form, "last_name", 100)
    name = " ".join(part for part in (first, last) if part) or None
    email, phone = _email(form), _text(form, "phone", 32)
    identified = any((name, email, phone))
    anonymous = _flag(form, "anonymous") if "anonymous" in form else not identified
    institution = client.institution
    draft = ReportDraft(
        kind=ReportKind.COMPLAINT, title=shorten(body, TITLE_LENGTH), body=body,
        category_id=category.id, address=address, is_anonymous=anonymous,
        is_confidential=_flag(form, "confidential") if "confidential" in form else False,
        name=name, email=email, phone=phone, channel=client.channel,
        institution_id=None if institution.kind is InstitutionKind.NATIONAL else institution.id,
        channel_link=_media_url(form))
    for problem_field, message in draft_problems(draft, now).items():
        if problem_field == "name":
            message = _l("Give first_name (or last_name) and an email or phone, or no "
                         "identity at all to report anonymously.")
        elif problem_field == "email" and not email:
            message = _l("Give an email or a phone so that the reporter can be reached, or no "
                         "identity at all to report anonymously.")
        raise DomainError(message, field=_PARAMETERS.get(problem_field, problem_field))
    return draft


def file_request(client: ApiClient, form: Mapping, *, now: datetime,
                 store: AttachmentStore) -> FiledReport:
    """File the POSTed request as a report from ``client``'s channel."""
    draft = draft_from(client, form, now=now)
    client.last_used_at = now
    return file_report(draft, [], store=store, now=now)
