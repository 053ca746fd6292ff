"""Institution admins edit their deadline policy and their added holidays through the real
forms; the numbers reach new clocks and a new holiday moves the open deadlines.

Time is frozen on Monday 2 March 2026, 10:00 in Jakarta: a report filed now must be verified
by the end of Thursday 5 March (3 working days: 3, 4, 5 March).
"""
import re
from datetime import date, datetime, timezone
from html import unescape

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from portal.demo import DEMO_PASSWORD
from portal.domain.calendar import end_of_day
from portal.domain.deadlines import apply_calendar_changes
from portal.domain.filing import ReportDraft, file_report
from portal.domain.workflow import Action, perform
from portal.extensions import db
from portal.models import (
    Category,
    DeadlineKind,
    DeadlinePolicy,
    Holiday,
    Institution,
    InstitutionKind,
    Membership,
    Report,
    ReportKind,
    Role,
    User,
)
from portal.storage import AttachmentStore
from tests.helpers import csrf_token, node, user

ADMIN = "admin@tangerangkab.example.id"
NATIONAL_ADMIN = "admin.nasional@lapor.example.id"
LIAISON = "penghubung.disdukcapil@tangerangkab.example.id"
SERANG_ADMIN = "admin@serangkab.example.id"
NOW = "2026-03-02 03:00:00"  # Monday, 10:00 in Jakarta
POLICY = {"verification_days": "3", "follow_up_days": "5", "urgent_follow_up_days": "2",
          "information_answer_days": "10", "information_extension_days": "7",
          "auto_complete_days": "10"}


@pytest.fixture
def frozen(demo):
    with freeze_time(NOW):
        yield demo






def signed_in(app, email):
    client = app.test_client()
    client.get("/bahasa/en")  # assertions read the English texts
    response = client.post("/staf/masuk", data={
        "csrf_token": csrf_token(client, "/staf/masuk"), "email": email,
        "password": DEMO_PASSWORD})
    assert response.status_code == 302, f"{email} could not sign in"
    return client


def scope_page(code=None) -> str:
    return f"/staf/kelola/tenggat/{node(code).id if code else 'nasional'}"


def post(client, path, page, **data):
    """A real form post, with the CSRF token of the page the form sits on."""
    data["csrf_token"] = csrf_token(client, page)
    return client.post(path, data=data)


def field_error(html, field) -> str:
    match = re.search(rf'id="{field}-errors">(.*?)</ul>', html, re.S)
    assert match, f"no error shown next to {field}"
    return unescape(re.sub(r"<[^>]+>", " ", match.group(1)))


def input_value(html, field) -> str:
    match = re.search(rf'<input[^>]*id="{field}"[^>]*>', html)
    assert match, f"no input {field}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return unescape(value.group(1)) if value else ""


def filed_report(app, tmp_path) -> Report:
    """A complaint for Tangerang's Disdukcapil, filed now: its verification clock runs."""
    category_id = db.session.scalar(select(Category.id).where(Category.code == "ADMINDUK"))
    draft = ReportDraft(kind=ReportKind.COMPLAINT, title="Blangko KTP habis",
                        body="Sudah dua minggu blangko KTP habis.", category_id=category_id,
                        name="Warga", email="warga@example.id")
    filed = file_report(draft, [], store=AttachmentStore(tmp_path / "uploads"),
                        now=datetime.now(timezone.utc))
    db.session.commit()
    return filed.report


def serang_admin():
    serang = Institution(kind=InstitutionKind.INSTITUTION, code="KAB-SERANG",
                         name="Pemerintah Kabupaten Serang", parent=node("KEMENPANRB"))
    account = User(email=SERANG_ADMIN, name="Admin Serang", is_staff=True)
    account.set_password(DEMO_PASSWORD)
    account.memberships.append(Membership(institution=serang, role=Role.INSTITUTION_ADMIN))
    db.session.add_all([serang, account])
    db.session.commit()


