"""Similar reports on the filing page, through HTTP: the fragment for the script, the
"Check for similar reports" button without JavaScript (everything typed kept), and "Support
this report" (once per browser, once per account; a friendly answer the second time)."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Report, ReportStatus, ReportSupport
from portal.models.types import utcnow
from tests.functional.test_citizen_accounts import register, sign_in, sign_out
from tests.helpers import csrf_token, report_form
from tests.similar_helpers import category_id, district_id, make_report

TITLE = "Jalan berlubang depan Pasar Cikupa"
BODY = ("Jalan Raya Serang km 24 di depan pasar berlubang besar, sudah 2 minggu belum "
        "diperbaiki, banyak motor jatuh.")
TYPED_TITLE = "Jalan rusak di depan Pasar Cikupa"
TYPED_BODY = ("Lubang besar di Jalan Raya Serang km 24 depan Pasar Cikupa sudah dua minggu, "
              "membahayakan pengendara motor.")


@pytest.fixture(autouse=True)
def english(demo, client):
    client.get("/bahasa/en")


@pytest.fixture
def public(tmp_path):
    """A verified public report about the pothole, filed yesterday."""
    report = make_report(TITLE, BODY, created=utcnow() - timedelta(days=1),
                         store_path=tmp_path / "uploads")
    db.session.commit()
    return report


def fragment(client, title=TYPED_TITLE, body="", category=None, district=None):
    return client.get("/lapor/serupa", query_string={
        "title": title, "body": body,
        "category_id": category_id() if category is None else category,
        "district_id": district_id() if district is None else district})


def supporters(report) -> int:
    return db.session.scalar(select(func.count()).select_from(ReportSupport)
                             .where(ReportSupport.report_id == report.id))


def support_cookie(response) -> str | None:
    """The support cookie this response sets (the session cookie comes too, for the flash)."""
    return next((c for c in response.headers.getlist("Set-Cookie")
                 if c.startswith("lapor_dukung=")), None)


def support(client, number, *, fetch=False, token=None):
    headers = {"X-Requested-With": "fetch"} if fetch else {}
    return client.post(f"/laporan/{number}/dukung", headers=headers, data={
        "csrf_token": token or csrf_token(client, "/lapor"), "next": "/lapor"})


# --------------------------------------------------------------------------- the fragment
def test_the_fragment_lists_the_similar_report_with_its_public_facts(client, public):
    response = fragment(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "<html" not in html  # a fragment, not a page
    assert TITLE in html and public.public_number in html
    assert "Cikupa" in html and "Verified" in html
    assert re.search(r'class="supporters">0<', html)
    assert f'formaction="/laporan/{public.public_number}/dukung"' in html
    assert 'form="support-form"' in html
    # Nothing about the reporter, though the report has a name, e-mail, phone and NIK.
    for secret in ("Siti", "siti.rahma@example.id", "081298765432", "3603124501900003"):
        assert secret not in html


def test_an_anonymous_report_is_listed_without_its_reporter(client, tmp_path):
    make_report(TITLE, BODY, created=utcnow() - timedelta(days=2), anonymous=True,
                name="Budi Santoso", email="budi.s@example.id", store_path=tmp_path)
    db.session.commit()
    html = fragment(client).get_data(as_text=True)
    assert TITLE in html
    assert "Budi" not in html and "budi.s@example.id" not in html


@pytest.mark.parametrize("options", [
    {"status": ReportStatus.SUBMITTED}, {"status": ReportStatus.COMPLETED},
    {"confidential": True}, {"district": "Balaraja"},
], ids=["unverified", "completed", "confidential", "other kecamatan"])
def test_the_fragment_leaves_out_what_the_public_may_not_see(client, tmp_path, options):
    make_report(TITLE, BODY, created=utcnow() - timedelta(days=1), store_path=tmp_path,
                **options)
    db.session.commit()
    assert fragment(client).get_data(as_text=True).strip() == ""


@pytest.mark.parametrize("query", [
    {"district": ""}, {"category": ""}, {"category": "abc"}, {"district": "99999999999999999999"},
    {"title": "Jal"},
], ids=["no kecamatan", "no category", "not a number", "too large", "short title"])
def test_the_fragment_is_empty_without_enough_to_compare(client, public, query):
    response = fragment(client, **query)
    assert response.status_code == 200 and response.get_data(as_text=True).strip() == ""


# --------------------------------------------------------------------------- without script
def typed_form(**overrides):
    data = report_form(title=TYPED_TITLE, body=TYPED_BODY, category=str(category_id()),
                       district=str(district_id()), name="Rina Wulandari",
                       email="rina@example.id", phone="0813 2222 3333", nik="3603015507920004",
                       village="Talaga", address="Jl. Raya Serang km 24",
                       event_date="2026-01-05")
    data.update(is_confidential="y", **overrides)
    return data


def test_the_check_button_shows_the_list_and_keeps_everything_typed(client, public):
    data = typed_form(check="Check for similar reports")
    data["csrf_token"] = csrf_token(client, "/lapor")
    response = client.post("/lapor", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert public.public_number in html and "class=\"supporters\">0<" in html
    assert "error-summary" not in html  # checking is not sending: no complaints
    assert f'value="{TYPED_TITLE}"' in html
    assert TYPED_BODY in html
    for value in ("Rina Wulandari", "rina@example.id", "0813 2222 3333", "3603015507920004",
                  "Talaga", "Jl. Raya Serang km 24", "2026-01-05"):
        assert f'value="{value}"' in html, value
    assert re.search(rf'<option selected value="{category_id()}"', html)
    assert re.search(rf'<option selected value="{district_id()}"', html)
    assert re.search(r'<input [^>]*checked id="kind-1"', html)
    assert re.search(r'<input [^>]*checked id="is_confidential"', html)
    assert db.session.scalar(select(func.count()).select_from(Report)) == 1  # nothing filed


def test_the_check_button_says_so_when_nothing_is_similar(client):
    data = typed_form(check="1")
    data["csrf_token"] = csrf_token(client, "/lapor")
    html = client.post("/lapor", data=data,
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "No similar public report was found" in html
    assert f'value="{TYPED_TITLE}"' in html


def test_the_check_button_asks_to_choose_files_again(client, public):
    from io import BytesIO

    from tests.helpers import jpeg_bytes

    data = typed_form(check="1")
    data["csrf_token"] = csrf_token(client, "/lapor")
    data["attachments"] = (BytesIO(jpeg_bytes()), "jalan.jpg")
    html = client.post("/lapor", data=data,
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "choose your photos or documents again" in html


def test_checking_does_not_use_up_the_filing_limit(app, client, public):
    app.config["FILING_LIMIT"] = "2 per hour"
    for _ in range(3):
        data = typed_form(check="1")
        data["csrf_token"] = csrf_token(client, "/lapor")
        assert client.post("/lapor", data=data,
                           content_type="multipart/form-data").status_code == 200
    data = typed_form()
    data["csrf_token"] = csrf_token(client, "/lapor")
    response = client.post("/lapor", data=data, content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith("/terkirim")


def test_the_filing_page_carries_the_script_and_the_support_form(client):
    html = client.get("/lapor").get_data(as_text=True)
    assert '<script src="/static/js/similar.js" defer></script>' in html
    assert re.search(r'<form id="support-form" method="post">\s*<input type="hidden" '
                     r'name="csrf_token"', html)
    assert 'id="similar-reports" class="similar-reports" aria-live="polite"' in html
    assert "<script>" not in html  # no inline script
    # "Send report" is still the form's only submit <button>; checking is an <input>.
    assert len(re.findall(r'<button type="submit"', html)) == 1
    assert re.search(r'<input type="submit" name="check"', html)
    assert client.get("/static/js/similar.js").status_code == 200


# --------------------------------------------------------------------------- supporting
def test_a_guest_supports_once_per_browser(client, app, public):
    response = support(client, public.public_number)
    assert response.status_code == 302 and response.headers["Location"] == "/lapor"
    cookie = support_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=" in cookie
    assert "Thank you, your support was counted." in client.get("/lapor").get_data(as_text=True)
    assert supporters(public) == 1

    again = support(client, public.public_number)
    assert again.status_code == 302 and support_cookie(again) is None
    assert "already supported" in client.get("/lapor").get_data(as_text=True)
    assert supporters(public) == 1

    other_browser = app.test_client()
    other_browser.get("/bahasa/en")
    support(other_browser, public.public_number)
    assert supporters(public) == 2


def test_the_list_shows_the_new_count_and_that_this_browser_supports_it(client, public):
    support(client, public.public_number)
    html = fragment(client).get_data(as_text=True)
    assert re.search(r'class="supporters">1<', html)
    assert "You support this report." in html and "data-support" not in html


def test_a_forged_cookie_is_not_taken(client, public):
    support(client, public.public_number)
    client.set_cookie("lapor_dukung", "someone-else-s-token.forged-signature")
    response = support(client, public.public_number)
    assert support_cookie(response) is not None  # a new, signed token
    assert supporters(public) == 2  # a cleared cookie counts anew: the rate limit bounds it


def test_a_citizen_account_supports_once_from_any_browser(app, client, public):
    register(client, email="dewi@example.id")
    assert support(client, public.public_number).status_code == 302
    assert support_cookie(support(client, public.public_number)) is None  # no guest token
    phone = app.test_client()
    phone.get("/bahasa/en")
    sign_in(phone, "dewi@example.id")
    support(phone, public.public_number)
    assert "already supported" in phone.get("/lapor").get_data(as_text=True)
    assert supporters(public) == 1
    row = db.session.scalar(select(ReportSupport).where(ReportSupport.report_id == public.id))
    assert row.user_id is not None and row.browser_hash is None
    sign_out(client)


def test_the_script_gets_the_message_alone(client, public):
    response = support(client, public.public_number, fetch=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.strip() == ('<p class="flash flash-success">Thank you, your support was '
                            'counted.</p>')
    assert "Thank you" not in client.get("/lapor").get_data(as_text=True)  # no flash left


def test_a_confidential_report_cannot_be_supported(client, tmp_path):
    hidden = make_report(TITLE, BODY, created=utcnow(), confidential=True, store_path=tmp_path)
    db.session.commit()
    assert support(client, hidden.public_number, fetch=True).status_code == 422
    response = support(client, hidden.public_number)
    assert response.status_code == 302
    assert "cannot be supported" in client.get("/lapor").get_data(as_text=True)
    assert supporters(hidden) == 0


def test_support_needs_a_report_and_the_csrf_token(client, public):
    assert support(client, "LPR-2026-9999999").status_code == 404
    assert support(client, public.public_number, token="not-the-token").status_code == 400
    assert supporters(public) == 0


def test_support_is_rate_limited(app, client, public, tmp_path):
    app.config["SUPPORT_LIMIT"] = "2 per hour"
    others = [make_report(TITLE, BODY, created=utcnow(), store_path=tmp_path) for _ in range(2)]
    db.session.commit()
    token = csrf_token(client, "/lapor")
    assert support(client, public.public_number, token=token).status_code == 302
    assert support(client, others[0].public_number, token=token).status_code == 302
    assert support(client, others[1].public_number, token=token).status_code == 429
    assert supporters(others[1]) == 0
