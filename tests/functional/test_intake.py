"""Staff intake (/staf/laporan/baru) through the form: each channel, the social-media link,
anonymous reports (the staff member who typed the identity cannot see it again), bad input
kept as typed, the tracking code shown once, who may log."""
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from portal.demo import DEMO_PASSWORD
from portal.domain.tracking import find_report_by_tracking_code
from portal.extensions import db
from portal.models import (
    Category,
    Channel,
    OutboxMessage,
    Report,
    ReporterIdentity,
    ReportStatus,
)
from tests.helpers import CODE_PATTERN, csrf_token, node, user

NATIONAL_ADMIN = "admin.nasional@lapor.example.id"
ADMIN = "admin@tangerangkab.example.id"
LIAISON = "penghubung.disdukcapil@tangerangkab.example.id"
OPERATOR = "operator.disdukcapil@tangerangkab.example.id"
SUPERVISOR = "inspektorat@tangerangkab.example.id"
PAGE = "/staf/laporan/baru"
DONE = "/staf/laporan/baru/tercatat"
SECRET_NAME = "Purnomo Hadisiswoyo"
SECRET_PHONE = "081377778888"
SECRET_EMAIL = "purnomo.hadi@example.id"


def signed_in(app, email):
    client = app.test_client()
    client.get("/bahasa/en")  # assertions read the English texts
    response = client.post("/staf/masuk", data={
        "csrf_token": csrf_token(client, "/staf/masuk"), "email": email,
        "password": DEMO_PASSWORD})
    assert response.status_code == 302
    return client


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def form(**overrides) -> dict:
    category = db.session.scalar(select(Category.id).where(Category.code == "INFRASTRUKTUR"))
    data = {"channel": "phone", "kind": "complaint",
            "title": "Jembatan kayu di Desa Sukamulya patah",
            "body": "Jembatan penghubung dua kampung patah sejak hujan deras minggu lalu.",
            "category": category, "name": "Siti Aminah", "phone": "0812 3456 7890",
            "institution": node("KAB-TANGERANG").id}
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def log(client, **overrides):
    return client.post(PAGE, data={"csrf_token": csrf_token(client, PAGE), **form(**overrides)})


def shown_code(response) -> str:
    match = CODE_PATTERN.search(response.get_data(as_text=True))
    assert match, "no tracking code on the page"
    return match.group(1).strip()


@pytest.mark.parametrize("channel", ["phone", "sms", "whatsapp", "social_media", "email",
                                     "walk_in"])
def test_each_channel_enters_the_workflow(demo, channel):
    operator = signed_in(demo, OPERATOR)
    link = "https://x.com/warga/status/123" if channel == "social_media" else None
    response = log(operator, channel=channel, channel_link=link)
    assert response.status_code == 302 and response.headers["Location"].endswith(DONE)
    report = db.session.scalar(select(Report))
    assert report.channel is Channel(channel)
    assert report.logged_by_id == user(OPERATOR).id
    assert report.channel_link == link
    assert report.status is ReportStatus.SUBMITTED and report.due_at is not None
    assert report.current_institution_id == node("KAB-TANGERANG").id
    assert not report.is_anonymous


def test_the_tracking_code_is_shown_once_and_mailed(demo):
    admin = signed_in(demo, ADMIN)
    response = log(admin, channel="email", email="siti.aminah@example.id")
    assert response.status_code == 302
    page = admin.get(DONE)
    code = shown_code(page)
    report = find_report_by_tracking_code(code)
    assert report is not None and report.public_number in text(page)
    assert "shown only this once" in text(page)
    again = admin.get(DONE)
    assert again.status_code == 200 and code not in text(again)
    assert not CODE_PATTERN.search(again.get_data(as_text=True))
    mail = db.session.scalar(select(OutboxMessage))
    assert mail.recipient == "siti.aminah@example.id" and code in mail.body_text


def test_social_media_needs_the_post_s_link(demo):
    operator = signed_in(demo, OPERATOR)
    for link, message in ((None, "Give the link to the post"),
                          ("javascript:alert(1)", "starting with http"),
                          ("x.com/warga/1", "starting with http")):
        response = log(operator, channel="social_media", channel_link=link)
        assert response.status_code == 422
        assert message in text(response)
    response = log(operator, channel="phone", channel_link="https://x.com/warga/1")
    assert response.status_code == 422 and "social media only" in text(response)
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


