"""axe-core in real Chromium on the staff intake form (with its errors, then the result page
with the tracking code shown once) and on the Open311 API keys page (a new key shown once)."""
import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_staff_accessibility import sign_in

pytestmark = pytest.mark.browser
ADMIN = "admin@tangerangkab.example.id"


def test_intake_form_errors_and_the_code_shown_once(demo, live_server, page: Page):
    sign_in(page, live_server.url, ADMIN)
    page.goto(f"{live_server.url}/staf/laporan/baru")
    page.locator("input[name=channel][value=social_media]").check()
    page.locator("#title").fill("Jembatan")
    page.locator("form.report-form button[type=submit]").click()
    expect(page.locator("#channel_link-errors")).to_be_visible()
    assert page.locator("#title").input_value() == "Jembatan"
    assert_accessible(page)

    page.locator("#channel_link").fill("https://x.com/warga/status/1")
    page.locator("#body").fill("Jembatan kayu penghubung dua kampung patah sejak hujan deras.")
    page.locator("input[name=kind][value=complaint]").check()
    page.locator("#category").select_option(label="Infrastruktur (jalan rusak, drainase)")
    page.locator("#is_anonymous").check()
    page.locator("form.report-form button[type=submit]").click()
    expect(page.locator("#tracking-code")).to_be_visible()
    assert_accessible(page)
    page.reload()
    expect(page.locator("#tracking-code")).to_have_count(0)


def test_api_keys_page_with_a_new_key(demo, live_server, page: Page):
    sign_in(page, live_server.url, ADMIN)
    page.goto(f"{live_server.url}/staf/kelola/api")
    page.locator("#name").fill("Gerbang SMS 1708")
    page.locator("form[aria-labelledby=new-client] button[type=submit]").click()
    expect(page.locator("#channel-errors")).to_be_visible()
    assert_accessible(page)
    page.locator("#channel").select_option("sms")
    page.locator("form[aria-labelledby=new-client] button[type=submit]").click()
    expect(page.locator("#api-key")).to_be_visible()
    expect(page.locator("#api-clients")).to_contain_text("Gerbang SMS 1708")
    assert_accessible(page)
