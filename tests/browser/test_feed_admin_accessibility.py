"""axe-core in real Chromium on the feed sources page: a refused code next to its field, then a
new source with its key shown once. Reflow at 320px included."""
import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_staff_accessibility import sign_in

pytestmark = pytest.mark.browser
NATIONAL_ADMIN = "admin.nasional@lapor.example.id"


def test_feed_sources_page_with_an_error_and_a_new_key(demo, live_server, page: Page):
    sign_in(page, live_server.url, NATIONAL_ADMIN)
    page.goto(f"{live_server.url}/staf/kelola/feed")
    page.locator("#code").fill("LAPOR NASIONAL")
    page.locator("#name").fill("LAPOR! Nasional")
    page.locator("form[aria-labelledby=new-source] button[type=submit]").click()
    expect(page.locator("#code-errors")).to_be_visible()
    assert_accessible(page)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("#code").fill("LAPOR-NASIONAL")
    page.locator("form[aria-labelledby=new-source] button[type=submit]").click()
    expect(page.locator("#feed-key")).to_be_visible()
    expect(page.locator("#feed-sources")).to_contain_text("LAPOR-NASIONAL")
    assert_accessible(page)
