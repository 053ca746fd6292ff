"""The feed sources page (national administrator only): add a source and see its key once,
make a new key, disable and enable; and an anonymous feed reporter's identity on no staff page."""
import re
from html import unescape

import pytest
from sqlalchemy import select

from portal.demo import DEMO_PASSWORD
from portal.domain import feed
from portal.extensions import db
from portal.models import AuditAction, AuditEntry, FeedSource, Report
from portal.models.types import utcnow
from tests.helpers import csrf_token

NATIONAL_ADMIN = "admin.nasional@lapor.example.id"
ADMIN = "admin@tangerangkab.example.id"
LIAISON = "penghubung.disdukcapil@tangerangkab.example.id"
SUPERVISOR = "inspektorat@tangerangkab.example.id"
PAGE = "/staf/kelola/feed"
KEY_PATTERN = re.compile(r'id="feed-key">([^<]+)<')


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


def shown_key(response) -> str:
    match = KEY_PATTERN.search(response.get_data(as_text=True))
    assert match, "no key on the page"
    return match.group(1)


@pytest.fixture
def national(demo):
    return signed_in(demo, NATIONAL_ADMIN)


def test_the_national_admin_adds_a_source_and_sees_its_key_once(national):
    token = csrf_token(national, PAGE)
    response = national.post(PAGE, data={"csrf_token": token, "code": "lapor-nasional",
                                         "name": "LAPOR! Nasional"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    key = shown_key(response)
    source = db.session.scalar(select(FeedSource))
    assert source.code == "LAPOR-NASIONAL" and feed.authenticate(key) == source
    page = national.get(PAGE)
    assert "LAPOR! Nasional" in text(page) and key not in text(page)
    assert f"{key[:10]}…" in text(page)  # the hint tells keys apart
    assert "http://portal.test/api/feed/v1/reports with the header “Authorization: Bearer " \
           "<key>”" in text(page)
    entry = db.session.scalar(select(AuditEntry))
    assert entry.action is AuditAction.FEED_SOURCE_CHANGED and key not in entry.detail


@pytest.mark.parametrize("code, name, message", [
    ("", "LAPOR! Nasional", "Write a code."),
    ("LAPOR NASIONAL", "LAPOR! Nasional", "A code has 2 to 40 letters"),
    ("LAPOR-NASIONAL", "", "Write a name."),
    ("EXISTING", "Lagi", "A feed source with this code exists already."),
])
def test_bad_sources_are_refused_next_to_the_field(national, code, name, message):
    feed.add_source(None, code="EXISTING", name="Sudah ada", now=utcnow())
    db.session.commit()
    response = national.post(PAGE, data={"csrf_token": csrf_token(national, PAGE),
                                         "code": code, "name": name})
    assert response.status_code == 422
    assert message in text(response) and 'aria-invalid="true"' in text(response)
    assert 'id="feed-key"' not in text(response)
    assert len(db.session.scalars(select(FeedSource)).all()) == 1


def test_a_new_key_replaces_the_old_one(national):
    issued = feed.add_source(None, code="LAPOR-NASIONAL", name="LAPOR! Nasional", now=utcnow())
    db.session.commit()
    response = national.post(f"{PAGE}/{issued.source.id}/kunci",
                             data={"csrf_token": csrf_token(national, PAGE)})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "the old one no longer works" in text(response)
    new_key = shown_key(response)
    assert feed.authenticate(issued.key) is None
    assert feed.authenticate(new_key).code == "LAPOR-NASIONAL"


def test_disable_and_enable(national):
    issued = feed.add_source(None, code="LAPOR-NASIONAL", name="LAPOR! Nasional", now=utcnow())
    db.session.commit()
    token = csrf_token(national, PAGE)
    response = national.post(f"{PAGE}/{issued.source.id}/nonaktifkan",
                             data={"csrf_token": token}, follow_redirects=True)
    assert "Feed source disabled" in text(response) and "Disabled" in text(response)
    assert feed.authenticate(issued.key) is None
    response = national.post(f"{PAGE}/{issued.source.id}/aktifkan",
                             data={"csrf_token": token}, follow_redirects=True)
    assert "enabled again" in text(response)
    assert feed.authenticate(issued.key) is not None
    assert national.post(f"{PAGE}/999/aktifkan", data={"csrf_token": token}).status_code == 404


def test_only_the_national_admin_sees_the_page_and_its_link(demo, national):
    assert "Feed sources" in text(national.get("/staf/kelola/"))
    admin = signed_in(demo, ADMIN)
    assert "Feed sources" not in text(admin.get("/staf/kelola/"))
    assert admin.get(PAGE).status_code == 403
    token = csrf_token(admin, "/staf/kelola/unit")
    response = admin.post(PAGE, data={"csrf_token": token, "code": "X1", "name": "X"})
    assert response.status_code == 403
    assert db.session.scalar(select(FeedSource)) is None


def test_an_anonymous_feed_reporter_appears_on_no_staff_page(demo, client):
    secrets = ["Sutrisno Wibowo", "sutrisno.rahasia@example.id", "081298761234"]
    key = feed.add_source(None, code="LAPOR-NASIONAL", name="LAPOR! Nasional", now=utcnow()).key
    db.session.commit()
    row = {"external_id": "ANON-1", "kind": "complaint", "category": "ADMINDUK",
           "title": "Pungutan liar di loket kartu keluarga",
           "body": "Petugas meminta uang tambahan agar kartu keluarga selesai hari itu juga.",
           "is_anonymous": True, "reporter_name": secrets[0], "reporter_email": secrets[1],
           "reporter_phone": secrets[2]}
    response = client.post("/api/feed/v1/reports", json=row,
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    number = response.json["results"][0]["number"]
    assert db.session.scalar(select(Report).where(Report.public_number == number)).is_anonymous
    for email in (NATIONAL_ADMIN, ADMIN, LIAISON, SUPERVISOR):
        staff = signed_in(demo, email)
        for path in ("/staf/", f"/staf/?q=loket", f"/staf/laporan/{number}", PAGE,
                     "/staf/audit"):
            page = staff.get(path)
            assert page.status_code in (200, 403, 404), (email, path, page.status_code)
            for secret in secrets:
                assert secret not in text(page), (email, path, secret)
        if email in (NATIONAL_ADMIN, ADMIN):
            assert "Pungutan liar" in text(staff.get(f"/staf/laporan/{number}"))
    # The identity is kept: the national administrator alone sees it, through the logged action.
    national = signed_in(demo, NATIONAL_ADMIN)
    revealed = national.post(f"/staf/laporan/{number}/identitas",
                             data={"csrf_token": csrf_token(national, "/staf/")})
    assert revealed.status_code == 200 and secrets[0] in text(revealed)
    admin = signed_in(demo, ADMIN)
    refused = admin.post(f"/staf/laporan/{number}/identitas",
                         data={"csrf_token": csrf_token(admin, "/staf/")})
    assert refused.status_code == 403 and secrets[0] not in text(refused)
