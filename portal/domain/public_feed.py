"""The public feed: every report that anyone may read, searched, filtered and paged.

Which reports are public is ``Report``'s PUBLIC_PREDICATE (portal/models/report.py): verified
or later, not archived (a duplicate is archived, so it is not public either), not
confidential. Here it is once as SQL (``public_clause``) and once in Python (``is_public``);
the feed's partial indexes carry the same WHERE, so a page is one index range scan.

What the public reads of a report is its text with personal data masked
(portal/domain/masking.py) and the reporter's own names hidden; nothing about who sent it:
no name, contact, account, attachment or exact address, whether the report is anonymous or
not. Staff answers are shown (masked the same way), never the staff members' names.

Search runs over ``report.search_document``, built from the masked text when a report is
filed (``index_report``, called by ``file_report`` for every channel) and rebuilt by ``flask
public reindex``. On PostgreSQL it is a tsvector under the ``indonesian`` text search
configuration (Snowball's Indonesian stemmer: "kerusakan", "dirusak" and "rusak" meet, and
"perbaikan" finds "diperbaiki"), searched with ``websearch_to_tsquery`` (words, "quoted
phrases", -excluded words; never a syntax error); on SQLite it is the masked text in lower
case, searched with LIKE for every word. Masked data is left out of the document entirely,
so that searching a NIK or a phone number never finds the report that contains it.

Paging is by keyset (the last row's sort key and id, in the URL), never by offset: the
newest first (created_at, id) or the most supported first (support_count, id), both in
descending order, ties broken by id.

Functions here read or flush; none commits.
"""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, bindparam, func, not_, or_, select
from sqlalchemy.orm import joinedload

from portal.domain import places
from portal.domain.calendar import start_of_day
from portal.domain.masking import mask_public_text, shorten
from portal.domain.paging import Cursor
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    Category,
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

S = ReportStatus
# The states in which nobody has read the report yet (SUBMITTED) or it was put aside
# (ARCHIVED, also every duplicate): never public. Keep in step with PUBLIC_PREDICATE.
NOT_PUBLIC_STATES = (S.SUBMITTED, S.ARCHIVED)
PUBLIC_STATES = tuple(s for s in S if s not in NOT_PUBLIC_STATES)
SEARCH_CONFIG = "indonesian"
PER_PAGE = 20
MAX_QUERY = 200  # characters of the search box used
EXCERPT_SOURCE = 1500  # characters of the body read for an excerpt in the feed
SEARCH_WINDOW = 2000  # rows in the feed's order looked at first by a search (PostgreSQL)
SORT_NEWEST = "newest"
SORT_SUPPORT = "support"
SORTS = (SORT_NEWEST, SORT_SUPPORT)


def public_clause():
    """SQL: the reports anyone may read (``Report.PUBLIC_PREDICATE``). The values are
    written into the statement (not bound), so that PostgreSQL matches the partial indexes
    in every plan."""
    return and_(not_(Report.is_confidential),
                Report.status.not_in(bindparam("not_public_states", list(NOT_PUBLIC_STATES),
                                               expanding=True, literal_execute=True)))


def is_public(report: Report) -> bool:
    """Python: the same rule for a loaded report."""
    return not report.is_confidential and report.status not in NOT_PUBLIC_STATES


# ----------------------------------------------------------------------------- masking
def reporter_names(report_ids) -> dict[int, list[str]]:
    """The names to hide in each report's text: the name the reporter gave and the name of
    the account they filed with. One query for a whole page."""
    ids = list(report_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(ReporterIdentity.report_id, ReporterIdentity.name, User.name)
        .outerjoin(User, User.id == ReporterIdentity.user_id)
        .where(ReporterIdentity.report_id.in_(ids)))
    names: dict[int, list[str]] = {}
    for report_id, given, account in rows:
        names[report_id] = [n for n in (given, account) if n]
    return names


def public_text(text: str | None, names=()) -> str:
    """A reporter's text as the public reads it."""
    return mask_public_text(text, names)


def _source_excerpt(body: str, complete: bool) -> str:
    """The beginning of a body read only in part, without the word it was cut in: a number
    or address cut in two could escape masking."""
    if complete:
        return body
    return re.sub(r"\S*$", "", body)


def search_text(title: str | None, body: str | None, names=()) -> str:
    """The words the search may find: title and body, masked data left out entirely."""
    masked = mask_public_text(f"{title or ''}\n{body or ''}", names, blank=True)
    return " ".join(masked.split())


