"""axe-core in real Chromium on the staff workspace: the inbox, a report with every action form
(and one failed action with its error), the audit log. Reflow at 320px included."""
import pytest
from playwright.sync_api import Page, expect

from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.models import ReportStatus
from tests.browser.test_accessibility import assert_accessible
from tests.functional.test_staff_workspace import ADMIN, SUPERVISOR, new_report

pytestmark = pytest.mark.browser


def sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(base_url + "/staf/masuk")
    page.locator("#email").fill(email)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("form.narrow-form button[type=submit]").click()
    expect(page).to_have_url(base_url + "/staf/")


def test_staff_pages(demo, live_server, page: Page):
    report = new_report(status=ReportStatus.VERIFIED, files=["foto.jpg"])
    number = report.public_number
    db.session.commit()
    sign_in(page, live_server.url, ADMIN)
    assert_accessible(page)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/staf/laporan/{number}")
    assert_accessible(page)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("#action-postpone button[type=submit]").click()  # no reason: refused
    expect(page.locator("#postpone-message-errors")).to_be_visible()
    assert_accessible(page)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("form.reveal-form button").click()
    expect(page.locator("#identity")).to_be_visible()
    assert_accessible(page)


def test_audit_log_page(demo, live_server, page: Page):
    sign_in(page, live_server.url, SUPERVISOR)
    page.goto(live_server.url + "/staf/audit")
    assert_accessible(page)
