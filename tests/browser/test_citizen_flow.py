"""The citizen's whole way in real Chromium: choose, file with a photo, get the code, track.

The interface is being translated, so nothing here depends on the wording: fields are found by
their ids, the category by its (data, not translated) name, and results by the report's own
title, its public number and the URL.
"""
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.demo import CATEGORIES
from portal.extensions import db
from portal.models import Report

pytestmark = pytest.mark.browser

CATEGORY_CODE, CATEGORY_LABEL = next(
    (code, name_id) for code, name_id, *_ in CATEGORIES if code == "INFRASTRUKTUR"
)
TITLE = "Jalan berlubang di depan Pasar Cikupa"
BODY = ("Lubang besar di Jalan Raya Serang km 24, depan Pasar Cikupa, sudah dua minggu dan "
        "membahayakan pengendara motor, terutama malam hari.")
CODE_SHAPE = re.compile(r"^[2-9A-HJKMNP-TV-Z]{5}-[2-9A-HJKMNP-TV-Z]{5}-[2-9A-HJKMNP-TV-Z]{5}$")




@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "jalan-rusak.jpg"
    Image.new("RGB", (640, 480), (120, 110, 100)).save(path, "JPEG", quality=80)
    return path


def test_citizen_files_an_anonymous_complaint_with_a_photo_and_tracks_it(
    demo, live_server, page: Page, photo
):
    page.goto(live_server.url + "/")
    page.locator('a.kind-card[href$="kind=complaint"]').click()

    expect(page).to_have_url(re.compile(r"/lapor\?kind=complaint$"))
    expect(page.locator('input[name="kind"][value="complaint"]')).to_be_checked()
    page.locator("#title").fill(TITLE)
    page.locator("#body").fill(BODY)
    page.locator("#category").select_option(label=CATEGORY_LABEL)
    page.locator("#is_anonymous").check()
    page.locator("#attachments").set_input_files(photo)
    page.locator("form.report-form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/lapor/terkirim$"))
    code = page.locator("#tracking-code").inner_text().strip()
    number = page.locator(".receipt .public-number").inner_text().strip()
    assert CODE_SHAPE.match(code), code
    assert re.fullmatch(r"LPR-\d{4}-\d+", number), number

    report = db.session.scalar(select(Report).where(Report.public_number == number))
    assert report.title == TITLE
    assert report.kind.value == "complaint"
    assert report.category.code == CATEGORY_CODE
    assert report.is_anonymous is True
    assert len(report.attachments) == 1

    page.locator('.receipt a[href$="/lacak"]').click()
    expect(page).to_have_url(f"{live_server.url}/lacak")
    page.locator("#code").fill(code)
    page.locator("#code").press("Enter")

    expect(page).to_have_url(f"{live_server.url}/lacak/{number}")
    expect(page.locator("h1")).to_have_text(TITLE)
    expect(page.locator(".facts .public-number")).to_have_text(number)
    expect(page.locator(".facts .status")).to_have_class(re.compile(r"\bstatus-submitted\b"))
    expect(page.locator(".report-body")).to_have_text(BODY)


def test_validation_error_keeps_what_was_typed(demo, live_server, page: Page):
    page.goto(live_server.url + "/lapor?kind=complaint")
    page.locator("#body").fill(BODY)
    page.locator("#category").select_option(label=CATEGORY_LABEL)
    page.locator("form.report-form button[type=submit]").click()

    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator('#error-summary a[href="#title"]')).to_be_visible()
    expect(page.locator("#title")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#title-errors")).to_be_visible()
    expect(page.locator("#body")).to_have_value(BODY)
    expect(page.locator("#category")).to_have_value(re.compile(r"^\d+$"))
    expect(page.locator('input[name="kind"][value="complaint"]')).to_be_checked()
    assert db.session.scalar(select(Report.id)) is None