def search_document_value(title: str | None, body: str | None, names=()):
    """The value of ``report.search_document`` for this text: a tsvector expression on
    PostgreSQL, the lower-case text on SQLite."""
    text = search_text(title, body, names)
    if _dialect() == "postgresql":
        return func.to_tsvector(SEARCH_CONFIG, text)
    return text.lower()


def index_report(report: Report, names=()) -> None:
    """(Re)build the report's search document from its title, body and reporter's names.
    Call whenever one of them changes (``file_report`` does at filing)."""
    report.search_document = search_document_value(report.title, report.body, names)


def reindex(batch_size: int = 1000, *, progress=None) -> int:
    """Rebuild every report's search document, in batches by id (each flushed; the caller
    commits, e.g. ``flask public reindex`` after each batch through ``progress``)."""
    done, last_id = 0, 0
    while True:
        rows = db.session.execute(
            select(Report.id, Report.title, Report.body).where(Report.id > last_id)
            .order_by(Report.id).limit(batch_size)).all()
        if not rows:
            return done
        names = reporter_names(row.id for row in rows)
        for row in rows:
            db.session.execute(
                Report.__table__.update().where(Report.__table__.c.id == row.id)
                .values(search_document=search_document_value(row.title, row.body,
                                                              names.get(row.id, ()))))
        done += len(rows)
        last_id = rows[-1].id
        if progress is not None:
            progress(done)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


# ----------------------------------------------------------------------------- the query
@dataclass
class FeedQuery:
    """What a visitor asked the feed for; every field optional."""

    q: str = ""
    kind: ReportKind | None = None
    category_id: int | None = None
    institution_id: int | None = None  # handled by this institution or unit
    district_id: int | None = None
    # With many kecamatan the form asks for the name (portal/domain/places.py): as typed,
    # and the few kecamatan it may mean when several regencies share it.
    district_name: str = ""
    district_matches: list = field(default_factory=list)
    status: ReportStatus | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = SORT_NEWEST
    after: str | None = None  # the cursor, as written in the URL
    errors: dict[str, object] = field(default_factory=dict)

    def filters(self) -> dict[str, str]:
        """The query as URL parameters (without the cursor), for links to other pages."""
        values = {
            "q": self.q, "kind": self.kind.value if self.kind else "",
            "category": self.category_id or "", "unit": self.institution_id or "",
            "district": self.district_id or "", "status": self.status.value if self.status else "",
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "sort": self.sort if self.sort != SORT_NEWEST else "",
        }
        return {k: str(v) for k, v in values.items() if v not in ("", None)}

    @property
    def filtered(self) -> bool:
        return bool(set(self.filters()) - {"sort"})


def _id(value: str | None) -> int | None:
    text = (value or "").strip()
    if text.isascii() and text.isdigit() and len(text) < 10:
        return int(text)
    return None


def _date(value: str | None, errors: dict, name: str) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = _l("Write the date as YYYY-MM-DD, for example 2026-01-31.")
        return None


def parse_query(args) -> FeedQuery:
    """The feed's query from a request's arguments. Unknown choices are ignored (a stale
    link still shows the feed); a date that cannot be read is left out with a message."""
    errors: dict[str, object] = {}
    kinds = {k.value: k for k in ReportKind}
    states = {s.value: s for s in PUBLIC_STATES}
    query = FeedQuery(
        q=" ".join((args.get("q") or "").split())[:MAX_QUERY],
        kind=kinds.get(args.get("kind") or ""),
        category_id=_id(args.get("category")),
        institution_id=_id(args.get("unit")),
        district_id=_id(args.get("district")),
        status=states.get(args.get("status") or ""),
        date_from=_date(args.get("from"), errors, "from"),
        date_to=_date(args.get("to"), errors, "to"),
        sort=args.get("sort") if args.get("sort") in SORTS else SORT_NEWEST,
        after=(args.get("after") or "")[:60] or None,
        errors=errors,
    )
    query.district_name = " ".join((args.get("kecamatan") or "").split())[:120]
    if query.district_id is None and query.district_name:
        found = places.resolve_district(query.district_name)
        query.district_id = found.district_id
        query.district_matches = found.matches
        if found.message is not None:
            errors["kecamatan"] = found.message
    if query.date_from and query.date_to and query.date_to < query.date_from:
        errors["to"] = _l("The end of the period is before its start.")
        query.date_to = None
    return query


def _search_clause(q: str):
    if _dialect() == "postgresql":
        return Report.search_document.op("@@")(func.websearch_to_tsquery(SEARCH_CONFIG, q))
    words = [w for w in mask_public_text(q.lower(), blank=True).split() if w != "-"]
    if not words:  # only personal data was typed: it is in no document
        return False
    return and_(*(Report.search_document.like(
        "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",
        escape="\\") for w in words))


