"""Similar reports in real Chromium: while the citizen types, a verified public report about
the same pothole appears next to the form; supporting it counts, in place, without losing what
was typed. Without JavaScript the check button and the plain support form do the same.

Nothing here depends on the wording, which is being translated: elements are found by ids,
classes and the report's own number and title.
"""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from portal.demo import CATEGORIES
from portal.extensions import db
from portal.models import ReportSupport
from portal.models.types import utcnow
from tests.browser.test_accessibility import assert_accessible
from tests.similar_helpers import make_report

pytestmark = pytest.mark.browser

CATEGORY_LABEL = next(name_id for code, name_id, *_ in CATEGORIES if code == "INFRASTRUKTUR")
EXISTING_TITLE = "Jalan berlubang depan Pasar Cikupa"
EXISTING_BODY = ("Jalan Raya Serang km 24 di depan pasar berlubang besar, sudah 2 minggu belum "
                 "diperbaiki, banyak motor jatuh. Hubungi saya di 0812-3456-7890.")
TYPED_TITLE = "Jalan rusak di depan Pasar Cikupa"


@pytest.fixture
def existing(demo, tmp_path):
    report = make_report(EXISTING_TITLE, EXISTING_BODY, created=utcnow() - timedelta(days=3),
                         store_path=tmp_path / "uploads")
    db.session.commit()
    return report.public_number


def supporters() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(ReportSupport))


def fill_the_place_and_title(page: Page) -> None:
    page.locator("#category").select_option(label=CATEGORY_LABEL)
    page.locator("#district").select_option(label="Cikupa")
    page.locator("#title").fill(TYPED_TITLE)


def test_the_suggestion_appears_while_typing_and_support_counts_in_place(
        live_server, page: Page, existing):
    page.goto(live_server.url + "/lapor?kind=complaint")
    fill_the_place_and_title(page)

    item = page.locator(f"#similar-{existing}")
    expect(item).to_be_visible()
    expect(page.locator("#similar-reports")).to_have_attribute("aria-live", "polite")
    expect(item.locator(".similar-title")).to_have_text(EXISTING_TITLE)
    expect(item.locator(".supporters")).to_have_text("0")
    expect(item.locator(".similar-excerpt")).not_to_contain_text("0812-3456-7890")
    assert_accessible(page)

    item.locator("button[data-support]").focus()
    page.keyboard.press("Enter")

    expect(page.locator("#support-status .flash-success")).to_be_visible()
    expect(item.locator(".supporters")).to_have_text("1")
    expect(item.locator(".supported")).to_be_visible()
    expect(item.locator("button[data-support]")).to_have_count(0)
    expect(item).to_be_focused()  # the keyboard stays where it was
    expect(page).to_have_url(re.compile(r"/lapor\?kind=complaint$"))  # no page load
    expect(page.locator("#title")).to_have_value(TYPED_TITLE)
    assert supporters() == 1

    # Another visit from the same browser still knows it supports the report.
    page.reload()
    fill_the_place_and_title(page)
    expect(item.locator(".supported")).to_be_visible()
    expect(item.locator(".supporters")).to_have_text("1")


def test_without_javascript_the_check_button_and_the_support_form_work(
        live_server, browser: Browser, existing):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/lapor?kind=complaint")
        fill_the_place_and_title(page)
        page.locator("#body").fill("Lubang besar di depan pasar, motor sering jatuh.")
        expect(page.locator(f"#similar-{existing}")).to_have_count(0)

        page.locator('input[type=submit][name="check"]').click()
        item = page.locator(f"#similar-{existing}")
        expect(item).to_be_visible()
        expect(page.locator("#title")).to_have_value(TYPED_TITLE)
        expect(page.locator("#body")).to_have_value(
            "Lubang besar di depan pasar, motor sering jatuh.")

        item.locator("button[data-support]").click()
        expect(page).to_have_url(live_server.url + "/lapor")
        expect(page.locator(".flash-success")).to_be_visible()
        assert supporters() == 1
    finally:
        context.close()
