"""axe-core in real Chromium: no serious or critical violations on the citizen's pages, and
no sideways scrolling on a 320px-wide phone (WCAG 1.4.10 reflow).

Every page is checked in the state a citizen really meets it: empty, after a failed submit with
its error messages, the one-time receipt, a wrong tracking code, the tracked report. Assertions
never depend on the wording, which is being translated.
"""
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from portal.demo import CATEGORIES

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}
CATEGORY_LABEL = next(name_id for code, name_id, *_ in CATEGORIES if code == "INFRASTRUKTUR")
WRONG_CODE = "ABCDE-FGH23-45678"

_axe = Axe()




def assert_accessible(page: Page) -> None:
    """No serious or critical axe violation, and no sideways scrolling at 320 CSS px (reflow)."""
    response = _axe.run(page).response
    blocking = [v for v in response["violations"] if v.get("impact") in BLOCKING]
    lines = []
    for violation in blocking:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(node['target'])}: {node.get('failureSummary', '')}"
                         .replace("\n", " "))
    assert not blocking, f"axe on {page.url}:\n" + "\n".join(lines)

    page.set_viewport_size({"width": 320, "height": 640})
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways at 320px: {widths}"


def submit_report(page: Page) -> None:
    page.locator("form.report-form button[type=submit]").click()


def file_a_report(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/lapor?kind=complaint")
    page.locator("#title").fill("Lampu jalan mati di Jalan Raya Cikupa")
    page.locator("#body").fill("Sudah seminggu lampu jalan di depan pasar mati dan jalan gelap.")
    page.locator("#category").select_option(label=CATEGORY_LABEL)
    page.locator("#is_anonymous").check()
    submit_report(page)
    expect(page).to_have_url(re.compile(r"/lapor/terkirim$"))
    expect(page.locator("#tracking-code")).to_have_text(re.compile(r"\w{5}-\w{5}-\w{5}"))


def test_home(demo, live_server, page: Page):
    page.goto(live_server.url + "/")
    assert_accessible(page)


def test_filing_form_empty(demo, live_server, page: Page):
    page.goto(live_server.url + "/lapor?kind=complaint")
    assert_accessible(page)


def test_filing_form_with_errors(demo, live_server, page: Page):
    page.goto(live_server.url + "/lapor")
    page.locator("#email").fill("not-an-address")
    submit_report(page)
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("#title")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)


def test_receipt(demo, live_server, page: Page):
    file_a_report(page, live_server.url)
    assert_accessible(page)


def test_tracking_form(demo, live_server, page: Page):
    page.goto(live_server.url + "/lacak")
    assert_accessible(page)


def test_tracking_form_with_wrong_code(demo, live_server, page: Page):
    page.goto(live_server.url + "/lacak")
    page.locator("#code").fill(WRONG_CODE)
    page.locator("form.narrow-form button[type=submit]").click()
    expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)


def test_tracked_report(demo, live_server, page: Page):
    file_a_report(page, live_server.url)
    code = page.locator("#tracking-code").inner_text().strip()
    page.goto(live_server.url + "/lacak")
    page.locator("#code").fill(code)
    page.locator("form.narrow-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/lacak/LPR-"))
    expect(page.locator("h1")).to_have_text("Lampu jalan mati di Jalan Raya Cikupa")
    assert_accessible(page)


def test_staff_sign_in(demo, live_server, page: Page):
    page.goto(live_server.url + "/staf/masuk")
    assert_accessible(page)