def _where(query: FeedQuery, *, search: bool = True) -> list:
    clauses = [public_clause()]
    if query.q and search:
        clauses.append(_search_clause(query.q))
    if query.kind is not None:
        clauses.append(Report.kind == query.kind)
    if query.category_id is not None:
        clauses.append(Report.category_id == query.category_id)
    if query.institution_id is not None:
        clauses.append(or_(Report.current_unit_id == query.institution_id,
                           Report.current_institution_id == query.institution_id))
    if query.district_id is not None:
        clauses.append(Report.district_id == query.district_id)
    if query.status is not None:
        clauses.append(Report.status == query.status)
    if query.date_from is not None:
        clauses.append(Report.created_at >= start_of_day(query.date_from))
    if query.date_to is not None:
        clauses.append(Report.created_at < start_of_day(query.date_to + timedelta(days=1)))
    return clauses


def encode_cursor(sort: str, created_at: datetime, support_count: int, report_id: int) -> str:
    if sort == SORT_SUPPORT:
        return f"{support_count}-{report_id}"
    return Cursor(created_at, report_id).encode()


def _after_clause(query: FeedQuery):
    """Rows after the query's cursor in its order; None without a (valid) cursor."""
    if not query.after:
        return None
    if query.sort == SORT_SUPPORT:
        count, sep, row_id = query.after.partition("-")
        if not (sep and count.isdigit() and row_id.isdigit() and len(count) < 10
                and len(row_id) < 19):
            return None
        count, row_id = int(count), int(row_id)
        return or_(Report.support_count < count,
                   and_(Report.support_count == count, Report.id < row_id))
    cursor = Cursor.decode(query.after)
    if cursor is None:
        return None
    return or_(Report.created_at < cursor.key,
               and_(Report.created_at == cursor.key, Report.id < cursor.id))


def _search_in_window(columns, clauses, search, key, limit: int):
    """The page's matches among the first SEARCH_WINDOW rows in the feed's order, read along
    the partial index (recent rows lie close together: a few hundred pages), or None when
    fewer than a page match there. A common word fills its page here; a rarer one is looked
    up through the GIN index instead, which then yields few rows to sort. Either way the
    page is the same: the window's matches are the first ones in the order."""
    window = (select(*columns, search.label("hit")).where(*clauses)
              .order_by(key.desc(), Report.id.desc()).limit(SEARCH_WINDOW).subquery())
    rows = db.session.execute(
        select(*(window.c[c.key if hasattr(c, "key") else c.name] for c in columns))
        .where(window.c.hit)
        .order_by(window.c[key.key].desc(), window.c.id.desc()).limit(limit)).all()
    return rows if len(rows) == limit else None


@dataclass(frozen=True)
class FeedItem:
    """A report as the feed lists it: nothing about who sent it."""

    number: str
    title: str
    excerpt: str
    kind: ReportKind
    category: Category | None
    district: str | None
    status: ReportStatus
    filed_at: datetime
    supporters: int


