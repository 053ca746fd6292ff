"""The statistics page in real Chromium: every chart is an accessible SVG image with its table
beside it, the period form changes the figures, the page passes axe and reflows at 320px; the
staff page too. Elements are found by ids, not by wording (the strings are being translated).
"""
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_staff_accessibility import sign_in
from tests.functional.test_statistics import world  # noqa: F401  (the hand-built reports)

pytestmark = pytest.mark.browser

CHARTS = ("kind", "category", "unit", "district", "channel", "month", "top-categories")


def test_charts_with_their_tables_and_a_period_change(live_server, page: Page, world):  # noqa: F811
    page.goto(live_server.url + "/statistik?institution=KAB-TANGERANG&start=2026-04&end=2026-06")
    for name in CHARTS:
        chart = page.locator(f"svg#chart-{name}")
        expect(chart).to_be_visible()
        expect(chart).to_have_attribute("role", "img")
        labelled = chart.get_attribute("aria-labelledby").split()
        assert labelled == [f"chart-{name}-title", f"chart-{name}-desc"]
        table = page.locator(f"#section-{name.replace('-', '_')} table")
        expect(table).to_be_visible()
    expect(page.locator("#table-month tbody tr")).to_have_count(3)
    expect(page.locator("#table-kind tbody tr").first.locator("td")).to_have_text("7")
    assert_accessible(page)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#stat-start").fill("2026-05")
    page.locator("form.stat-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"start=2026-05"))
    expect(page.locator("#table-month tbody tr")).to_have_count(2)
    expect(page.locator("#table-month tbody tr").first.locator("th")).to_have_text("2026-05")
    expect(page.locator("#stat-institution")).to_have_value("KAB-TANGERANG")


def test_the_staff_page_is_accessible(live_server, page: Page, world):  # noqa: F811
    sign_in(page, live_server.url, "inspektorat@tangerangkab.example.id")
    page.goto(live_server.url + "/staf/statistik?start=2026-04&end=2026-06")
    expect(page.locator("svg#chart-unit")).to_be_visible()
    expect(page.locator("#table-unit thead th")).to_have_count(11)
    assert_accessible(page)
