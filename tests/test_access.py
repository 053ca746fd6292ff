"""Access control on every staff route, and the reporter's identity on every staff page.

1. ``TestEveryStaffRoute::test_route`` runs once per staff route (every rule of the blueprints
   ``staff`` and ``staff_admin`` in ``app.url_map``) × method (GET, POST) × role, with ids
   ``endpoint-METHOD-role``, against one world built once per database: a named report at the
   Disdukcapil unit (verified and dispositioned through the workflow) with an attachment, a unit,
   a category, a membership, a response template, the five demo accounts, a liaison and an
   operator of another unit (Dishub), an institution admin of another regency, a citizen
   account and an anonymous visitor. ``EXPECTED`` below says, route by route, who may reach
   what; a route without a row fails the test with its name.
2. ``test_reporter_identity_stays_hidden_on_every_staff_page`` files an anonymous and a named
   report through the real form (signed in as citizens, with distinctive names, contacts, NIK
   and file names), and looks for those strings in every staff page, download, identity
   response and staff mail.
"""
import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from conftest import IsolatedClient, _empty_all_tables
from sqlalchemy import func, select

from portal import create_app
from portal.demo import DEMO_PASSWORD, load_demo_data
from portal.domain import api_clients, feed
from portal.domain.accounts import register_citizen
from portal.domain.filing import ReportDraft
from portal.domain.filing import file_report as file_through_domain
from portal.domain.uploads import PreparedUpload
from portal.domain.workflow import Action, ActionInput, perform
from portal.extensions import db
from portal.models import (
    AuditAction,
    AuditEntry,
    Category,
    Channel,
    Holiday,
    Institution,
    InstitutionKind,
    Membership,
    Report,
    ReportEvent,
    ReportKind,
    ReportStatus,
    ResponseTemplate,
    Role,
    User,
)
from portal.models.types import utcnow
from portal.storage import AttachmentStore
from tests.helpers import csrf_token, file_report, jpeg_bytes, mails_to

# ----------------------------------------------------------------------------- the roles
NATIONAL_ADMIN = "national_admin"
INSTITUTION_ADMIN = "institution_admin"
LIAISON = "liaison"
OPERATOR = "operator"
SUPERVISOR = "supervisor"
OTHER_UNIT_LIAISON = "other_unit_liaison"  # liaison of TNG-DISHUB
OTHER_UNIT_OPERATOR = "other_unit_operator"  # operator of TNG-DISHUB
OTHER_INSTITUTION_ADMIN = "other_institution_admin"  # institution admin of another regency
CITIZEN = "citizen"  # a signed-in citizen account
ANONYMOUS = "anonymous"  # nobody signed in

ROLES = (NATIONAL_ADMIN, INSTITUTION_ADMIN, LIAISON, OPERATOR, SUPERVISOR, OTHER_UNIT_LIAISON,
         OTHER_UNIT_OPERATOR, OTHER_INSTITUTION_ADMIN, CITIZEN, ANONYMOUS)
# Roles that must never see the world's report (it lies outside their nodes, or they are not staff).
OUTSIDERS = {OTHER_UNIT_LIAISON, OTHER_UNIT_OPERATOR, OTHER_INSTITUTION_ADMIN, CITIZEN, ANONYMOUS}

STAFF_EMAILS = {
    NATIONAL_ADMIN: "admin.nasional@lapor.example.id",
    INSTITUTION_ADMIN: "admin@tangerangkab.example.id",
    LIAISON: "penghubung.disdukcapil@tangerangkab.example.id",
    OPERATOR: "operator.disdukcapil@tangerangkab.example.id",
    SUPERVISOR: "inspektorat@tangerangkab.example.id",
    OTHER_UNIT_LIAISON: "penghubung.dishub@tangerangkab.example.id",
    OTHER_UNIT_OPERATOR: "operator.dishub@tangerangkab.example.id",
    OTHER_INSTITUTION_ADMIN: "admin@serangkab.example.id",
}
CITIZEN_EMAIL = "warga.biasa@example.id"
CITIZEN_PASSWORD = "rahasia-warga-2026"