# --------------------------------------------------------------------------- the policy
def test_admin_sets_the_follow_up_days_and_a_newly_verified_report_gets_them(frozen, tmp_path):
    client = signed_in(frozen, ADMIN)
    index = client.get("/staf/kelola/").get_data(as_text=True)
    assert 'href="/staf/kelola/tenggat"' in index
    overview = client.get("/staf/kelola/tenggat").get_data(as_text=True)
    assert "Pemerintah Kabupaten Tangerang" in overview
    assert "National defaults" not in overview  # the national level is not this admin's

    page = scope_page("KAB-TANGERANG")
    html = client.get(page).get_data(as_text=True)
    assert input_value(html, "follow_up_days") == "5"
    assert "Default: 5 working days." in html and "Default: 10 working days." in html

    response = post(client, page, page, **{**POLICY, "follow_up_days": "7"})
    assert response.status_code == 302
    assert input_value(client.get(page).get_data(as_text=True), "follow_up_days") == "7"
    saved = db.session.scalar(select(DeadlinePolicy).where(
        DeadlinePolicy.institution_id == node("KAB-TANGERANG").id))
    assert saved.follow_up_days == 7 and saved.updated_by.email == ADMIN

    report = filed_report(frozen, tmp_path)
    perform(report, Action.VERIFY, actor=user(ADMIN), now=datetime.now(timezone.utc),
            expected_version=None)
    db.session.commit()
    assert report.deadline_kind is DeadlineKind.FOLLOW_UP and report.clock_days == 7
    # 3, 4, 5, 6, 9, 10, 11 March: seven working days from Monday.
    assert report.due_at == end_of_day(date(2026, 3, 11))