def test_bad_input_keeps_everything_typed(demo):
    liaison = signed_in(demo, LIAISON)
    response = log(liaison, title="Jln", body="Rusak.", name=SECRET_NAME, phone=None,
                   email="bukan-email", channel="whatsapp", nik="12345",
                   village="Desa Sukamulya", address="Gang Melati 4")
    assert response.status_code == 422
    page = text(response)
    for message in ("The title must be 5 to 200", "The description must be 20",
                    "not a valid e-mail", "A NIK has exactly 16 digits"):
        assert message in page, message
    for typed in (f'value="{SECRET_NAME}"', 'value="bukan-email"', 'value="Jln"',
                  "\nRusak.</textarea>", 'value="Desa Sukamulya"', 'value="Gang Melati 4"',
                  'value="12345"'):
        assert typed in page, typed
    [checked] = re.findall(r'<input [^>]*name="channel"[^>]*>', page.replace(
        "\n", " "))[2:3]  # phone, sms, whatsapp, ...
    assert 'value="whatsapp"' in checked and "checked" in checked
    # Named without a contact: the filing rule, and nothing is saved.
    response = log(liaison, phone=None)
    assert response.status_code == 422 and "e-mail address or a phone number" in text(response)
    response = log(liaison, institution=node("KEMENPANRB").id)
    assert response.status_code == 422 and 'id="institution-errors"' in text(response)
    assert db.session.scalar(select(func.count()).select_from(Report)) == 0


def test_an_anonymous_identity_is_hidden_from_whoever_typed_it(demo):
    admin = signed_in(demo, ADMIN)
    response = log(admin, is_anonymous="y", name=SECRET_NAME, phone=SECRET_PHONE,
                   email=SECRET_EMAIL, channel="walk_in")
    assert response.status_code == 302
    code = shown_code(admin.get(DONE))
    report = find_report_by_tracking_code(code)
    assert report.is_anonymous and report.logged_by_id == user(ADMIN).id
    identity = db.session.scalar(select(ReporterIdentity).where(
        ReporterIdentity.report_id == report.id))
    assert identity.name == SECRET_NAME

    page = admin.get(f"/staf/laporan/{report.public_number}")
    assert page.status_code == 200
    assert "Show identity" not in text(page)
    reveal = admin.post(f"/staf/laporan/{report.public_number}/identitas",
                        data={"csrf_token": csrf_token(admin, "/staf/")})
    assert reveal.status_code == 403
    for response in (page, reveal, admin.get("/staf/")):
        for secret in (SECRET_NAME, SECRET_PHONE, SECRET_EMAIL):
            assert secret not in text(response)

    national = signed_in(demo, NATIONAL_ADMIN)
    reveal = national.post(f"/staf/laporan/{report.public_number}/identitas",
                           data={"csrf_token": csrf_token(national, "/staf/")})
    assert reveal.status_code == 200 and SECRET_NAME in text(reveal)


def test_anonymous_without_any_identity(demo):
    operator = signed_in(demo, OPERATOR)
    response = log(operator, is_anonymous="y", name=None, phone=None, channel="sms")
    assert response.status_code == 302
    report = db.session.scalar(select(Report))
    assert report.is_anonymous and report.channel is Channel.SMS
    assert db.session.scalar(select(ReporterIdentity)) is None


def test_who_may_log(demo, client):
    assert client.get(PAGE).status_code == 302  # to the sign-in page
    supervisor = signed_in(demo, SUPERVISOR)
    assert supervisor.get(PAGE).status_code == 403
    response = supervisor.post(PAGE, data={"csrf_token": csrf_token(supervisor, "/staf/"),
                                           **form()})
    assert response.status_code == 403
    national = signed_in(demo, NATIONAL_ADMIN)
    page = text(national.get(PAGE))
    assert "Log a report for a citizen" in page
    # The national administrator logs at the national level: routed by category.
    response = log(national, institution=node("KEMENPANRB").id)
    assert response.status_code == 302
    report = db.session.scalar(select(Report))
    assert report.current_institution_id == node("KAB-TANGERANG").id  # INFRASTRUKTUR's owner
    assert report.logged_by_id == user(NATIONAL_ADMIN).id
    assert db.session.scalar(select(func.count()).select_from(Report)) == 1


def test_the_post_s_link_is_shown_with_the_identity_only(demo):
    """A social-media post names its author: its link is part of the identity, shown in the
    logged reveal, not on the report page."""
    admin = signed_in(demo, ADMIN)
    link = "https://x.com/purnomo_hadi/status/987654321"
    assert log(admin, channel="social_media", channel_link=link).status_code == 302
    report = db.session.scalar(select(Report))
    page = text(admin.get(f"/staf/laporan/{report.public_number}"))
    assert "Social media" in page and "logged by" in page and link not in page
    reveal = admin.post(f"/staf/laporan/{report.public_number}/identitas",
                        data={"csrf_token": csrf_token(admin, "/staf/")})
    assert reveal.status_code == 200 and link in text(reveal)
    supervisor = signed_in(demo, SUPERVISOR)
    assert link not in text(supervisor.get(f"/staf/laporan/{report.public_number}"))