# ----------------------------------------------------------------------------- the table
# What each role gets on each route: one row per endpoint, one column per role in ROLES order
# (nat national_admin, inst institution_admin, liai liaison, oper operator, supv supervisor,
# oLia/oOpe the Dishub liaison/operator, oIns the other regency's admin, citz, anon).
#   ok     allowed: 2xx, or a redirect that is not to the sign-in page; for a POST that carries
#          only the CSRF token also 409/422 (the form's fields are missing)
#   403    forbidden
#   404    hidden: only on routes about one report, for whoever may not see that report
#   login  the anonymous visitor is sent to the sign-in page
#   out    signing out: everyone lands on the sign-in page
# A method a route does not accept gives 405 to everyone (read from the rule itself).
# The report is a named one at TNG-DISDUKCAPIL; "an item" on admin routes is one of Tangerang's.
EXPECTED_TABLE = """
endpoint                     nat   inst  liai  oper  supv  oLia  oOpe  oIns  citz  anon
staff.login                  ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
staff.logout                 out   out   out   out   out   out   out   out   out   out
staff.inbox                  ok    ok    ok    ok    ok    ok    ok    ok    403   login
staff.audit                  ok    403   403   403   ok    403   403   403   403   login
staff.report                 ok    ok    ok    ok    ok    404   404   404   403   login
staff.attachment             ok    ok    ok    ok    ok    404   404   404   403   login
staff.act                    ok    ok    ok    ok    ok    404   404   404   403   login
staff.reveal                 ok    ok    ok    ok    403   404   404   404   403   login
staff.password               ok    ok    ok    ok    ok    ok    ok    ok    403   login
staff.weekly_report_page     ok    ok    403   403   ok    403   403   ok    403   login
staff.statistics_page        ok    ok    403   403   ok    403   403   ok    403   login
staff.supervision            ok    ok    403   403   ok    403   403   ok    403   login
staff.duplicates_queue       ok    ok    403   403   403   403   403   ok    403   login
staff.dismiss_duplicate      ok    ok    403   403   403   404   404   404   403   login
staff.intake_form            ok    ok    ok    ok    403   ok    ok    ok    403   login
staff.intake_done            ok    ok    ok    ok    403   ok    ok    ok    403   login
staff_admin.index            ok    ok    403   403   403   403   403   ok    403   login
staff_admin.units            ok    ok    403   403   403   403   403   ok    403   login
staff_admin.unit             ok    ok    403   403   403   403   403   403   403   login
staff_admin.staff_list       ok    ok    403   403   403   403   403   ok    403   login
staff_admin.staff_new        ok    ok    403   403   403   403   403   ok    403   login
staff_admin.staff_member     ok    ok    403   403   403   403   403   403   403   login
staff_admin.grant            ok    ok    403   403   403   403   403   403   403   login
staff_admin.revoke           ok    ok    403   403   403   403   403   403   403   login
staff_admin.deactivate       ok    ok    403   403   403   403   403   403   403   login
staff_admin.reactivate       ok    ok    403   403   403   403   403   403   403   login
staff_admin.categories       ok    ok    403   403   403   403   403   ok    403   login
staff_admin.category_new     ok    ok    403   403   403   403   403   ok    403   login
staff_admin.category_edit    ok    ok    403   403   403   403   403   403   403   login
staff_admin.templates        ok    ok    403   403   403   403   403   ok    403   login
staff_admin.template_new     ok    ok    403   403   403   403   403   ok    403   login
staff_admin.template_edit    ok    ok    403   403   403   403   403   403   403   login
staff_admin.template_delete  ok    ok    403   403   403   403   403   403   403   login
staff_admin.deadlines        ok    ok    403   403   403   403   403   ok    403   login
staff_admin.deadline_scope   ok    ok    403   403   403   403   403   403   403   login
staff_admin.holiday_add      ok    ok    403   403   403   403   403   403   403   login
staff_admin.holiday_remove   ok    ok    403   403   403   403   403   403   403   login
staff_admin.webhook_save     ok    ok    403   403   403   403   403   403   403   login
staff_admin.webhook_rotate   ok    ok    403   403   403   403   403   403   403   login
staff_admin.webhook_remove   ok    ok    403   403   403   403   403   403   403   login
staff_admin.feed_sources     ok    403   403   403   403   403   403   403   403   login
staff_admin.feed_key         ok    403   403   403   403   403   403   403   403   login
staff_admin.feed_disable     ok    403   403   403   403   403   403   403   403   login
staff_admin.feed_enable      ok    403   403   403   403   403   403   403   403   login
staff_admin.api_keys         ok    ok    403   403   403   403   403   ok    403   login
staff_admin.api_key_renew    ok    ok    403   403   403   403   403   403   403   login
staff_admin.api_key_disable  ok    ok    403   403   403   403   403   403   403   login
staff_admin.api_key_enable   ok    ok    403   403   403   403   403   403   403   login
"""
A, F, H, L, OUT = "ok", "403", "404", "login", "out"
DESCRIBED = {A: "allowed", F: "forbidden (403)", H: "hidden (404)", L: "sent to sign in",
             OUT: "signed out to the sign-in page", "405": "method not allowed (405)"}