@pytest.mark.parametrize("value, message", [
    ("-3", "from 1 to 60"),
    ("99999999999999999999999", "from 1 to 60"),
    ("lima", "Not a valid integer value"),
    ("", "Give a number of working days."),
])
def test_bad_numbers_are_refused_next_to_the_field_and_kept(frozen, value, message):
    client = signed_in(frozen, ADMIN)
    page = scope_page("KAB-TANGERANG")
    response = post(client, page, page, **{**POLICY, "verification_days": value,
                                           "follow_up_days": "8"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = field_error(html, "verification_days")
    assert message in error
    assert error.count("Give a number") + error.count("Not a valid") == 1  # one message each
    assert input_value(html, "verification_days") == value  # what was typed stays
    assert input_value(html, "follow_up_days") == "8"
    assert db.session.scalar(select(DeadlinePolicy)) is None  # nothing saved


# --------------------------------------------------------------------------- holidays
def apply_changes() -> int:
    """What the worker does (``flask deadlines sweep``)."""
    moved = apply_calendar_changes(datetime.now(timezone.utc))
    db.session.commit()
    return moved


def test_a_new_holiday_moves_an_open_deadline_by_a_day_and_removing_it_moves_it_back(
        frozen, tmp_path):
    report = filed_report(frozen, tmp_path)
    assert report.due_at == end_of_day(date(2026, 3, 5))
    client = signed_in(frozen, ADMIN)
    page = scope_page("KAB-TANGERANG")

    response = post(client, f"{page}/libur", page, day="2026-03-03",
                    name="Cuti bersama kabupaten")
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Cuti bersama kabupaten" in html
    assert "Holiday added. 1 open deadline will move within a few minutes." in html
    assert "moving deadlines…" in html
    db.session.refresh(report)
    assert report.due_at == end_of_day(date(2026, 3, 5)), "the worker moves it, not the page"

    assert apply_changes() == 1
    db.session.refresh(report)
    assert report.due_at == end_of_day(date(2026, 3, 6))  # 4, 5, 6 March
    html = client.get(page).get_data(as_text=True)
    assert "moving deadlines…" not in html and "1 open deadline moved" in html

    holiday = db.session.scalar(select(Holiday))
    assert holiday.institution_id == node("KAB-TANGERANG").id
    response = post(client, f"{page}/libur/{holiday.id}/hapus", page)
    assert response.status_code == 302
    assert db.session.scalar(select(Holiday)) is None
    html = client.get(page).get_data(as_text=True)
    assert "1 open deadline will move back within a few minutes." in html
    assert apply_changes() == 1
    db.session.refresh(report)
    assert report.due_at == end_of_day(date(2026, 3, 5))


def test_a_holiday_on_a_weekend_moves_nothing(frozen, tmp_path):
    filed_report(frozen, tmp_path)
    client = signed_in(frozen, ADMIN)
    page = scope_page("KAB-TANGERANG")
    post(client, f"{page}/libur", page, day="2026-03-07", name="Sabtu")
    html = client.get(page).get_data(as_text=True)
    assert "Holiday added. No open deadline counts this day." in html
    assert apply_changes() == 0


def test_the_national_admin_adds_a_holiday_for_everywhere(frozen, tmp_path):
    report = filed_report(frozen, tmp_path)
    client = signed_in(frozen, NATIONAL_ADMIN)
    page = scope_page()
    assert "National defaults" in client.get("/staf/kelola/tenggat").get_data(as_text=True)
    response = post(client, f"{page}/libur", page, day="2026-03-04", name="Cuti bersama")
    assert response.status_code == 302
    holiday = db.session.scalar(select(Holiday))
    assert holiday.institution_id is None
    assert apply_changes() == 1
    db.session.refresh(report)
    assert report.due_at == end_of_day(date(2026, 3, 6))
    # The Tangerang admin sees it on their page but cannot remove it.
    admin = signed_in(frozen, ADMIN)
    html = admin.get(scope_page("KAB-TANGERANG")).get_data(as_text=True)
    assert "Cuti bersama" in html and f"/libur/{holiday.id}/hapus" not in html
    response = post(admin, f"{scope_page('KAB-TANGERANG')}/libur/{holiday.id}/hapus",
                    scope_page("KAB-TANGERANG"))
    assert response.status_code == 403
    assert db.session.scalar(select(Holiday)) is not None


@pytest.mark.parametrize("day, name, field", [
    ("2026-02-30", "Cuti bersama", "day"),
    ("99999-01-01", "Cuti bersama", "day"),
    ("0001-01-01", "Cuti bersama", "day"),  # a real date, far outside the calendar
    ("2026-03-03", "   ", "name"),
    ("2026-03-03", "x" * 121, "name"),
])
def test_bad_holidays_are_refused_next_to_the_field_and_kept(frozen, day, name, field):
    client = signed_in(frozen, ADMIN)
    page = scope_page("KAB-TANGERANG")
    response = post(client, f"{page}/libur", page, day=day, name=name)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, field).strip()
    assert input_value(html, "day") == day
    assert db.session.scalar(select(Holiday)) is None


def test_the_same_day_twice_is_refused(frozen):
    client = signed_in(frozen, ADMIN)
    page = scope_page("KAB-TANGERANG")
    assert post(client, f"{page}/libur", page, day="2026-03-03", name="A").status_code == 302
    response = post(client, f"{page}/libur", page, day="2026-03-03", name="B")
    assert response.status_code == 422
    assert "already a holiday" in field_error(response.get_data(as_text=True), "day")


# --------------------------------------------------------------------------- who may
def test_another_institutions_admin_gets_403(frozen):
    serang_admin()
    client = signed_in(frozen, SERANG_ADMIN)
    page = scope_page("KAB-TANGERANG")
    overview = client.get("/staf/kelola/tenggat").get_data(as_text=True)
    assert "Pemerintah Kabupaten Serang" in overview and "Tangerang" not in overview
    assert client.get(page).status_code == 403
    token = csrf_token(client, scope_page("KAB-SERANG"))
    assert client.post(page, data={**POLICY, "follow_up_days": "9",
                                   "csrf_token": token}).status_code == 403
    assert client.post(f"{page}/libur", data={"day": "2026-03-03", "name": "Libur",
                                              "csrf_token": token}).status_code == 403
    assert client.get(scope_page()).status_code == 403  # nor the national defaults
    assert db.session.scalar(select(DeadlinePolicy)) is None
    assert db.session.scalar(select(Holiday)) is None


def test_a_liaison_gets_403(frozen):
    client = signed_in(frozen, LIAISON)
    token = csrf_token(client, "/staf/")
    page = scope_page("KAB-TANGERANG")
    assert client.get("/staf/kelola/tenggat").status_code == 403
    assert client.get(page).status_code == 403
    assert client.post(page, data={**POLICY, "csrf_token": token}).status_code == 403
    assert client.post(f"{page}/libur", data={"day": "2026-03-03", "name": "Libur",
                                              "csrf_token": token}).status_code == 403
    assert db.session.scalar(select(Holiday)) is None


def test_an_unknown_scope_is_404(frozen):
    client = signed_in(frozen, ADMIN)
    for key in ("999999", "abc", "99999999999999999999", str(node("TNG-DISHUB").id)):
        assert client.get(f"/staf/kelola/tenggat/{key}").status_code == 404, key


# --------------------------------------------------------------------------- the audit log
SUPERVISOR = "inspektorat@tangerangkab.example.id"
SERANG_SUPERVISOR = "inspektorat@serangkab.example.id"


def serang_supervisor():
    serang = node("KAB-SERANG") or Institution(
        kind=InstitutionKind.INSTITUTION, code="KAB-SERANG", name="Pemerintah Kabupaten Serang",
        parent=node("KEMENPANRB"))
    account = User(email=SERANG_SUPERVISOR, name="Inspektorat Serang", is_staff=True)
    account.set_password(DEMO_PASSWORD)
    account.memberships.append(Membership(institution=serang, role=Role.SUPERVISOR))
    db.session.add(account)
    db.session.commit()


def test_deadline_changes_are_in_the_audit_log_of_that_institutions_supervisors(frozen):
    client = signed_in(frozen, ADMIN)
    page = scope_page("KAB-TANGERANG")
    assert post(client, page, page, **{**POLICY, "follow_up_days": "7"}).status_code == 302
    assert post(client, f"{page}/libur", page, day="2026-03-03",
                name="Cuti bersama kabupaten").status_code == 302
    holiday = db.session.scalar(select(Holiday))
    assert post(client, f"{page}/libur/{holiday.id}/hapus", page).status_code == 302
    saved = post(client, f"{page}/webhook", page,
                 webhook_url="https://wa.example.id/hook?token=rahasia-gateway")
    assert saved.status_code == 200
    secret = node("KAB-TANGERANG").webhook_secret
    serang_supervisor()

    html = unescape(signed_in(frozen, SUPERVISOR).get("/staf/audit").get_data(as_text=True))
    for text in ("Deadlines changed", "follow_up_days 5 → 7", "Holiday added",
                 "Holiday removed", "2026-03-03 Cuti bersama kabupaten",
                 "Webhook for deadline notices changed",
                 "(none) → https://wa.example.id/hook?…; new secret"):
        assert text in html, text
    assert secret not in html and "rahasia-gateway" not in html
    national = unescape(signed_in(frozen, NATIONAL_ADMIN).get("/staf/audit").get_data(
        as_text=True))
    assert "Holiday added" in national and "follow_up_days 5 → 7" in national

    other = unescape(signed_in(frozen, SERANG_SUPERVISOR).get("/staf/audit").get_data(
        as_text=True))
    for text in ("Deadlines changed", "Holiday added", "Holiday removed", "Cuti bersama",
                 "Webhook for deadline notices changed", "wa.example.id"):
        assert text not in other, text


# --------------------------------------------------------------------------- the webhook
def secret_on(html: str) -> str | None:
    match = re.search(r'id="webhook-secret">([^<]*)<', html)
    return match.group(1).strip() if match else None


@pytest.mark.parametrize("url, message", [
    ("", "Give the address of the webhook."),
    ("http://gateway.example.id/hook", "Use an https:// address"),
    ("ftp://gateway.example.id/hook", "Give an address that starts with https://."),
    ("https://", "This is not a web address."),
    ("https://gateway.example.id:port/hook", "This is not a web address."),
    ("https://" + "x" * 500, "at most 500 characters"),
])
def test_a_bad_webhook_address_is_refused_next_to_the_field_and_kept(frozen, url, message):
    client = signed_in(frozen, ADMIN)
    page = scope_page("KAB-TANGERANG")
    response = post(client, f"{page}/webhook", page, webhook_url=url)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in field_error(html, "webhook_url")
    assert input_value(html, "webhook_url") == url
    assert secret_on(html) is None
    regency = node("KAB-TANGERANG")
    assert regency.webhook_url is None and regency.webhook_secret is None


def test_the_webhook_secret_is_shown_once_and_can_be_made_anew(frozen):
    client = signed_in(frozen, ADMIN)
    page = scope_page("KAB-TANGERANG")
    html = client.get(page).get_data(as_text=True)
    assert "No webhook: deadline notices go by e-mail only." in html
    assert html.count('name="webhook_url"') == 1 and "<title>Deadlines and holidays:" in html

    response = post(client, f"{page}/webhook", page, webhook_url="https://wa.example.id/hook")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    first = secret_on(response.get_data(as_text=True))
    regency = node("KAB-TANGERANG")
    assert re.fullmatch(r"[0-9a-f]{64}", first) and regency.webhook_secret == first
    assert regency.webhook_url == "https://wa.example.id/hook"
    html = client.get(page).get_data(as_text=True)
    assert "https://wa.example.id/hook" in html
    assert first not in html and secret_on(html) is None, "shown once only"

    # A new address keeps the secret (and does not show it); a new secret replaces it.
    response = post(client, f"{page}/webhook", page, webhook_url="http://127.0.0.1:8080/hook")
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    assert "Webhook saved. Its secret is unchanged." in html and first not in html
    db.session.refresh(regency)
    assert regency.webhook_url == "http://127.0.0.1:8080/hook"
    assert regency.webhook_secret == first

    response = post(client, f"{page}/webhook/rahasia", page)
    assert response.status_code == 200
    second = secret_on(response.get_data(as_text=True))
    db.session.refresh(regency)
    assert second != first and regency.webhook_secret == second
    assert "the old one no longer works" in response.get_data(as_text=True)
    assert second not in client.get(page).get_data(as_text=True)

    response = post(client, f"{page}/webhook/hapus", page)
    assert response.status_code == 302
    db.session.refresh(regency)
    assert regency.webhook_url is None and regency.webhook_secret is None
    html = client.get(page).get_data(as_text=True)
    assert "Webhook removed" in html and "No webhook" in html
    # Without an address there is no secret to make.
    response = post(client, f"{page}/webhook/rahasia", page)
    assert response.status_code == 302
    assert "Set the address of the webhook first." in client.get(page).get_data(as_text=True)
    db.session.refresh(regency)
    assert regency.webhook_secret is None


def test_who_may_set_a_webhook(frozen):
    page = scope_page("KAB-TANGERANG")
    national = signed_in(frozen, NATIONAL_ADMIN)
    response = post(national, f"{page}/webhook", page, webhook_url="https://wa.example.id/n")
    assert response.status_code == 200 and secret_on(response.get_data(as_text=True))
    assert node("KAB-TANGERANG").webhook_url == "https://wa.example.id/n"
    # The national level has no webhook (notices go to institutions).
    assert "webhook_url" not in national.get(scope_page()).get_data(as_text=True)
    token = csrf_token(national, scope_page())
    assert national.post(f"{scope_page()}/webhook", data={
        "csrf_token": token, "webhook_url": "https://x.example.id/"}).status_code == 404

    serang_admin()
    other = signed_in(frozen, SERANG_ADMIN)
    token = csrf_token(other, scope_page("KAB-SERANG"))
    for path in (f"{page}/webhook", f"{page}/webhook/rahasia", f"{page}/webhook/hapus"):
        response = other.post(path, data={"csrf_token": token,
                                          "webhook_url": "https://evil.example.id/"})
        assert response.status_code == 403, path
    liaison = signed_in(frozen, LIAISON)
    token = csrf_token(liaison, "/staf/")
    assert liaison.post(f"{page}/webhook/hapus", data={"csrf_token": token}).status_code == 403
    db.session.expire_all()
    assert node("KAB-TANGERANG").webhook_url == "https://wa.example.id/n"
