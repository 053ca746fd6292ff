"""The filing form with more kecamatan than a <select> lists (portal/domain/places.py), in real
Chromium: the type-ahead list fills from /lapor/kecamatan (static script, under the CSP), a
name shared by two regencies comes back as a short choice, and the pages stay accessible."""
import re

import pytest
from playwright.sync_api import Page, expect

from portal.demo import CATEGORIES
from tests.browser.test_accessibility import assert_accessible
from tests.functional.test_many_districts import many  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

CATEGORY_LABEL = next(name_id for code, name_id, *_ in CATEGORIES if code == "INFRASTRUKTUR")


def test_typed_kecamatan_with_type_ahead_and_short_choice(many, live_server,  # noqa: F811
                                                           page: Page):
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(f"{live_server.url}/lapor?kind=complaint")
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.locator("#district_name").press_sequentially("Uji Co")
    expect(page.locator("#district_name-list option")).to_have_count(20)
    page.locator("#title").fill("Lampu jalan mati di Jalan Raya Cikupa")
    page.locator("#body").fill("Sudah seminggu lampu jalan di depan pasar mati dan jalan gelap.")
    page.locator("#category").select_option(label=CATEGORY_LABEL)
    page.locator("#district_name").fill("Cikupa")
    page.locator("#is_anonymous").check()
    page.locator("form.report-form button[type=submit]").click()
    expect(page.locator("#district option")).to_have_count(3)
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.locator("#title")).to_have_value("Lampu jalan mati di Jalan Raya Cikupa")
    page.locator("#district").select_option(label="Cikupa (Kabupaten Contoh)")
    page.locator("#is_anonymous").check()
    page.locator("form.report-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/lapor/terkirim$"))
    # The 422 of the ambiguous submit is logged as a failed load; nothing else (no CSP refusal,
    # no script error) may be.
    assert [e for e in errors if "422" not in e] == [], errors