def _parse_table(table: str) -> dict[str, tuple[str, ...]]:
    header, *lines = table.strip().splitlines()
    assert len(header.split()) == len(ROLES) + 1, "one column per role"
    rows = {}
    for line in lines:
        endpoint, *cells = line.split()
        assert len(cells) == len(ROLES) and set(cells) <= set(DESCRIBED), line
        assert endpoint not in rows, f"{endpoint} twice"
        rows[endpoint] = tuple(cells)
    return rows


EXPECTED = _parse_table(EXPECTED_TABLE)
METHODS = ("GET", "POST")
SIGN_IN_PATH = "/staf/masuk"


def _staff_rules() -> list:
    """Every rule of the staff blueprints, read from a throw-away app (no database needed)."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "SECRET_KEY": "only-the-url-map", "RATELIMIT_STORAGE_URI": "memory://"})
    return sorted((rule for rule in app.url_map.iter_rules()
                   if rule.endpoint.startswith(("staff.", "staff_admin."))),
                  key=lambda rule: (rule.endpoint, rule.rule))


STAFF_RULES = _staff_rules()
CASES = [pytest.param(rule, method, role, id=f"{rule.endpoint}-{method}-{role}")
         for rule in STAFF_RULES for method in METHODS for role in ROLES]


def expectation(rule, method: str, role: str) -> str:
    if method not in rule.methods:
        return "405"
    row = EXPECTED.get(rule.endpoint)
    if row is None:
        pytest.fail(f"the staff route {rule.rule} ({rule.endpoint}) has no expectation: add a "
                    f"row to EXPECTED in tests/test_access.py saying which role may reach it")
    return row[ROLES.index(role)]


def page_text(response) -> str:
    """The body as text (a downloaded file is bytes: read it leniently), entities decoded."""
    return unescape(response.get_data().decode("utf-8", "replace"))


def to_sign_in(response) -> bool:
    return (300 <= response.status_code < 400
            and urlsplit(response.headers.get("Location", "")).path == SIGN_IN_PATH)


def meets(response, expected: str, method: str) -> bool:
    code = response.status_code
    if expected == "405":
        return code == 405
    if expected == F:
        return code == 403
    if expected == H:
        return code == 404
    if expected in (L, OUT):
        return to_sign_in(response)
    assert expected == A
    if 200 <= code < 300 or (300 <= code < 400 and not to_sign_in(response)):
        return True
    return method == "POST" and code in (409, 422)


def test_every_staff_route_has_an_expectation():
    """A new staff route fails here (and in its own cases) until EXPECTED says who may use it;
    a removed route must leave the table too."""
    endpoints = {rule.endpoint for rule in STAFF_RULES}
    missing = sorted(f"{rule.rule} ({rule.endpoint})" for rule in STAFF_RULES
                     if rule.endpoint not in EXPECTED)
    assert not missing, "staff routes without an expectation in EXPECTED: " + ", ".join(missing)
    stale = sorted(set(EXPECTED) - endpoints)
    assert not stale, f"EXPECTED names routes that no longer exist: {stale}"
    for rule in STAFF_RULES:
        row = EXPECTED[rule.endpoint]
        assert len(row) == len(ROLES), rule.endpoint
        if H in row:  # a 404 is acceptable only where a report may be out of sight
            assert "<number>" in rule.rule, f"{rule.endpoint}: 404 expected off a report"
        if L in row:
            assert row.index(L) == ROLES.index(ANONYMOUS) and row.count(L) == 1, rule.endpoint
        assert row[ROLES.index(ANONYMOUS)] in (A, L, OUT), f"{rule.endpoint} open to anonymous?"


# ----------------------------------------------------------------------------- the world
def _node(code: str) -> Institution:
    return db.session.scalar(select(Institution).where(Institution.code == code))


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _staff(email: str, name: str, memberships) -> User:
    user = User(email=email, name=name, is_staff=True)
    user.set_password(DEMO_PASSWORD)
    for node, role in memberships:
        user.memberships.append(Membership(institution=node, role=role))
    db.session.add(user)
    return user


@dataclass
class World:
    app: object
    report_id: int
    number: str
    title: str
    body: str
    attachment_id: int
    unit_id: int
    category_id: int
    template_id: int
    member_id: int
    membership_id: int
    regency_id: int
    source_id: int = 0  # a feed source (national administrator's page)
    client_id: int = 0  # an Open311 API key of Tangerang (its administrators' page)
    cookies: dict = field(default_factory=dict)  # role -> session cookie value
    tokens: dict = field(default_factory=dict)  # role -> CSRF token
    addresses: dict = field(default_factory=dict)  # role -> REMOTE_ADDR

    def client(self, role: str):
        """A fresh client in the role's session: one case cannot change another's (sign-out)."""
        client = self.app.test_client()
        client.environ_base["REMOTE_ADDR"] = self.addresses[role]
        if role in self.cookies:
            client.set_cookie(self.app.config["SESSION_COOKIE_NAME"], self.cookies[role])
        return client


REPORT_TITLE = "Blangko KTP elektronik habis sejak awal bulan"
REPORT_BODY = ("Sudah tiga minggu blangko KTP elektronik di kantor Disdukcapil Tigaraksa habis, "
               "warga disuruh kembali tanpa kepastian kapan bisa dicetak.")


def _build_world(app) -> World:
    load_demo_data()
    db.session.flush()
    national, regency = _node("KEMENPANRB"), _node("KAB-TANGERANG")
    disdukcapil, dishub = _node("TNG-DISDUKCAPIL"), _node("TNG-DISHUB")
    serang = Institution(kind=InstitutionKind.INSTITUTION, code="KAB-SERANG",
                         name="Pemerintah Kabupaten Serang", parent=national)
    db.session.add(Institution(kind=InstitutionKind.UNIT, code="SRG-DISDUKCAPIL",
                               name="Disdukcapil Kabupaten Serang", parent=serang))
    _staff(STAFF_EMAILS[OTHER_UNIT_LIAISON], "Pejabat Penghubung Dishub", [(dishub, Role.LIAISON)])
    _staff(STAFF_EMAILS[OTHER_UNIT_OPERATOR], "Operator Dishub", [(dishub, Role.OPERATOR)])
    _staff(STAFF_EMAILS[OTHER_INSTITUTION_ADMIN], "Admin Kabupaten Serang",
           [(serang, Role.INSTITUTION_ADMIN)])
    member = _staff("operator2.disdukcapil@tangerangkab.example.id", "Operator Kedua Disdukcapil",
                    [(disdukcapil, Role.OPERATOR)])
    now = utcnow()
    register_citizen(name="Warga Biasa", email=CITIZEN_EMAIL, password=CITIZEN_PASSWORD, now=now)
    template = ResponseTemplate(institution=regency, title="Blangko tersedia",
                                body="Laporan {nomor} tentang {judul}: blangko sudah tersedia.")
    db.session.add(template)
    category = db.session.scalar(select(Category).where(Category.code == "ADMINDUK"))
    db.session.flush()

    draft = ReportDraft(kind=ReportKind.COMPLAINT, title=REPORT_TITLE, body=REPORT_BODY,
                        category_id=category.id, name="Dewi Lestari", email="dewi.l@example.id")
    upload = PreparedUpload(original_name="foto_antrean.jpg", content_type="image/jpeg",
                            extension="jpg", data=jpeg_bytes())
    report = file_through_domain(draft, [upload], now=now,
                                 store=AttachmentStore(app.config["UPLOAD_FOLDER"])).report
    admin = _user(STAFF_EMAILS[INSTITUTION_ADMIN])
    perform(report, Action.VERIFY, actor=admin, now=now, expected_version=None)
    perform(report, Action.DISPOSITION, actor=admin, now=now, expected_version=None,
            data=ActionInput(target_institution_id=disdukcapil.id))
    db.session.commit()
    assert report.status is ReportStatus.DISPOSITIONED and report.current_unit_id == disdukcapil.id

    world = World(app=app, report_id=report.id, number=report.public_number, title=report.title,
                  body=report.body, attachment_id=report.attachments[0].id,
                  unit_id=disdukcapil.id, category_id=category.id, template_id=template.id,
                  member_id=member.id, membership_id=member.memberships[0].id,
                  regency_id=regency.id,
                  source_id=feed.add_source(None, code="LAPOR-NASIONAL", name="LAPOR! Nasional",
                                            now=now).source.id,
                  client_id=api_clients.issue_key(None, institution_id=regency.id,
                                                  name="SMS 1708", channel=Channel.SMS,
                                                  now=now).client.id)
    db.session.commit()
    for index, role in enumerate(ROLES, start=1):
        world.addresses[role] = f"10.0.0.{index}"  # the sign-in throttle counts per address
        client = world.client(role)
        if role in STAFF_EMAILS:
            signed = client.post(SIGN_IN_PATH, data={
                "csrf_token": csrf_token(client, SIGN_IN_PATH), "email": STAFF_EMAILS[role],
                "password": DEMO_PASSWORD})
            assert signed.status_code == 302 and not to_sign_in(signed), role
            token_page = "/staf/"
        else:
            if role == CITIZEN:
                signed = client.post("/akun/masuk", data={
                    "csrf_token": csrf_token(client, "/akun/masuk"), "email": CITIZEN_EMAIL,
                    "password": CITIZEN_PASSWORD})
                assert signed.status_code == 302, signed.get_data(as_text=True)
            token_page = SIGN_IN_PATH
        world.tokens[role] = csrf_token(client, token_page)
        world.cookies[role] = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    return world


@pytest.fixture(scope="class")
def world(database_url, tmp_path_factory):
    """The app and its world, once per database for the whole class (the cases only read, or
    change rows made for them alone)."""
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("access-uploads")),
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 1,
        "PUBLIC_BASE_URL": "http://portal.test",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    })
    app.test_client_class = IsolatedClient
    with app.app_context():
        try:
            yield _build_world(app)
        finally:
            db.session.remove()
            _empty_all_tables()
            db.session.remove()
            db.engine.dispose()


def _disposable_targets(world: World) -> dict:
    """Rows for the one-button admin actions (revoke, deactivate, reactivate, delete), made
    for one case alone: whatever an allowed role does to them changes no other case."""
    node = db.session.get(Institution, world.unit_id)
    serial = db.session.scalar(select(func.count()).select_from(User))
    member = _staff(f"sekali.pakai.{serial}@tangerangkab.example.id", f"Staf Sekali Pakai {serial}",
                    [(node, Role.OPERATOR), (node, Role.LIAISON)])
    template = ResponseTemplate(institution_id=world.regency_id, title=f"Sekali pakai {serial}",
                                body="Terima kasih atas laporan {nomor}.")
    db.session.add(template)
    # A day off far ahead: no open deadline counts it, so removing it moves nothing.
    holiday = Holiday(day=date(2040, 1, 1) + timedelta(days=serial), name=f"Libur {serial}",
                      institution_id=world.regency_id)
    db.session.add(holiday)
    db.session.commit()
    return {"user_id": member.id, "membership_id": member.memberships[0].id,
            "template_id": template.id, "holiday_id": holiday.id}


DISPOSABLE = {"staff_admin.revoke", "staff_admin.deactivate", "staff_admin.reactivate",
              "staff_admin.template_delete", "staff_admin.holiday_remove"}


def url_for_case(rule, world: World, overrides: dict | None = None) -> str:
    values = {"number": world.number, "attachment_id": world.attachment_id,
              "action_name": Action.NOTE.value, "unit_id": world.unit_id,
              "user_id": world.member_id, "membership_id": world.membership_id,
              "category_id": world.category_id, "template_id": world.template_id,
              "scope_key": str(world.regency_id), "holiday_id": 0,
              "source_id": world.source_id, "client_id": world.client_id,
              **(overrides or {})}
    unknown = sorted(set(rule.arguments) - set(values))
    if unknown:
        pytest.fail(f"{rule.rule} ({rule.endpoint}): no value for {unknown}; add one from the "
                    f"world to url_for_case in tests/test_access.py")
    _, path = rule.build({name: values[name] for name in rule.arguments})
    return path


# ----------------------------------------------------------------------------- 1. the matrix
class TestEveryStaffRoute:
    @pytest.mark.parametrize("rule, method, role", CASES)
    def test_route(self, world, rule, method, role):
        expected = expectation(rule, method, role)
        overrides = _disposable_targets(world) if rule.endpoint in DISPOSABLE else None
        path = url_for_case(rule, world, overrides)
        client = world.client(role)
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={"csrf_token": world.tokens[role]})
        where = response.headers.get("Location", "")
        assert response.status_code != 500, f"{method} {path} as {role}: 500"
        assert meets(response, expected, method), (
            f"{method} {path} as {role}: expected {DESCRIBED[expected]}, "
            f"got {response.status_code} {where}".strip())
        text = page_text(response)
        if role in OUTSIDERS:
            assert world.title not in text and world.body not in text, (
                f"{method} {path} as {role} shows the report")
        elif rule.endpoint == "staff.report" and method == "GET":
            assert world.title in text and world.body in text  # the page really is the report

    def test_other_unit_staff_guessing_the_report(self, world):
        """Dishub's liaison and operator know the number, the file id and every action: each
        guess is a 404 that shows nothing of the report, and changes nothing."""
        report = db.session.get(Report, world.report_id)
        version = report.version
        events = db.session.scalar(select(func.count()).select_from(ReportEvent)
                                   .where(ReportEvent.report_id == world.report_id))
        other_report_page = f"/staf/laporan/{world.number}"
        problems = []
        for role in (OTHER_UNIT_LIAISON, OTHER_UNIT_OPERATOR):
            client = world.client(role)
            token = world.tokens[role]
            guesses = [("GET", other_report_page, None),
                       ("GET", f"{other_report_page}?template={world.template_id}", None),
                       ("GET", f"{other_report_page}/lampiran/{world.attachment_id}", None),
                       ("POST", f"{other_report_page}/identitas", {"csrf_token": token})]
            operator = _user(STAFF_EMAILS[OPERATOR])
            for action in Action:
                guesses.append(("POST", f"{other_report_page}/tindakan/{action.value}", {
                    "csrf_token": token, "version": str(version),
                    "message": "Sudah kami tangani.", "visible_to_reporter": "y",
                    "target_institution_id": str(world.unit_id),
                    "operator_id": str(operator.id), "archive_reason": "duplicate"}))
            for method, path, data in guesses:
                response = client.open(path, method=method, data=data)
                text = page_text(response)
                if response.status_code not in (403, 404):
                    problems.append(f"{role} {method} {path}: {response.status_code}")
                if world.title in text or world.body in text:
                    problems.append(f"{role} {method} {path}: shows the report")
            for query in ("", f"?unit={world.unit_id}", "?q=blangko", "?status=dispositioned",
                          f"?category={world.category_id}"):
                inbox = client.get(f"/staf/{query}")
                text = page_text(inbox)
                if inbox.status_code != 200 or world.title in text or world.number in text:
                    problems.append(f"{role} inbox {query or '(no filter)'} lists the report")
        report = db.session.get(Report, world.report_id)
        assert report.version == version and report.status is ReportStatus.DISPOSITIONED
        assert db.session.scalar(select(func.count()).select_from(ReportEvent).where(
            ReportEvent.report_id == world.report_id)) == events
        assert not problems, "\n".join(problems)


# ----------------------------------------------------------------------------- 2. privacy
@dataclass
class Reporter:
    title: str
    body: str
    name: str
    email: str
    phone: str
    nik: str
    file_name: str
    account_email: str
    anonymous: bool

    @property
    def secrets(self) -> list[str]:
        first, *_, last = self.name.split()
        return [self.name, first, last, self.email, self.phone, self.nik, self.file_name,
                self.account_email]



ANONYMOUS_REPORTER = Reporter(
    title="Pungutan liar saat mengurus kartu keluarga",
    body="Petugas loket meminta uang tambahan lima puluh ribu rupiah agar kartu keluarga "
         "selesai hari itu juga, tanpa kuitansi.",
    name="Sutrisno Wibowo", email="sutrisno.w@example.id", phone="081298765432",
    nik="3603123456789012", file_name="KTP_Sutrisno.jpg",
    account_email="akun.warga.tigaraksa@example.id", anonymous=True)
NAMED_REPORTER = Reporter(
    title="Antrean cetak KTP tidak tertib",
    body="Nomor antrean cetak KTP dibagikan kepada calo lebih dulu sehingga warga yang datang "
         "pagi tetap menunggu sampai sore.",
    name="Margaretha Simanjuntak", email="margaretha.sj@example.id", phone="081377712345",
    nik="3671045506880002", file_name="Surat_Kuasa_Simanjuntak.jpg",
    account_email="akun.warga.cikupa@example.id", anonymous=False)
HANDLING = (INSTITUTION_ADMIN, LIAISON, OPERATOR)
CHECKED = HANDLING + (SUPERVISOR,)


def _file_as_citizen(app, reporter: Reporter, category_id: int) -> Report:
    """Register, sign in and file through the real form, as a browser would."""
    client = app.test_client()
    register_citizen(name=reporter.name, email=reporter.account_email,
                     password=CITIZEN_PASSWORD, now=utcnow())
    db.session.commit()
    signed = client.post("/akun/masuk", data={
        "csrf_token": csrf_token(client, "/akun/masuk"), "email": reporter.account_email,
        "password": CITIZEN_PASSWORD})
    assert signed.status_code == 302
    response = file_report(
        client, title=reporter.title, body=reporter.body, category=str(category_id),
        name=reporter.name, email=reporter.email, phone=reporter.phone, nik=reporter.nik,
        is_anonymous="y" if reporter.anonymous else None,
        attachments=(io.BytesIO(jpeg_bytes()), reporter.file_name))
    assert response.status_code == 302, response.get_data(as_text=True)
    report = db.session.scalar(select(Report).where(Report.title == reporter.title))
    assert report.is_anonymous is reporter.anonymous
    assert [a.original_name for a in report.attachments] == [reporter.file_name]
    return report


def _signed_in_staff(app, role: str):
    client = app.test_client()
    response = client.post(SIGN_IN_PATH, data={
        "csrf_token": csrf_token(client, SIGN_IN_PATH), "email": STAFF_EMAILS[role],
        "password": DEMO_PASSWORD})
    assert response.status_code == 302 and not to_sign_in(response)
    return client


def _get_paths(reports: list[Report], *, unit_id: int, category_id: int, template_id: int,
               member_id: int, regency_id: int) -> list[str]:
    """Every GET staff page, filled with the two reports (and the inbox with its filters)."""
    paths = []
    for rule in STAFF_RULES:
        if "GET" not in rule.methods:
            continue
        if rule.endpoint == "staff.inbox":
            paths += ["/staf/", "/staf/?status=in_progress", "/staf/?kind=complaint",
                      f"/staf/?category={category_id}", f"/staf/?unit={unit_id}",
                      "/staf/?q=KTP", "/staf/?q=kartu", "/staf/?sort=oldest",
                      "/staf/?sort=updated&status=in_progress&kind=complaint",
                      "/staf/?from=2000-01-01&to=2999-12-31"]
            continue
        variants = [{}]
        if "number" in rule.arguments:
            variants = [{"number": r.public_number, "attachment_id": a.id}
                        for r in reports for a in r.attachments]
        for variant in variants:
            values = {"unit_id": unit_id, "category_id": category_id, "template_id": template_id,
                      "user_id": member_id, "scope_key": str(regency_id), **variant}
            unknown = set(rule.arguments) - set(values)
            assert not unknown, f"{rule.endpoint}: no value for {sorted(unknown)}"
            _, path = rule.build({name: values[name] for name in rule.arguments})
            paths.append(path)
            if rule.endpoint == "staff.report":
                paths.append(f"{path}?template={template_id}")
    return sorted(set(paths))


def _found(response, secrets: list[str]) -> list[str]:
    text = page_text(response) + "\n" + str(response.headers)
    return [s for s in secrets if s.lower() in text.lower()]


def test_reporter_identity_stays_hidden_on_every_staff_page(demo):
    app = demo
    category = db.session.scalar(select(Category).where(Category.code == "ADMINDUK"))
    unit = db.session.scalar(select(Institution).where(Institution.code == "TNG-DISDUKCAPIL"))
    regency = db.session.scalar(select(Institution).where(Institution.code == "KAB-TANGERANG"))
    template = ResponseTemplate(institution=regency, title="Terima kasih",
                                body="Laporan {nomor} ({judul}) sedang ditangani {unit}.")
    db.session.add(template)
    db.session.commit()
    template_id = template.id

    anonymous = _file_as_citizen(app, ANONYMOUS_REPORTER, category.id)
    named = _file_as_citizen(app, NAMED_REPORTER, category.id)
    admin, liaison, operator = (_user(STAFF_EMAILS[r]) for r in HANDLING)
    now = utcnow()
    for report in (anonymous, named):
        perform(report, Action.VERIFY, actor=admin, now=now, expected_version=None)
        perform(report, Action.DISPOSITION, actor=admin, now=now, expected_version=None,
                data=ActionInput(target_institution_id=unit.id, message="Mohon segera."))
        perform(report, Action.ASSIGN, actor=liaison, now=now, expected_version=None,
                data=ActionInput(operator_id=operator.id, message="Tolong dibalas."))
    db.session.commit()
    reports = [anonymous, named]
    numbers = {ANONYMOUS_REPORTER.title: anonymous.public_number,
               NAMED_REPORTER.title: named.public_number}
    paths = _get_paths(reports, unit_id=unit.id, category_id=category.id,
                       template_id=template_id, member_id=operator.id,
                       regency_id=regency.id)
    clients = {role: _signed_in_staff(app, role) for role in CHECKED + (NATIONAL_ADMIN,)}
    problems: list[str] = []

    # The identity action, for both reports and every role: the only door to an identity.
    expected_viewers = set()
    for role, client in clients.items():
        token = csrf_token(client, "/staf/")
        for reporter in (ANONYMOUS_REPORTER, NAMED_REPORTER):
            number = numbers[reporter.title]
            response = client.post(f"/staf/laporan/{number}/identitas",
                                   data={"csrf_token": token})
            may = role == NATIONAL_ADMIN or (role in HANDLING and not reporter.anonymous)
            other = NAMED_REPORTER if reporter.anonymous else ANONYMOUS_REPORTER
            leaked = _found(response, other.secrets)
            if leaked:
                problems.append(f"{role} identity of {number} shows the other reporter: {leaked}")
            if may:
                expected_viewers.add((_user(STAFF_EMAILS[role]).id, numbers[reporter.title]))
                wanted = [reporter.name, reporter.email, reporter.phone, reporter.nik,
                          reporter.account_email, reporter.file_name]
                shown = _found(response, wanted)
                if response.status_code != 200 or shown != wanted:
                    problems.append(f"{role} may see who sent {number}, got "
                                    f"{response.status_code} showing {shown}")
            else:
                leaked = _found(response, reporter.secrets)
                if response.status_code != 403 or leaked:
                    problems.append(f"{role} identity of {number}: {response.status_code}, "
                                    f"shows {leaked}")

    viewed = {(actor, detail) for actor, detail in db.session.execute(
        select(AuditEntry.actor_id, AuditEntry.detail)
        .where(AuditEntry.action == AuditAction.IDENTITY_VIEWED))}
    assert viewed == expected_viewers, "IDENTITY_VIEWED entries differ from the views given"

    # Every other staff page, after those views: nothing of either reporter, for anyone, the
    # national admin included (file names too: they are shown only in the logged reveal).
    assert len(paths) > 25
    for role, client in clients.items():
        for path in paths:
            response = client.get(path)
            if response.status_code >= 500:
                problems.append(f"{role} GET {path}: {response.status_code}")
            for reporter in (ANONYMOUS_REPORTER, NAMED_REPORTER):
                leaked = _found(response, reporter.secrets)
                if leaked:
                    problems.append(f"{role} GET {path} ({response.status_code}) shows "
                                    f"{reporter.name}'s {leaked}")
            if "/lampiran/" in path and role in CHECKED:
                disposition = response.headers.get("Content-Disposition", "")
                if response.status_code != 200 or not re.search(
                        r'filename="?lampiran-\d+\.jpg', disposition):
                    problems.append(f"{role} GET {path}: {response.status_code} "
                                    f"Content-Disposition {disposition!r}")

    # The staff mails (disposition to the liaison, assignment to the operator).
    staff_addresses = set(db.session.scalars(select(User.email).where(User.is_staff.is_(True))))
    mails = mails_to(*staff_addresses)
    assert {m.recipient for m in mails} >= {STAFF_EMAILS[LIAISON], STAFF_EMAILS[OPERATOR]}
    assert len(mails) >= 4
    for mail in mails:
        text = f"{mail.subject}\n{mail.body_text}\n{mail.body_html}"
        for reporter in (ANONYMOUS_REPORTER, NAMED_REPORTER):
            leaked = [s for s in reporter.secrets if s.lower() in text.lower()]
            if leaked:
                problems.append(f"mail to {mail.recipient} ({mail.subject}) shows {leaked}")

    assert not problems, "identity leaks:\n" + "\n".join(problems)
