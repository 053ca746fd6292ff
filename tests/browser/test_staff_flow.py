"""One anonymous complaint from the citizen's form to the rating, in real Chromium.

The citizen files anonymously (but leaves a name, as anonymous reporters may), the institution
admin verifies and dispositions it with an internal instruction, the unit's liaison accepts and
assigns it, the operator writes a visible follow-up and the answer, and the reporter, with only
the tracking code, reads the answer, closes the report and rates it. Each person has a browser
of their own (a fresh context), as on their own computer.

Nothing depends on the wording of the interface, which is being translated: controls are found
by their ids, choices by data (unit and officer names), and results by URLs, status classes and
the texts typed here. Every staff page seen on the way is kept and checked at the end for the
reporter's name and tracking code, which an anonymous report must never show to officers.
"""
import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from portal.demo import CATEGORIES, DEMO_PASSWORD
from portal.extensions import db
from portal.models import EventKind, Report, ReportRating, ReportStatus

pytestmark = pytest.mark.browser

ADMIN = "admin@tangerangkab.example.id"
LIAISON = "penghubung.disdukcapil@tangerangkab.example.id"
OPERATOR = "operator.disdukcapil@tangerangkab.example.id"
UNIT_NAME = "Dinas Kependudukan dan Pencatatan Sipil"
OPERATOR_NAME = "Operator Disdukcapil"
CATEGORY_LABEL = next(name_id for code, name_id, *_ in CATEGORIES if code == "ADMINDUK")

REPORTER_NAME = "Bambang Sutejo"
TITLE = "KTP elektronik belum jadi setelah tiga bulan"
BODY = ("Saya merekam KTP elektronik di Kantor Kecamatan Cikupa pada bulan Januari. Sampai "
        "sekarang KTP belum jadi dan petugas hanya meminta datang lagi minggu depan.")
INSTRUCTION = "Mohon cek status perekaman di SIAK dan balas paling lambat Jumat. (internal)"
FOLLOW_UP = "Data perekaman Bapak/Ibu sudah kami temukan dan sedang kami periksa."
ANSWER = ("KTP elektronik Bapak/Ibu sudah dicetak dan dapat diambil di Kantor Kecamatan "
          "Cikupa pada hari kerja, pukul 08.00 sampai 15.00, dengan membawa surat keterangan.")
RATING_COMMENT = "Cepat dan jelas, terima kasih Disdukcapil."


class Officer:
    """One officer at their own computer: a fresh browser context, signed in at /staf/masuk.
    Every page they see is kept in ``seen`` (URL, HTML) for the privacy check at the end."""

    def __init__(self, browser: Browser, base_url: str, email: str, seen: list):
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.base_url = base_url
        self.email = email
        self.seen = seen

    def keep(self) -> None:
        self.seen.append((self.email, self.page.url, self.page.content()))

    def sign_in(self) -> None:
        page = self.page
        page.goto(self.base_url + "/staf/masuk")
        self.keep()
        page.locator("#email").fill(self.email)
        page.locator("#password").fill(DEMO_PASSWORD)
        page.locator("form.narrow-form button[type=submit]").click()
        expect(page).to_have_url(self.base_url + "/staf/")
        self.keep()

    def open_from_inbox(self, number: str, status: str) -> None:
        """Find the report in the inbox by its number and status, and open it."""
        page = self.page
        page.goto(self.base_url + "/staf/")
        row = page.locator("table.reports tbody tr").filter(
            has=page.locator(f'td.public-number a[href$="/staf/laporan/{number}"]'))
        expect(row).to_have_count(1)
        expect(row).to_contain_text(TITLE)
        expect(row.locator(".status")).to_have_class(re.compile(rf"\bstatus-{status}\b"))
        self.keep()
        row.locator("td.public-number a").click()
        self.expect_report(number, status)

    def expect_report(self, number: str, status: str) -> None:
        page = self.page
        expect(page).to_have_url(f"{self.base_url}/staf/laporan/{number}")
        expect(page.locator("h1")).to_have_text(TITLE)
        expect(page.locator(".facts .status")).to_have_class(re.compile(rf"\bstatus-{status}\b"))
        self.keep()
        # Anonymous: nobody here may reveal who sent it, and the page does not offer to.
        expect(page.locator("form.reveal-form")).to_have_count(0)
        expect(page.locator("#identity")).to_have_count(0)

    def act(self, action: str, number: str, status_after: str) -> None:
        """Press the action's own button and land on the report again, in its new status."""
        page = self.page
        button = page.locator(f"#action-{action} button[type=submit]")
        expect(button).to_have_text(re.compile(r"\S"))  # labelled, not an empty button
        button.click()
        self.expect_report(number, status_after)
        expect(page.locator(".flash-success")).to_be_visible()

    def sign_out(self) -> None:
        page = self.page
        page.locator("form.staff-signout button[type=submit]").click()
        expect(page).to_have_url(self.base_url + "/staf/masuk")
        self.keep()
        page.goto(self.base_url + "/staf/")  # signed out for real: back to the sign-in page
        expect(page).to_have_url(re.compile(r"/staf/masuk"))
        self.context.close()


