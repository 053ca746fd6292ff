"""axe-core in real Chromium on the supervision dashboard, with red reports and per-unit
figures on it; reflow at 320px included."""
from datetime import timedelta

import pytest
from playwright.sync_api import Page

from portal.extensions import db
from portal.models import DeadlineKind, ReportStatus
from portal.models.types import utcnow
from tests.browser.test_accessibility import assert_accessible
from tests.browser.test_staff_accessibility import sign_in
from tests.functional.test_staff_workspace import SUPERVISOR, new_report

pytestmark = pytest.mark.browser


def test_supervision_dashboard(demo, live_server, page: Page):
    report = new_report(status=ReportStatus.VERIFIED)
    # Two working days late at least, whatever day the test runs.
    report.deadline_kind = DeadlineKind.FOLLOW_UP
    report.clock_started_at = utcnow() - timedelta(days=20)
    report.clock_days = 5
    report.clock_paused_at = None
    report.due_at = utcnow() - timedelta(days=4)
    db.session.commit()
    sign_in(page, live_server.url, SUPERVISOR)
    page.goto(f"{live_server.url}/staf/pengawasan")
    assert page.locator("table.supervision-red td.public-number a").first.inner_text() \
        == report.public_number
    assert_accessible(page)
