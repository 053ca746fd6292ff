"""The Content-Security-Policy in real Chromium: no page breaks it.

Every page reachable by GET without arguments (read from the app's url_map, so that pages added
later are checked too), as a visitor and as the national administrator, plus the pages about
one report (staff view with the identity revealed, the tracked report, the public report when
the public feed has one) and the filing page's script at work. A violation is caught twice:
the ``securitypolicyviolation`` DOM event (recorded by an init script, which CSP does not
block) and Chromium's console message about the policy.
"""
import re

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.models import ReportStatus
from tests.browser.test_accessibility import file_a_report
from tests.browser.test_staff_accessibility import sign_in
from tests.functional.test_staff_workspace import ADMIN, new_report

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(event.violatedDirective + ' ' + (event.blockedURI || 'inline')
                              + ' at ' + event.sourceFile + ':' + event.lineNumber);
});
"""
# Downloads and machine answers, not pages.
NOT_PAGES = re.compile(r"(\.csv|\.xlsx|\.json|/api/|/open311/|/lampiran/|/static/|/keluar)")


class Watcher:
    def __init__(self, page: Page):
        self.page = page
        self.console: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(f"{self.page.url}: {message.text}")

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None
        self.check()

    def check(self) -> None:
        found = self.page.evaluate("window.__cspViolations || []")
        assert not found, f"CSP violations on {self.page.url}: {found}"
        assert not self.console, "\n".join(self.console)


def page_paths(app) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments - set(rule.defaults or {}):
            continue
        if NOT_PAGES.search(rule.rule):
            continue
        paths.append(rule.rule)
    return sorted(set(paths))


def test_no_page_breaks_the_policy(demo, live_server, page: Page):
    report = new_report(status=ReportStatus.VERIFIED, files=["foto.jpg"])
    number = report.public_number
    db.session.commit()
    watcher = Watcher(page)
    base = live_server.url
    paths = page_paths(demo)
    assert "/" in paths and "/lapor" in paths

    for path in paths:  # as a visitor
        watcher.visit(base + path)

    # The filing page's script: similar reports fetched while typing, then a report filed.
    page.goto(base + "/lapor?kind=complaint")
    page.locator("#title").fill("Jalan rusak di depan Pasar Cikupa sudah lama")
    page.wait_for_timeout(800)
    watcher.check()
    file_a_report(page, base)
    watcher.check()
    if "citizen.public_report" in demo.view_functions:
        watcher.visit(f"{base}/laporan/{number}")

    sign_in(page, base, ADMIN)
    for path in paths:  # as the national administrator
        watcher.visit(base + path)
    watcher.visit(f"{base}/staf/laporan/{number}")
    page.locator("form.reveal-form button").click()
    expect(page.locator("form.reveal-form")).to_have_count(0)
    watcher.check()

    # The watcher itself sees a violation (an image from elsewhere, an inline style).
    page.evaluate("""document.body.insertAdjacentHTML('beforeend',
        '<img alt="" src="http://203.0.113.1/x.png"><div style="color: red">x</div>')""")
    page.wait_for_timeout(300)
    with pytest.raises(AssertionError, match="img-src|style-src"):
        watcher.check()