def file_anonymous_complaint(page: Page, base_url: str) -> tuple[str, str]:
    page.goto(base_url + "/lapor?kind=complaint")
    expect(page.locator('input[name="kind"][value="complaint"]')).to_be_checked()
    page.locator("#title").fill(TITLE)
    page.locator("#body").fill(BODY)
    page.locator("#category").select_option(label=CATEGORY_LABEL)
    page.locator("#is_anonymous").check()
    page.locator("#name").fill(REPORTER_NAME)
    page.locator("form.report-form button[type=submit]").click()
    expect(page).to_have_url(base_url + "/lapor/terkirim")
    code = page.locator("#tracking-code").inner_text().strip()
    number = page.locator(".receipt .public-number").inner_text().strip()
    assert re.fullmatch(r"[2-9A-HJKMNP-TV-Z]{5}(-[2-9A-HJKMNP-TV-Z]{5}){2}", code), code
    assert re.fullmatch(r"LPR-\d{4}-\d+", number), number
    return code, number


def test_anonymous_complaint_from_filing_through_the_unit_to_the_rating(
    demo, live_server, browser: Browser
):
    base = live_server.url
    seen: list[tuple[str, str, str]] = []

    # --- the citizen files, on their own phone, and writes the code down
    citizen = browser.new_context()
    code, number = file_anonymous_complaint(citizen.new_page(), base)
    citizen.close()

    # --- the institution admin: inbox, open, verify, disposition with an instruction
    admin = Officer(browser, base, ADMIN, seen)
    admin.sign_in()
    admin.open_from_inbox(number, "submitted")
    page = admin.page
    expect(page.locator(".report-body").first).to_have_text(BODY)
    admin.act("verify", number, "verified")
    # A slip first: the instruction written, the unit forgotten. Refused next to the field,
    # with the instruction still there to send again.
    page.locator("#disposition-message").fill(INSTRUCTION)
    page.locator("#action-disposition button[type=submit]").click()
    expect(page).to_have_url(f"{base}/staf/laporan/{number}/tindakan/disposition")
    expect(page.locator("#disposition-target_institution_id-errors")).to_be_visible()
    expect(page.locator("#disposition-target_institution_id")).to_have_attribute(
        "aria-invalid", "true")
    expect(page.locator("#disposition-message")).to_have_value(INSTRUCTION)
    expect(page.locator(".facts .status")).to_have_class(re.compile(r"\bstatus-verified\b"))
    admin.keep()
    page.locator("#disposition-target_institution_id").select_option(label=UNIT_NAME)
    admin.act("disposition", number, "dispositioned")
    timeline = page.locator("ol.timeline")
    expect(timeline.locator("li.internal").filter(has_text=INSTRUCTION)).to_have_count(1)
    expect(timeline).to_contain_text(UNIT_NAME)
    admin.sign_out()

    # --- the unit's liaison: accept, then assign the operator
    liaison = Officer(browser, base, LIAISON, seen)
    liaison.sign_in()
    liaison.open_from_inbox(number, "dispositioned")
    page = liaison.page
    expect(page.locator("ol.timeline")).to_contain_text(INSTRUCTION)  # the unit reads it
    liaison.act("accept", number, "in_progress")
    page.locator("#assign-operator_id").select_option(label=OPERATOR_NAME)
    liaison.act("assign", number, "in_progress")
    expect(page.locator(".facts")).to_contain_text(OPERATOR_NAME)
    liaison.sign_out()

    # --- the operator: a follow-up the reporter may read, then the answer
    operator = Officer(browser, base, OPERATOR, seen)
    operator.sign_in()
    operator.open_from_inbox(number, "in_progress")
    page = operator.page
    page.locator("#follow_up-message").fill(FOLLOW_UP)
    page.locator("#follow_up-visible_to_reporter").check()
    operator.act("follow_up", number, "in_progress")
    follow_up = page.locator("ol.timeline li").filter(has_text=FOLLOW_UP)
    expect(follow_up).to_have_count(1)
    expect(follow_up).not_to_have_class(re.compile(r"\binternal\b"))
    expect(page.locator("#answer-message")).to_have_value("")  # the follow-up did not linger
    page.locator("#answer-message").fill(ANSWER)
    operator.act("answer", number, "answered")
    expect(page.locator("ol.timeline")).to_contain_text(ANSWER)
    expect(page.locator("#action-answer")).to_have_count(0)
    operator.sign_out()

    # --- the reporter, with nothing but the code, on a fresh browser
    reporter = browser.new_context()
    page = reporter.new_page()
    page.goto(base + "/lacak")
    page.locator("#code").fill(code.lower().replace("-", " "))  # as someone might type it
    page.locator("form.narrow-form button[type=submit]").click()
    expect(page).to_have_url(f"{base}/lacak/{number}")
    expect(page.locator("#report-status")).to_have_class(re.compile(r"\bstatus-answered\b"))
    timeline = page.locator("#timeline")
    expect(timeline.locator("li.event-answered")).to_contain_text(ANSWER)
    expect(timeline.locator("li.event-follow_up")).to_contain_text(FOLLOW_UP)
    expect(timeline.locator("li.event-dispositioned")).to_contain_text(UNIT_NAME)
    assert INSTRUCTION not in page.content()
    expect(timeline.locator("li.event-note")).to_have_count(0)

    page.locator("#accept button[type=submit]").click()
    expect(page).to_have_url(f"{base}/lacak/{number}")
    expect(page.locator("#report-status")).to_have_class(re.compile(r"\bstatus-completed\b"))
    expect(page.locator("#accept")).to_have_count(0)
    expect(page.locator("#reply")).to_have_count(0)

    page.locator('#rating input[name="score"][value="5"]').check()
    page.locator("#comment").fill(RATING_COMMENT)
    page.locator("#rating button[type=submit]").click()
    # The form posts to …/nilai#rating; the redirect keeps the fragment, back at the rating.
    expect(page).to_have_url(f"{base}/lacak/{number}#rating")
    expect(page.locator("#given-rating")).to_contain_text("5")
    expect(page.locator("#rating")).to_contain_text(RATING_COMMENT)
    expect(page.locator("#rating form")).to_have_count(0)
    expect(page.locator('input[name="score"]')).to_have_count(0)
    reporter.close()

    # --- what the officers saw: never the reporter's name, never the tracking code
    officers_seen = {email for email, _, _ in seen}
    assert officers_seen == {ADMIN, LIAISON, OPERATOR}
    report_pages = [url for _, url, _ in seen if url.endswith(f"/staf/laporan/{number}")]
    assert len(report_pages) >= 9, report_pages
    for email, url, html in seen:
        assert REPORTER_NAME not in html, (email, url)
        assert "Bambang" not in html, (email, url)
        assert code not in html and code.replace("-", "") not in html, (email, url)

    # --- and the database agrees
    db.session.expire_all()
    report = db.session.scalar(select(Report).where(Report.public_number == number))
    assert report.is_anonymous is True
    assert report.status is ReportStatus.COMPLETED
    assert report.current_unit.name == UNIT_NAME
    assert report.assigned_operator.email == OPERATOR
    assert report.answered_at is not None and report.completed_at is not None
    rating = db.session.scalar(select(ReportRating).where(ReportRating.report_id == report.id))
    assert (rating.score, rating.comment) == (5, RATING_COMMENT)

    events = [(e.kind, e.actor.email if e.actor else None, e.visible_to_reporter, e.message)
              for e in report.events]
    kinds = [kind for kind, *_ in events]
    assert kinds[0] is EventKind.SUBMITTED
    assert [k for k in kinds if k is not EventKind.NOTE] == [
        EventKind.SUBMITTED, EventKind.VERIFIED, EventKind.DISPOSITIONED, EventKind.ACCEPTED,
        EventKind.ASSIGNED, EventKind.FOLLOW_UP, EventKind.ANSWERED, EventKind.COMPLETED,
        EventKind.RATED,
    ], kinds
    notes = [e for e in events if e[0] is EventKind.NOTE]
    assert notes == [(EventKind.NOTE, ADMIN, False, INSTRUCTION)]
    by_kind = {kind: rest for kind, *rest in events}
    assert by_kind[EventKind.DISPOSITIONED] == [ADMIN, True, None]
    assert by_kind[EventKind.ACCEPTED][0] == LIAISON
    assert by_kind[EventKind.ASSIGNED][0] == LIAISON
    assert by_kind[EventKind.FOLLOW_UP] == [OPERATOR, True, FOLLOW_UP]
    assert by_kind[EventKind.ANSWERED] == [OPERATOR, True, ANSWER]
    assert by_kind[EventKind.COMPLETED][0] is None  # the reporter closed it, not an officer
    db.session.rollback()
