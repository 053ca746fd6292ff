"""The public feed in real Chromium: open the feed, search, filter, open a report and support
it; axe and reflow at 320px on the feed (filters open) and on the report's page.

Elements are found by ids, names and the reports' own numbers and titles, not by wording."""
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Report
from tests.browser.test_accessibility import assert_accessible
from tests.public_feed_helpers import NOW, filed

pytestmark = pytest.mark.browser


@pytest.fixture
def reports(demo):
    pothole = filed("Jalan berlubang depan Pasar Cikupa",
                    "Lubang besar sudah dua minggu. Hubungi saya Siti Rahmawati 0812-3456-7890.",
                    created=NOW - timedelta(days=2))
    elsewhere = filed("Jalan berlubang di Balaraja", "Lubang di jalan desa.",
                      district="Balaraja", created=NOW - timedelta(days=1))
    rubbish = filed("Sampah menumpuk di TPS", "Sampah tidak diangkut seminggu.",
                    category="LINGKUNGAN", created=NOW)
    db.session.commit()
    return pothole.public_number, elsewhere.public_number, rubbish.public_number


def test_search_filter_open_and_support(live_server, page: Page, reports):
    pothole, _elsewhere, rubbish = reports
    page.goto(live_server.url + "/")
    page.locator('nav.main-nav a[href="/laporan"]').click()
    items = page.locator("#feed-list > li")
    expect(items).to_have_count(3)
    assert_accessible(page)

    page.locator("#feed-q").fill("berlubang")
    page.locator("#feed-q").press("Enter")
    expect(items).to_have_count(2)
    expect(page.locator(f"#report-{rubbish}")).to_have_count(0)
    expect(page.locator("#feed-q")).to_have_value("berlubang")

    page.locator(".feed-filters summary").click()
    page.locator("#feed-district").select_option(label="Cikupa")
    page.locator(".filter-actions button[type=submit]").click()
    expect(items).to_have_count(1)
    expect(page.locator(f"#report-{pothole}")).to_be_visible()
    expect(page.locator(f"#report-{pothole} .feed-excerpt")).not_to_contain_text("0812")
    expect(page.locator(f"#report-{pothole} .feed-excerpt")).not_to_contain_text("Siti")
    expect(page.locator("#feed-district option:checked")).to_have_text("Cikupa")
    assert_accessible(page)  # with the filters open

    page.locator(f"#report-{pothole} h3 a").click()
    expect(page.locator("#report-title")).to_have_text("Jalan berlubang depan Pasar Cikupa")
    expect(page.locator("#report-body")).not_to_contain_text("0812-3456-7890")
    expect(page.locator("#supporters")).to_have_text("0")
    assert_accessible(page)

    page.locator("#support-form button[data-support]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("#supporters")).to_have_text("1")
    expect(page.locator("#supported")).to_be_visible()
    db.session.expire_all()
    assert db.session.scalar(select(Report.support_count)
                             .where(Report.public_number == pothole)) == 1