@dataclass(frozen=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: str | None  # None on the last page


def feed_page(query: FeedQuery, *, per_page: int = PER_PAGE) -> FeedPage:
    """One page of the feed: four statements whatever the page size (the reports, the names
    to hide in their text, their categories and their kecamatan)."""
    key = Report.support_count if query.sort == SORT_SUPPORT else Report.created_at
    clauses = _where(query, search=False)
    after = _after_clause(query)
    if after is not None:
        clauses.append(after)
    columns = (Report.id, Report.public_number, Report.title,
               func.substr(Report.body, 1, EXCERPT_SOURCE).label("excerpt_source"),
               func.length(Report.body).label("body_length"), Report.kind, Report.category_id,
               Report.district_id, Report.status, Report.created_at, Report.support_count)
    rows = None
    if query.q and _dialect() == "postgresql":
        rows = _search_in_window(columns, clauses, _search_clause(query.q), key, per_page + 1)
    if rows is None:
        if query.q:
            clauses.append(_search_clause(query.q))
        rows = db.session.execute(
            select(*columns).where(*clauses).order_by(key.desc(), Report.id.desc())
            .limit(per_page + 1)).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    names = reporter_names(row[0] for row in rows)
    category_ids = {row[6] for row in rows if row[6] is not None}
    categories = {c.id: c for c in db.session.scalars(
        select(Category).where(Category.id.in_(category_ids)))} if category_ids else {}
    district_ids = {row[7] for row in rows if row[7] is not None}
    districts = {district_id: name for district_id, name in db.session.execute(
        select(District.id, District.name).where(District.id.in_(district_ids)))} \
        if district_ids else {}
    items = []
    for (report_id, number, title, body, length, kind, category_id, district_id, status,
         created_at, supporters) in rows:
        hidden = names.get(report_id, ())
        source = _source_excerpt(body or "", (length or 0) <= EXCERPT_SOURCE)
        items.append(FeedItem(
            number=number, title=public_text(title, hidden),
            excerpt=shorten(public_text(source, hidden)), kind=kind,
            category=categories.get(category_id), district=districts.get(district_id),
            status=status, filed_at=created_at, supporters=supporters))
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = encode_cursor(query.sort, last[9], last[10], last[0])
    return FeedPage(items=items, next_cursor=next_cursor)


@dataclass(frozen=True)
class FeedChoices:
    """The options of the feed's filters."""

    categories: list[Category]
    institutions: list  # rows (id, name); None: too many to list, the unit comes by URL
    districts: list | None  # rows (id, name); None: too many, the form asks for the name


INSTITUTION_SELECT_MAX = 400  # the institutions alone (no units) still listed up to this


def _handler_options() -> list | None:
    """Every institution and unit when they are few (a regency's portal); with more, the
    institutions alone (no units: the national tree has 3,544), while at most
    INSTITUTION_SELECT_MAX; beyond that None. A unit not listed is still filtered by its
    number in the URL (``unit=``). Plain columns, at most one statement each."""
    cap = places.select_max()
    nodes = select(Institution.id, Institution.name).where(
        Institution.kind != InstitutionKind.NATIONAL)
    rows = db.session.execute(nodes.order_by(Institution.name).limit(cap + 1)).all()
    if len(rows) <= cap:
        return rows
    rows = db.session.execute(
        nodes.where(Institution.kind == InstitutionKind.INSTITUTION)
        .order_by(Institution.name).limit(INSTITUTION_SELECT_MAX + 1)).all()
    return rows if len(rows) <= INSTITUTION_SELECT_MAX else None


def feed_choices() -> FeedChoices:
    return FeedChoices(
        categories=list(db.session.scalars(select(Category).order_by(Category.name_id))),
        institutions=_handler_options(),
        districts=places.district_options(),
    )


def node_name(node_id: int | None) -> str | None:
    """The name of the institution or unit a URL filters by (when it is not in the list)."""
    return db.session.scalar(select(Institution.name).where(Institution.id == node_id)) \
        if node_id is not None else None


def district_name(district_id: int | None) -> str | None:
    return db.session.scalar(select(District.name).where(District.id == district_id)) \
        if district_id is not None else None


# ----------------------------------------------------------------------------- one report
@dataclass(frozen=True)
class PublicAnswer:
    answered_at: datetime
    message: str


@dataclass(frozen=True)
class PublicReport:
    """A report as its public page shows it."""

    number: str
    title: str
    body: str
    kind: ReportKind
    category: Category | None
    district: str | None
    village: str | None
    status: ReportStatus
    filed_at: datetime
    event_date: date | None
    answered_at: datetime | None
    completed_at: datetime | None
    handled_by: str | None
    supporters: int
    answers: list[PublicAnswer]
    anonymous: bool
    report_id: int


def public_report(number: str) -> PublicReport | None:
    """The public view of report ``number``; None when there is no such public report (not
    found, not verified yet, confidential, archived or a duplicate: all look the same)."""
    report = db.session.scalar(
        select(Report).where(Report.public_number == number, public_clause())
        .options(joinedload(Report.category), joinedload(Report.district),
                 joinedload(Report.current_unit), joinedload(Report.current_institution)))
    if report is None:
        return None
    names = reporter_names([report.id]).get(report.id, ())
    answers = db.session.execute(
        select(ReportEvent.created_at, ReportEvent.message)
        .where(ReportEvent.report_id == report.id, ReportEvent.kind == EventKind.ANSWERED,
               ReportEvent.visible_to_reporter.is_(True), ReportEvent.message.is_not(None))
        .order_by(ReportEvent.created_at, ReportEvent.id)).all()
    handler = report.current_unit or report.current_institution
    return PublicReport(
        number=report.public_number, title=public_text(report.title, names),
        body=public_text(report.body, names), kind=report.kind, category=report.category,
        district=report.district.name if report.district else None,
        village=public_text(report.village, names) or None, status=report.status,
        filed_at=report.created_at, event_date=report.event_date,
        answered_at=report.answered_at, completed_at=report.completed_at,
        handled_by=handler.name if handler else None, supporters=report.support_count,
        answers=[PublicAnswer(answered_at=at, message=public_text(message, names))
                 for at, message in answers],
        anonymous=report.is_anonymous, report_id=report.id)
